/**
 * The one file that runs fping (Debian's fping 5.1). One process pings a whole batch of targets, read
 * from stdin (`-f -`), each `count` times; never a process per device.
 *
 *   fping -C <count> -q -t <timeout> -p <period> -i <interval> -r 0 -f -
 *
 * -C prints each target's RTTs (or "-") on stderr once all are done; -q drops the per-reply lines.
 * fping needs raw ICMP sockets: Debian ships /usr/bin/fping with cap_net_raw=ep (getcap /usr/bin/fping);
 * without it, as a non-root user, it falls back to unprivileged ICMP sockets, which need the user's
 * group inside net.ipv4.ping_group_range (README: Ping).
 *
 * Exit status (fping(8)): 0 all answered, 1 some did not, 2 some address was not found, 3 bad arguments,
 * 4 a system call failed (e.g. no permission for a socket). 0-2 are results; 3-4 are an FpingError.
 */
import { spawn } from 'node:child_process';
import { NetmonError } from '../../core/errors.ts';
import { parseFpingOutput, type FpingParse } from './fping-output.ts';

export class FpingError extends NetmonError {}

export interface FpingOptions {
  /** The fping binary (default: fping on the PATH). */
  readonly bin?: string | undefined;
  /** Echo requests per target per round (-C). */
  readonly count: number;
  /** How long to wait for each reply, ms (-t). */
  readonly timeoutMs: number;
  /** Between two requests to the same target, ms (-p). */
  readonly periodMs: number;
  /** Between two requests to any targets, ms (-i; fping 5.1 allows 1 at the least without root). */
  readonly intervalMs: number;
}

/** Ping a batch of targets (addresses or host names) once, as one fping process. */
export type PingBatch = (targets: readonly string[]) => Promise<FpingParse>;

export function fpingBatch(opts: FpingOptions): PingBatch {
  const args = [
    '-C',
    String(opts.count),
    '-q',
    '-t',
    String(opts.timeoutMs),
    '-p',
    String(opts.periodMs),
    '-i',
    String(opts.intervalMs),
    '-r',
    '0',
    '-f',
    '-',
  ];
  const bin = opts.bin ?? 'fping';
  // fping gives up on its own after count x period + timeout; a hung process is killed well after.
  const killAfterMs = opts.count * opts.periodMs + opts.timeoutMs + 30_000;
  return (targets) =>
    new Promise<FpingParse>((resolve, reject) => {
      if (targets.length === 0) {
        resolve(parseFpingOutput('', [], opts.count));
        return;
      }
      const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      let out = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      child.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          new FpingError(
            'ping_unavailable',
            e.code === 'ENOENT'
              ? `${bin} is not installed (Debian: apt-get install fping)`
              : `cannot run ${bin}: ${e.message}`,
            { retryable: false, cause: e },
          ),
        );
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (signal) {
          reject(new FpingError('ping_failed', `${bin} killed by ${signal}`, { retryable: true }));
          return;
        }
        if (code === 3 || code === 4 || code === null) {
          const said = (err + out).trim().split('\n').slice(0, 3).join(' | ');
          const hint =
            code === 4
              ? ' (no raw socket: give fping CAP_NET_RAW, `setcap cap_net_raw+ep /usr/bin/fping`, or put the user in net.ipv4.ping_group_range)'
              : '';
          reject(
            new FpingError('ping_failed', `${bin} exited ${String(code)}${hint}: ${said}`, {
              retryable: code === 4,
            }),
          );
          return;
        }
        const parsed = parseFpingOutput(err + out, targets, opts.count);
        // Exit 2: an address was not found. fping 5.1 prints nothing for such a target with -q.
        resolve(
          code === 2
            ? { ...parsed, missing: [], unresolved: [...parsed.unresolved, ...parsed.missing] }
            : parsed,
        );
      });
      child.stdin.on('error', () => {
        // fping exiting early (bad arguments) closes its stdin: the exit status tells why.
      });
      child.stdin.end(`${targets.join('\n')}\n`);
    });
}
