/**
 * Debian's snmpsim (snmpsimd) serving the recordings of real devices in ../shared/devices (read in place:
 * the recordings are symlinked into a temp data dir, never copied into the repo), plus any extra
 * .snmprec text a test provides. Community = file name without .snmprec. Loopback, free UDP port.
 *
 * Two faults of snmpsim 0.4.5 (Python 3), measured here, shape how it is started and used:
 *   - Its --v2c-arch GETBULK handler computes `M = min(M, maxVarBinds / R)` with true division: when
 *     repetitions x columns exceed --max-varbinds (default 64) M becomes a float that never reaches 0, and
 *     the process spins at 100 % CPU, answering nothing ever again. So it runs with a --max-varbinds far
 *     above anything the tests ask for (MAX_VARBINDS), and never clips a reply itself.
 *   - A reply over 64 KB makes sendto() fail with EMSGSIZE, which kills the process. Keep tests below that.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freeUdpPort } from './ports.ts';
import { waitForServer } from './server-start.ts';

export const DEVICES_DIR = resolve(fileURLToPath(new URL('../../../shared/devices/', import.meta.url)));
const SNMPSIMD = '/usr/bin/snmpsimd';
const SNMPGET = '/usr/bin/snmpget';
/** Varbinds snmpsim may put in one GETBULK reply: above repetitions x columns of any test (see header). */
export const MAX_VARBINDS = 4096;
const run = promisify(execFile);

export interface Snmpsim {
  readonly host: string;
  readonly port: number;
  /** The snmpsimd process id. */
  readonly pid: number | undefined;
  /** The temp dir with its data and cache (removed by stop()). */
  readonly dir: string;
  stop(): Promise<void>;
}

export function recordingNames(): string[] {
  return readdirSync(DEVICES_DIR)
    .filter((f) => f.endsWith('.snmprec'))
    .map((f) => f.replace(/\.snmprec$/, ''))
    .sort();
}

export async function startSnmpsim(
  extra: Record<string, string> = {},
  opts: { recordings?: boolean } = {},
): Promise<Snmpsim> {
  for (const [bin, pkg] of [
    [SNMPSIMD, 'snmpsim'],
    [SNMPGET, 'snmp'],
  ] as const) {
    if (!existsSync(bin))
      throw new Error(
        `${bin} not found: install Debian's ${pkg} (apt-get install -y ${pkg}), or run npm test, which does`,
      );
  }
  if (!existsSync(DEVICES_DIR)) throw new Error(`${DEVICES_DIR}: the device recordings are missing`);
  const dir = mkdtempSync(join(tmpdir(), 'netmon-snmpsim-'));
  const data = join(dir, 'data');
  const cache = join(dir, 'cache');
  mkdirSync(data);
  mkdirSync(cache);
  const linked = opts.recordings === false ? [] : recordingNames();
  for (const name of linked) symlinkSync(join(DEVICES_DIR, `${name}.snmprec`), join(data, `${name}.snmprec`));
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(data, `${name}.snmprec`), text);
  // snmpsimd drops root privileges to nobody: it must read the data and write the cache.
  chmodSync(dir, 0o755);
  chmodSync(data, 0o755);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(cache, 65534, 65534);
  const port = await freeUdpPort();
  const args = [
    '--v2c-arch',
    `--data-dir=${data}`,
    `--cache-dir=${cache}`,
    `--agent-udpv4-endpoint=127.0.0.1:${port}`,
    '--logging-method=null',
    `--max-varbinds=${MAX_VARBINDS}`,
    ...(asRoot ? ['--process-user=nobody', '--process-group=nogroup'] : []),
  ];
  const child: ChildProcess = spawn(SNMPSIMD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-8000)));
  // A test process that exits without stop() (a failed beforeAll, a worker torn down) must not leave an
  // snmpsimd behind on a 2-core CI machine.
  const orphanGuard = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', orphanGuard);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', orphanGuard);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // A snmpsimd caught in its GETBULK loop (see the header) may not get to its handler in time.
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(kill);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const probeCommunity = linked.includes('linux_ntc') ? 'linux_ntc' : (Object.keys(extra)[0] ?? '');
    await waitForServer(
      `snmpsimd on udp 127.0.0.1:${port}`,
      child,
      async () => {
        try {
          const args = ['-v2c', '-c', probeCommunity, '-t', '0.3', '-r', '0', `127.0.0.1:${port}`];
          await run(SNMPGET, [...args, '1.3.6.1.2.1.1.1.0']);
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 30_000, intervalMs: 200, output: () => stderr },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: '127.0.0.1', port, pid: child.pid, dir, stop };
}
