/**
 * What the foundation SDK lacks for InfluxDB: an InfluxQL target (a raw query, as Grafana's InfluxDB data
 * source stores it), the data source reference the provisioning file defines, and the template variables
 * every dashboard shares. Typed against the SDK's own interfaces (cog.Builder<cog.Dataquery>,
 * dashboard.VariableModel), so what is built is what Grafana's schema describes.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as common from '@grafana/grafana-foundation-sdk/common';

/** The data source of dashboards/provisioning/datasources/netmon-influxdb.yaml. */
export const DATASOURCE_UID = 'netmon-influxdb';
export const INFLUX: common.DataSourceRef = { type: 'influxdb', uid: DATASOURCE_UID };

/** An InfluxQL target of Grafana's InfluxDB data source (InfluxQL mode, raw query). */
export interface InfluxQLQuery {
  refId?: string;
  hide?: boolean;
  datasource?: common.DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  alias?: string;
  /** Annotation queries: which columns hold the text and the tags. */
  textColumn?: string;
  tagsColumn?: string;
  _implementsDataqueryVariant(): void;
}

export class InfluxQL implements cog.Builder<cog.Dataquery> {
  readonly #q: InfluxQLQuery;

  constructor(query: string, refId = 'A') {
    this.#q = {
      refId,
      datasource: INFLUX,
      query,
      rawQuery: true,
      resultFormat: 'time_series',
      _implementsDataqueryVariant() {},
    };
  }

  /** Rows and columns instead of series (tables, the geomap). */
  table(): this {
    this.#q.resultFormat = 'table';
    return this;
  }

  /** Series name: `$tag_<name>` and `$col` patterns as Grafana's InfluxDB alias takes them. */
  alias(alias: string): this {
    this.#q.alias = alias;
    return this;
  }

  /** For an annotation query: the columns of its text and tags. */
  columns(c: { textColumn: string; tagsColumn?: string }): this {
    this.#q.textColumn = c.textColumn;
    if (c.tagsColumn) this.#q.tagsColumn = c.tagsColumn;
    return this;
  }

  build(): InfluxQLQuery {
    return this.#q;
  }
}

/** A tag-values variable: `SHOW TAG VALUES FROM <measurement> WITH KEY = "<key>" [WHERE ...]`. */
export function tagVariable(
  name: string,
  label: string,
  measurement: string,
  opts: { where?: string; multi?: boolean; includeAll?: boolean } = {},
): dashboard.QueryVariableBuilder {
  const where = opts.where ? ` WHERE ${opts.where}` : '';
  const query = `SHOW TAG VALUES FROM "${measurement}" WITH KEY = "${name}"${where}`;
  const v = new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(INFLUX)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnDashboardLoad)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(opts.multi ?? true)
    .includeAll(opts.includeAll ?? true);
  // "All" as a regex that matches every value: the queries filter with =~ /^$var$/.
  return opts.includeAll === false ? v : v.allValue('.*');
}

/** `tag =~ /^$var$/` for each variable: the filter of every panel of a dashboard with those variables. */
export function filters(...vars: readonly string[]): string {
  return vars.map((v) => `"${v}" =~ /^$${v}$/`).join(' AND ');
}

/** Site state codes (collector/health/site-state.ts) and how the dashboards show them: colour and text. */
export const SITE_STATES = [
  { code: 1, state: 'up', color: 'green', id: 'normal', en: 'up' },
  { code: 0, state: 'down', color: 'red', id: 'putus', en: 'down' },
  { code: -1, state: 'unreachable', color: 'orange', id: 'tak terjangkau', en: 'unreachable' },
  { code: 2, state: 'suspect', color: 'yellow', id: 'dicurigai', en: 'suspect' },
  { code: 3, state: 'unknown', color: 'text', id: 'belum diketahui', en: 'unknown' },
  { code: 4, state: 'maintenance', color: 'blue', id: 'pemeliharaan', en: 'maintenance' },
  { code: 5, state: 'flapping', color: 'purple', id: 'tidak stabil', en: 'flapping' },
  { code: 6, state: 'recovering', color: 'light-green', id: 'memulih', en: 'recovering' },
  // The monitor writes no site_state point while a site is not monitored (its edge lost): mapped for
  // completeness, counted by no panel.
  { code: 7, state: 'not_monitored', color: 'text', id: 'pemantauan terputus', en: 'monitoring lost' },
] as const;

/** Value mappings: a state code shows as its bilingual name in its colour. */
export function stateMappings(): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: Object.fromEntries(
        SITE_STATES.map((s, i) => [String(s.code), { text: `${s.id} / ${s.en}`, color: s.color, index: i }]),
      ),
    },
  ];
}
