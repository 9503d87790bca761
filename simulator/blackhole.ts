/**
 * Make a loopback address stop answering, ping and UDP alike, the way a cut line does: as root,
 *
 *   ip route add blackhole 127.a.b.c/32 table local proto 199     (every 127.x answers ping on Linux
 *   ip route del blackhole 127.a.b.c/32 table local proto 199      until a more specific route says no)
 *
 * The routes carry their own `proto` number (BLACKHOLE_PROTO) so what a crashed run left behind can be
 * found and flushed (`flushAll`, at the simulator's start and stop). Tests that blackhole must use
 * addresses no other test file uses (vitest runs files in parallel) and remove only their own routes.
 * 127.0.0.1 is refused: everything on the machine talks through it.
 */
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { SimulatorControlError } from './errors.ts';

const run = promisify(execFile);

/** The `proto` of the simulator's blackhole routes (rtnetlink protocols 0-4 are the kernel's). */
export const BLACKHOLE_PROTO = 199;

function check(address: string): void {
  if (isIP(address) !== 4 || !address.startsWith('127.') || address === '127.0.0.1')
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

  async removeAll(): Promise<void> {
    for (const a of [...this.#set]) await this.remove(a);
  }
}

/** Every blackhole the simulator left behind (its own proto only). For the simulator CLI, not tests. */
export async function flushAll(): Promise<void> {
  await ip(['route', 'flush', 'table', 'local', 'proto', String(BLACKHOLE_PROTO)]);
}
