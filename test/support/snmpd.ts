/**
 * Debian's net-snmp agent (snmpd) as a plain child process for the tests: loopback, a free UDP port, a
 * generated config (no default config files), a v2c community and an SNMPv3 authPriv user (SHA/AES),
 * whose keys createUser writes into a persistent dir inside a temp dir. It serves the real interfaces
 * of this machine (IF-MIB from the kernel), so its answers can be checked against /sys/class/net.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeUdpPort } from './ports.ts';
import { waitForServer } from './server-start.ts';

const SNMPD = '/usr/sbin/snmpd';
const SNMPGET = '/usr/bin/snmpget';
const run = promisify(execFile);

export interface SnmpdOptions {
  readonly community?: string;
  readonly user?: string;
  /** At least 8 characters (RFC 3414 password-to-key). */
  readonly authKey?: string;
  readonly privKey?: string;
}

export interface Snmpd {
  readonly host: string;
  readonly port: number;
  readonly community: string;
  readonly user: string;
  readonly authKey: string;
  readonly privKey: string;
  /** The running snmpd's process id (a new one after restart()). */
  readonly pid: number | undefined;
  /** The temp dir with its config and persistent keys (removed by stop()). */
  readonly dir: string;
  /** Stop and start again on the same port, with the same users (a reboot as the agent sees it). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function requireBinary(path: string, pkg: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} not found: install Debian's ${pkg} (apt-get install -y ${pkg})`);
  }
}

export async function startSnmpd(opts: SnmpdOptions = {}): Promise<Snmpd> {
  requireBinary(SNMPD, 'snmpd');
  requireBinary(SNMPGET, 'snmp');
  const community = opts.community ?? 'netmon-lab';
  const user = opts.user ?? 'netmon';
  const authKey = opts.authKey ?? 'badung-auth-key';
  const privKey = opts.privKey ?? 'badung-priv-key';
  for (const [what, v] of [
    ['community', community],
    ['user', user],
    ['authKey', authKey],
    ['privKey', privKey],
  ] as const) {
    if (!/^[\w.-]+$/.test(v)) throw new Error(`snmpd ${what} "${v}": use letters, digits, . _ - only`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'netmon-snmpd-'));
  const persist = join(dir, 'persist');
  mkdirSync(persist);
  const port = await freeUdpPort();
  const conf = join(dir, 'snmpd.conf');
  writeFileSync(
    conf,
    [
      `agentAddress udp:127.0.0.1:${port}`,
      `rocommunity ${community} 127.0.0.1`,
      // createUser is read once and stored, localised, in the persistent dir (RFC 3414 keys, never plain).
      `createUser ${user} SHA "${authKey}" AES "${privKey}"`,
      `rouser ${user} priv`,
      'sysLocation netmon test',
      'sysContact netmon test',
      // No AgentX master socket: nothing outside the temp dir.
      'master no',
      '',
    ].join('\n'),
  );

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  /** Start the agent and wait until it answers a GET. */
  const launch = async (): Promise<void> => {
    output = '';
    // -f foreground, -Lo log to stdout, -C no default config files, -c ours; MIBS empty: Debian ships none.
    const proc = spawn(SNMPD, ['-f', '-Lo', '-C', '-c', conf, '-p', join(dir, 'snmpd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SNMP_PERSISTENT_DIR: persist, MIBS: '', MIBDIRS: dir },
    });
    child = proc;
    const keep = (b: Buffer): void => {
      output = (output + b.toString()).slice(-4000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // A test process that exits without stop() must not leave an snmpd behind.
    const orphanGuard = (): void => {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', orphanGuard);
    proc.once('exit', () => process.removeListener('exit', orphanGuard));
    await waitForServer(
      `snmpd on udp 127.0.0.1:${port}`,
      proc,
      async () => {
        try {
          const args = ['-v2c', '-c', community, '-t', '0.3', '-r', '0', `127.0.0.1:${port}`];
          await run(SNMPGET, [...args, '1.3.6.1.2.1.1.3.0']);
          return true;
        } catch {
          return false;
        }
      },
      { timeoutMs: 15_000, output: () => output },
    );
  };
  const halt = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const stop = async (): Promise<void> => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    dir,
    get pid() {
      return child?.pid;
    },
    community,
    user,
    authKey,
    privKey,
    stop,
    // The agent restarts: sysUpTime starts again from 0 (the kernel's interface counters do not).
    restart: async () => {
      await halt();
      await launch();
    },
  };
}
