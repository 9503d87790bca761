import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../../collector/core/clock.ts';
import { NotifyError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { originalRef } from '../../../collector/feeds/cap.ts';
import { CapPushNotifier, type CapPushOptions } from '../../../collector/feeds/push.ts';
import { Dispatcher } from '../../../collector/notify/dispatcher.ts';
import { assertValidCap } from '../../support/cap-validate.ts';
import { freeTcpPort } from '../../support/ports.ts';
import { PUSKESMAS, SENDER, T0, areaIncident, siteAlert } from './fixtures.ts';

interface Receiver {
  readonly url: string;
  readonly bodies: string[];
  readonly headers: IncomingHttpHeaders[];
  readonly server: Server;
}

/** A real CAP receiver on a free loopback port that answers with the given statuses in turn. */
async function receiver(statuses: number[]): Promise<Receiver> {
  const bodies: string[] = [];
  const headers: IncomingHttpHeaders[] = [];
  let i = 0;
  const server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (data += c));
    req.on('end', () => {
      bodies.push(data);
      headers.push(req.headers);
      const status = statuses[Math.min(i++, statuses.length - 1)] ?? 200;
      res.writeHead(status, status === 429 ? { 'retry-after': '2' } : {}).end(status >= 400 ? 'nope' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/cap`, bodies, headers, server };
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

function notifier(url: string, over: Partial<CapPushOptions> = {}): CapPushNotifier {
  return new CapPushNotifier({
    name: 'bpbd',
    url,
    cap: { sender: SENDER },
    clock: new FakeClock(T0 + 600_000),
    ...over,
  });
}

const tag = (xml: string, name: string): string | undefined =>
  new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];

describe('CapPushNotifier', () => {
  it('POSTs a valid CAP Alert as application/cap+xml, then an AllClear that references it', async () => {
    const rx = await receiver([200]);
    const push = notifier(rx.url, { headers: { authorization: new Secret('Bearer t0k3n') } });
    expect(push.name).toBe('cap:bpbd');
    await push.send(siteAlert(PUSKESMAS));
    await push.send(siteAlert(PUSKESMAS, 'resolved'));
    expect(rx.bodies).toHaveLength(2);
    const [alert, clear] = rx.bodies as [string, string];
    assertValidCap(alert);
    assertValidCap(clear);
    expect(rx.headers[0]?.['content-type']).toBe('application/cap+xml');
    expect(rx.headers[0]?.authorization).toBe('Bearer t0k3n');
    expect(tag(alert, 'msgType')).toBe('Alert');
    expect(tag(clear, 'msgType')).toBe('Update');
    expect(tag(clear, 'responseType')).toBe('AllClear');
    expect(tag(clear, 'references')).toBe(`${SENDER},${tag(alert, 'identifier')},${tag(alert, 'sent')}`);
    // The incident is closed: nothing is kept for it.
    expect(push.firstMessage(siteAlert(PUSKESMAS).id)).toBeUndefined();
  });

  it('a change to an open incident is an Update at the clock time, referencing the first message', async () => {
    const rx = await receiver([200]);
    const push = notifier(rx.url);
    await push.send(areaIncident());
    const first = push.firstMessage(areaIncident().id);
    expect(first?.identifier).toBe(tag(rx.bodies[0] ?? '', 'identifier'));
    const grown = areaIncident();
    await push.send({ ...grown, area: grown.area && { ...grown.area, sitesDown: 9 } });
    const update = rx.bodies[1] ?? '';
    assertValidCap(update);
    expect(tag(update, 'msgType')).toBe('Update');
    expect(tag(update, 'sent')).toBe('2026-11-23T10:25:00+08:00');
    expect(tag(update, 'references')).toBe(`${SENDER},${first?.identifier},${first?.sent}`);
    expect(push.firstMessage(areaIncident().id)).toEqual(first);
  });

  it('a recovering outage is pushed as an Update at the moment it answered again, saying when it is confirmed', async () => {
    const rx = await receiver([200]);
    const push = notifier(rx.url);
    expect(push.statusUpdates).toBe(true);
    await push.send(siteAlert(PUSKESMAS));
    const up = T0 + 22_000;
    await push.send(siteAlert(PUSKESMAS, 'firing', { recovery: { sinceMs: up, confirmAtMs: up + 120_000 } }));
    const [alert, recovering] = rx.bodies as [string, string];
    assertValidCap(recovering);
    expect(tag(recovering, 'msgType')).toBe('Update');
    expect(tag(recovering, 'sent')).toBe('2026-11-23T10:15:22+08:00');
    expect(tag(recovering, 'references')).toBe(`${SENDER},${tag(alert, 'identifier')},${tag(alert, 'sent')}`);
    expect(recovering).toMatch(/<headline>RECOVERING: .*confirmed at 10:17 WITA, 23-11-2026<\/headline>/);
    // Still open: the AllClear that follows references the same first message.
    expect(push.firstMessage(siteAlert(PUSKESMAS).id)?.identifier).toBe(tag(alert, 'identifier'));
  });

  it('after a restart, the AllClear still references the original Alert', async () => {
    const rx = await receiver([200]);
    await notifier(rx.url).send(siteAlert(PUSKESMAS));
    await notifier(rx.url).send(siteAlert(PUSKESMAS, 'resolved'));
    const ref = originalRef(siteAlert(PUSKESMAS), { sender: SENDER });
    expect(ref.identifier).toBe(tag(rx.bodies[0] ?? '', 'identifier'));
    expect(tag(rx.bodies[1] ?? '', 'references')).toBe(`${SENDER},${ref.identifier},${ref.sent}`);
  });

  it('sends application/xml when configured so', async () => {
    const rx = await receiver([200]);
    await notifier(rx.url, { contentType: 'application/xml' }).send(siteAlert(PUSKESMAS));
    expect(rx.headers[0]?.['content-type']).toBe('application/xml');
  });

  it('classifies failures: 5xx, 429 (with Retry-After) and unreachable retryable; 4xx and bad input not', async () => {
    const rx = await receiver([503, 429, 400]);
    const push = notifier(rx.url);
    const n = siteAlert(PUSKESMAS);
    await expect(push.send(n)).rejects.toMatchObject({ retryable: true, code: 'cap_status' });
    await expect(push.send(n)).rejects.toMatchObject({ retryable: true, retryAfterMs: 2000 });
    await expect(push.send(n)).rejects.toMatchObject({ retryable: false, code: 'cap_status' });
    // Not delivered, so not remembered as the incident's first message.
    expect(push.firstMessage(n.id)).toBeUndefined();

    const closed = await freeTcpPort();
    const dead = notifier(`http://127.0.0.1:${closed}/cap`, { timeoutMs: 1000 });
    const err: unknown = await dead.send(n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifyError);
    expect(err).toMatchObject({ retryable: true, code: 'cap_unreachable' });

    const before = rx.bodies.length;
    const bad = notifier(rx.url, { cap: { sender: 'kominfo badung' } });
    await expect(bad.send(n)).rejects.toMatchObject({ retryable: false, code: 'cap_encode' });
    expect(rx.bodies).toHaveLength(before);
  });

  it('through the Dispatcher: a 500 is retried, the same bytes are delivered once accepted', async () => {
    const rx = await receiver([500, 200]);
    const log = memoryLogger();
    const push = notifier(rx.url);
    const d = new Dispatcher([push], systemClock, log, { attempts: 3, baseMs: 10, maxMs: 20 });
    d.dispatch(siteAlert(PUSKESMAS));
    await d.stop();
    expect(rx.bodies).toHaveLength(2);
    expect(rx.bodies[1]).toBe(rx.bodies[0]);
    assertValidCap(rx.bodies[1] ?? '');
    expect(d.stats()).toEqual({ sent: 1, failed: 0, retries: 1 });
    expect(log.records.find((r) => r.msg === 'notification sent')).toMatchObject({ channel: 'cap:bpbd' });
    expect(push.firstMessage(siteAlert(PUSKESMAS).id)?.identifier).toBe(
      tag(rx.bodies[0] ?? '', 'identifier'),
    );
  });

  it('forgets the oldest open incidents beyond maxTracked', async () => {
    const rx = await receiver([200]);
    const push = notifier(rx.url, { maxTracked: 2 });
    const ids = ['a', 'b', 'c'].map((x) => ({ ...siteAlert(PUSKESMAS), id: `r-${x}@t` }));
    for (const n of ids) await push.send(n);
    expect(ids.map((n) => push.firstMessage(n.id) !== undefined)).toEqual([false, true, true]);
  });
});
