/**
 * The two WhatsApp channels against local peers speaking their APIs (test/support/whatsapp-peers.ts),
 * through the real Dispatcher: Meta's Cloud API (template messages) and an HTTP gateway of the
 * Fonnte/Wablas kind (form POST). What staff receive for a page and a recovery, and which failures are
 * retried: 429 and 5xx (and Meta's rate-limit codes in a 400) are; refusals are not, and nobody who got
 * the message gets it twice.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { Dispatcher } from '../../../collector/notify/dispatcher.ts';
import { buildNotification, type Notification } from '../../../collector/notify/notification.ts';
import type { Notifier } from '../../../collector/notify/notifier.ts';
import { WhatsAppCloudNotifier } from '../../../collector/notify/whatsapp-cloud.ts';
import { WhatsAppGatewayNotifier } from '../../../collector/notify/whatsapp-gateway.ts';
import { LINK, alert, router, site, startedAt } from '../../support/outage-fixture.ts';
import {
  RATE_LIMIT_HIT,
  RECIPIENT_NOT_ON_WHATSAPP,
  SERVICE_UNAVAILABLE,
  TOO_MANY_HTTP,
  startCloudPeer,
  startGatewayPeer,
  type CloudPeer,
  type GatewayFailure,
  type GatewayPeer,
} from '../../support/whatsapp-peers.ts';

const CLOUD_TOKEN = 'EAAGm0PX4ZCpsBAKZAwhatsappTestToken123';
const PHONE_ID = '106540352242922';
const GATEWAY_TOKEN = 'fonnte-Tok-7731';
const WAYAN = '6281234567890';
const MADE = '6285737000111';
const POLICY = { attempts: 4, baseMs: 10, maxMs: 50 };

const firing = buildNotification(alert, site, router, LINK);
const resolved = buildNotification(
  { ...alert, status: 'resolved', resolvedAt: startedAt + 65 * 60_000 },
  site,
  router,
  LINK,
);

let cloud: CloudPeer;
let gateway: GatewayPeer;
let wablas: GatewayPeer;
beforeAll(async () => {
  cloud = await startCloudPeer({
    token: CLOUD_TOKEN,
    phoneNumberId: PHONE_ID,
    templates: {
      netmon_gangguan: { language: 'id', params: 2 },
      netmon_pulih: { language: 'id', params: 2 },
    },
  });
  gateway = await startGatewayPeer({ token: GATEWAY_TOKEN });
  wablas = await startGatewayPeer({
    token: GATEWAY_TOKEN,
    targetField: 'phone',
    path: '/api/send-message',
  });
});
afterAll(async () => {
  await cloud?.stop();
  await gateway?.stop();
  await wablas?.stop();
});
beforeEach(() => {
  for (const p of [cloud, gateway, wablas]) {
    p.messages.length = 0;
    p.requests.length = 0;
  }
});

const cloudNotifier = (
  over: Partial<ConstructorParameters<typeof WhatsAppCloudNotifier>[0]> = {},
): WhatsAppCloudNotifier =>
  new WhatsAppCloudNotifier({
    name: 'noc-wa',
    accessToken: new Secret(CLOUD_TOKEN),
    phoneNumberId: PHONE_ID,
    to: [WAYAN, MADE],
    templates: { firing: 'netmon_gangguan', resolved: 'netmon_pulih' },
    language: 'id',
    parameters: ['text_id', 'text_en'],
    baseUrl: cloud.baseUrl,
    timeoutMs: 2000,
    ...over,
  });

const gatewayNotifier = (
  over: Partial<ConstructorParameters<typeof WhatsAppGatewayNotifier>[0]> = {},
): WhatsAppGatewayNotifier =>
  new WhatsAppGatewayNotifier({
    name: 'noc-fonnte',
    url: gateway.url,
    headers: { Authorization: new Secret(GATEWAY_TOKEN) },
    to: [WAYAN, MADE],
    fields: { countryCode: '62' },
    timeoutMs: 2000,
    ...over,
  });

async function dispatchOnce(n: Notification, notifier: Notifier) {
  const log = memoryLogger();
  const d = new Dispatcher([notifier], systemClock, log, POLICY);
  d.dispatch(n);
  await d.stop();
  return { d, log };
}

describe('WhatsApp Cloud API: template messages', () => {
  it('a page and a recovery reach every number, each in its template, both languages as one-line parameters', async () => {
    await cloudNotifier().send(firing);
    await cloudNotifier().send(resolved);
    expect(cloud.messages.map((m) => [m.to, m.template, m.language])).toEqual([
      [WAYAN, 'netmon_gangguan', 'id'],
      [MADE, 'netmon_gangguan', 'id'],
      [WAYAN, 'netmon_pulih', 'id'],
      [MADE, 'netmon_pulih', 'id'],
    ]);
    expect(cloud.requests.every((r) => r.authorization === `Bearer ${CLOUD_TOKEN}`)).toBe(true);
    const [id, en] = cloud.messages[0]!.parameters;
    expect(id).toMatch(/^\[KRITIS\] GANGGUAN/);
    expect(id).toContain('Puskesmas Petang I');
    expect(id).toContain('14:05 WITA, 22-11-2026');
    expect(en).toMatch(/^\[CRITICAL\] DOWN/);
    expect(en).toContain('Banjar Kiadan');
    for (const p of cloud.messages.flatMap((m) => m.parameters)) {
      expect(p).not.toMatch(/[\n\t]| {5,}/);
      expect(p.length).toBeLessThanOrEqual(450);
    }
    const [rid, ren] = cloud.messages[2]!.parameters;
    expect(rid).toMatch(/^PULIH: .*setelah gangguan 1 jam 5 menit/);
    expect(ren).toMatch(/^RECOVERED: /);
  });

  it('other parameters as the template wants them: site, kecamatan, since, link', async () => {
    const peer = await startCloudPeer({
      token: CLOUD_TOKEN,
      phoneNumberId: PHONE_ID,
      templates: { netmon_gangguan: { language: 'en_US', params: 4 } },
    });
    try {
      await cloudNotifier({
        baseUrl: peer.baseUrl,
        to: [WAYAN],
        language: 'en_US',
        parameters: ['site', 'kecamatan', 'since', 'link'],
      }).send(firing);
      expect(peer.messages[0]?.parameters).toEqual([
        'Puskesmas Petang I',
        'Petang',
        '14:05 WITA, 22-11-2026',
        `${LINK}/sites/pkm-petang-1`,
      ]);
    } finally {
      await peer.stop();
    }
  });

  it.each([
    ['HTTP 429 (Retry-After)', TOO_MANY_HTTP],
    ['a 400 with code 130429 (rate limit hit)', RATE_LIMIT_HIT],
    ['HTTP 503 (131016 service unavailable)', SERVICE_UNAVAILABLE],
  ])('%s is retried, and the number already reached is not sent it again', async (_name, failure) => {
    cloud.failNext(failure); // the first request: Wayan's
    const { d, log } = await dispatchOnce(firing, cloudNotifier());
    expect(d.stats()).toMatchObject({ sent: 1, failed: 0, retries: 1 });
    expect(cloud.requests.map((r) => [r.to, r.status])).toEqual([
      [WAYAN, failure.status],
      [MADE, 200],
      [WAYAN, 200],
    ]);
    expect(cloud.messages.map((m) => m.to)).toEqual([MADE, WAYAN]);
    const retry = log.records.find((r) => r.msg === 'notification retry');
    expect(String(retry?.error)).toContain(`#${failure.code}`);
    expect(String(retry?.error)).toContain('6281*****7890');
    if (failure.retryAfterS) expect(retry?.delayMs).toBe(1000);
  });

  it('a wrong token: 401, not retried, the token in neither error nor log', async () => {
    const wrong = 'EAAGwrongTokenXYZ987';
    const { d, log } = await dispatchOnce(firing, cloudNotifier({ accessToken: new Secret(wrong) }));
    expect(d.stats()).toMatchObject({ sent: 0, failed: 1, retries: 0 });
    expect(cloud.requests).toHaveLength(2);
    const logged = JSON.stringify(log.records);
    expect(logged).toContain('#190 Invalid OAuth access token');
    expect(logged).toContain('check the access token');
    expect(logged).not.toContain(wrong);
    expect(logged).not.toContain(CLOUD_TOKEN);
  });

  it('a template that is not approved: not retried, Meta says why', async () => {
    const { d, log } = await dispatchOnce(
      firing,
      cloudNotifier({ templates: { firing: 'netmon_typo', resolved: 'netmon_pulih' } }),
    );
    expect(d.stats()).toMatchObject({ sent: 0, failed: 1, retries: 0 });
    const failed = log.records.find((r) => r.msg === 'notification failed');
    expect(String(failed?.error)).toContain('#132001 (#132001) Template name does not exist');
    expect(String(failed?.error)).toContain('check the template name and language');
  });

  it('one number refused for good, the other rate limited: the retry goes to the limited one only', async () => {
    cloud.failNext(RECIPIENT_NOT_ON_WHATSAPP, RATE_LIMIT_HIT);
    const { d } = await dispatchOnce(firing, cloudNotifier());
    expect(cloud.requests.map((r) => [r.to, r.status])).toEqual([
      [WAYAN, 400],
      [MADE, 400],
      [MADE, 200],
    ]);
    // Made got it; Wayan's number cannot: the notification ends failed, once.
    expect(cloud.messages.map((m) => m.to)).toEqual([MADE]);
    expect(d.stats()).toMatchObject({ failed: 1, retries: 1 });
  });
});

describe('WhatsApp through an HTTP gateway (Fonnte, Wablas)', () => {
  it('a page and a recovery as a form POST per number: token header, fields, both languages, the link once', async () => {
    await gatewayNotifier().send(firing);
    await gatewayNotifier().send(resolved);
    expect(gateway.requests.every((r) => r.contentType === 'application/x-www-form-urlencoded')).toBe(true);
    expect(gateway.messages.map((m) => m.target)).toEqual([WAYAN, MADE, WAYAN, MADE]);
    const m = gateway.messages[0]!;
    expect(m.fields.countryCode).toBe('62');
    const id = m.message.indexOf('[KRITIS] GANGGUAN');
    const en = m.message.indexOf('[CRITICAL] DOWN');
    expect(id).toBe(0);
    expect(en).toBeGreaterThan(id);
    expect(m.message).toContain('3 perangkat di belakangnya tidak terjangkau');
    expect(m.message).toContain('3 device(s) behind it are unreachable');
    const link = `${LINK}/sites/pkm-petang-1`;
    expect(m.message.split(link)).toHaveLength(2);
    expect(m.message.endsWith(link)).toBe(true);
    expect(gateway.messages[2]!.message).toMatch(/^PULIH: /);
    expect(gateway.messages[2]!.message).toContain('RECOVERED: ');
  });

  it('other field names (Wablas: phone)', async () => {
    await gatewayNotifier({ url: wablas.url, targetField: 'phone', fields: {}, to: [WAYAN] }).send(firing);
    expect(wablas.messages).toHaveLength(1);
    expect(wablas.messages[0]?.target).toBe(WAYAN);
    expect(wablas.messages[0]?.fields).not.toHaveProperty('target');
  });

  it.each<[string, GatewayFailure]>([
    ['HTTP 429 with Retry-After', { status: 429, retryAfterS: 1 }],
    ['HTTP 502', { status: 502, body: '<html>Bad Gateway</html>' }],
  ])('%s is retried; the number reached is not sent it twice', async (_name, failure) => {
    gateway.failNext(failure);
    const { d, log } = await dispatchOnce(firing, gatewayNotifier());
    expect(d.stats()).toMatchObject({ sent: 1, failed: 0, retries: 1 });
    expect(gateway.requests.map((r) => [r.target, r.status])).toEqual([
      [WAYAN, failure.status],
      [MADE, 200],
      [WAYAN, 200],
    ]);
    expect(gateway.messages.map((m) => m.target)).toEqual([MADE, WAYAN]);
    if (failure.retryAfterS)
      expect(log.records.find((r) => r.msg === 'notification retry')?.delayMs).toBe(1000);
  });

  it('a 200 saying status:false (bad token) is a failure, not retried, with the gateway reason; no token logged', async () => {
    const wrong = 'fonnte-WRONG-0000';
    const { d, log } = await dispatchOnce(
      firing,
      gatewayNotifier({ headers: { Authorization: new Secret(wrong) } }),
    );
    expect(d.stats()).toMatchObject({ sent: 0, failed: 1, retries: 0 });
    expect(gateway.messages).toEqual([]);
    const logged = JSON.stringify(log.records);
    expect(logged).toContain('refused by the gateway: invalid token');
    expect(logged).not.toContain(wrong);
    expect(logged).not.toContain(GATEWAY_TOKEN);
  });
});
