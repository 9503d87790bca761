/**
 * Debian's PostgreSQL 15 as a plain process on loopback, for tests, benchmarks and `npm run cluster`: a data
 * directory made with initdb under `dir`, TCP on 127.0.0.1 only (its Unix socket in the data directory), a
 * superuser `netmon` with trust authentication from loopback, and a database `netmon`. PostgreSQL refuses to
 * run as root: when this runs as root, the server runs as the Debian package's `postgres` user and the data
 * directory is given to it.
 *
 * kill9() and start() keep the port and the data, as a crashed database server that comes back does.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { connect } from 'node:net';
import { freeLoopbackPort, requireBinary, startProcess } from './process.ts';

export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

export interface Postgres {
  /** `postgres://netmon@127.0.0.1:PORT/netmon` */
  readonly url: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** A clean fast shutdown (SIGINT: open sessions are ended, committed work is kept). */
  stop(): Promise<void>;
  /** SIGKILL of the postmaster, as a crash would; the next start() recovers from the WAL. */
  kill9(): Promise<void>;
  /** Start again after stop() or kill9(): same port, same data. */
  start(): Promise<void>;
}

export interface PostgresOptions {
  /** The data directory goes to `dir/pgdata`. An existing one is reused. */
  readonly dir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  readonly port?: number | undefined;
  readonly binDir?: string | undefined;
  readonly startTimeoutMs?: number | undefined;
}

export const POSTGRES_USER = 'netmon';
export const POSTGRES_DB = 'netmon';

/**
 * The server, run as another user, must reach its data: every directory above `dir` searchable by it. A
 * private parent (0700, e.g. the project's var/) stops initdb with "Permission denied": say which and how.
 */
function mustReach(dir: string, uid: number): void {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const st = statSync(d);
    const searchable = st.uid === uid ? (st.mode & 0o100) !== 0 : (st.mode & 0o001) !== 0;
    if (!searchable)
      throw new Error(
        `PostgreSQL runs as the postgres user (uid ${uid}) and cannot reach ${dir}: ${d} is mode ` +
          `${(st.mode & 0o777).toString(8)}; make it searchable (chmod o+x ${d}) or put the data elsewhere`,
      );
    if (dirname(d) === d) return;
  }
}

/** uid/gid to run as: ourselves, or the `postgres` user when we are root. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0)
    throw new Error(
      'running as root and there is no `postgres` user: install the Debian package postgresql (it creates it)',
    );
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

function run(bin: string, args: string[], who: { uid?: number; gid?: number }, what: string): void {
  const r = spawnSync(bin, args, { encoding: 'utf8', ...who });
  if (r.status !== 0)
    throw new Error(`${what} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || '').trim()}`);
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => done(false));
  });
}

export async function startPostgres(opts: PostgresOptions): Promise<Postgres> {
  const binDir = opts.binDir ?? POSTGRES_BIN_DIR;
  requireBinary(join(binDir, 'postgres'), 'postgresql');
  const who = runAs();
  const dir = resolve(opts.dir);
  const data = join(dir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  if (who.uid !== undefined) mustReach(dir, who.uid);
  const fresh = !existsSync(join(data, 'PG_VERSION'));
  if (fresh) {
    mkdirSync(data, { recursive: true, mode: 0o700 });
    if (who.uid !== undefined && who.gid !== undefined) chownTree(dir, who.uid, who.gid);
    run(
      join(binDir, 'initdb'),
      [
        '-D',
        data,
        '-U',
        POSTGRES_USER,
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '--no-instructions',
      ],
      who,
      'initdb',
    );
  }
  const port = opts.port ?? (await freeLoopbackPort());
  const server = await startProcess({
    name: 'postgres',
    binary: join(binDir, 'postgres'),
    args: [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${data}`,
      '-c',
      'max_connections=100',
      '-c',
      'logging_collector=off',
    ],
    port,
    readyPath: '',
    ready: async () => {
      if (!(await accepts(port))) return false;
      const r = spawnSync(
        join(binDir, 'pg_isready'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', POSTGRES_USER, '-d', 'postgres'],
        { encoding: 'utf8' },
      );
      return r.status === 0;
    },
    startTimeoutMs: opts.startTimeoutMs ?? 30_000,
    stopTimeoutMs: 15_000,
    // Fast shutdown (what `pg_ctl stop` does): SIGTERM is the smart one, which waits for every client to leave.
    stopSignal: 'SIGINT',
    ...who,
  });
  if (fresh)
    run(
      join(binDir, 'createdb'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', POSTGRES_USER, POSTGRES_DB],
      {},
      'createdb',
    );
  return {
    url: `postgres://${POSTGRES_USER}@127.0.0.1:${port}/${POSTGRES_DB}`,
    port,
    get pid() {
      return server.pid;
    },
    stop: async () => {
      const children = childPids(server.pid);
      await server.stop();
      await waitGone(children);
    },
    kill9: async () => {
      // The whole server, as a machine crash would: the postmaster and its backends (a backend that outlived
      // its postmaster would keep the shared memory and the next start would refuse).
      const children = childPids(server.pid);
      await server.kill9();
      for (const pid of children) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await waitGone(children);
    },
    start: () => server.start(),
  };
}

function childPids(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

async function waitGone(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && pids.some((p) => existsSync(`/proc/${p}`))) {
    await new Promise((r) => setTimeout(r, 20));
  }
}
