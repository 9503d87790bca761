/**
 * TelegramNotifier against a local HTTP server speaking the Bot API's sendMessage (test/support/telegram-peer.ts),
 * through the real Dispatcher: what on-call staff read, and which failures are retried.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../collector/core/clock.ts';
import { NotifyError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { Dispatcher } from '../../../collector/notify/dispatcher.ts';
import { buildNotification, type Notification } from '../../../collector/notify/notification.ts';
import { TelegramNotifier } from '../../../collector/notify/telegram.ts';
import { testSite } from '../../support/fixtures.ts';
import { LINK, router, site, startedAt, alert } from '../../support/outage-fixture.ts';
import { freeTcpPort } from '../../support/ports.ts';
import {
  BAD_REQUEST_CHAT_NOT_FOUND,
  BOT_BLOCKED,
  TOO_MANY_REQUESTS,
  startTelegramPeer,
  type TelegramPeer,
} from '../../support/telegram-peer.ts';

const TOKEN = '7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const CHAT = '-1001234567890';
const POLICY = { attempts: 4, baseMs: 10, maxMs: 50 };

const firing = buildNotification(alert, site, router, LINK);

let peer: TelegramPeer;
beforeAll(async () => {
  peer = await startTelegramPeer({ tokens: [TOKEN], chats: [CHAT] });
});
afterAll(async () => {
  await peer?.stop();
});
beforeEach(() => {
  peer.messages.length = 0;
  peer.requests.length = 0;
});

const notifier = (over: Partial<ConstructorParameters<typeof TelegramNotifier>[0]> = {}): TelegramNotifier =>
  new TelegramNotifier({
    name: 'oncall',
    botToken: new Secret(TOKEN),
    chatId: CHAT,
    apiBase: peer.apiBase,
    timeoutMs: 2000,
    ...over,
  });

const dispatchOnce = async (
  n: Notification,
  t: TelegramNotifier,
): Promise<{ d: Dispatcher; log: ReturnType<typeof memoryLogger> }> => {
  const log = memoryLogger();
  const d = new Dispatcher([t], systemClock, log, POLICY);
  d.dispatch(n);
  await d.stop();
  return { d, log };
};

describe('TelegramNotifier: the message', () => {
  it('sends Bahasa Indonesia then English, with site, category, desa, kecamatan, since, affected and the link', async () => {
    await notifier().send(firing);
    expect(peer.messages).toHaveLength(1);
    const m = peer.messages[0]!;
    expect(m.chatId).toBe(CHAT);
    expect(m.body).toMatchObject({ parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    const text = m.plain;
    const id = text.indexOf('[KRITIS] GANGGUAN');
    const en = text.indexOf('[CRITICAL] DOWN');
    expect(id).toBeGreaterThanOrEqual(0);
    expect(en).toBeGreaterThan(id);
    for (const part of [text.slice(id, en), text.slice(en)]) {
      expect(part).toContain('Puskesmas Petang I');
      expect(part).toContain('Belok Sidan');
      expect(part).toContain('Petang');
      expect(part).toContain('14:05 WITA, 22-11-2026');
      expect(part).toContain('Banjar Kiadan');
    }
    expect(text).toContain('(Puskesmas, Belok Sidan, Kec. Petang)');
    expect(text).toContain('(community health centre, Belok Sidan, Petang district)');
    expect(text).toContain('3 perangkat di belakangnya tidak terjangkau');
    expect(text).toContain('3 device(s) behind it are unreachable');
    // The link once, at the end, as a link.
    const link = `${LINK}/sites/pkm-petang-1`;
    expect(text.split(link)).toHaveLength(2);
    expect(text.endsWith(link)).toBe(true);
    expect(m.text).toContain(`<a href="${link}">`);
  });

  it('escapes what HTML would take for markup, so Telegram parses it', async () => {
    const odd = testSite('sd-1', { name: 'SD <Negeri> 1 & "Abiansemal"', category: 'sd', desa: 'Sangeh' });
    const n = buildNotification({ ...alert, siteId: odd.id, affectedSites: [] }, odd, router, LINK);
    await notifier().send(n);
    expect(peer.messages[0]?.plain).toContain('SD <Negeri> 1 & "Abiansemal"');
    expect(peer.messages[0]?.text).toContain('SD &lt;Negeri&gt; 1 &amp; &quot;Abiansemal&quot;');
  });

  it('fits the 4096-character limit: both languages cut, the link kept', async () => {
    const many = Array.from({ length: 10 }, (_, i) => ({
      id: `b${i}`,
      name: `Banjar ${'Sangat Panjang '.repeat(40)}${i} & <lagi>`,
    }));
    const n = buildNotification({ ...alert, affectedSites: many }, site, router, LINK);
    expect(n.text.id.length + n.text.en.length).toBeGreaterThan(8000);
    await notifier().send(n);
    const m = peer.messages[0]!;
    expect(m.plain.length).toBeLessThanOrEqual(4096);
    expect(m.plain.length).toBeGreaterThan(4000);
    expect(m.plain).toContain('[KRITIS] GANGGUAN');
    expect(m.plain).toContain('[CRITICAL] DOWN');
    expect(m.plain).toContain('…');
    expect(m.plain.endsWith(`${LINK}/sites/pkm-petang-1`)).toBe(true);
  });

  it('sends the recovery', async () => {
    const resolved = buildNotification(
      { ...alert, status: 'resolved', resolvedAt: startedAt + 65 * 60_000 },
      site,
      router,
      LINK,
    );
    await notifier().send(resolved);
    expect(peer.messages[0]?.plain).toMatch(/^PULIH: .*setelah gangguan 1 jam 5 menit/);
    expect(peer.messages[0]?.plain).toContain('RECOVERED: Router pkm-petang-1-r1 at Puskesmas Petang I');
  });
});

describe('TelegramNotifier: failures, through the Dispatcher', () => {
  it('429 twice, then accepted: retried after retry_after, exactly one message delivered', async () => {
    peer.failNext(TOO_MANY_REQUESTS(1), TOO_MANY_REQUESTS(1));
    const { d, log } = await dispatchOnce(firing, notifier());
    expect(peer.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(peer.messages).toHaveLength(1);
    expect(d.stats()).toEqual({ sent: 1, failed: 0, retries: 2 });
    const retries = log.records.filter((r) => r.msg === 'notification retry');
    expect(retries.map((r) => r.delayMs)).toEqual([1000, 1000]);
  });

  it('5xx (a proxy error page) is retried', async () => {
    peer.failNext({ status: 502, description: '', raw: '<html>Bad Gateway</html>' });
    const { d } = await dispatchOnce(firing, notifier());
    expect(peer.requests.map((r) => r.status)).toEqual([502, 200]);
    expect(d.stats()).toMatchObject({ sent: 1, retries: 1 });
  });

  it.each([
    ['400 chat not found', BAD_REQUEST_CHAT_NOT_FOUND, 'Bad Request: chat not found'],
    ['403 bot blocked', BOT_BLOCKED, 'Forbidden: bot was blocked by the user'],
  ])('%s: one attempt, the failure logged with Telegram description', async (_name, failure, description) => {
    peer.failNext(failure);
    const { d, log } = await dispatchOnce(firing, notifier());
    expect(peer.requests).toHaveLength(1);
    expect(peer.messages).toHaveLength(0);
    expect(d.stats()).toEqual({ sent: 0, failed: 1, retries: 0 });
    const failed = log.records.find((r) => r.msg === 'notification failed');
    expect(failed).toMatchObject({ channel: 'telegram:oncall', alert: firing.id });
    expect(String(failed?.error)).toContain(description);
  });

  it('an unknown chat, for real: 400 from the peer, not retried', async () => {
    const err = await notifier({ chatId: '-100999' })
      .send(firing)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifyError);
    expect(err).toMatchObject({ retryable: false, code: 'telegram_status' });
    expect((err as Error).message).toContain('chat not found');
  });

  it('a reply that is not the Bot API (wrong apiBase) is not taken for a delivery', async () => {
    peer.failNext({ status: 200, description: '', raw: '<html>captive portal</html>' });
    await expect(notifier().send(firing)).rejects.toMatchObject({
      retryable: false,
      code: 'telegram_bad_reply',
    });
  });
});

describe('TelegramNotifier: the bot token never leaks', () => {
  it('a wrong token (401): not retried, and neither token is in the error or the log', async () => {
    const wrong = '7012345678:WRONGdqTcvCH1vGWJxfSeofSAs0K5PALDs';
    const { log } = await dispatchOnce(firing, notifier({ botToken: new Secret(wrong) }));
    expect(peer.requests).toHaveLength(1);
    const logged = JSON.stringify(log.records);
    expect(logged).toContain('HTTP 401 Unauthorized (check the bot token)');
    expect(logged).not.toContain(wrong);
    expect(logged).not.toContain('WRONGdq');
  });

  it('unreachable: retryable, the URL in the error has the token redacted', async () => {
    const port = await freeTcpPort();
    const t = notifier({ apiBase: `http://127.0.0.1:${port}` });
    const err = await t.send(firing).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, code: 'telegram_unreachable' });
    const e = err as NotifyError;
    expect(e.message).toContain(`http://127.0.0.1:${port}/bot<token>/sendMessage`);
    expect(e.message).toContain('ECONNREFUSED');
    const everything = JSON.stringify({ message: e.message, stack: e.stack, cause: String(e.cause) });
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(TOKEN.split(':')[1]);
  });

  it('a timeout is retryable and names no token', async () => {
    const { createServer } = await import('node:http');
    const silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const addr = silent.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    try {
      const err = await notifier({ apiBase: `http://127.0.0.1:${port}`, timeoutMs: 200 })
        .send(firing)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ retryable: true, code: 'telegram_unreachable' });
      expect((err as Error).message).toContain('timed out');
      expect((err as Error).message).not.toContain(TOKEN);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });
});
