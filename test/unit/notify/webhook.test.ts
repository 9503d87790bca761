import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../collector/core/clock.ts';
import { NotifyError } from '../../../collector/core/errors.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import { Dispatcher } from '../../../collector/notify/dispatcher.ts';
import type { Notification } from '../../../collector/notify/notification.ts';
import { WebhookNotifier } from '../../../collector/notify/webhook.ts';

const notification = {
  schema: 'badung-netmon/alert/v1',
  id: 'r1@t',
  status: 'firing',
} as unknown as Notification;

/** A real HTTP receiver on a free loopback port that answers with the given statuses in turn. */
async function receiver(
  statuses: number[],
): Promise<{ url: string; bodies: unknown[]; headers: IncomingMessage['headers'][]; server: Server }> {
  const bodies: unknown[] = [];
  const headers: IncomingMessage['headers'][] = [];
  let i = 0;
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(data));
      headers.push(req.headers);
      const status = statuses[Math.min(i++, statuses.length - 1)] ?? 200;
      res.writeHead(status, status === 429 ? { 'retry-after': '0' } : {}).end(status >= 400 ? 'nope' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, headers, server };
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

describe('WebhookNotifier', () => {
  it('POSTs the notification as JSON with configured headers', async () => {
    const rx = await receiver([200]);
    servers.push(rx.server);
    const hook = new WebhookNotifier({
      name: 'oncall',
      url: rx.url,
      headers: { authorization: new Secret('Bearer abc') },
    });
    await hook.send(notification);
    expect(rx.bodies).toEqual([notification]);
    expect(rx.headers[0]?.authorization).toBe('Bearer abc');
    expect(rx.headers[0]?.['content-type']).toBe('application/json');
  });

  it('classifies failures: 5xx/429/unreachable retryable, 4xx not', async () => {
    const rx = await receiver([503, 400]);
    servers.push(rx.server);
    const hook = new WebhookNotifier({ name: 'x', url: rx.url });
    await expect(hook.send(notification)).rejects.toMatchObject({ retryable: true, code: 'webhook_status' });
    await expect(hook.send(notification)).rejects.toMatchObject({ retryable: false });
    const dead = new WebhookNotifier({ name: 'dead', url: 'http://127.0.0.1:9/x', timeoutMs: 500 });
    const err: unknown = await dead.send(notification).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotifyError);
    expect((err as NotifyError).retryable).toBe(true);
  });
});

describe('Dispatcher', () => {
  it('retries retryable failures until delivered, and logs the delivery', async () => {
    const rx = await receiver([503, 429, 200]);
    servers.push(rx.server);
    const log = memoryLogger();
    const d = new Dispatcher([new WebhookNotifier({ name: 'x', url: rx.url })], systemClock, log, {
      attempts: 5,
      baseMs: 10,
      maxMs: 20,
    });
    d.dispatch(notification);
    await d.stop();
    expect(rx.bodies).toHaveLength(3);
    expect(d.stats()).toEqual({ sent: 1, failed: 0, retries: 2 });
    expect(log.records.find((r) => r.msg === 'notification sent')).toMatchObject({
      channel: 'webhook:x',
      alert: 'r1@t',
    });
  });

  it('gives up at once on a non-retryable failure and logs it', async () => {
    const rx = await receiver([400]);
    servers.push(rx.server);
    const log = memoryLogger();
    const d = new Dispatcher([new WebhookNotifier({ name: 'x', url: rx.url })], systemClock, log, {
      attempts: 5,
      baseMs: 10,
      maxMs: 20,
    });
    d.dispatch(notification);
    await d.stop();
    expect(rx.bodies).toHaveLength(1);
    expect(d.stats()).toEqual({ sent: 0, failed: 1, retries: 0 });
    expect(log.records.find((r) => r.msg === 'notification failed')?.error).toContain('HTTP 400');
  });
});
