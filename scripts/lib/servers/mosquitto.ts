/**
 * Debian's Mosquitto as a plain process (tests and benchmarks): a generated config (loopback listener on a free
 * port, no anonymous clients, a password file made with mosquitto_passwd, an ACL mirroring
 * broker/topics.ts: devices write only their own telemetry/status, the collector reads all and writes state).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort as freeTcpPort, ServerStartError } from './process.ts';
import { connect } from 'node:net';

const MOSQUITTO = '/usr/sbin/mosquitto';

const tail = (s: string): string => s.trim() || '(no output)';

export interface Mosquitto {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startMosquitto(
  users: Record<string, string>,
  collectorUser: string,
): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO))
    throw new Error(`${MOSQUITTO} not found: apt-get install -y mosquitto (npm test does)`);
  const dir = mkdtempSync(join(tmpdir(), 'netmon-mosquitto-'));
  chmodSync(dir, 0o755);
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const [u, p] of Object.entries(users)) {
    const r = spawnSync('mosquitto_passwd', ['-b', passwd, u, p], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd: ${r.stderr}`);
  }
  const acl = join(dir, 'acl');
  writeFileSync(
    acl,
    [
      `user ${collectorUser}`,
      'topic read netmon/v1/#',
      'topic write netmon/v1/state/#',
      'topic write netmon/v1/alerts',
      '',
      'pattern write netmon/v1/+/%u/telemetry',
      'pattern write netmon/v1/+/%u/status',
      '',
    ].join('\n'),
  );
  const port = await freeTcpPort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'user root',
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${acl}`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-4096)));
  child.once('error', (err) => (stderr += `\nspawn error: ${err.message}`));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new ServerStartError(
          `mosquitto on 127.0.0.1:${port} exited before it was ready (exit code ${child.exitCode}); output:\n${tail(stderr)}`,
        );
      const up = await new Promise<boolean>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      });
      if (up) break;
      if (Date.now() > deadline)
        throw new ServerStartError(
          `mosquitto did not listen on 127.0.0.1:${port} within 10000 ms; output:\n${tail(stderr)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `mqtt://127.0.0.1:${port}`, stop };
}
