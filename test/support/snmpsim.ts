/**
 * Debian's snmpsim (snmpsimd) serving the recordings of real devices in ../shared/devices (read in place:
 * the recordings are symlinked into a temp data dir, never copied into the repo), plus any extra
 * .snmprec text a test provides. Community = file name without .snmprec. Loopback, free UDP port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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
import { freeUdpPort, waitFor } from './ports.ts';

export const DEVICES_DIR = resolve(fileURLToPath(new URL('../../../shared/devices/', import.meta.url)));
const SNMPSIMD = '/usr/bin/snmpsimd';

export interface Snmpsim {
  readonly host: string;
  readonly port: number;
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
  if (!existsSync(SNMPSIMD))
    throw new Error(
      `${SNMPSIMD} not found: install Debian's snmpsim (apt-get install -y snmpsim), or run npm test, which does`,
    );
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
    ...(asRoot ? ['--process-user=nobody', '--process-group=nogroup'] : []),
  ];
  const child: ChildProcess = spawn(SNMPSIMD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      () => {
        if (child.exitCode !== null)
          throw new Error(`snmpsimd exited (${child.exitCode}): ${stderr.slice(-500)}`);
        const r = spawnSync(
          'snmpget',
          [
            '-v2c',
            '-c',
            linked.length > 0 ? 'linux_ntc' : (Object.keys(extra)[0] ?? ''),
            '-t',
            '0.3',
            '-r',
            '0',
            '-On',
            `127.0.0.1:${port}`,
            '1.3.6.1.2.1.1.1.0',
          ],
          { encoding: 'utf8' },
        );
        return r.status === 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'snmpsimd to answer' },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { host: '127.0.0.1', port, stop };
}
