import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../config/monitor.ts';
import { generateToken } from '../../../collector/http/auth.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-config-'));
  writeFileSync(
    join(dir, 'inv.yaml'),
    `sites:\n  - { id: s1, name: S1, category: sd, kecamatan: Kuta, desa: Kuta, lat: -8.72, lon: 115.17, devices: [{ id: s1-r, role: router, host: 127.0.0.1, credentials: c }] }\ncredentials: { c: { version: 2c, community: public } }\n`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = (extra = '') =>
  `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n${extra}`;

describe('monitor config', () => {
  it('fills defaults, reads durations and sizes, resolves paths against the file', async () => {
    writeFileSync(
      join(dir, 'netmon.yaml'),
      base('snmp: { interval: 2m, timeout: 500ms }\nwriter: { maxBufferSize: 64MiB }\n'),
    );
    const c = await loadConfig(join(dir, 'netmon.yaml'), {});
    expect(c.snmp).toMatchObject({ intervalMs: 120_000, timeoutMs: 500, retries: 1, concurrency: 256 });
    expect(c.writer.maxBufferBytes).toBe(64 * 1024 * 1024);
    expect(c.writer.bufferDir).toBe(join(dir, 'var/buffer'));
    expect(c.inventoryFile).toBe(join(dir, 'inv.yaml'));
    expect(c.inventory.devices).toHaveLength(1);
    expect(c.http.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c).toMatchObject({
      influx: { api: 'v1', url: 'http://127.0.0.1:8086', database: 'netmon', timeoutMs: 10_000 },
      writer: { batchSize: 5000, flushIntervalMs: 1000 },
      snmp: { jitterMs: 10_000, maxRepetitions: 25 },
      health: { downAfterFailures: 2, recheckMs: 10_000 },
      alerts: { webhooks: [] },
      log: { level: 'info' },
    });
    expect(c.mqtt).toBeUndefined();
  });

  it('parseConfig reads no file: the inventory is loaded by loadConfig', () => {
    const s = parseConfig(base().replace('inv.yaml', 'not-there.yaml'), join(dir, 'netmon.yaml'), {});
    expect(s.inventoryFile).toBe(join(dir, 'not-there.yaml'));
    expect('inventory' in s).toBe(false);
  });

  it('the example config is valid', async () => {
    writeFileSync(join(dir, 'example-inv.yaml'), '');
    const c = await loadConfig('config/netmon.example.yaml', { NETMON_INVENTORY: join(dir, 'inv.yaml') });
    expect(c.influx).toMatchObject({ api: 'v1', database: 'netmon' });
    // The demo's webhook goes to the simulator's receiver, on its control address.
    expect(c.alerts.webhooks.map((w) => w.url)).toEqual(['http://127.0.0.1:8161/webhook']);
    const moved = await loadConfig('config/netmon.example.yaml', {
      NETMON_INVENTORY: join(dir, 'inv.yaml'),
      NETMON_SIM_CONTROL: '127.0.0.1:38161',
    });
    expect(moved.alerts.webhooks.map((w) => w.url)).toEqual(['http://127.0.0.1:38161/webhook']);
  });

  it('v2 API, secrets from the environment, never printed', async () => {
    const c = parseConfig(
      'inventory: inv.yaml\n' +
        'influx: { api: v2, url: "http://127.0.0.1:8428", org: kominfo, bucket: netmon, token: "${TOK}" }\n' +
        'alerts: { webhooks: [{ name: oncall, url: "https://hooks.example.go.id/x", headers: { Authorization: "Bearer ${HOOK:-h00k}" } }] }\n',
      join(dir, 'netmon.yaml'),
      { TOK: 'tok-123456' },
    );
    expect(c.influx.api === 'v2' && c.influx.token?.reveal()).toBe('tok-123456');
    expect(c.alerts.webhooks[0]?.headers.Authorization?.reveal()).toBe('Bearer h00k');
    const printed = JSON.stringify({ influx: c.influx, alerts: c.alerts });
    expect(printed).not.toContain('tok-123456');
    expect(printed).not.toContain('h00k');
  });

  it('NETMON_INVENTORY overrides the inventory path', async () => {
    writeFileSync(join(dir, 'other.yaml'), readFileSync(join(dir, 'inv.yaml'), 'utf8').replace(/s1/g, 's9'));
    writeFileSync(join(dir, 'netmon.yaml'), base());
    const c = await loadConfig(join(dir, 'netmon.yaml'), { NETMON_INVENTORY: 'other.yaml' });
    expect(c.inventoryFile).toBe(join(dir, 'other.yaml'));
    expect(c.inventory.sites.map((s) => s.id)).toEqual(['s9']);
  });

  it.each([
    [
      'a bad duration',
      base('snmp: { interval: 30 sec }\n'),
      /netmon\.yaml:3:\d+: snmp\.interval: '30 sec' is not a duration; write e\.g\. 500ms, 30s, 2m/,
    ],
    [
      'an unknown api',
      'inventory: inv.yaml\ninflux: { api: v3, url: "http://x" }\n',
      /influx\.api must be 'v1'/,
    ],
    [
      'a public listen address',
      base('http: { host: 0.0.0.0 }\n'),
      /http\.host: 0\.0\.0\.0 is not a loopback address/,
    ],
    [
      'jitter above the interval',
      base('snmp: { interval: 10s, jitter: 20s }\n'),
      /snmp\.jitter must be smaller than snmp\.interval/,
    ],
    ['an unknown key', base('snmp: { intervall: 10s }\n'), /snmp\.intervall: unknown key/],
    [
      'a bad size',
      base('writer: { maxBufferSize: 64 megs }\n'),
      /netmon\.yaml:3:\d+: writer\.maxBufferSize: '64 megs' is not a size; write e\.g\. 64MiB/,
    ],
    [
      'a missing variable',
      base('influx2: 1\n').replace('database: netmon', 'database: "${DB}"'),
      /netmon\.yaml:2:\d+: influx\.database: \$\{DB\} is not set and has no default/,
    ],
    [
      'a port out of range',
      base('http: { port: 70000 }\n'),
      /netmon\.yaml:3:\d+: http\.port: expected a port number 0\.\.65535/,
    ],
    [
      'a missing inventory file',
      base().replace('inv.yaml', 'nope.yaml'),
      /nope\.yaml: cannot read the inventory \(ENOENT\); generate one with/,
    ],
    [
      'two webhooks of one name',
      base(
        'alerts: { webhooks: [{ name: oncall, url: "https://a.example/x" }, { name: oncall, url: "https://b.example/y" }] }\n',
      ),
      /netmon\.yaml:3:\d+: alerts\.webhooks\[1\]\.name: 'oncall' is also the name of alerts\.webhooks\[0\]/,
    ],
    [
      'a webhook URL that is not http(s)',
      base('alerts: { webhooks: [{ name: oncall, url: "ftp://a.example/x" }] }\n'),
      /netmon\.yaml:3:\d+: alerts\.webhooks\[0\]\.url: expected an http:\/\/ or https:\/\/ URL/,
    ],
    [
      'a contact naming a channel that does not exist',
      base('alerts: { contacts: [{ name: noc, channels: [telegram-noc] }] }\n'),
      /alerts\.contacts\[0\]\.channels\[0\]: no channel named 'telegram-noc' \(configured: none\)/,
    ],
    [
      'a route naming an unknown contact',
      base(
        'alerts: { webhooks: [{ name: noc, url: "https://a.example/x" }], contacts: [{ name: noc, channels: [noc] }], routes: [{ escalation: [noc, kadis] }] }\n',
      ),
      /alerts\.routes\[0\]\.escalation\[1\]: no contact named 'kadis' \(contacts: noc\)/,
    ],
    [
      'a severity for a category that does not exist',
      base('alerts: { severity: { rumah_sakit: critical } }\n'),
      /alerts\.severity/,
    ],
    [
      'a clock that is not a duration',
      base('alerts: { clocks: { critical: soon } }\n'),
      /alerts\.clocks\.critical: 'soon' is not a duration/,
    ],
  ])('names the place and the fix for %s', async (_what, text, pattern) => {
    const file = join(dir, 'netmon.yaml');
    writeFileSync(file, text);
    await expect(loadConfig(file, {})).rejects.toThrow(pattern);
  });
});

describe('alerts: severity, clocks, contacts and routes', () => {
  it('defaults to the two clocks of the regency and no routing; routes resolve webhook channels', () => {
    const d = parseConfig(base(), '/etc/netmon/netmon.yaml', {});
    expect(d.alerts.oncall).toEqual({
      severityByCategory: {},
      clocksMs: { critical: 7_200_000, high: 86_400_000, medium: 86_400_000, low: 86_400_000 },
      contacts: [],
      routes: [],
    });
    const c = parseConfig(
      base(`alerts:
  webhooks: [{ name: noc, url: "https://a.example/x" }]
  severity: { obyek_wisata: high }
  clocks: { critical: 90m }
  contacts: [{ name: tier1, channels: [noc] }]
  routes:
    - { match: { severities: [critical], kecamatan: [Petang] }, escalation: [tier1] }
`),
      '/etc/netmon/netmon.yaml',
      {},
    );
    expect(c.alerts.oncall?.severityByCategory).toEqual({ obyek_wisata: 'high' });
    expect(c.alerts.oncall?.clocksMs.critical).toBe(5_400_000);
    expect(c.alerts.oncall?.contacts).toEqual([{ name: 'tier1', channels: ['webhook:noc'] }]);
    expect(c.alerts.oncall?.routes).toEqual([
      { match: { severities: ['critical'], kecamatan: ['Petang'] }, escalation: ['tier1'] },
    ]);
  });

  it('routes to channels of every type by their names; a channel may not share a webhook its name', () => {
    const c = parseConfig(
      base(`alerts:
  channels:
    - { name: noc-tg, type: telegram, botToken: "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", chatId: "-100123" }
    - { name: head-mail, type: email, host: 127.0.0.1, port: 2525, tls: none, from: netmon@badungkab.go.id, to: [kadis@badungkab.go.id] }
  contacts: [{ name: noc, channels: [noc-tg] }, { name: head, channels: [head-mail, noc-tg] }]
  routes: [{ escalation: [noc, head] }]
`),
      '/etc/netmon/netmon.yaml',
      {},
    );
    expect(c.alerts.channels?.map((ch) => `${ch.type}:${ch.name}`)).toEqual([
      'telegram:noc-tg',
      'email:head-mail',
    ]);
    expect(c.alerts.oncall?.contacts).toEqual([
      { name: 'noc', channels: ['telegram:noc-tg'] },
      { name: 'head', channels: ['email:head-mail', 'telegram:noc-tg'] },
    ]);
    expect(() =>
      parseConfig(
        base(`alerts:
  webhooks: [{ name: noc, url: "https://a.example/x" }]
  channels: [{ name: noc, type: webhook, url: "https://b.example/y" }]
`),
        '/etc/netmon/netmon.yaml',
        {},
      ),
    ).toThrow(/alerts\.channels\[0\]\.name: 'noc' is also the name of a webhook/);
  });
});

describe('maintenance, flapping and feeds', () => {
  it('reads maintenance windows (once and weekly, WITA by default), flapping and the CAP push', () => {
    const c = parseConfig(
      base(`maintenance:
  - name: Pemeliharaan Petang
    scope: { kecamatan: [Petang] }
    schedule: { kind: weekly, days: [sun], at: "23:00", duration: 3h }
  - name: Ganti router SD 1
    scope: { sites: [s1] }
    schedule: { kind: once, start: "2026-12-01T22:00:00+08:00", end: "2026-12-02T02:00:00+08:00" }
    reason: router replacement
alerts:
  flapping: { settle: 90s, flaps: 3 }
feeds:
  push: [{ name: bpbd, url: "https://cap.bpbd.example/receive", headers: { Authorization: "Bearer \${CAP_TOKEN}" } }]
`),
      '/etc/netmon/netmon.yaml',
      { CAP_TOKEN: 'cap-secret' },
    );
    expect(c.maintenance).toEqual([
      {
        id: 'config-1',
        source: 'config',
        name: 'Pemeliharaan Petang',
        scope: { kecamatan: ['Petang'] },
        reason: undefined,
        schedule: {
          kind: 'weekly',
          days: ['sun'],
          at: '23:00',
          durationMs: 3 * 3600_000,
          timeZone: 'Asia/Makassar',
          fromMs: undefined,
          untilMs: undefined,
        },
      },
      {
        id: 'config-2',
        source: 'config',
        name: 'Ganti router SD 1',
        scope: { sites: ['s1'] },
        reason: 'router replacement',
        schedule: {
          kind: 'once',
          startMs: Date.UTC(2026, 11, 1, 14),
          endMs: Date.UTC(2026, 11, 1, 18),
        },
      },
    ]);
    expect(c.alerts.flapping).toEqual({ settleMs: 90_000, flapThreshold: 3 });
    expect(c.feeds?.push[0]?.headers.Authorization?.reveal()).toBe('Bearer cap-secret');
    expect(JSON.stringify(c.feeds)).not.toContain('cap-secret');
    // Defaults: a 2-minute settle, two flaps; the regency's CAP sender.
    const d = parseConfig(base(), '/etc/netmon/netmon.yaml', {});
    expect(d.alerts.flapping).toEqual({ settleMs: 120_000, flapThreshold: 2 });
    expect(d.maintenance).toEqual([]);
    expect(d.feeds?.sender).toBe('netmon@kominfo.badungkab.go.id');
  });

  it('refuses a window without a scope, a bad schedule or a name used twice, naming the place', () => {
    const bad = (yaml: string) => () => parseConfig(base(yaml), '/etc/netmon/netmon.yaml', {});
    expect(
      bad(`maintenance:
  - { name: all, scope: {}, schedule: { kind: weekly, at: "23:00", duration: 1h } }
`),
    ).toThrow(/:4:25: maintenance\[0\]\.scope: name at least one of sites/);
    expect(
      bad(`maintenance:
  - { name: x, scope: { sites: [s1] }, schedule: { kind: weekly, at: "25:00", duration: 1h, timeZone: Mars/Olympus } }
`),
    ).toThrow(
      /maintenance\[0\]\.schedule\.at: expected HH:MM.*\n.*maintenance\[0\]\.schedule\.timeZone: expected an IANA/,
    );
    expect(
      bad(`maintenance:
  - { name: x, scope: { sites: [s1] }, schedule: { kind: once, start: "2026-12-02T00:00:00+08:00", end: "2026-12-01T00:00:00+08:00" } }
`),
    ).toThrow(/maintenance\[0\]\.schedule\.end: must be after schedule\.start/);
    expect(
      bad(`maintenance:
  - { name: x, scope: { sites: [s1] }, schedule: { kind: weekly, at: "01:00", duration: 1h } }
  - { name: x, scope: { sites: [s1] }, schedule: { kind: weekly, at: "02:00", duration: 1h } }
`),
    ).toThrow(/maintenance\[1\]\.name: 'x' is also the name of maintenance\[0\]/);
    expect(bad(`alerts: { flapping: { settle: soon } }\n`)).toThrow(
      /alerts\.flapping\.settle: 'soon' is not a duration/,
    );
    expect(bad(`feeds: { sender: "net mon" }\n`)).toThrow(/feeds\.sender: no spaces/);
  });
});

describe('api tokens', () => {
  it('adds the tokens of api.tokensFile to api.tokens; a missing file adds none; clashes name the place', async () => {
    const a = generateToken();
    const b = generateToken();
    const cfg = join(dir, 'tokens.yaml');
    writeFileSync(
      cfg,
      base(
        `api:\n  tokens: [{ name: wall, role: viewer, tokenHash: '${a.tokenHash}' }]\n  tokensFile: api-tokens.yaml\n`,
      ),
    );
    expect((await loadConfig(cfg, {})).api?.tokens.map((t) => t.name)).toEqual(['wall']);
    writeFileSync(
      join(dir, 'api-tokens.yaml'),
      `- { name: ops-1, role: operator, tokenHash: '${b.tokenHash}' }\n`,
    );
    const c = await loadConfig(cfg, {});
    expect(c.api?.tokens.map((t) => [t.name, t.role])).toEqual([
      ['wall', 'viewer'],
      ['ops-1', 'operator'],
    ]);
    expect(c.api?.tokensFile).toBe(join(dir, 'api-tokens.yaml'));
    writeFileSync(
      join(dir, 'api-tokens.yaml'),
      `- { name: ops-1, role: operator, tokenHash: '${b.tokenHash}' }\n- { name: wall, role: admin, tokenHash: '${b.tokenHash}' }\n`,
    );
    await expect(loadConfig(cfg, {})).rejects.toThrow(
      /api-tokens\.yaml:2:\d+: \[1\]\.name: 'wall' is also a token name in api\.tokens[\s\S]*\[1\]\.tokenHash: token id \w+ is listed twice/,
    );
    writeFileSync(
      join(dir, 'api-tokens.yaml'),
      `- { name: ops-1, role: boss, tokenHash: '${b.tokenHash}' }\n`,
    );
    await expect(loadConfig(cfg, {})).rejects.toThrow(
      /api-tokens\.yaml:1:\d+: \[0\]\.role: expected one of viewer, operator, admin/,
    );
  });
});

describe('influx retention', () => {
  it('manages a month of raw samples and five years of rollups by default; can be left to the admin', () => {
    const d = parseConfig(base(), '/etc/netmon/netmon.yaml', {});
    expect(d.influx).toMatchObject({ retention: { rawDuration: '30d', rollupDuration: '1825d' } });
    const off = parseConfig(
      `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon, retention: { manage: false } }\n`,
      '/etc/netmon/netmon.yaml',
      {},
    );
    expect(off.influx.api === 'v1' && off.influx.retention).toBeUndefined();
    expect(() =>
      parseConfig(
        `inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon, retention: { raw: 30 days } }\n`,
        '/etc/netmon/netmon.yaml',
        {},
      ),
    ).toThrow(/influx\.retention\.raw: expected an InfluxQL duration in hours, days or weeks/);
  });
});
