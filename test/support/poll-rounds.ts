/**
 * Waiting for the monitor's own progress instead of the wall clock: "every device was polled n more
 * times" is what a test means when it wants to show that nothing else happens after an event (no second
 * page, no alert for the APs behind a cut router). It reads the monitor's poll-round counter
 * (MonitorStatus.polls.rounds, collector/app.ts; also in GET /api/v1/health as details.polls), so a slow shared CI machine
 * waits longer and a fast one less, and a monitor that stopped polling fails with a message instead of
 * passing.
 */
import { waitFor } from './ports.ts';

interface Polls {
  readonly ok: number;
  readonly failed: number;
  readonly rounds: number;
}

export interface PollRoundSource {
  status(): { readonly polls: Polls };
}

/** Reads the poll counters: a Monitor in this process, one that may come and go, or GET /api/v1/health. */
export type PollsReader = () => Polls | undefined | Promise<Polls | undefined>;

/** The counters of a monitor in another process, from its GET /api/v1/health. */
export function pollsOverHttp(statusUrl: string, headers: Record<string, string> = {}): PollsReader {
  return async () => {
    try {
      const res = await fetch(statusUrl, { headers, signal: AbortSignal.timeout(2000) });
      if (!res.ok) return undefined;
      return ((await res.json()) as { details?: { polls?: Polls } }).details?.polls;
    } catch {
      return undefined; // not listening yet, or restarting
    }
  };
}

/**
 * Resolve once every polled device has been polled (and its state updated) at least `n` times after this
 * call: n complete rounds after the round in progress. Rejects at the deadline, saying how far it got.
 */
export async function waitForPollRounds(
  monitor: PollRoundSource | PollsReader,
  n: number,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  const read: PollsReader = typeof monitor === 'function' ? monitor : () => monitor.status().polls;
  const first = await waitFor(read, { timeoutMs: 10_000, what: 'the monitor to report its polls' });
  // The round in progress began before this call: it does not count.
  const want = first.rounds + n + 1;
  let last: Polls | undefined = first;
  await waitFor(
    async () => {
      last = (await read()) ?? last;
      return (last?.rounds ?? -1) >= want;
    },
    {
      timeoutMs: opts.timeoutMs ?? 30_000,
      what: () =>
        `${n} more complete poll round(s)${opts.what ? ` (${opts.what})` : ''}: rounds ${first.rounds} -> ${last?.rounds ?? '?'}, wanted ${want}; polls ok ${last?.ok ?? '?'}, failed ${last?.failed ?? '?'}`,
    },
  );
}

export interface ClockCheckSource {
  status(): { readonly clockChecks: { readonly count: number; readonly lastAtMs: number } };
}

/**
 * Resolve once the monitor has run an incident clock check (collector/app.ts checkClocks) at a monitor
 * time of at least `atMs`: from then on, whatever that check would do (a breach, an escalation) is done
 * and visible in the incident store. For "the clock ran out and nothing happened" without a sleep.
 */
export async function waitForClockCheckAfter(
  monitor: ClockCheckSource,
  atMs: number,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<void> {
  await waitFor(() => monitor.status().clockChecks.lastAtMs >= atMs, {
    timeoutMs: opts.timeoutMs ?? 30_000,
    what: () => {
      const c = monitor.status().clockChecks;
      return `a clock check at or after ${new Date(atMs).toISOString()}${opts.what ? ` (${opts.what})` : ''}: ${c.count} checks, the last at ${new Date(c.lastAtMs).toISOString()}`;
    },
  });
}

export interface HealthSource extends PollRoundSource {
  readonly health: {
    get(
      id: string,
    ):
      | { readonly state: string; readonly failures: number; readonly lastFailure?: string | undefined }
      | undefined;
  };
}

/**
 * Every listed device up, as the monitor sees it. On the deadline it says which are not and why (their
 * state, failures in a row, last failure) and how far polling got, so a setup that does not converge on a
 * loaded machine names its cause instead of "timed out waiting for condition".
 */
export async function waitForAllUp(
  monitor: HealthSource | (() => HealthSource | undefined),
  deviceIds: readonly string[],
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  const get = typeof monitor === 'function' ? monitor : () => monitor;
  const notUp = (): string[] => {
    const m = get();
    return deviceIds.filter((id) => m?.health.get(id)?.state !== 'up');
  };
  await waitFor(() => notUp().length === 0, {
    timeoutMs: opts.timeoutMs ?? 30_000,
    what: () => {
      const m = get();
      if (!m) return 'every device up: no monitor running';
      const late = notUp();
      const detail = late.slice(0, 10).map((id) => {
        const h = m.health.get(id);
        return h
          ? `${id} ${h.state} (${h.failures} failed${h.lastFailure ? `: ${h.lastFailure}` : ''})`
          : `${id} not polled yet`;
      });
      const p = m.status().polls;
      return `every device up: ${late.length} of ${deviceIds.length} are not: ${detail.join('; ')}${late.length > 10 ? '; ...' : ''}; polls ok ${p.ok}, failed ${p.failed}, rounds ${p.rounds}`;
    },
  });
}
