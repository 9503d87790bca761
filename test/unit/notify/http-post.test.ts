/**
 * postNotification against a real loopback HTTP receiver: every notifier's answer rules come from the one
 * classifier (core/http-failure.ts), so 408 is retryable and Retry-After may be seconds or an HTTP date.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotifyError } from '../../../collector/core/errors.ts';
import { postNotification, type PostTarget } from '../../../collector/notify/http-post.ts';
import { startLoopbackHttp, type LoopbackHttp } from '../../support/loopback-http.ts';
import { freeTcpPort } from '../../support/ports.ts';

let server: LoopbackHttp;
let url: string;
let answer: { status: number; headers?: OutgoingHttpHeaders; body?: string; hang?: boolean } = {
  status: 200,
};

beforeAll(async () => {
  server = await startLoopbackHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      if (answer.hang) return;
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
    });
  });
  url = `${server.url}/hook`;
});
afterAll(() => server.close());

const target = (over: Partial<PostTarget> = {}): PostTarget => ({
  name: 'webhook:oncall',
  url,
  codePrefix: 'webhook',
  timeoutMs: 2_000,
  ...over,
});

async function failure(t: PostTarget = target()): Promise<NotifyError> {
  const err: unknown = await postNotification(t, 'application/json', '{}').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotifyError);
  return err as NotifyError;
}

describe('postNotification answers', () => {
  it('2xx returns the status and body', async () => {
    answer = { status: 202, body: 'queued' };
    expect(await postNotification(target(), 'application/json', '{}')).toEqual({
      status: 202,
      body: 'queued',
    });
  });

  it.each<[number, OutgoingHttpHeaders, boolean, number | undefined]>([
    [503, { 'retry-after': '7' }, true, 7_000],
    [500, {}, true, undefined],
    [429, { 'retry-after': '2' }, true, 2_000],
    [408, {}, true, undefined],
    [400, { 'retry-after': '7' }, false, undefined],
    [401, {}, false, undefined],
    [404, {}, false, undefined],
  ])('HTTP %i %j: retryable %s after %s ms', async (status, headers, retryable, after) => {
    answer = { status, headers, body: 'nope' };
    const e = await failure();
    expect(e).toMatchObject({ code: 'webhook_status', retryable, retryAfterMs: after });
    expect(e.message).toContain(`HTTP ${status} nope`);
  });

  it('Retry-After as an HTTP date is honoured (was: seconds only)', async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    answer = { status: 429, headers: { 'retry-after': at } };
    const e = await failure();
    expect(e.retryable).toBe(true);
    // HTTP dates have a 1-second resolution, and the answer takes a moment.
    expect(e.retryAfterMs).toBeGreaterThan(57_000);
    expect(e.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('a judge decides on the body, and its retryable verdict gets the Retry-After', async () => {
    answer = { status: 400, headers: { 'retry-after': '3' }, body: '{"error":{"code":130429}}' };
    const e = await failure(
      target({
        judge: (_s, body) =>
          body.includes('130429') ? { message: 'rate limited', retryable: true } : undefined,
      }),
    );
    expect(e).toMatchObject({ code: 'webhook_status', retryable: true, retryAfterMs: 3_000 });
  });

  it('no answer in time is retryable and says so', async () => {
    answer = { status: 200, hang: true };
    const e = await failure(target({ timeoutMs: 150 }));
    expect(e).toMatchObject({ code: 'webhook_unreachable', retryable: true });
    expect(e.message).toContain('no answer within 150 ms');
  });

  it('connection refused is retryable, with the reason', async () => {
    const port = await freeTcpPort();
    const e = await failure(target({ url: `http://127.0.0.1:${port}/hook` }));
    expect(e).toMatchObject({ code: 'webhook_unreachable', retryable: true });
    expect(e.message).toContain('ECONNREFUSED');
  });
});
