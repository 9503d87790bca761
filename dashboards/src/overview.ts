/**
 * Badung overview: the 987 sites on a map coloured and labelled by state, counts by state per category and
 * per kecamatan, the sites with an open problem, filtered by kecamatan and category.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as geomap from '@grafana/grafana-foundation-sdk/geomap';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { filters, INFLUX, InfluxQL, SITE_STATES, stateMappings, tagVariable } from './influxql.ts';
import { WITA_TIME_ZONE } from '../../collector/core/time-zone.ts';

const F = filters('kecamatan', 'category');
/** The last state of each site in the range (one row per site). */
const lastPerSite = (groupBy: string) =>
  `SELECT last("state_code") AS "state_code" FROM "site_state" WHERE $timeFilter AND ${F} GROUP BY ${groupBy}`;

/** One query per state: how many sites are in it, grouped by `by` (or in all). */
function countsByState(by?: string): InfluxQL[] {
  const inner = lastPerSite(by ? `"site", "${by}"` : '"site"');
  const shown = SITE_STATES.filter(
    (s) => s.state !== 'suspect' && s.state !== 'unknown' && s.state !== 'not_monitored',
  );
  return shown.map((s, i) => {
    const q = new InfluxQL(
      `SELECT count("state_code") AS "${s.en}" FROM (${inner}) WHERE "state_code" = ${s.code}${by ? ` GROUP BY "${by}"` : ''}`,
      String.fromCharCode(65 + i),
    ).alias(`${s.id} / ${s.en}`);
    return by ? q.table() : q;
  });
}

export const OVERVIEW_UID = 'badung-netmon-overview';

export function overviewDashboard(): dashboard.DashboardBuilder {
  const byState = new stat.PanelBuilder()
    .title('Situs menurut status / Sites by state')
    .description('Sites whose last state in the range is down, unreachable, flapping, maintenance or up.')
    .datasource(INFLUX)
    .height(5)
    .span(24)
    .noValue('0')
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .overrides(
      SITE_STATES.filter(
        (s) => s.state !== 'suspect' && s.state !== 'unknown' && s.state !== 'not_monitored',
      ).map((s) => ({
        matcher: {
          id: 'byFrameRefID',
          options: String.fromCharCode(
            65 + ['down', 'unreachable', 'flapping', 'maintenance', 'up'].indexOf(s.state),
          ),
        },
        properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: s.color } }],
      })),
    );
  for (const q of countsByState()) byState.withTarget(q);

  const map = new geomap.PanelBuilder()
    .title('Peta situs / Site map')
    .description(
      'Every site at its coordinates, coloured by state and labelled with it (so the state reads without colour).',
    )
    .datasource(INFLUX)
    .height(14)
    .span(14)
    .withTarget(
      new InfluxQL(
        `SELECT last("state_code") AS "state_code", last("state") AS "state", last("lat") AS "lat", last("lon") AS "lon" FROM "site_state" WHERE $timeFilter AND ${F} GROUP BY "site", "site_name", "category", "kecamatan", "desa"`,
      ).table(),
    )
    .mappings(stateMappings())
    .view(new geomap.MapViewConfigBuilder().id('coords').lat(-8.55).lon(115.18).zoom(10))
    .basemap(new common.MapLayerOptionsBuilder().type('default').name('Basemap'))
    .layers([
      new common.MapLayerOptionsBuilder()
        .type('markers')
        .name('Sites')
        .location(
          new common.FrameGeometrySourceBuilder()
            .mode(common.FrameGeometrySourceMode.Coords)
            .latitude('lat')
            .longitude('lon'),
        )
        .tooltip(true)
        .config({
          showLegend: true,
          style: {
            size: { fixed: 6 },
            color: { field: 'state_code' },
            symbol: { mode: 'fixed', fixed: 'img/icons/marker/circle.svg' },
            text: { mode: 'field', field: 'state' },
            textConfig: { fontSize: 9, offsetY: -10, textAlign: 'center', textBaseline: 'bottom' },
          },
        }),
    ]);

  const tableOf = (title: string, by: string) => {
    const t = new table.PanelBuilder()
      .title(title)
      .datasource(INFLUX)
      .height(9)
      .span(12)
      .noValue('0')
      .withTransformation({ id: 'merge', options: {} });
    for (const q of countsByState(by)) t.withTarget(q);
    return t;
  };

  const problems = new table.PanelBuilder()
    .title('Situs bermasalah / Sites with an open problem')
    .description('Sites whose last state is down, unreachable or flapping, worst first.')
    .datasource(INFLUX)
    .height(14)
    .span(10)
    .mappings(stateMappings())
    .withTarget(
      new InfluxQL(
        `SELECT "state_code", "devices_down" FROM (SELECT last("state_code") AS "state_code", last("devices_down") AS "devices_down" FROM "site_state" WHERE $timeFilter AND ${F} GROUP BY "site_name", "category", "kecamatan", "desa") WHERE "state_code" <= 0 OR "state_code" = 5 GROUP BY "site_name", "category", "kecamatan", "desa"`,
      ).table(),
    )
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({ id: 'sortBy', options: { sort: [{ field: 'state_code' }] } });

  return new dashboard.DashboardBuilder('Badung: ikhtisar jaringan / network overview')
    .uid(OVERVIEW_UID)
    .tags(['badung-netmon', 'overview'])
    .time({ from: 'now-15m', to: 'now' })
    .refresh('1m')
    .timezone(WITA_TIME_ZONE)
    .withVariable(tagVariable('kecamatan', 'Kecamatan', 'site_state'))
    .withVariable(tagVariable('category', 'Kategori / category', 'site_state'))
    .annotation(incidentAnnotations(F))
    .withPanel(byState)
    .withPanel(map)
    .withPanel(problems)
    .withPanel(tableOf('Per kategori / by category', 'category'))
    .withPanel(tableOf('Per kecamatan / by kecamatan', 'kecamatan'));
}

/** Incident events (opened, flapping, clock breached, resolved) as annotations. */
export function incidentAnnotations(where: string): dashboard.AnnotationQueryBuilder {
  return new dashboard.AnnotationQueryBuilder()
    .name('Insiden / incidents')
    .datasource(INFLUX)
    .enable(true)
    .iconColor('red')
    .target(
      new InfluxQL(`SELECT "text", "event" FROM "incident" WHERE $timeFilter AND ${where}`, 'Anno')
        .table()
        .columns({ textColumn: 'text', tagsColumn: 'event' }),
    );
}
