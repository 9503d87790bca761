/**
 * The Dispatcher with a ledger that can claim (issue #15): a page goes out only after its claim is
 * granted; a refused or failed claim is not sent and is logged; halt() (deposition) stops everything not
 * yet inside a channel's request, including retries. Without claim the ledger works as before.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { NotifyError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Dispatcher, type SentLedger } from '../../../collector/notify/dispatcher.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import type { Notifier } from '../../../collector/notify/notifier.ts';
import { RecordingChannel, advance, flush } from '../../support/monitor-fakes.ts';

const firing = (id: string) =>
  ({
    schema: 'badung-netmon/alert/v1',
    id,
    status: 'firing',
    kind: 'device_down',
  }) as unknown as Notification;

/** A ledger like the PostgreSQL store's: claims wait for `grant` (a commit), then answer. */
class ClaimingLedger implements SentLedger {
  readonly sent = new Set<string>();
  readonly claims: string[] = [];
  readonly pending: { key: string; resolve: (ok: boolean) => void; reject: (e: Error) => void }[] = [];
  auto: boolean | undefined = true;

  wasSent(id: string, channel: string, kind: string): boolean {
    return this.sent.has(`${id}|${channel}|${kind}`);
  }
  markSent(id: string, channel: string, kind: string): boolean {
    this.sent.add(`${id}|${channel}|${kind}`);
    return true;
  }
  claim(id: string, channel: string, kind: string): Promise<boolean> {
    const key = `${id}|${channel}|${kind}`;
    this.claims.push(key);
    if (this.auto !== undefined) return Promise.resolve(this.auto && !this.sent.has(key));
    return new Promise((resolve, reject) => this.pending.push({ key, resolve, reject }));
  }
}

function setup(ledger: SentLedger | undefined, notifiers: Notifier[] = [new RecordingChannel('hook')]) {
  const clock = new FakeClock();
  const log = memoryLogger('debug');
  const d = new Dispatcher(notifiers, clock, log, { attempts: 4, baseMs: 1000, maxMs: 4000 }, ledger);
  return { clock, log, d, channel: notifiers[0] as RecordingChannel };
}

describe('Dispatcher with a claiming ledger', () => {
  it('sends only once the claim is granted, then marks it sent', async () => {
    const ledger = new ClaimingLedger();
    ledger.auto = undefined;
    const { d, channel } = setup(ledger);
    d.dispatch(firing('a1'));
    await flush();
    expect(ledger.claims).toEqual(['a1|hook|firing']);
    expect(channel.sent).toEqual([]);
    ledger.pending[0]?.resolve(true);
    await d.stop();
    expect(channel.sent.map((n) => n.id)).toEqual(['a1']);
    expect(ledger.wasSent('a1', 'hook', 'firing')).toBe(true);
    expect(d.stats()).toEqual({ sent: 1, failed: 0, retries: 0 });
  });

  it('a refused claim is not sent, and says so in the log', async () => {
    const ledger = new ClaimingLedger();
    ledger.auto = false;
    const { d, channel, log } = setup(ledger);
    d.dispatch(firing('a2'));
    await d.stop();
    expect(channel.sent).toEqual([]);
    expect(ledger.wasSent('a2', 'hook', 'firing')).toBe(false);
    expect(log.records.some((r) => /claim refused/.test(r.msg) && r.alert === 'a2')).toBe(true);
    expect(d.stats()).toEqual({ sent: 0, failed: 0, retries: 0 });
  });

  it('a claim that fails (the store cannot answer) is not sent and is logged as an error', async () => {
    const ledger = new ClaimingLedger();
    ledger.auto = undefined;
    const { d, channel, log } = setup(ledger);
    d.dispatch(firing('a3'));
    await flush();
    ledger.pending[0]?.reject(new Error('fenced: term 3 < 4'));
    await d.stop();
    expect(channel.sent).toEqual([]);
    const rec = log.records.find((r) => /claim failed/.test(r.msg));
    expect(rec).toMatchObject({ level: 'error', alert: 'a3', error: 'fenced: term 3 < 4' });
  });

  it('an already sent delivery is not even claimed', async () => {
    const ledger = new ClaimingLedger();
    ledger.markSent('a4', 'hook', 'firing');
    const { d, channel } = setup(ledger);
    d.dispatch(firing('a4'));
    await d.stop();
    expect(ledger.claims).toEqual([]);
    expect(channel.sent).toEqual([]);
  });

  it('halted while the claim commits: granted, but not sent', async () => {
    const ledger = new ClaimingLedger();
    ledger.auto = undefined;
    const { d, channel, log } = setup(ledger);
    d.dispatch(firing('a5'));
    await flush();
    d.halt();
    ledger.pending[0]?.resolve(true);
    await flush();
    await flush();
    expect(channel.sent).toEqual([]);
    expect(ledger.wasSent('a5', 'hook', 'firing')).toBe(false);
    expect(log.records.some((r) => /dispatcher halted/.test(r.msg))).toBe(true);
  });

  it('halted during a retry wait: the retry sends nothing; stop() does not wait for it', async () => {
    let attempts = 0;
    const flaky: Notifier = {
      name: 'flaky',
      send: () => {
        attempts++;
        return Promise.reject(new NotifyError('http_503', '503', { retryable: true }));
      },
    };
    const { d, clock } = setup(new ClaimingLedger(), [flaky]);
    d.dispatch(firing('a6'));
    await flush();
    await flush();
    expect(attempts).toBe(1);
    d.halt();
    await d.stop();
    await advance(clock, 10_000, 500);
    expect(attempts).toBe(1);
    expect(d.stats()).toMatchObject({ sent: 0, failed: 0, retries: 1 });
  });

  it('sent, then the store refuses the record (deposed meanwhile): counted as sent, logged, not a failure', async () => {
    const ledger = new ClaimingLedger();
    ledger.markSent = () => {
      throw new Error('store deposed: term 2 < 3');
    };
    const { d, channel, log } = setup(ledger);
    d.dispatch(firing('a8'));
    await d.stop();
    expect(channel.sent.map((n) => n.id)).toEqual(['a8']);
    expect(d.stats()).toEqual({ sent: 1, failed: 0, retries: 0 });
    expect(log.records.find((r) => /not recorded as sent/.test(r.msg))).toMatchObject({
      level: 'warn',
      error: 'store deposed: term 2 < 3',
    });
  });

  it('an incident the ledger does not hold (an area incident, in memory) is sent without a claim', async () => {
    const ledger = Object.assign(new ClaimingLedger(), {
      get: (id: string) => (id.startsWith('area:') ? undefined : { id }),
    });
    ledger.auto = false;
    const { d, channel } = setup(ledger);
    d.dispatch(firing('area:Petang@t'));
    d.dispatch(firing('a9'));
    await d.stop();
    expect(channel.sent.map((n) => n.id)).toEqual(['area:Petang@t']);
    expect(ledger.claims).toEqual(['a9|hook|firing']);
    expect(ledger.wasSent('area:Petang@t', 'hook', 'firing')).toBe(false);
  });

  it('halted: new notifications are dropped without a claim', async () => {
    const ledger = new ClaimingLedger();
    const { d, channel } = setup(ledger);
    d.halt();
    d.dispatch(firing('a7'));
    await flush();
    expect(ledger.claims).toEqual([]);
    expect(channel.sent).toEqual([]);
  });
});

describe('Dispatcher with a ledger without claim (SQLite, one process)', () => {
  it('sends and marks sent; a second dispatch of the same event is not sent again', async () => {
    const sent = new Set<string>();
    const ledger: SentLedger = {
      wasSent: (i, c, k) => sent.has(`${i}|${c}|${k}`),
      markSent: (i, c, k) => (sent.add(`${i}|${c}|${k}`), true),
    };
    const { d, channel } = setup(ledger);
    d.dispatch(firing('b1'));
    await d.stop();
    d.dispatch(firing('b1'));
    await d.stop();
    expect(channel.sent.map((n) => n.id)).toEqual(['b1']);
  });
});
