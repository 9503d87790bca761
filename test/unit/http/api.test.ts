/**
 * The HTTP layer (collector/http/server.ts and its routes) around an in-memory MonitorService: what it
 * answers, what it refuses and how, and what reaches the service. Served on 127.0.0.1, port 0.
 */
import { connect } from 'node:net';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MaintenanceWindow, Silence } from '../../../collector/alerting/scope.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger, type LogRecord } from '../../../collector/core/log.ts';
import { generateToken, type NewToken } from '../../../collector/http/auth.ts';
import { startHttp, type ApiOptions, type RunningHttp } from '../../../collector/http/server.ts';
import {
  ApiError,
  type IncidentDetail,
  type IncidentFilter,
  type IncidentView,
  type MaintenanceView,
  type MonitorService,
  type NewMaintenance,
  type NewSilence,
  type SilenceView,
  type SiteState,
} from '../../../collector/http/service.ts';
import { Topology } from '../../../collector/health/topology.ts';
import { incidentView, maintenanceView, silenceView } from '../../../collector/monitor-service.ts';
import type { Incident } from '../../../collector/store/incident-store.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { waitFor } from '../../support/ports.ts';

const T0 = Date.UTC(2026, 10, 2, 4, 0); // 12:00 WITA

function incident(id: string, status: Incident['status']): Incident {
  return {
    id,
    kind: 'device',
    key: `device:${id}`,
    severity: 'high',
    status,
    openedAt: T0 - 600_000,
    escalationLevel: 0,
    siteId: 's1',
    deviceId: 's1-r',
    data: {},
  };
}

const topology = new Topology(smallInventory());
const view = (i: Incident): IncidentView => incidentView(i, topology, {});

/** An in-memory MonitorService that keeps what it was asked. */
class FakeService implements MonitorService {
  healthStatus: 'ok' | 'degraded' | 'throw' = 'ok';
  readonly incidentsById = new Map<string, Incident>([
    ['inc-1', incident('inc-1', 'open')],
    ['inc-2', incident('inc-2', 'resolved')],
  ]);
  readonly windows = new Map<string, MaintenanceWindow>([
    [
      'mw-config',
      {
        id: 'mw-config',
        name: 'nightly',
        scope: { sites: ['s1'] },
        schedule: { kind: 'weekly', at: '01:00', durationMs: 3_600_000, timeZone: 'Asia/Makassar' },
        source: 'config',
      },
    ],
  ]);
  readonly silenceById = new Map<string, Silence>();
  readonly calls: { method: string; args: unknown[] }[] = [];
  #seq = 0;

  health(): { status: 'ok' | 'degraded'; details: Record<string, unknown> } {
    if (this.healthStatus === 'throw') throw new Error('store is gone');
    return { status: this.healthStatus, details: { influx: 'unreachable', secretPath: '/etc/netmon' } };
  }
  sites(filter: { kecamatan?: string | undefined; state?: string | undefined }): SiteState[] {
    this.calls.push({ method: 'sites', args: [filter] });
    return [];
  }
  site(id: string): SiteState | undefined {
    if (id === 'boom') throw new Error('sqlite: disk I/O error at /var/lib/netmon/incidents.db');
    return undefined;
  }
  incidents(filter: IncidentFilter): IncidentView[] {
    this.calls.push({ method: 'incidents', args: [filter] });
    return [...this.incidentsById.values()].map(view);
  }
  incident(id: string): IncidentDetail | undefined {
    const i = this.incidentsById.get(id);
    return i && { incident: view(i), timeline: [], notifications: [] };
  }
  acknowledge(id: string, by: string, note: string | undefined): IncidentView {
    this.calls.push({ method: 'acknowledge', args: [id, by, note] });
    const i = this.incidentsById.get(id);
    if (!i) throw new ApiError(404, `no incident '${id}'`);
    if (i.status === 'resolved') throw new ApiError(409, `incident '${id}' is already resolved`);
    const acked: Incident = { ...i, status: 'acknowledged', acknowledgedAt: T0, acknowledgedBy: by };
    this.incidentsById.set(id, acked);
    return view(acked);
  }
  resolve(id: string, by: string, note: string | undefined): IncidentView {
    this.calls.push({ method: 'resolve', args: [id, by, note] });
    const i = this.incidentsById.get(id);
    if (!i) throw new ApiError(404, `no incident '${id}'`);
    return view({ ...i, status: 'resolved', resolvedAt: T0 });
  }
  maintenance(): MaintenanceView[] {
    return [...this.windows.values()].map(maintenanceView);
  }
  addMaintenance(w: NewMaintenance, by: string): MaintenanceView {
    this.calls.push({ method: 'addMaintenance', args: [w, by] });
    const made: MaintenanceWindow = { ...w, id: `mw-${++this.#seq}`, source: 'api', createdBy: by };
    this.windows.set(made.id, made);
    return maintenanceView(made);
  }
  deleteMaintenance(id: string, by: string): void {
    this.calls.push({ method: 'deleteMaintenance', args: [id, by] });
    const w = this.windows.get(id);
    if (!w) throw new ApiError(404, `no maintenance window '${id}'`);
    if (w.source === 'config') throw new ApiError(409, `'${id}' is in the config file; remove it there`);
    this.windows.delete(id);
  }
  /** Reports are not this test's subject (test/unit/reports tests them). */
  availabilityReport(): Promise<{ body: Buffer; contentType: string; filename: string }> {
    return Promise.reject(new ApiError(501, 'reports are not faked here'));
  }
  silences(): SilenceView[] {
    return [...this.silenceById.values()].map(silenceView);
  }
  addSilence(s: NewSilence, by: string): SilenceView {
    this.calls.push({ method: 'addSilence', args: [s, by] });
    const made: Silence = { ...s, id: `sil-${++this.#seq}`, createdBy: by };
    this.silenceById.set(made.id, made);
    return silenceView(made);
  }
  deleteSilence(id: string, by: string): void {
    this.calls.push({ method: 'deleteSilence', args: [id, by] });
    if (!this.silenceById.delete(id)) throw new ApiError(404, `no silence '${id}'`);
  }

  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }
}

const viewer = generateToken();
const operator = generateToken();
const admin = generateToken();
const TOKENS = [
  { name: 'noc-wall', role: 'viewer' as const, tokenHash: viewer.tokenHash },
  { name: 'ops-1', role: 'operator' as const, tokenHash: operator.tokenHash },
  { name: 'kominfo-admin', role: 'admin' as const, tokenHash: admin.tokenHash },
];
const BODY_LIMIT = 1024;

function feeds(): express.Router {
  const r = express.Router();
  r.get('/cap.xml', (_req, res) => {
    res.type('application/xml').send('<alert/>');
  });
  return r;
}

interface Served {
  readonly http: RunningHttp;
  readonly service: FakeService;
  readonly log: ReturnType<typeof memoryLogger>;
}

async function serve(opts: Partial<ApiOptions> = {}): Promise<Served> {
  const service = new FakeService();
  const log = memoryLogger();
  const http = await startHttp(service, {
    listen: { host: '127.0.0.1', port: 0 },
    tokens: TOKENS,
    log,
    clock: new FakeClock(T0),
    bodyLimitBytes: BODY_LIMIT,
    feeds: feeds(),
    ...opts,
  });
  return { http, service, log };
}

interface Call {
  readonly method?: string;
  readonly token?: NewToken | string;
  /** An object is sent as JSON; a string as is (with `contentType`, default application/json). */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

async function call(base: string, path: string, c: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.token !== undefined)
    headers.authorization = `Bearer ${typeof c.token === 'string' ? c.token : c.token.token}`;
  let body: string | undefined;
  if (c.body !== undefined) {
    body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    headers['content-type'] = c.contentType ?? 'application/json';
  }
  const res = await fetch(base + path, { method: c.method ?? 'GET', headers, body });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  if (res.headers.get('content-type')?.startsWith('application/json')) json = JSON.parse(text) as typeof json;
  return { status: res.status, headers: res.headers, text, json };
}

const issuesOf = (a: Answer) => (a.json.issues ?? []) as { path: string; message: string }[];

let s: Served;
let api: (path: string, c?: Call) => Promise<Answer>;
beforeAll(async () => {
  s = await serve();
  api = (path, c) => call(s.http.url, path, c);
});
afterAll(async () => {
  await s.http.close();
});
afterEach(() => {
  s.service.calls.length = 0;
  s.log.records.length = 0;
});

describe('serving', () => {
  it('listens on the loopback address it was given', () => {
    expect(s.http.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.http.url).not.toMatch(/:0$/);
  });
});

describe('GET /health', () => {
  it('answers without a token with the status only', async () => {
    const a = await api('/health');
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ status: 'ok' });
    expect(a.text).not.toContain('influx');
  });

  it('says degraded (200) and failing (503), still without details', async () => {
    const { http, service, log } = await serve();
    try {
      service.healthStatus = 'degraded';
      expect(await call(http.url, '/health')).toMatchObject({ status: 200, json: { status: 'degraded' } });
      service.healthStatus = 'throw';
      const a = await call(http.url, '/health');
      expect(a.status).toBe(503);
      expect(a.json).toEqual({ status: 'failing' });
      expect(log.records.some((r) => r.msg === 'health check failed' && r.error === 'store is gone')).toBe(
        true,
      );
    } finally {
      await http.close();
    }
  });

  it('gives the details to a viewer at /api/v1/health', async () => {
    const a = await api('/api/v1/health', { token: viewer });
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ status: 'ok', details: { influx: 'unreachable' } });
  });
});

describe('authentication', () => {
  it('refuses /api/v1 without a token: 401, a Bearer challenge and a JSON error', async () => {
    for (const path of ['/api/v1/sites', '/api/v1/incidents', '/api/v1/health', '/api/v1/no-such-route']) {
      const a = await api(path);
      expect(a.status, path).toBe(401);
      expect(a.headers.get('www-authenticate'), path).toBe('Bearer realm="badung-netmon"');
      expect(a.json.error, path).toBe('unauthorized');
      expect(a.json.message, path).toMatch(/Authorization: Bearer <token>/);
    }
    const write = await api('/api/v1/incidents/inc-1/ack', { method: 'POST', body: {} });
    expect(write.status).toBe(401);
    expect(s.service.callsOf('acknowledge')).toEqual([]);
  });

  it('refuses a bad token: 401 invalid_token, and never logs the token', async () => {
    const stranger = generateToken();
    const forged = `${operator.token.slice(0, -1)}${operator.token.endsWith('A') ? 'B' : 'A'}`;
    for (const token of [stranger.token, forged, 'not-a-token']) {
      const a = await api('/api/v1/sites', { token });
      expect(a.status, token).toBe(401);
      expect(a.headers.get('www-authenticate'), token).toMatch(
        /^Bearer realm="badung-netmon", error="invalid_token", error_description="[^"]+"$/,
      );
      expect(a.json, token).toMatchObject({ error: 'unauthorized' });
      expect(typeof a.json.message).toBe('string');
    }
    const refused = s.log.records.filter((r) => r.msg === 'api access refused');
    expect(refused.map((r) => r.reason)).toEqual(['unknown', 'unknown', 'malformed']);
    expect(refused[1]?.tokenId).toBe(operator.id);
    const logged = JSON.stringify(s.log.records);
    expect(logged).not.toContain(stranger.token);
    expect(logged).not.toContain(forged);
  });

  it('refuses a viewer on a write with 403 naming the operator role; the service is not asked', async () => {
    const a = await api('/api/v1/incidents/inc-1/ack', {
      method: 'POST',
      token: viewer,
      body: { note: 'x' },
    });
    expect(a.status).toBe(403);
    expect(a.json.error).toBe('forbidden');
    expect(a.json.message).toBe("this needs the operator role; token 'noc-wall' has the viewer role");
    expect(a.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(s.service.callsOf('acknowledge')).toEqual([]);
    for (const [method, path] of [
      ['POST', '/api/v1/maintenance'],
      ['DELETE', '/api/v1/maintenance/mw-config'],
      ['POST', '/api/v1/silences'],
      ['DELETE', '/api/v1/silences/sil-1'],
      ['POST', '/api/v1/incidents/inc-1/resolve'],
    ] as const) {
      expect((await api(path, { method, token: viewer, body: {} })).status, `${method} ${path}`).toBe(403);
    }
    expect(s.service.calls).toEqual([]);
  });

  it('lets a viewer read', async () => {
    for (const path of ['/api/v1/sites', '/api/v1/incidents', '/api/v1/maintenance', '/api/v1/silences'])
      expect((await api(path, { token: viewer })).status, path).toBe(200);
  });
});

describe('incidents', () => {
  it('lets an operator acknowledge: 200, and the service gets the id, the token holder and the note', async () => {
    const a = await api('/api/v1/incidents/inc-1/ack', {
      method: 'POST',
      token: operator,
      body: { note: '  crew on the way  ' },
    });
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ id: 'inc-1', status: 'acknowledged', acknowledgedBy: 'ops-1' });
    expect(s.service.callsOf('acknowledge')).toEqual([['inc-1', 'ops-1', 'crew on the way']]);
  });

  it('takes an ack with no body at all', async () => {
    const a = await api('/api/v1/incidents/inc-1/ack', { method: 'POST', token: operator });
    expect(a.status).toBe(200);
    expect(s.service.callsOf('acknowledge')).toEqual([['inc-1', 'ops-1', undefined]]);
  });

  it('lets an admin do what an operator does', async () => {
    const a = await api('/api/v1/incidents/inc-1/resolve', { method: 'POST', token: admin, body: {} });
    expect(a.status).toBe(200);
    expect(s.service.callsOf('resolve')).toEqual([['inc-1', 'kominfo-admin', undefined]]);
  });

  it("passes the service's 404 and 409 through with their messages", async () => {
    const missing = await api('/api/v1/incidents/inc-404/ack', { method: 'POST', token: operator, body: {} });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: 'not_found', message: "no incident 'inc-404'" });
    const resolved = await api('/api/v1/incidents/inc-2/ack', { method: 'POST', token: operator, body: {} });
    expect(resolved.status).toBe(409);
    expect(resolved.json).toEqual({ error: 'conflict', message: "incident 'inc-2' is already resolved" });
    const detail = await api('/api/v1/incidents/inc-404', { token: viewer });
    expect(detail.status).toBe(404);
    expect(detail.json.message).toBe("no incident 'inc-404'");
  });

  it('gives an incident with its timeline', async () => {
    const a = await api('/api/v1/incidents/inc-2', { token: viewer });
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ incident: { id: 'inc-2' }, timeline: [], notifications: [] });
  });

  it('reads the list filter from the query', async () => {
    const a = await api(
      '/api/v1/incidents?status=open,acknowledged&site=s1&severity=high&since=24h&limit=5',
      {
        token: viewer,
      },
    );
    expect(a.status).toBe(200);
    expect(s.service.callsOf('incidents')).toEqual([
      [
        {
          status: ['open', 'acknowledged'],
          siteId: 's1',
          kecamatan: undefined,
          severity: 'high',
          sinceMs: T0 - 86_400_000,
          limit: 5,
        },
      ],
    ]);
  });

  it('refuses bad query parameters with 400 naming each', async () => {
    const cases: [string, string, RegExp][] = [
      ['limit=0', 'limit', /whole number 1\.\.1000/],
      ['limit=ten', 'limit', /whole number/],
      ['status=closed', 'status', /'closed' is not one of open, acknowledged, resolved/],
      ['status=open&status=resolved', 'status', /give status once/],
      ['since=yesterday', 'since', /ISO 8601/],
      ['since=2026-02-31T00:00:00Z', 'since', /exists on the calendar/],
      ['since=2026-11-02T24:30:00%2B08:00', 'since', /exists on the calendar/],
      ['since=99999999999d', 'since', /up to 3660d/],
      ['stauts=open', 'stauts', /unknown query parameter \(allowed: status, site/],
    ];
    for (const [query, path, message] of cases) {
      const a = await api(`/api/v1/incidents?${query}`, { token: viewer });
      expect(a.status, query).toBe(400);
      expect(a.json.error, query).toBe('invalid_query');
      expect(issuesOf(a)[0]?.path, query).toBe(path);
      expect(issuesOf(a)[0]?.message, query).toMatch(message);
    }
    const noQuery = await api('/api/v1/incidents/inc-1?verbose=1', { token: viewer });
    expect(noQuery.status).toBe(400);
    expect(issuesOf(noQuery)).toEqual([
      { path: 'verbose', message: 'unknown query parameter (this route takes none)' },
    ]);
    for (const bad of [
      'from=2026-02-29T00:00:00%2B08:00&to=2026-03-01T00:00:00%2B08:00',
      'from=2026-04-31T00:00:00Z',
    ]) {
      const report = await api(`/api/v1/reports/availability?${bad}`, { token: viewer });
      expect(report.status, bad).toBe(400);
      expect(issuesOf(report)[0]?.path, bad).toBe('from');
    }
    const state = await api('/api/v1/sites?state=on-fire', { token: viewer });
    expect(state.status).toBe(400);
    expect(issuesOf(state)[0]?.path).toBe('state');
    expect(s.service.callsOf('incidents')).toEqual([]);
    expect(s.service.callsOf('sites')).toEqual([]);
  });
});

describe('request bodies', () => {
  const ack = (c: Call) => api('/api/v1/incidents/inc-1/ack', { method: 'POST', token: operator, ...c });

  it('refuses malformed JSON with 400 invalid_json', async () => {
    const a = await ack({ body: '{"note": "half' });
    expect(a.status).toBe(400);
    expect(a.json.error).toBe('invalid_json');
    expect(a.json.message).toMatch(/^request body is not valid JSON/);
    expect(s.service.callsOf('acknowledge')).toEqual([]);
  });

  it('refuses a body that is not JSON with 415', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const a = await ack({ body: 'note=hi', contentType });
      expect(a.status, contentType).toBe(415);
      expect(a.json.error, contentType).toBe('unsupported_media_type');
      expect(a.json.message, contentType).toContain(`got ${contentType}`);
    }
    expect(s.service.callsOf('acknowledge')).toEqual([]);
  });

  it('refuses a body above the limit with 413', async () => {
    const a = await ack({ body: { note: 'x'.repeat(BODY_LIMIT) } });
    expect(a.status).toBe(413);
    expect(a.json).toEqual({
      error: 'payload_too_large',
      message: `request body is larger than ${BODY_LIMIT} bytes`,
    });
    const justUnder = await ack({ body: { note: 'x'.repeat(BODY_LIMIT - 20) } });
    expect(justUnder.status).toBe(200);
  });

  it('refuses unknown and wrong-typed fields with 400 naming the path', async () => {
    const unknown = await ack({ body: { note: 'ok', notes: 'typo' } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toBe('invalid_body');
    expect(issuesOf(unknown)).toEqual([{ path: 'notes', message: "unknown field 'notes'" }]);

    const wrongType = await ack({ body: { note: 42 } });
    expect(wrongType.status).toBe(400);
    expect(issuesOf(wrongType)).toEqual([{ path: 'note', message: 'expected a string' }]);

    const array = await ack({ body: [] });
    expect(array.status).toBe(400);
    expect(issuesOf(array)[0]?.path).toBe('(body)');
    expect(s.service.callsOf('acknowledge')).toEqual([]);

    const nested = await api('/api/v1/maintenance', {
      method: 'POST',
      token: operator,
      body: {
        name: 'fibre',
        scope: { sites: ['s1', 7], region: 'x' },
        schedule: { kind: 'once', start: 'tomorrow', end: '2026-11-03T02:00:00+08:00' },
      },
    });
    expect(nested.status).toBe(400);
    const paths = issuesOf(nested).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['scope.sites[1]', 'scope.region', 'schedule.start']));
    expect(nested.json.message).toMatch(/^invalid request body: /);
    expect(s.service.callsOf('addMaintenance')).toEqual([]);
  });
});

describe('maintenance and silences', () => {
  const window = {
    name: 'fibre splice Kuta',
    scope: { kecamatan: ['Kuta'] },
    schedule: { kind: 'once', start: '2026-11-02T22:00:00+08:00', end: '2026-11-03T02:00:00+08:00' },
    reason: 'PLN works',
  };

  it('creates a window: 201 with a Location, the service gets it parsed and the holder', async () => {
    const a = await api('/api/v1/maintenance', { method: 'POST', token: operator, body: window });
    expect(a.status).toBe(201);
    const id = a.json.id as string;
    expect(a.headers.get('location')).toBe(`/api/v1/maintenance/${id}`);
    expect(a.json).toMatchObject({ name: 'fibre splice Kuta', source: 'api', createdBy: 'ops-1' });
    expect(s.service.callsOf('addMaintenance')).toEqual([
      [
        {
          name: 'fibre splice Kuta',
          scope: { kecamatan: ['Kuta'] },
          reason: 'PLN works',
          schedule: {
            kind: 'once',
            startMs: Date.parse('2026-11-02T14:00:00Z'),
            endMs: Date.parse('2026-11-02T18:00:00Z'),
          },
        },
        'ops-1',
      ],
    ]);
    const listed = await api('/api/v1/maintenance', { token: viewer });
    expect((listed.json.maintenance as { id: string }[]).map((w) => w.id)).toContain(id);

    const del = await api(`/api/v1/maintenance/${id}`, { method: 'DELETE', token: operator });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect(s.service.callsOf('deleteMaintenance')).toEqual([[id, 'ops-1']]);
  });

  it('creates a weekly window in Badung time by default', async () => {
    const a = await api('/api/v1/maintenance', {
      method: 'POST',
      token: operator,
      body: {
        name: 'nightly reboot',
        scope: { categories: ['sd'] },
        schedule: { kind: 'weekly', at: '02:00', duration: '30m' },
      },
    });
    expect(a.status).toBe(201);
    expect(s.service.callsOf('addMaintenance')[0]?.[0]).toMatchObject({
      schedule: { kind: 'weekly', at: '02:00', durationMs: 1_800_000, timeZone: 'Asia/Makassar' },
    });
  });

  it('refuses a window that ends before it starts, or covers everything', async () => {
    const backwards = await api('/api/v1/maintenance', {
      method: 'POST',
      token: operator,
      body: { ...window, schedule: { ...window.schedule, end: '2026-11-02T21:00:00+08:00' } },
    });
    expect(backwards.status).toBe(400);
    expect(issuesOf(backwards)).toEqual([{ path: 'schedule.end', message: 'must be after schedule.start' }]);
    const everything = await api('/api/v1/maintenance', {
      method: 'POST',
      token: operator,
      body: { ...window, scope: {} },
    });
    expect(everything.status).toBe(400);
    expect(issuesOf(everything)[0]).toMatchObject({
      path: 'scope',
      message: /an empty scope would cover every site/,
    });
    expect(s.service.callsOf('addMaintenance')).toEqual([]);
  });

  it("passes the service's 409 for a window from the config and 404 for an unknown one", async () => {
    const config = await api('/api/v1/maintenance/mw-config', { method: 'DELETE', token: admin });
    expect(config.status).toBe(409);
    expect(config.json).toEqual({
      error: 'conflict',
      message: "'mw-config' is in the config file; remove it there",
    });
    const unknown = await api('/api/v1/maintenance/mw-nope', { method: 'DELETE', token: operator });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toBe('not_found');
  });

  it('creates a silence from now for a duration, and deletes it', async () => {
    const a = await api('/api/v1/silences', {
      method: 'POST',
      token: operator,
      body: { scope: { sites: ['s1'] }, duration: '2h', comment: 'known: PLN outage' },
    });
    expect(a.status).toBe(201);
    const id = a.json.id as string;
    expect(a.headers.get('location')).toBe(`/api/v1/silences/${id}`);
    expect(s.service.callsOf('addSilence')).toEqual([
      [
        { scope: { sites: ['s1'] }, startsAt: T0, endsAt: T0 + 7_200_000, comment: 'known: PLN outage' },
        'ops-1',
      ],
    ]);
    const del = await api(`/api/v1/silences/${id}`, { method: 'DELETE', token: admin });
    expect(del.status).toBe(204);
    expect(s.service.callsOf('deleteSilence')).toEqual([[id, 'kominfo-admin']]);
    expect((await api(`/api/v1/silences/${id}`, { method: 'DELETE', token: operator })).status).toBe(404);
  });

  it('refuses a window already over (the ISO end is named), an impossible date, an absurd duration', async () => {
    const cases: [object, string, RegExp][] = [
      [
        { kind: 'once', start: '2026-11-01T22:00:00+08:00', end: '2026-11-02T02:00:00+08:00' },
        'schedule.end',
        /2026-11-02T02:00:00.000\+08:00 is in the past \(now 2026-11-02T12:00:00.000\+08:00\): this window would already be over/,
      ],
      [
        { kind: 'weekly', at: '02:00', duration: '1h', until: '2026-11-01T00:00:00+08:00' },
        'schedule.until',
        /in the past .* would never open again/,
      ],
      [
        { kind: 'once', start: '2026-02-31T22:00:00+08:00', end: '2026-12-02T02:00:00+08:00' },
        'schedule.start',
        /ISO 8601/,
      ],
      [{ kind: 'weekly', at: '02:00', duration: '99999999999d' }, 'schedule.duration', /up to 3660d/],
    ];
    for (const [schedule, path, message] of cases) {
      const a = await api('/api/v1/maintenance', {
        method: 'POST',
        token: operator,
        body: { name: 'x', scope: { sites: ['s1'] }, schedule },
      });
      expect(a.status, JSON.stringify(schedule)).toBe(400);
      expect(issuesOf(a)[0]?.path, JSON.stringify(schedule)).toBe(path);
      expect(issuesOf(a)[0]?.message, JSON.stringify(schedule)).toMatch(message);
    }
    expect(s.service.callsOf('addMaintenance')).toEqual([]);
  });

  it('creates a silence with endsAt; refuses one with both or neither, or already over', async () => {
    const ok = await api('/api/v1/silences', {
      method: 'POST',
      token: operator,
      body: { scope: { devices: ['s1-r'] }, endsAt: '2026-11-02T14:00:00+08:00', comment: 'x' },
    });
    expect(ok.status).toBe(201);
    expect(s.service.callsOf('addSilence')[0]?.[0]).toMatchObject({ startsAt: T0, endsAt: T0 + 7_200_000 });

    const cases: [object, string, RegExp][] = [
      [{ scope: { sites: ['s1'] }, comment: 'x' }, 'endsAt', /either endsAt .* or duration/],
      [{ scope: { sites: ['s1'] }, comment: 'x', duration: '1h', endsAt: T0 + 1 }, 'endsAt', /not both/],
      [
        { scope: { sites: ['s1'] }, comment: 'x', endsAt: T0 - 1, startsAt: T0 - 10 },
        'endsAt',
        /already be over/,
      ],
      [{ scope: { sites: ['s1'] }, comment: 'x', duration: '40d' }, 'duration', /at most 31 days/],
      [{ scope: { sites: ['s1'] }, comment: 'x', duration: '99999999999d' }, 'duration', /up to 3660d/],
      [{ scope: { sites: ['s1'] }, comment: 'x', endsAt: '2026-11-31T10:00:00+08:00' }, 'endsAt', /ISO 8601/],
      [{ scope: { sites: ['s1'] }, duration: '1h' }, 'comment', /^required$/],
    ];
    for (const [body, path, message] of cases) {
      const a = await api('/api/v1/silences', { method: 'POST', token: operator, body });
      expect(a.status, JSON.stringify(body)).toBe(400);
      expect(issuesOf(a)[0]?.path, JSON.stringify(body)).toBe(path);
      expect(issuesOf(a)[0]?.message, JSON.stringify(body)).toMatch(message);
    }
    expect(s.service.callsOf('addSilence')).toHaveLength(1);
  });
});

describe('errors', () => {
  it('answers an unknown route with 404 JSON', async () => {
    const outside = await api('/nope');
    expect(outside.status).toBe(404);
    expect(outside.json).toEqual({ error: 'not_found', message: 'no route GET /nope' });
    const inside = await api('/api/v1/nope', { token: viewer });
    expect(inside.status).toBe(404);
    expect(inside.json.error).toBe('not_found');
    expect((await api('/api/v1/incidents', { method: 'DELETE', token: admin })).status).toBe(404);
  });

  it('answers a handler that throws with 500 and a request id; the cause goes to the log only', async () => {
    const a = await api('/api/v1/sites/boom', {
      token: viewer,
      headers: { 'x-request-id': 'trace-0001abcd' },
    });
    expect(a.status).toBe(500);
    expect(a.headers.get('x-request-id')).toBe('trace-0001abcd');
    expect(a.json).toEqual({
      error: 'internal',
      message: 'internal error; the log has its cause under request id trace-0001abcd',
      requestId: 'trace-0001abcd',
    });
    expect(a.text).not.toMatch(/sqlite|incidents\.db|at .*\.ts/);
    const logged = s.log.records.find((r) => r.msg === 'http handler failed');
    expect(logged).toMatchObject({ requestId: 'trace-0001abcd', path: '/api/v1/sites/boom' });
    expect(logged?.error).toMatch(/disk I\/O error/);
    expect(logged?.stack).toMatch(/FakeService\.site/);
  });

  it('echoes a well-formed X-Request-Id and replaces any other with a UUID', async () => {
    expect(
      (await api('/health', { headers: { 'x-request-id': 'lb-12345678' } })).headers.get('x-request-id'),
    ).toBe('lb-12345678');
    for (const given of [undefined, 'short', 'has spaces in it', 'x'.repeat(65), 'quote"injection1']) {
      const a = await api('/health', given === undefined ? {} : { headers: { 'x-request-id': given } });
      expect(a.headers.get('x-request-id'), given).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    }
    expect((await api('/api/v1/sites')).headers.get('x-request-id')).toBeTruthy(); // a 401 has one too
  });
});

describe('audit', () => {
  const audits = (): LogRecord[] => s.log.records.filter((r) => r.msg === 'audit');

  it('logs each write with the principal, the action and the outcome', async () => {
    const a = await api('/api/v1/incidents/inc-1/ack', {
      method: 'POST',
      token: operator,
      body: {},
      headers: { 'x-request-id': 'audit-0001' },
    });
    expect(a.status).toBe(200);
    const line = await waitFor(() => audits()[0], { what: 'an audit line', timeoutMs: 2000 });
    expect(line).toMatchObject({
      level: 'info',
      principal: 'ops-1',
      role: 'operator',
      tokenId: operator.id,
      action: 'incident.acknowledge',
      target: 'inc-1',
      method: 'POST',
      path: '/api/v1/incidents/inc-1/ack',
      status: 200,
      answered: true,
      requestId: 'audit-0001',
    });
    expect(JSON.stringify(s.log.records)).not.toContain(operator.token);
  });

  it('logs refused writes too, with the id of what was created when it was', async () => {
    await api('/api/v1/incidents/inc-1/ack', { method: 'POST', token: viewer, body: {} });
    await api('/api/v1/incidents/inc-2/ack', { method: 'POST', token: admin, body: {} });
    await api('/api/v1/silences', {
      method: 'POST',
      token: operator,
      body: { scope: { sites: ['s1'] }, duration: '1h', comment: 'x' },
    });
    await waitFor(() => audits().length >= 3, { what: 'three audit lines', timeoutMs: 2000 });
    expect(audits().map((r) => [r.principal, r.action, r.target, r.status])).toEqual([
      ['noc-wall', undefined, undefined, 403],
      ['kominfo-admin', 'incident.acknowledge', 'inc-2', 409],
      ['ops-1', 'silence.create', expect.stringMatching(/^sil-\d+$/), 201],
    ]);
  });

  it('logs a write whose client went away before the answer', async () => {
    const url = new URL(s.http.url);
    const sock = connect(Number(url.port), url.hostname);
    const received: string[] = [];
    sock.on('data', (b: Buffer) => received.push(b.toString()));
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    // Expect: 100-continue makes node answer "100 Continue" as it hands the request to express, so once
    // the client reads it the request has been authenticated; then half the body, and hang up.
    sock.write(
      'POST /api/v1/incidents/inc-1/ack HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${operator.token}\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n`,
    );
    await waitFor(() => received.join('').includes('100 Continue'), {
      what: '100 Continue',
      timeoutMs: 2000,
    });
    sock.end('{"note": "');
    sock.destroy();
    const line = await waitFor(() => audits()[0], {
      what: 'an audit line for the aborted write',
      timeoutMs: 3000,
    });
    expect(line).toMatchObject({
      principal: 'ops-1',
      method: 'POST',
      path: '/api/v1/incidents/inc-1/ack',
      answered: false,
    });
    expect(s.service.callsOf('acknowledge')).toEqual([]);
  });

  it('does not audit reads', async () => {
    await api('/api/v1/incidents', { token: viewer });
    await api('/api/v1/incidents/inc-1/ack', { method: 'POST', token: operator, body: {} });
    await waitFor(() => audits().length >= 1, { what: 'an audit line', timeoutMs: 2000 });
    expect(audits().map((r) => r.method)).toEqual(['POST']);
  });
});

describe('feeds', () => {
  it('need a viewer token by default', async () => {
    const anonymous = await api('/feeds/cap.xml');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="badung-netmon"');
    const a = await api('/feeds/cap.xml', { token: viewer });
    expect(a.status).toBe(200);
    expect(a.text).toBe('<alert/>');
    expect((await api('/feeds/nope.xml', { token: viewer })).status).toBe(404);
  });

  it('are served without a token with feedsPublic, while /api/v1 still needs one', async () => {
    const { http } = await serve({ feedsPublic: true });
    try {
      const a = await call(http.url, '/feeds/cap.xml');
      expect(a.status).toBe(200);
      expect(a.text).toBe('<alert/>');
      expect((await call(http.url, '/api/v1/sites')).status).toBe(401);
    } finally {
      await http.close();
    }
  });

  it('are not served when no router is given', async () => {
    const { http } = await serve({ feeds: undefined });
    try {
      expect((await call(http.url, '/feeds/cap.xml')).status).toBe(404);
    } finally {
      await http.close();
    }
  });
});

describe('the pre-v1 routes', () => {
  it('are gone: /api/status and /api/devices answer 404 (behind the token), /api/v1 serves', async () => {
    const { http } = await serve();
    try {
      for (const path of ['/api/status', '/api/devices', '/api/sites/s1', '/api/alerts'])
        expect((await call(http.url, path, { token: viewer })).status, path).toBe(404);
      expect((await call(http.url, '/api/v1/sites', { token: viewer })).status).toBe(200);
      expect((await call(http.url, '/api/v1/nope', { token: viewer })).status).toBe(404);
      expect((await call(http.url, '/api/v1/nope')).status).toBe(401);
    } finally {
      await http.close();
    }
  });
});
