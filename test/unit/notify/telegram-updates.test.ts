/**
 * TelegramUpdates on fake time with a scripted Bot API: polling backs off (doubling, capped, 429's
 * retry_after honoured) and resets after a success; stop() wakes a backoff at once; presses without a
 * message or with foreign data are answered, not acted on.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { NotifyError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import type { IncidentActions } from '../../../collector/notify/incident-actions.ts';
import type { BotApi } from '../../../collector/notify/telegram-bot-api.ts';
import { TelegramState } from '../../../collector/notify/telegram-state.ts';
import { TelegramUpdates, type TelegramUpdate } from '../../../collector/notify/telegram-updates.ts';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

/** A Bot API whose getUpdates answers from a script: an error to throw, or updates to return. */
function scriptedApi(script: (NotifyError | TelegramUpdate[])[]) {
  const calls: { method: string; body: Record<string, unknown> }[] = [];
  const api = {
    name: 'telegram:test',
    call: (method: string, body: Record<string, unknown>, opts: { signal?: AbortSignal } = {}) => {
      calls.push({ method, body });
      if (method !== 'getUpdates' || body.timeout === 0) return Promise.resolve(true);
      const next = script.shift();
      if (next instanceof NotifyError) return Promise.reject(next);
      if (next) return Promise.resolve(next);
      // Nothing scripted: a long poll that waits until aborted.
      return new Promise((_, reject) =>
        opts.signal?.addEventListener('abort', () =>
          reject(new NotifyError('telegram_unreachable', 'aborted', { retryable: true })),
        ),
      );
    },
  };
  return { api: api as unknown as BotApi, calls };
}

const noActions: IncidentActions = {
  acknowledge: () => ({ ok: false, reason: 'not_found', message: 'x' }),
  resolve: () => ({ ok: false, reason: 'not_found', message: 'x' }),
  silence: () => ({ ok: false, reason: 'not_found', message: 'x' }),
};

function receiver(api: BotApi, clock: FakeClock, log = memoryLogger()) {
  return {
    log,
    updates: new TelegramUpdates({
      name: 'telegram:test',
      channel: 'test',
      api,
      state: new TelegramState(undefined),
      operators: { '1': 'wayan' },
      silenceMs: 3600_000,
      mode: { kind: 'polling', pollTimeoutS: 30 },
      clock,
      log,
      backoff: { baseMs: 1000, maxMs: 8000 },
    }),
  };
}

const err5xx = () => new NotifyError('telegram_status', 'HTTP 502', { retryable: true });

describe('TelegramUpdates polling on fake time', () => {
  it('backs off 1, 2, 4, 8, 8 s; honours retry_after; starts again from 1 s after a success', async () => {
    const clock = new FakeClock();
    const { api } = scriptedApi([
      err5xx(),
      err5xx(),
      err5xx(),
      err5xx(),
      err5xx(),
      [],
      err5xx(),
      new NotifyError('telegram_rate_limited', 'HTTP 429', { retryable: true, retryAfterMs: 30_000 }),
    ]);
    const { updates, log } = receiver(api, clock);
    updates.start(noActions);
    for (let i = 0; i < 12; i++) {
      await flush();
      clock.advance(30_000);
    }
    await flush();
    const delays = log.records.filter((r) => r.msg === 'telegram getUpdates failed').map((r) => r.delayMs);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 1000, 30_000]);
    await updates.stop();
  });

  it('an empty answer that comes back at once does not make a busy loop: the next poll waits 1 s', async () => {
    const clock = new FakeClock();
    const { api, calls } = scriptedApi([[], [], []]);
    const { updates } = receiver(api, clock);
    updates.start(noActions);
    const polls = () => calls.filter((c) => c.method === 'getUpdates').length;
    await flush();
    expect(polls()).toBe(1);
    clock.advance(999);
    await flush();
    expect(polls()).toBe(1);
    clock.advance(1);
    await flush();
    expect(polls()).toBe(2);
    await updates.stop();
  });

  it('stop() during a backoff returns without waiting for it', async () => {
    const clock = new FakeClock();
    const { api } = scriptedApi([err5xx()]);
    const { updates } = receiver(api, clock);
    updates.start(noActions);
    await flush();
    expect(clock.pendingTimers()).toBe(1);
    await updates.stop(); // resolves without advancing the clock
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stop() confirms the offset with a getUpdates of timeout 0', async () => {
    const clock = new FakeClock();
    const press: TelegramUpdate = {
      update_id: 41,
      callback_query: {
        id: 'q',
        from: { id: 1 },
        message: { message_id: 3, chat: { id: -100 } },
        data: 'ack:x',
      },
    };
    const { api, calls } = scriptedApi([[press]]);
    const { updates } = receiver(api, clock);
    updates.start(noActions);
    await flush();
    await updates.stop();
    expect(calls.at(-1)).toEqual({
      method: 'getUpdates',
      body: { offset: 42, timeout: 0, limit: 1, allowed_updates: ['callback_query'] },
    });
  });

  it('foreign callback data and a refusal by the monitor are answered, with an alert', async () => {
    const clock = new FakeClock();
    const { api, calls } = scriptedApi([]);
    const { updates } = receiver(api, clock);
    updates.start(noActions);
    const base = { id: 'q', from: { id: 1 }, message: { message_id: 3, chat: { id: -100 } } };
    await updates.handleUpdate({ update_id: 1, callback_query: { ...base, data: 'vote:yes' } });
    await updates.handleUpdate({ update_id: 2, callback_query: { ...base, id: 'q2', data: 'ack:gone' } });
    const answers = calls.filter((c) => c.method === 'answerCallbackQuery').map((c) => c.body);
    expect(answers).toEqual([
      { callback_query_id: 'q', text: 'Tombol tidak dikenal. / Unknown button.', show_alert: true },
      {
        callback_query_id: 'q2',
        text: 'Gangguan ini tidak dikenal lagi. / This incident is no longer known.',
        show_alert: true,
      },
    ]);
    await updates.stop();
  });
});
