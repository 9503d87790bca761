/**
 * Issue #15, the front door in a cluster, against real servers and real processes:
 *
 *   a nats-server (JetStream), PostgreSQL, InfluxDB, the fleet simulator; one collector process
 *   (scripts/lib/cluster-lab.ts) and two alerting candidates, each `collector/main.ts` on a cluster config
 *   with its own HTTP port and the console on; real Chromium (playwright-core) for the console.
 *
 * Written as what people do:
 *   alert-a leads; alert-b, the standby, answers 503 with the leader's name and address (and /health 503,
 *     so a load balancer sends nobody there), while alert-a's /health says 200;
 *   an operator signs in to the console on the leader; a site's router is cut: the incident shows in the
 *     leader's API and, live, in the open console (PgIncidentStore observed by the console's live feed);
 *   the on-call operator, signed in on a phone (plain HTTP: cookie + CSRF token), acknowledges it;
 *   kill -9 of alert-a: alert-b leads and serves the same incident, the acknowledgement kept, and both
 *     sessions (phone and browser) still valid on it without signing in again (sessions in PostgreSQL).
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type CollectorProcess } from '../../scripts/lib/cluster-lab.ts';
import { startPostgres } from '../../scripts/lib/servers/postgres.ts';
import { AlertingCandidates, readLease } from '../support/alerting-candidates.ts';
import { startClusterFixture, type ClusterFixture } from '../support/cluster-fixture.ts';
import { launchBrowser, openConsole, signIn, type ConsoleContext } from '../support/console-browser.ts';
import { addConsoleUser } from '../support/console-users.ts';
import { waitFor } from '../support/ports.ts';
import { freshDatabase } from '../support/postgres-db.ts';

const LEASE_MS = 3000;
const RENEW_MS = 500;
const INTERVAL_MS = 2000;
const OPERATOR = { name: 'oncall-wayan', password: 'lawar-Kuta-Selatan-88' };
const NOTE = 'Teknisi menuju lokasi / technician on the way';

let fx: ClusterFixture;
let postgres: Awaited<ReturnType<typeof startPostgres>>;
let nc: NatsConnection;
let browser: Browser;
let collector: CollectorProcess | undefined;
const consoles: ConsoleContext[] = [];
let candidates: AlertingCandidates;
/** Each candidate's own HTTP address. */
const urls = new Map<string, string>();

beforeAll(async () => {
  // Three nats-server nodes, InfluxDB, the simulator on 3 sites, the inventory in a temp dir.
  fx = await startClusterFixture({
    seed: 16,
    sites: 3,
    intervalMs: INTERVAL_MS,
    heartbeat: '500ms',
    timeout: '2s',
  });
  const { dir } = fx.lab;
  // PostgreSQL runs as the `postgres` user when the tests run as root: it must reach its data under here.
  chmodSync(dir, 0o755);
  postgres = await startPostgres({ dir: join(dir, 'pg') });
  const pgUrl = await freshDatabase(postgres.url, 'front');
  nc = await connect({ servers: [...fx.nats.urls], maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  await addConsoleUser(join(dir, 'users.yaml'), OPERATOR.name, 'operator', OPERATOR.password);
  candidates = new AlertingCandidates(dir);
  for (const node of ['alert-a', 'alert-b'])
    urls.set(
      node,
      await candidates.configure(node, {
        lab: fx.lab,
        pgUrl,
        leaseMs: LEASE_MS,
        renewMs: RENEW_MS,
        // Each node its own SQLite sessions file (unused in a cluster): only PostgreSQL can carry a session.
        more: (n) => ({
          console: {
            enabled: true,
            usersFile: 'users.yaml',
            sessionsFile: `sessions-${n}.db`,
            secureCookies: false,
          },
        }),
      }),
    );
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of consoles) await c.context.close().catch(() => undefined);
  await browser?.close();
  candidates?.killAll();
  await collector?.kill9();
  await nc?.close();
  await postgres?.stop();
  await fx?.stop();
});

const url = (node: string): string => urls.get(node) ?? '';

/** What a candidate's front door says of itself (any role answers 200). */
async function frontOf(node: string): Promise<{ role: string; term: number | null } | undefined> {
  const res = await fetch(`${url(node)}/health/cluster`).catch(() => undefined);
  return res?.ok ? ((await res.json()) as { role: string; term: number | null }) : undefined;
}

/** A phone's session: signed in over plain HTTP, the cookie and CSRF token kept as the console keeps them. */
interface PhoneSession {
  readonly cookie: string;
  readonly csrf: string;
}

async function phoneSignIn(base: string): Promise<PhoneSession> {
  const res = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: OPERATOR.name, password: OPERATOR.password }),
  });
  expect(res.status).toBe(200);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const body = (await res.json()) as { csrfToken: string };
  expect(cookie).toMatch(/^netmon_session=/);
  return { cookie, csrf: body.csrfToken };
}

async function api(
  base: string,
  phone: PhoneSession,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: {
      cookie: phone.cookie,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json', 'x-csrf-token': phone.csrf }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

interface IncidentJson {
  id: string;
  status: string;
  deviceId: string | null;
  acknowledgedBy: string | null;
}

describe('the console and API in a cluster (real NATS, PostgreSQL, processes, Chromium)', () => {
  it('served by the leader, 503 with its address on the standby, and kept across a kill -9 of the leader', async () => {
    const site = fx.inventory.sites[1];
    const router = fx.inventory.devices.find((d) => d.siteId === site?.id && d.role === 'router');
    if (!site || !router) throw new Error('no router');
    collector = startCollector(fx.lab, 'col-1');
    await collector.joined;
    candidates.start('alert-a');
    await waitFor(async () => (await frontOf('alert-a'))?.role === 'leader', {
      timeoutMs: 60_000,
      what: () => `alert-a serving as leader\n${candidates.log('alert-a').slice(-2000)}`,
    });
    expect((await readLease(nc))?.http).toBe(url('alert-a'));
    candidates.start('alert-b');
    await waitFor(async () => (await frontOf('alert-b'))?.role === 'standby', {
      timeoutMs: 60_000,
      what: () => `alert-b answering as standby\n${candidates.log('alert-b').slice(-2000)}`,
    });

    // The phone signs in on the leader; the standby refuses it, naming the leader and where it is.
    const phone = await phoneSignIn(url('alert-a'));
    const refused = await waitFor(
      async () => {
        const r = await api(url('alert-b'), phone, '/incidents');
        return r.status === 503 && r.headers.get('x-netmon-leader') ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'the standby naming the leader' },
    );
    expect(refused.headers.get('x-netmon-leader')).toBe(url('alert-a'));
    expect(refused.body).toMatchObject({
      error: 'standby',
      leader: { node: 'alert-a', url: url('alert-a') },
    });
    expect(String(refused.body.message)).toContain('siaga');
    expect(String(refused.body.message)).toContain('standby');
    expect((await fetch(`${url('alert-b')}/health`)).status).toBe(503);
    expect((await fetch(`${url('alert-a')}/health`)).status).toBe(200);

    // The console on the leader, open on the incidents.
    const ops = await openConsole(browser, url('alert-a'));
    consoles.push(ops);
    await signIn(ops.page, url('alert-a'), OPERATOR.name, OPERATOR.password);
    await ops.page.goto(`${url('alert-a')}/#/incidents`);

    fx.sim.cutDevice(router.id);
    const incident = await waitFor(
      async () => {
        const r = await api(url('alert-a'), phone, '/incidents?status=open');
        const list = (r.body.incidents ?? []) as IncidentJson[];
        return list.find((i) => i.deviceId === router.id);
      },
      { timeoutMs: 30_000, what: `an open incident for ${router.id} in the leader's API` },
    );
    // Live in the open page (the live feed observes the PostgreSQL store): no reload.
    const card = ops.page.locator(`a.incident-card[data-status=open]`, { hasText: site.name });
    await card.waitFor({ timeout: 30_000 });

    // The on-call operator acknowledges from the phone: cookie and CSRF token, as the console sends them.
    const ack = await api(url('alert-a'), phone, `/incidents/${incident.id}/ack`, {
      method: 'POST',
      body: { note: NOTE },
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({
      id: incident.id,
      status: 'acknowledged',
      acknowledgedBy: OPERATOR.name,
    });
    await ops.page
      .locator(`a.incident-card[data-status=acknowledged]`, { hasText: site.name })
      .waitFor({ timeout: 20_000 });
    const before = await readLease(nc);

    // kill -9 of the leader: the standby leads and serves the same incident, the sessions still valid.
    const killedAt = Date.now();
    await candidates.kill9('alert-a');
    await waitFor(async () => (await frontOf('alert-b'))?.role === 'leader', {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: () => `alert-b serving as leader\n${candidates.log('alert-b').slice(-2000)}`,
    });
    const servingMs = Date.now() - killedAt;
    process.stdout.write(
      `front door failover: alert-b serving the API ${servingMs} ms after kill -9 of alert-a (lease ${LEASE_MS} ms, renew ${RENEW_MS} ms)\n`,
    );
    const after = await readLease(nc);
    expect(after).toMatchObject({ holder: 'alert-b', term: (before?.term ?? 0) + 1, http: url('alert-b') });
    expect((await fetch(`${url('alert-b')}/health`)).status).toBe(200);

    const session = await api(url('alert-b'), phone, '/session');
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ user: { name: OPERATOR.name, role: 'operator' } });
    const detail = await api(url('alert-b'), phone, `/incidents/${incident.id}`);
    expect(detail.status).toBe(200);
    expect(detail.body.incident).toMatchObject({
      id: incident.id,
      status: 'acknowledged',
      acknowledgedBy: OPERATOR.name,
      deviceId: router.id,
    });
    const timeline = detail.body.timeline as { type: string; note: string | null }[];
    expect(timeline.some((e) => e.note === NOTE)).toBe(true);

    // The browser's session too: the same cookie (a load balancer would keep the address) on the new
    // leader shows the console signed in, with the incident acknowledged.
    const b = await openConsole(browser, url('alert-b'));
    consoles.push(b);
    await b.context.addCookies(await ops.context.cookies());
    await b.page.goto(`${url('alert-b')}/#/incidents`);
    await b.page.locator('header.top').waitFor();
    await expect(b.page.locator('header.top').textContent()).resolves.toContain(OPERATOR.name);
    await b.page
      .locator(`a.incident-card[data-status=acknowledged]`, { hasText: site.name })
      .waitFor({ timeout: 20_000 });
    expect(await b.page.locator('form[data-testid=signin]').count()).toBe(0);
    expect(b.problems).toEqual([]);

    fx.sim.restoreDevice(router.id);
    await candidates.stop('alert-b');
    await collector.stop();
    // Process starts (tsx), the browser and a failover on 2 shared cores: 50 s measured, more under load.
  }, 240_000);
});
