/**
 * Telegram pages with buttons against the local Bot API peer (test/support/telegram-peer.ts): the page's
 * keyboard, presses received by long polling and by webhook (through the real HTTP server), operators
 * mapped, strangers refused, the page edited on acknowledge and on recovery, the offset kept across a
 * restart, polling that backs off on errors and stops promptly. The incident side is a recorder of
 * IncidentActions here; test/e2e/telegram-ack-scenario.test.ts runs the same against the whole monitor.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { MonitorService } from '../../../collector/http/service.ts';
import { startHttp, type RunningHttp } from '../../../collector/http/server.ts';
import type { ActionOutcome, IncidentActions } from '../../../collector/notify/incident-actions.ts';
import { buildNotification } from '../../../collector/notify/notification.ts';
import { TelegramNotifier } from '../../../collector/notify/telegram.ts';
import { BotApi } from '../../../collector/notify/telegram-bot-api.ts';
import { TelegramState } from '../../../collector/notify/telegram-state.ts';
import { TelegramUpdates, type UpdatesMode } from '../../../collector/notify/telegram-updates.ts';
import type { IncidentView } from '../../../collector/http/service.ts';
import { LINK, alert, router, site, startedAt } from '../../support/outage-fixture.ts';
import { waitFor } from '../../support/ports.ts';
import { startTelegramPeer, type TelegramPeer } from '../../support/telegram-peer.ts';

const TOKEN = '7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const CHAT = '-1001234567890';
const WAYAN = 111111111;
const STRANGER = 999999999;
const OPERATORS = { [String(WAYAN)]: 'Wayan Sudarma' };
const HOUR = 3600_000;

const firing = buildNotification(alert, site, router, LINK);
const resolved = buildNotification(
  { ...alert, status: 'resolved', resolvedAt: startedAt + 65 * 60_000 },
  site,
  router,
  LINK,
);

/** IncidentActions that record what they were asked and say yes (or what `refuse` says). */
class RecordingActions implements IncidentActions {
  readonly calls: { action: string; id: string; by: string; via: string; ms?: number }[] = [];
  refuse: ActionOutcome | undefined;
  #ok(id: string): ActionOutcome {
    return this.refuse ?? { ok: true, incident: { id } as IncidentView };
  }
  acknowledge(id: string, by: string, via: string): ActionOutcome {
    this.calls.push({ action: 'ack', id, by, via });
    return this.#ok(id);
  }
  resolve(id: string, by: string, via: string): ActionOutcome {
    this.calls.push({ action: 'resolve', id, by, via });
    return this.#ok(id);
  }
  silence(id: string, ms: number, by: string, via: string): ActionOutcome {
    this.calls.push({ action: 'silence', id, by, via, ms });
    return this.#ok(id);
  }
}

let peer: TelegramPeer;
let dir: string;
beforeAll(async () => {
  peer = await startTelegramPeer({ tokens: [TOKEN], chats: [CHAT] });
  dir = mkdtempSync(join(tmpdir(), 'netmon-tg-buttons-'));
});
afterAll(async () => {
  await peer?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Channel {
  notifier: TelegramNotifier;
  updates: TelegramUpdates;
  state: TelegramState;
  actions: RecordingActions;
  log: ReturnType<typeof memoryLogger>;
}
const running: TelegramUpdates[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((u) => u.stop()));
});

let fileSeq = 0;
function channel(
  over: { stateFile?: string; mode?: UpdatesMode; backoff?: { baseMs: number; maxMs: number } } = {},
): Channel {
  const log = memoryLogger();
  const state = new TelegramState(over.stateFile ?? join(dir, `state-${++fileSeq}.json`));
  const api = new BotApi({
    name: 'telegram:noc',
    botToken: new Secret(TOKEN),
    apiBase: peer.apiBase,
    timeoutMs: 3000,
  });
  const buttons = { state, silenceMs: HOUR, clock: systemClock, log };
  const notifier = new TelegramNotifier(
    { name: 'noc', botToken: new Secret(TOKEN), chatId: CHAT, apiBase: peer.apiBase, buttons },
    api,
  );
  const updates = new TelegramUpdates({
    name: 'telegram:noc',
    channel: 'noc',
    api,
    state,
    operators: OPERATORS,
    silenceMs: HOUR,
    mode: over.mode ?? { kind: 'polling', pollTimeoutS: 2 },
    clock: systemClock,
    log,
    backoff: over.backoff,
  });
  const actions = new RecordingActions();
  return { notifier, updates, state, actions, log };
}
const start = (c: Channel): void => {
  c.updates.start(c.actions);
  running.push(c.updates);
};
const lastMessageId = (): number => peer.messages.at(-1)!.messageId;

describe('Telegram page with buttons', () => {
  it('carries acknowledge, resolve and silence 1 h, labelled in both languages, and is remembered', async () => {
    const c = channel();
    await c.notifier.send(firing);
    const page = peer.current(CHAT, lastMessageId())!;
    expect(page.keyboard?.flat().map((b) => b.text)).toEqual([
      '✋ Tangani / Ack',
      '✅ Selesai / Resolve',
      '🔕 Bisukan 1 jam / Silence 1 h',
    ]);
    expect(page.keyboard?.flat().map((b) => b.callback_data)).toEqual([
      `ack:${firing.id}`,
      `resolve:${firing.id}`,
      `silence:${firing.id}`,
    ]);
    expect(c.state.pagesOf(firing.id)).toMatchObject([{ chatId: CHAT, messageId: lastMessageId() }]);
  });

  it('a page that cannot be remembered (disk full) still counts as sent: logged, not sent again', async () => {
    class FullDisk extends TelegramState {
      override addPage(): void {
        throw new Error('ENOSPC: no space left on device');
      }
    }
    const log = memoryLogger();
    const state = new FullDisk(undefined);
    const notifier = new TelegramNotifier({
      name: 'noc',
      botToken: new Secret(TOKEN),
      chatId: CHAT,
      apiBase: peer.apiBase,
      buttons: { state, silenceMs: HOUR, clock: systemClock, log },
    });
    const before = peer.messages.length;
    await notifier.send(firing);
    expect(peer.messages.length).toBe(before + 1);
    expect(log.records.find((r) => r.msg === 'telegram page not remembered')?.error).toContain('ENOSPC');
  });

  it('a recovery without buttons configured stays a plain message (no keyboard, nothing remembered)', async () => {
    const plain = new TelegramNotifier({
      name: 'plain',
      botToken: new Secret(TOKEN),
      chatId: CHAT,
      apiBase: peer.apiBase,
    });
    await plain.send(firing);
    expect(peer.current(CHAT, lastMessageId())?.keyboard).toBeUndefined();
  });
});

describe('pressing the buttons (long polling)', () => {
  it('acknowledge by a mapped operator: acted on as that operator via Telegram, answered, page edited', async () => {
    const c = channel();
    start(c);
    await c.notifier.send(firing);
    const messageId = lastMessageId();
    const edits = peer.edits.length;
    const q = await peer.press({
      chatId: CHAT,
      messageId,
      button: /Ack/,
      from: { id: WAYAN, username: 'wayan' },
    });
    await waitFor(() => peer.edits.length > edits, { what: 'the page edited' });
    expect(c.actions.calls).toEqual([
      { action: 'ack', id: firing.id, by: 'Wayan Sudarma', via: 'via Telegram' },
    ]);
    expect(peer.answers.find((a) => a.callbackQueryId === q)).toMatchObject({
      showAlert: false,
      text: expect.stringMatching(/^Ditangani: .* \/ Acknowledged$/) as unknown,
    });
    const page = peer.current(CHAT, messageId)!;
    expect(page.plain).toContain('[KRITIS] GANGGUAN');
    expect(page.plain).toMatch(/✋ Ditangani oleh Wayan Sudarma via Telegram, \d\d:\d\d WITA/);
    expect(page.plain).toContain('Acknowledged by Wayan Sudarma via Telegram');
    // Acknowledged: no acknowledge button any more; resolve and silence stay.
    expect(page.keyboard?.flat().map((b) => b.text)).toEqual([
      '✅ Selesai / Resolve',
      '🔕 Bisukan 1 jam / Silence 1 h',
    ]);
  });

  it('an unknown Telegram user is refused, told so, and nothing is done', async () => {
    const c = channel();
    start(c);
    await c.notifier.send(firing);
    const messageId = lastMessageId();
    const edits = peer.edits.length;
    const q = await peer.press({
      chatId: CHAT,
      messageId,
      button: /Ack/,
      from: { id: STRANGER, username: 'tamu' },
    });
    const answer = await waitFor(() => peer.answers.find((a) => a.callbackQueryId === q));
    expect(answer.showAlert).toBe(true);
    expect(answer.text).toContain('tidak terdaftar sebagai operator');
    expect(answer.text).toContain('not a registered operator');
    expect(answer.text).toContain(String(STRANGER));
    expect(c.actions.calls).toEqual([]);
    expect(peer.edits.length).toBe(edits);
    expect(c.log.records.find((r) => r.msg === 'telegram press refused: not an operator')).toMatchObject({
      telegramUser: STRANGER,
    });
    expect(c.updates.stats()).toMatchObject({ refused: 1, handled: 0 });
  });

  it('a refusal by the monitor (already acknowledged) is answered with the reason, the page left alone', async () => {
    const c = channel();
    start(c);
    c.actions.refuse = {
      ok: false,
      reason: 'conflict',
      message: "incident 'x': acknowledged by made already",
    };
    await c.notifier.send(firing);
    const edits = peer.edits.length;
    const q = await peer.press({
      chatId: CHAT,
      messageId: lastMessageId(),
      button: /Ack/,
      from: { id: WAYAN },
    });
    const answer = await waitFor(() => peer.answers.find((a) => a.callbackQueryId === q));
    expect(answer).toMatchObject({ showAlert: true });
    expect(answer.text).toBe(
      'Tidak dapat: sudah ditangani oleh made / Not possible: already acknowledged by made',
    );
    expect(peer.edits.length).toBe(edits);
  });

  it('silence 1 h: the silence asked for an hour, the page says who silenced it', async () => {
    const c = channel();
    start(c);
    await c.notifier.send(firing);
    const messageId = lastMessageId();
    const q = await peer.press({ chatId: CHAT, messageId, button: /Silence/, from: { id: WAYAN } });
    await waitFor(() => peer.answers.some((a) => a.callbackQueryId === q));
    expect(c.actions.calls).toEqual([
      { action: 'silence', id: firing.id, by: 'Wayan Sudarma', via: 'via Telegram', ms: HOUR },
    ]);
    await waitFor(() => peer.current(CHAT, messageId)?.plain.includes('Dibisukan 1 jam'));
    expect(peer.current(CHAT, messageId)?.plain).toContain('Silenced 1 h by Wayan Sudarma');
  });

  it('the recovery: a recovery message, and the page edited: recovered, its buttons gone, then forgotten', async () => {
    const c = channel();
    start(c);
    await c.notifier.send(firing);
    const messageId = lastMessageId();
    await peer.press({ chatId: CHAT, messageId, button: /Ack/, from: { id: WAYAN } });
    await waitFor(() => peer.current(CHAT, messageId)?.plain.includes('Ditangani oleh'));
    const sent = peer.messages.length;
    await c.notifier.send(resolved);
    expect(peer.messages.length).toBe(sent + 1);
    expect(peer.messages.at(-1)?.plain).toMatch(/^PULIH: /);
    const page = peer.current(CHAT, messageId)!;
    expect(page.keyboard).toBeUndefined();
    expect(page.plain).toContain('Ditangani oleh Wayan Sudarma');
    expect(page.plain).toMatch(/🟢 PULIH 15:10 WITA, 22-11-2026 \/ RECOVERED$/);
    expect(c.state.pagesOf(firing.id)).toEqual([]);
  });

  it('an incident id too long for callback_data: the button carries the action, the page names the incident', async () => {
    const c = channel();
    start(c);
    const longId = `${'pkm-petang-1-ap-sangat-panjang-'.repeat(3)}@2026-11-22T06:05:00.000Z`;
    await c.notifier.send({ ...firing, id: longId });
    const messageId = lastMessageId();
    expect(peer.current(CHAT, messageId)?.keyboard?.[0]?.[0]?.callback_data).toBe('ack:');
    await peer.press({ chatId: CHAT, messageId, button: /Ack/, from: { id: WAYAN } });
    await waitFor(() => c.actions.calls.length === 1);
    expect(c.actions.calls[0]).toMatchObject({ action: 'ack', id: longId });
  });
});

describe('the receiver: offset, backoff, stop', () => {
  it('keeps the offset: a restart does not replay a press, and a press made while stopped is handled once', async () => {
    const file = join(dir, 'restart.json');
    const a = channel({ stateFile: file });
    start(a);
    await a.notifier.send(firing);
    const messageId = lastMessageId();
    await peer.press({ chatId: CHAT, messageId, button: /Silence/, from: { id: WAYAN } });
    await waitFor(() => a.actions.calls.length === 1);
    await a.updates.stop();
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { offset: number };
    expect(saved.offset).toBeGreaterThan(700_000_000);

    // Pressed while the monitor is down.
    await peer.press({ chatId: CHAT, messageId, button: /Silence/, from: { id: WAYAN } });
    const b = channel({ stateFile: file });
    start(b);
    await waitFor(() => b.actions.calls.length === 1, { what: 'the press made while stopped' });
    // Another long poll comes and goes without the first press again.
    const polls = peer.requests.filter((r) => r.method === 'getUpdates').length;
    await waitFor(() => peer.requests.filter((r) => r.method === 'getUpdates').length >= polls + 1, {
      timeoutMs: 8000,
    });
    expect(b.actions.calls).toHaveLength(1);
    expect(a.actions.calls).toHaveLength(1);
  });

  it('stop() confirms the offset to Telegram: a receiver without the state file does not act on handled presses', async () => {
    const a = channel();
    start(a);
    await a.notifier.send(firing);
    const messageId = lastMessageId();
    await peer.press({ chatId: CHAT, messageId, button: /Ack/, from: { id: WAYAN } });
    await waitFor(() => a.actions.calls.length === 1);
    await a.updates.stop();
    const fresh = channel(); // another state file: no offset of its own
    start(fresh);
    await waitFor(() => peer.waitingPolls() === 1, { what: 'the fresh receiver long-polling' });
    expect(fresh.actions.calls).toEqual([]);
    await peer.press({ chatId: CHAT, messageId, button: /Silence/, from: { id: WAYAN } });
    await waitFor(() => fresh.actions.calls.length === 1);
    expect(fresh.actions.calls[0]).toMatchObject({ action: 'silence' });
  });

  it('backs off on errors (doubling) and recovers', async () => {
    const c = channel({ backoff: { baseMs: 100, maxMs: 1000 } });
    peer.failNextOf(
      'getUpdates',
      { status: 502, description: '', raw: '<html>Bad Gateway</html>' },
      { status: 502, description: '', raw: '<html>Bad Gateway</html>' },
      { status: 500, description: 'Internal Server Error' },
    );
    start(c);
    await c.notifier.send(firing);
    await peer.press({ chatId: CHAT, messageId: lastMessageId(), button: /Ack/, from: { id: WAYAN } });
    await waitFor(() => c.actions.calls.length === 1, { timeoutMs: 10_000 });
    const failures = c.log.records.filter((r) => r.msg === 'telegram getUpdates failed');
    // Doubling from the base per failure in a row (a poll of an earlier test's receiver, ending as this
    // one starts, may take one of the scripted failures).
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.map((r) => r.delayMs)).toEqual(failures.map((_, i) => 100 * 2 ** i));
    expect(failures.map((r) => r.attempt)).toEqual(failures.map((_, i) => i + 1));
  });

  it('429 on getUpdates waits retry_after', async () => {
    const c = channel({ backoff: { baseMs: 50, maxMs: 5000 } });
    peer.failNextOf('getUpdates', {
      status: 429,
      description: 'Too Many Requests: retry after 1',
      retryAfterS: 1,
    });
    start(c);
    await waitFor(() => c.log.records.some((r) => r.msg === 'telegram getUpdates failed'));
    expect(c.log.records.find((r) => r.msg === 'telegram getUpdates failed')?.delayMs).toBe(1000);
  });

  it('stop() ends a long poll in flight at once', async () => {
    const c = channel({ mode: { kind: 'polling', pollTimeoutS: 30 } });
    start(c);
    await waitFor(() => peer.waitingPolls() === 1, { what: 'a long poll waiting' });
    const t0 = Date.now();
    await c.updates.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(c.log.records.filter((r) => r.msg === 'telegram getUpdates failed')).toEqual([]);
  });
});

describe('pressing the buttons (webhook, through the HTTP server)', () => {
  const SECRET = 'wh-secret-0123456789abcdef';
  let http: RunningHttp;
  let c: Channel;
  beforeEach(async () => {
    // The server is up before the receiver, which registers the server's URL: the route forwards.
    const route: { target?: TelegramUpdates } = {};
    http = await startHttp({} as MonitorService, {
      listen: { host: '127.0.0.1', port: 0 },
      tokens: [],
      log: memoryLogger(),
      hooks: [
        {
          path: '/hooks/telegram/noc',
          handle: (headers, body) => route.target!.hook!.handle(headers, body),
        },
      ],
    });
    c = channel({
      mode: { kind: 'webhook', url: `${http.url}/hooks/telegram/noc`, secretToken: new Secret(SECRET) },
    });
    route.target = c.updates;
    expect(c.updates.hook?.path).toBe('/hooks/telegram/noc');
  });
  afterEach(async () => {
    await c.updates.stop();
    await http.close();
  });

  it('registers the webhook with its secret; a press arrives by POST and acknowledges', async () => {
    start(c);
    await waitFor(() => peer.webhook()?.url === `${http.url}/hooks/telegram/noc`, { what: 'setWebhook' });
    expect(peer.webhook()?.secretToken).toBe(SECRET);

    await c.notifier.send(firing);
    const messageId = lastMessageId();
    await peer.press({ chatId: CHAT, messageId, button: /Ack/, from: { id: WAYAN } });
    expect(peer.deliveries.at(-1)?.status).toBe(200);
    expect(c.actions.calls).toEqual([
      { action: 'ack', id: firing.id, by: 'Wayan Sudarma', via: 'via Telegram' },
    ]);
    await waitFor(() => peer.current(CHAT, messageId)?.plain.includes('Ditangani oleh Wayan Sudarma'));

    // getUpdates is refused while a webhook is set; a polling receiver deletes it first.
    await c.updates.stop();
    const poller = channel();
    start(poller);
    await waitFor(() => peer.webhook() === undefined && peer.waitingPolls() === 1, { what: 'deleteWebhook' });
  });

  it('a POST without the right secret token is refused 401 and does nothing; a repeat is not acted on twice', async () => {
    start(c);
    const body = JSON.stringify({
      update_id: 5,
      callback_query: { id: 'x', from: { id: WAYAN }, data: `ack:${firing.id}` },
    });
    const post = (headers: Record<string, string>) =>
      fetch(`${http.url}/hooks/telegram/noc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong-secret-0123456789' })).status).toBe(401);
    expect(c.actions.calls).toEqual([]);
    expect((await post({ 'x-telegram-bot-api-secret-token': SECRET })).status).toBe(200);
    expect(c.actions.calls).toHaveLength(1);
    // Delivered again (Telegram retries what it thinks failed): answered 200, not acted on twice.
    expect((await post({ 'x-telegram-bot-api-secret-token': SECRET })).status).toBe(200);
    expect(c.actions.calls).toHaveLength(1);
  });
});
