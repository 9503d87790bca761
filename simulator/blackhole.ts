/**
 * Make a loopback address stop answering, ping and UDP alike, the way a cut line does: as root,
 *
 *   ip route add blackhole 127.a.b.c/32 table local proto 199     (every 127.x answers ping on Linux
 *   ip route del blackhole 127.a.b.c/32 table local proto 199      until a more specific route says no)
 *
 * The routes carry their own `proto` number (BLACKHOLE_PROTO) so what a crashed run left behind can be
 * found and removed (`flushOwn`, at the simulator's start: only this inventory's addresses). Tests that blackhole must use
 * addresses no other test file uses (vitest runs files in parallel) and remove only their own routes.
 * 127.0.0.1 is refused: everything on the machine talks through it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { SimulatorControlError } from './errors.ts';

const run = promisify(execFile);

/** The `proto` of the simulator's blackhole routes (rtnetlink protocols 0-4 are the kernel's). */
export const BLACKHOLE_PROTO = 199;

/** Whether an address may be blackholed: a 127.x IPv4 address other than 127.0.0.1. */
export function blackholeable(address: string): boolean {
  return isIP(address) === 4 && address.startsWith('127.') && address !== '127.0.0.1';
}

function check(address: string): void {
  if (!blackholeable(address))
    throw new SimulatorControlError(
      400,
      `cannot blackhole ${address}: only 127.x addresses other than 127.0.0.1`,
    );
}

async function ip(args: readonly string[]): Promise<void> {
  try {
    await run('ip', [...args]);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new SimulatorControlError(
      409,
      `ip ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()} (blackholes need root or CAP_NET_ADMIN)`,
    );
  }
}

const route = (address: string): string[] => [
  'blackhole',
  `${address}/32`,
  'table',
  'local',
  'proto',
  String(BLACKHOLE_PROTO),
];

/** The blackholes one owner set; it removes only its own. */
export class Blackholes {
  readonly #set = new Set<string>();

  get addresses(): string[] {
    return [...this.#set].sort();
  }

  async add(address: string): Promise<void> {
    check(address);
    if (this.#set.has(address)) return;
    await ip(['route', 'replace', ...route(address)]);
    this.#set.add(address);
  }

  async remove(address: string): Promise<void> {
    if (!this.#set.has(address)) return;
    await ip(['route', 'del', ...route(address)]);
    this.#set.delete(address);
  }

  /**
   * Make the set exactly `addresses`: add what is missing, remove what is no longer wanted. Addresses that
   * cannot be blackholed (127.0.0.1, anything not 127.x) are left as they are: their devices go silent on
   * SNMP only.
   */
  async sync(addresses: Iterable<string>): Promise<void> {
    const want = new Set([...addresses].filter(blackholeable));
    for (const a of [...this.#set]) if (!want.has(a)) await this.remove(a);
    for (const a of want) await this.add(a);
  }

  async removeAll(): Promise<void> {
    for (const a of [...this.#set]) await this.remove(a);
  }
}

/**
 * Whether this process may change routes: CAP_NET_ADMIN (capability 12) in its effective set, as root has
 * (/proc/self/status CapEff). `ip`, run from here, inherits it.
 */
export function canBlackhole(status: string = readProcStatus()): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m?.[1] !== undefined && (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n;
}

function readProcStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}

/**
 * Remove the simulator's blackholes (its own proto) on the given addresses: what a crashed run of this
 * inventory left. Others' are left alone (another simulator on the machine may own them). Throws a
 * SimulatorControlError when this process may not change routes.
 */
export async function flushOwn(addresses: ReadonlySet<string>): Promise<void> {
  if (!canBlackhole())
    throw new SimulatorControlError(409, 'blackholes need root or CAP_NET_ADMIN (this process has neither)');
  let listed: string;
  try {
    listed = (await run('ip', ['-o', 'route', 'show', 'table', 'local', 'proto', String(BLACKHOLE_PROTO)]))
      .stdout;
  } catch (err) {
    throw new SimulatorControlError(409, `ip route show failed: ${(err as Error).message}`);
  }
  for (const line of listed.split('\n')) {
    const address = /^blackhole (\S+?)(?:\/32)? /.exec(`${line.trim()} `)?.[1];
    if (address !== undefined && addresses.has(address)) await ip(['route', 'del', ...route(address)]);
  }
}
