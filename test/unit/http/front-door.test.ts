/**
 * The front door of an alerting candidate (collector/http/front-door.ts) over a real listener on
 * loopback: what a standby answers (health for a load balancer, 503 naming the leader, in both
 * languages), the switch to a term's app and back without restarting the listener, and the term gate
 * refusing writes once the term has ended.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../collector/core/log.ts';
import { FrontDoor, TermGate, type LeaderAddress } from '../../../collector/http/front-door.ts';
import { listenHttp, type RunningHttp } from '../../../collector/http/server.ts';
import { ApiError, type MonitorService } from '../../../collector/http/service.ts';
import { SessionStore } from '../../../collector/http/session-store.ts';

let http: RunningHttp | undefined;
afterEach(async () => {
  await http?.close();
  http = undefined;
});

async function serve(leader: () => LeaderAddress | undefined): Promise<{ front: FrontDoor; url: string }> {
  const front = new FrontDoor({ node: 'alert-b', leader });
  http = await listenHttp(front.handler, { host: '127.0.0.1', port: 0 }, undefined, memoryLogger());
  return { front, url: http.url };
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const type = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    headers: res.headers,
    body: type.includes('json') ? ((await res.json()) as Record<string, unknown>) : await res.text(),
  };
}

describe('FrontDoor', () => {
  it('a standby with no leader known: /health 503 for the load balancer, the rest 503 in both languages', async () => {
    const { url } = await serve(() => undefined);
    const health = await get(`${url}/health`);
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: 'standby', node: 'alert-b', leader: null });
    const api = await get(`${url}/api/v1/incidents`);
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toBe('1');
    expect(api.headers.get('x-netmon-role')).toBe('standby');
    const body = api.body as { error: string; text: { id: string; en: string } };
    expect(body.error).toBe('standby');
    expect(body.text.id).toContain('siaga');
    expect(body.text.en).toContain('no alerting leader is known');
    const cluster = await get(`${url}/health/cluster`);
    expect(cluster.status).toBe(200);
    expect(cluster.body).toEqual({ node: 'alert-b', role: 'standby', term: null, leader: null });
  });

  it("names the leader and its address: header, JSON, and a page for a person's browser", async () => {
    const leader = { node: 'alert-a', term: 4, http: 'http://127.0.0.1:33080' };
    const { url } = await serve(() => leader);
    const api = await get(`${url}/api/v1/incidents/inc-1`);
    expect(api.status).toBe(503);
    expect(api.headers.get('x-netmon-leader')).toBe(leader.http);
    expect((api.body as { leader: unknown }).leader).toEqual({ node: 'alert-a', term: 4, url: leader.http });
    expect((api.body as { message: string }).message).toContain('alert-a (http://127.0.0.1:33080)');
    const page = await get(`${url}/`, { accept: 'text/html,application/xhtml+xml' });
    expect(page.status).toBe(503);
    expect(page.body).toContain('<a href="http://127.0.0.1:33080/">');
    expect(page.body).toContain('dilayani oleh pemimpin alert-a');
    expect(page.body).toContain('served by the leader alert-a');
    const health = await get(`${url}/health`);
    expect((health.body as { leader: unknown }).leader).toEqual({
      node: 'alert-a',
      term: 4,
      url: leader.http,
    });
  });

  it('its own stale lease record is not named as the leader once it stands by', async () => {
    const { front, url } = await serve(() => ({ node: 'alert-b', term: 2, http: 'http://127.0.0.1:1' }));
    front.starting(2);
    expect((await get(`${url}/api/v1/sites`)).body).toMatchObject({ error: 'starting' });
    front.standby(2);
    const api = await get(`${url}/api/v1/sites`);
    expect(api.headers.get('x-netmon-leader')).toBeNull();
    expect((api.body as { leader: unknown }).leader).toBeNull();
  });

  it("switches to a term's app and back on the same listener and the same kept-alive connection", async () => {
    const { front, url } = await serve(() => ({ node: 'alert-b', term: 7, http: 'http://127.0.0.1:9' }));
    const gate = new TermGate('alert-b', 7);
    front.lead(
      7,
      (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ served: 'term 7' }));
      },
      gate,
    );
    const { port } = new URL(url);
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const call = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
          sockets.add(res.socket);
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await call('/api/v1/incidents')).toEqual({ status: 200, body: '{"served":"term 7"}' });
    expect(front.role).toBe('leader');
    front.standby(6); // an older term's end changes nothing
    expect((await call('/health')).status).toBe(200);
    front.standby(7);
    expect(gate.open).toBe(false);
    const after = await call('/api/v1/incidents');
    expect(after.status).toBe(503);
    expect(JSON.parse(after.body)).toMatchObject({ error: 'standby' });
    expect(sockets.size).toBe(1); // one connection throughout: the listener was never restarted
    agent.destroy();
  });
});

describe('TermGate', () => {
  const writes: string[] = [];
  const service = {
    health: () => ({ status: 'ok' as const, details: {} }),
    incidents: () => [],
    acknowledge: (id: string, by: string) => {
      writes.push(`ack ${id} ${by}`);
      return { id } as never;
    },
    addSilence: () => {
      writes.push('silence');
      return {} as never;
    },
  } as unknown as MonitorService;

  it('passes reads and writes while open; refuses writes with a bilingual 503 once closed', () => {
    const gate = new TermGate('alert-a', 3);
    const gated = gate.service(service);
    gated.acknowledge('inc-1', 'ayu', undefined);
    gate.close();
    expect(gated.health().status).toBe('ok');
    expect(gated.incidents({ limit: 5 })).toEqual([]);
    let err: unknown;
    try {
      gated.acknowledge('inc-1', 'made', undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(503);
    expect((err as ApiError).message).toContain('masa pimpinan 3 simpul alert-a telah berakhir');
    expect((err as ApiError).message).toContain('term 3 of node alert-a has ended');
    expect(() => gated.addSilence({ scope: {}, startsAt: 0, endsAt: 1, comment: 'x' }, 'made')).toThrow(
      ApiError,
    );
    expect(writes).toEqual(['ack inc-1 ayu']);
  });

  it('guards the sessions: no sign-in, touch or sign-out after the term', () => {
    const inner = new SessionStore(':memory:');
    const gate = new TermGate('alert-a', 3);
    const sessions = gate.sessions(inner);
    const rec = { idHash: 'h1', username: 'ayu', csrfToken: 'c', createdAt: 1, lastSeenAt: 1 };
    sessions.insert(rec);
    sessions.touch('h1', 5);
    gate.close();
    expect(sessions.get('h1')?.lastSeenAt).toBe(5); // reads go on
    expect(() => sessions.insert({ ...rec, idHash: 'h2' })).toThrow(/sign-in refused/);
    expect(() => sessions.touch('h1', 9)).toThrow(ApiError);
    expect(() => sessions.delete('h1')).toThrow(ApiError);
    expect(inner.count()).toBe(1);
    expect(inner.get('h1')?.lastSeenAt).toBe(5);
    inner.close();
  });
});
