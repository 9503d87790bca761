/**
 * The dashboards as files: the committed JSON is what the builders make (drift), it fits Grafana's
 * dashboard schema (the foundation SDK's types, generated from Grafana's schema, at compile time; its structural rules at run time), and the
 * provisioning YAML has the shape Grafana's provisioning documents with no credential in it. The queries
 * themselves run against real data in test/integration/dashboards/panels.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  Dashboard as GrafanaDashboard,
  Panel as GrafanaPanel,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS, dashboardJson } from '../../../dashboards/src/index.ts';
import { DATASOURCE_UID, SITE_STATES } from '../../../dashboards/src/influxql.ts';
import { SITE_STATE_CODE } from '../../../collector/health/site-state.ts';
import { expandQuery, intervalFor, resolveTime } from '../../support/grafana-influxql.ts';

/**
 * Compile-time schema check: what the builders make is a dashboard as the foundation SDK's types (generated
 * from Grafana's CUE schema) define it; the JSON read back is checked against the same rules below.
 */
function asGrafanaSchema(d: ReturnType<(typeof DASHBOARDS)[number]['build']>): GrafanaDashboard {
  return d;
}

/** Panel plugins Grafana ships (the foundation SDK has a module for each). */
const PANEL_TYPES = new Set(
  readdirSync('node_modules/@grafana/grafana-foundation-sdk/dist', { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name),
);
const BUILTIN_VARS = new Set([
  'timeFilter',
  '__interval',
  '__interval_ms',
  'interval',
  'tag_device',
  'tag_ifName',
  'tag_ssid',
  'tag_category',
  'tag_kecamatan',
  'col',
]);

const committed = DASHBOARDS.map((d) => ({
  file: d.file,
  built: asGrafanaSchema(d.build()),
  json: JSON.parse(readFileSync(join('dashboards/json', d.file), 'utf8')) as GrafanaDashboard,
}));

describe('dashboard JSON', () => {
  it('is what its builder makes (regenerate: npx tsx dashboards/build.ts)', () => {
    for (const d of DASHBOARDS)
      expect(readFileSync(join('dashboards/json', d.file), 'utf8'), d.file).toBe(dashboardJson(d.build()));
  });

  it('has stable, unique uids and the fields Grafana requires', () => {
    const uids = committed.map((d) => d.json.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const { file, json } of committed) {
      expect(json.uid, file).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(json.title, file).toBeTruthy();
      expect(json.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(json.time?.from, file).toBeTruthy();
      expect(json.time?.to, file).toBe('now');
      expect(json.timezone, file).toBe('Asia/Makassar');
    }
  });

  it('lays out panels of known types on the 24-column grid, with unique ids and no overlap', () => {
    for (const { file, json } of committed) {
      const panels = (json.panels ?? []) as GrafanaPanel[];
      expect(panels.length, file).toBeGreaterThan(0);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size, file).toBe(ids.length);
      for (const p of panels) {
        const where = `${file} panel ${p.id} ${p.title ?? ''}`;
        expect(PANEL_TYPES.has(p.type), `${where}: type ${p.type}`).toBe(true);
        const g = p.gridPos;
        if (!g) throw new Error(`${where}: no gridPos`);
        expect(g.w >= 1 && g.x >= 0 && g.x + g.w <= 24 && g.h >= 1 && g.y >= 0, where).toBe(true);
        for (const q of panels) {
          if (q === p || !q.gridPos) continue;
          const o = q.gridPos;
          const overlap = g.x < o.x + o.w && o.x < g.x + g.w && g.y < o.y + o.h && o.y < g.y + g.h;
          expect(overlap, `${where} overlaps panel ${q.id}`).toBe(false);
        }
      }
    }
  });

  it('queries the provisioned data source, with unique refIds and only defined variables', () => {
    for (const { file, json } of committed) {
      const defined = new Set((json.templating?.list ?? []).map((v) => v.name));
      const queries: { where: string; query: string }[] = [];
      for (const v of json.templating?.list ?? []) {
        expect(v.datasource?.uid, `${file} $${v.name}`).toBe(DATASOURCE_UID);
        queries.push({ where: `${file} $${v.name}`, query: typeof v.query === 'string' ? v.query : '' });
      }
      for (const a of json.annotations?.list ?? [])
        queries.push({
          where: `${file} annotation ${a.name}`,
          query: String((a.target as { query?: string })?.query),
        });
      for (const p of (json.panels ?? []) as GrafanaPanel[]) {
        const targets = (p.targets ?? []) as unknown as {
          refId?: string;
          datasource?: { uid?: string };
          query?: string;
        }[];
        expect(targets.length, `${file} panel ${p.id}`).toBeGreaterThan(0);
        const refIds = targets.map((t) => t.refId);
        expect(new Set(refIds).size, `${file} panel ${p.id} refIds`).toBe(refIds.length);
        for (const t of targets) {
          expect(t.datasource?.uid, `${file} panel ${p.id}`).toBe(DATASOURCE_UID);
          queries.push({
            where: `${file} panel ${p.id} ${t.refId}`,
            query: String((t as { query?: string }).query),
          });
        }
      }
      for (const { where, query } of queries) {
        expect(query, where).toMatch(/^(SELECT|SHOW) /);
        for (const m of query.matchAll(/\$(\w+)/g))
          expect(defined.has(m[1]!) || BUILTIN_VARS.has(m[1]!), `${where} uses $${m[1]}`).toBe(true);
      }
    }
  });

  it('shows a site state by text as well as by colour (maps and tables)', () => {
    const overview = committed.find((d) => d.file === 'overview.json')!.json;
    const map = (overview.panels as GrafanaPanel[]).find((p) => p.type === 'geomap')!;
    const layer = (map.options as { layers: { config: { style: { text: { field: string } } } }[] })
      .layers[0]!;
    expect(layer.config.style.text.field).toBe('state');
    const mappings = JSON.stringify(map.fieldConfig?.defaults?.mappings);
    for (const s of [
      'putus / down',
      'tak terjangkau / unreachable',
      'tidak stabil / flapping',
      'pemeliharaan / maintenance',
    ])
      expect(mappings).toContain(s);
  });
});

describe('site states', () => {
  it('every state the monitor writes to site_state has its code, name and colour on the dashboards', () => {
    expect(Object.fromEntries(SITE_STATES.map((s) => [s.state, s.code]))).toEqual(SITE_STATE_CODE);
  });
});

describe('provisioning files', () => {
  it('the data source: InfluxQL on the uid the panels use, every setting from the environment', () => {
    const doc = parse(readFileSync('dashboards/provisioning/datasources/netmon-influxdb.yaml', 'utf8')) as {
      apiVersion: number;
      datasources: Record<string, unknown>[];
    };
    expect(doc.apiVersion).toBe(1);
    expect(doc.datasources).toHaveLength(1);
    const ds = doc.datasources[0] as {
      name: string;
      uid: string;
      type: string;
      access: string;
      url: string;
      user: string;
      jsonData: { version: string; dbName: string; httpMode: string };
      secureJsonData: { password: string };
    };
    expect(ds).toMatchObject({ uid: DATASOURCE_UID, type: 'influxdb', access: 'proxy' });
    expect(ds.name).toBeTruthy();
    expect(ds.jsonData.version).toBe('InfluxQL');
    expect(ds.jsonData.httpMode).toMatch(/^(GET|POST)$/);
    // No credential or address in the file: Grafana expands ${VAR} from its environment.
    for (const v of [ds.url, ds.user, ds.jsonData.dbName, ds.secureJsonData.password])
      expect(v).toMatch(/^\$\{NETMON_[A-Z_]+\}$/);
  });

  it('the dashboard provider: files from one folder, not editable in the UI', () => {
    const doc = parse(readFileSync('dashboards/provisioning/dashboards/netmon.yaml', 'utf8')) as {
      apiVersion: number;
      providers: {
        name: string;
        type: string;
        folder: string;
        allowUiUpdates: boolean;
        options: { path: string };
      }[];
    };
    expect(doc.apiVersion).toBe(1);
    expect(doc.providers).toHaveLength(1);
    expect(doc.providers[0]).toMatchObject({ type: 'file', allowUiUpdates: false });
    expect(doc.providers[0]?.options.path).toBe('${NETMON_DASHBOARDS_DIR}');
  });
});

describe('Grafana query expansion (test support)', () => {
  const ctx = { fromMs: 1_000_000, toMs: 1_000_000 + 6 * 3600_000, minInterval: '30s', variables: {} };
  it('time filter, interval rounded to Grafana steps, floor at the data source minimum', () => {
    expect(intervalFor({ ...ctx, minInterval: undefined })).toBe('20s'); // 21.6 s → 20 s
    expect(intervalFor(ctx)).toBe('30s');
    expect(expandQuery('SELECT 1 WHERE $timeFilter GROUP BY time($__interval)', ctx)).toBe(
      `SELECT 1 WHERE time >= 1000000ms and time <= ${ctx.toMs}ms GROUP BY time(30s)`,
    );
  });
  it('variables: one value as is, several as an escaped group, All as its allValue', () => {
    const q = '"k" =~ /^$k$/ AND "s" =~ /^${s:regex}$/ AND "c" =~ /^[[c]]$/';
    expect(
      expandQuery(q, {
        ...ctx,
        variables: {
          k: { values: ['Kuta'] },
          s: { values: ['a.b', 'c'], multi: true },
          c: { values: 'all', allValue: '.*' },
        },
      }),
    ).toBe('"k" =~ /^Kuta$/ AND "s" =~ /^(a\\.b|c)$/ AND "c" =~ /^.*$/');
    expect(() => expandQuery('$nope', { ...ctx, variables: {} })).toThrow(/does not define/);
  });
  it('now/M is the start of the month in WITA', () => {
    expect(resolveTime('now/M', Date.parse('2026-11-01T03:00:00+08:00'))).toBe(
      Date.parse('2026-11-01T00:00:00+08:00'),
    );
    expect(resolveTime('now/M', Date.parse('2026-10-31T20:00:00Z'))).toBe(
      Date.parse('2026-11-01T00:00:00+08:00'),
    );
    expect(resolveTime('now-6h', 7 * 3600_000)).toBe(3600_000);
  });
});
