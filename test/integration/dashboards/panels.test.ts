/**
 * Every panel, annotation and variable of the committed dashboards against real data: the fleet simulator
 * (SNMP and MQTT devices) polled by the running monitor into a real InfluxDB, one router cut, one site
 * behind it, one site in maintenance. Each query is expanded as Grafana would (time filter, interval,
 * variables; test/support/grafana-influxql.ts), sent to InfluxDB's /query as the data source does, and must
 * return data; each variable must have values.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPasswordHash, mqttPasswordFor } from '../../../config/badung/mqtt-identity.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Inventory, Site } from '../../../collector/core/types.ts';
import { startRuntime, type Runtime } from '../../../collector/runtime.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { MqttFleet } from '../../../simulator/mqtt/mqtt-fleet.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';
import { DASHBOARDS } from '../../../dashboards/src/index.ts';
import { ROLLUPS, retentionPlan, rollupQuery } from '../../../collector/sinks/retention.ts';
import { expandQuery, resolveTime, type VariableValue } from '../../support/grafana-influxql.ts';
import { startTestInfluxd, type TestServer } from '../../support/influx.ts';
import { testMonitorConfig } from '../../support/monitor-config.ts';
import { freeUdpPort, waitFor } from '../../support/ports.ts';

const DB = 'dashboards';
const PLACES = [
  ['Petang', 'Pelaga'],
  ['Petang', 'Belok Sidan'],
  ['Kuta', 'Kedonganan'],
  ['Mengwi', 'Sempidi'],
] as const;

interface Dash {
  readonly uid: string;
  readonly title: string;
  readonly time: { from: string; to: string };
  readonly templating?: { list: Variable[] };
  readonly annotations?: { list: { name: string; target: Target }[] };
  readonly panels: { id: number; title: string; type: string; targets: Target[] }[];
}
interface Variable {
  readonly name: string;
  readonly query: string;
  readonly multi?: boolean;
  readonly includeAll?: boolean;
  readonly allValue?: string;
}
interface Target {
  readonly refId: string;
  readonly query: string;
  readonly resultFormat?: string;
}
interface Series {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly columns: string[];
  readonly values: unknown[][];
}

let dir: string;
let influx: TestServer;
let sim: FleetSimulator;
let fleet: MqttFleet;
let runtime: Runtime;
let inventory: Inventory;
let cut: Site;

/** As the data source sends it: GET /query?db=&q=&epoch=ms. */
async function run(q: string): Promise<Series[]> {
  const url = `${influx.url}/query?db=${DB}&epoch=ms&q=${encodeURIComponent(q)}`;
  const body = (await (await fetch(url)).json()) as { results: { series?: Series[]; error?: string }[] };
  const errors = body.results.map((r) => r.error).filter(Boolean);
  if (errors.length > 0) throw new Error(`${q}\n  → ${errors.join('; ')}`);
  return body.results.flatMap((r) => r.series ?? []);
}

const hasValue = (series: Series[]) =>
  series.some((s) => s.values.some((row) => row.slice(1).some((v) => v !== null && v !== undefined)));

const dashboards = (): Dash[] =>
  DASHBOARDS.map((d) => JSON.parse(readFileSync(join('dashboards/json', d.file), 'utf8')) as Dash);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'netmon-dash-'));
  influx = await startTestInfluxd();
  const base = syntheticInventory({
    sites: 8,
    port: await freeUdpPort(),
    seed: 8,
    hostOctet: 171 + Math.floor(Math.random() * 8),
  });
  const sites = base.sites.map((s, i) => {
    const [kecamatan, desa] = PLACES[i % PLACES.length]!;
    return { ...s, kecamatan, desa, upstream: i === 1 ? base.sites[0]!.id : undefined };
  });
  // One router also speaks MQTT (telemetry and the broker's client count).
  const gw = base.devices.find((d) => d.role === 'router' && d.siteId === sites[3]!.id)!;
  const devices = base.devices.map((d) =>
    d.id === gw.id
      ? { ...d, mqtt: { username: d.id, passwordHash: demoPasswordHash(d.id), keepaliveS: 5 } }
      : d,
  );
  inventory = { sites, devices };
  cut = sites[0]!;
  sim = new FleetSimulator({ inventory, seed: 8 });
  await sim.start();
  const config = await testMonitorConfig({
    inventory,
    influxUrl: influx.url,
    database: DB,
    dir,
    mqtt: {
      broker: { kind: 'embedded', host: '127.0.0.1', port: 0, allowAnonymous: false },
      username: 'netmon-collector',
      password: new Secret('collector-secret'),
      graceMs: 1000,
    },
  });
  runtime = await startRuntime(
    {
      ...config,
      // Test-sized clocks: the cut site's incident breaches its clock (the SLA panel counts breaches).
      alerts: {
        ...config.alerts,
        oncall: {
          severityByCategory: {},
          clocksMs: { critical: 3000, high: 3000, medium: 3000, low: 3000 },
          contacts: [],
          routes: [],
        },
        clockCheckMs: 500,
      },
      // As a deployment runs it: raw samples in `raw`, hourly rollups in `rollup`.
      influx: {
        api: 'v1',
        url: influx.url,
        database: DB,
        timeoutMs: 5000,
        retention: { rawDuration: '30d', rollupDuration: '1825d' },
      },
      maintenance: [
        {
          id: 'config-1',
          name: 'Pemeliharaan / maintenance',
          scope: { sites: [sites[2]!.id] },
          schedule: { kind: 'once', startMs: Date.now() - 60_000, endMs: Date.now() + 3600_000 },
          source: 'config',
        },
      ],
    },
    { log: memoryLogger('warn') },
  );
  fleet = new MqttFleet({
    url: runtime.broker?.url ?? '',
    inventory,
    sim,
    passwordFor: (id) => mqttPasswordFor(id),
    intervalMs: 500,
    log: memoryLogger('warn'),
  });
  fleet.start();

  // Up everywhere, then the first site's router goes: a site down, the one behind it unreachable.
  await waitFor(() => inventory.devices.every((d) => runtime.monitor.health.get(d.id)?.state === 'up'), {
    timeoutMs: 20_000,
  });
  // Rates need two polls: the site to be cut has traffic and Wi-Fi figures first.
  await waitFor(
    async () =>
      hasValue(await run(`SELECT count("in_bps") FROM "interface" WHERE "site" = '${cut.id}'`)) &&
      hasValue(await run(`SELECT count("clients") FROM "wifi" WHERE "site" = '${cut.id}'`)),
    { timeoutMs: 20_000, what: 'traffic and Wi-Fi samples of the site to be cut' },
  );
  sim.cutDevice(devices.find((d) => d.siteId === cut.id && d.role === 'router')!.id);
  await waitFor(() => runtime.monitor.siteState(cut.id)?.state === 'down', { timeoutMs: 15_000 });
  // Two more site-state rounds and a monitor point (every 10 s) with the MQTT side's figures.
  await waitFor(
    async () =>
      hasValue(await run(`SELECT last("mqtt_clients") FROM "monitor" WHERE "component" = 'mqtt'`)) &&
      hasValue(await run(`SELECT "state" FROM "site_state" WHERE "state" = 'down'`)) &&
      hasValue(await run(`SELECT "id" FROM "incident" WHERE "event" = 'clock_breached'`)),
    { timeoutMs: 30_000, what: 'monitor points of the MQTT side, a down site_state, a clock breach' },
  );
  await runtime.monitor.stop(); // flushes every sample
  // The rollup CQs run on the hour; compute this hour's rollups now with the same statements.
  const plan = retentionPlan({ database: DB });
  const hour = 3600_000;
  const range = {
    fromMs: Math.floor(Date.now() / hour) * hour - hour,
    toMs: Math.ceil(Date.now() / hour) * hour,
  };
  for (const r of ROLLUPS) await run(rollupQuery(plan, r.measurement, range));
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await runtime?.stop();
  await sim?.stop();
  await influx?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Resolve the dashboard's variables in order, as Grafana does on load: All where offered, else the first. */
async function resolveVariables(d: Dash, ctx: { fromMs: number; toMs: number }) {
  const vars: Record<string, VariableValue> = {};
  const options: Record<string, string[]> = {};
  for (const v of d.templating?.list ?? []) {
    const series = await run(expandQuery(v.query, { ...ctx, variables: vars }));
    const values = series.flatMap((s) => s.values.map((row) => String(row[1])));
    options[v.name] = values;
    expect(values, `variable $${v.name} of ${d.title} has values`).not.toEqual([]);
    vars[v.name] = v.includeAll
      ? { values: 'all', allValue: v.allValue, multi: v.multi }
      : { values: [pickSite(v.name, values)], multi: v.multi };
  }
  return { vars, options };
}

/** For the site chooser: the site that was cut has incidents to annotate; otherwise the first. */
function pickSite(name: string, values: string[]): string {
  if (name === 'kecamatan' && values.includes(cut.kecamatan)) return cut.kecamatan;
  if (name === 'desa' && values.includes(cut.desa)) return cut.desa;
  if (name === 'site' && values.includes(cut.id)) return cut.id;
  return values[0]!;
}

describe('dashboards on real data', () => {
  for (const file of DASHBOARDS.map((d) => d.file)) {
    it(`${file}: every variable has values, every panel and annotation finds data`, async () => {
      const d = dashboards().find((x) => DASHBOARDS.find((y) => y.file === file)?.build().uid === x.uid)!;
      const now = Date.now();
      const ctx = {
        fromMs: resolveTime(d.time.from, now),
        toMs: resolveTime(d.time.to, now),
        minInterval: '2s',
      };
      const { vars } = await resolveVariables(d, ctx);
      const empty: string[] = [];
      for (const p of d.panels) {
        const results = await Promise.all(
          p.targets.map((t) => run(expandQuery(t.query, { ...ctx, variables: vars }))),
        );
        if (!results.some(hasValue)) empty.push(`panel ${p.id} "${p.title}"`);
        if (p.type === 'geomap') {
          const cols = results[0]?.[0]?.columns ?? [];
          expect(cols).toEqual(expect.arrayContaining(['state_code', 'state', 'lat', 'lon']));
        }
      }
      for (const a of d.annotations?.list ?? []) {
        if (!hasValue(await run(expandQuery(a.target.query, { ...ctx, variables: vars }))))
          empty.push(`annotation "${a.name}"`);
      }
      expect(empty, `panels without data in ${d.title}`).toEqual([]);
    });
  }

  it('a filter narrows the data: one kecamatan shows only its own sites', async () => {
    const d = dashboards().find((x) => x.uid === 'badung-netmon-overview')!;
    const map = d.panels.find((p) => p.type === 'geomap')!;
    const now = Date.now();
    const rows = await run(
      expandQuery(map.targets[0]!.query, {
        fromMs: now - 900_000,
        toMs: now,
        variables: { kecamatan: { values: ['Kuta'] }, category: { values: 'all', allValue: '.*' } },
      }),
    );
    expect(rows.length).toBe(inventory.sites.filter((s) => s.kecamatan === 'Kuta').length);
    expect([...new Set(rows.map((s) => s.tags?.kecamatan))]).toEqual(['Kuta']);
  });
});
