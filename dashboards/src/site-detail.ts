/**
 * Site detail, chosen by kecamatan → desa → site → device: traffic in and out (bit/s), errors, Wi-Fi
 * clients per AP and SSID, device uptime, poll latency, with the site's incidents as annotations.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { filters, INFLUX, InfluxQL, tagVariable } from './influxql.ts';
import { incidentAnnotations } from './overview.ts';
import { WITA_TIME_ZONE } from '../../collector/core/time-zone.ts';

export const SITE_DETAIL_UID = 'badung-netmon-site';
const F = filters('site', 'device');

const series = (title: string, unit: string, ...queries: InfluxQL[]) => {
  const p = new timeseries.PanelBuilder()
    .title(title)
    .datasource(INFLUX)
    .unit(unit)
    .height(8)
    .span(12)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['mean', 'max']),
    );
  for (const q of queries) p.withTarget(q);
  return p;
};

export function siteDetailDashboard(): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder('Badung: detail situs / site detail')
    .uid(SITE_DETAIL_UID)
    .tags(['badung-netmon', 'site'])
    .time({ from: 'now-6h', to: 'now' })
    .refresh('1m')
    .timezone(WITA_TIME_ZONE)
    .withVariable(tagVariable('kecamatan', 'Kecamatan', 'site_state', { multi: false, includeAll: false }))
    .withVariable(
      tagVariable('desa', 'Desa / kelurahan', 'site_state', {
        where: filters('kecamatan'),
        multi: false,
        includeAll: false,
      }),
    )
    .withVariable(
      tagVariable('site', 'Situs / site', 'site_state', {
        where: filters('desa'),
        multi: false,
        includeAll: false,
      }),
    )
    .withVariable(tagVariable('device', 'Perangkat / device', 'device', { where: filters('site') }))
    .annotation(incidentAnnotations(filters('site')))
    .withPanel(
      series(
        'Lalu lintas / traffic (bit/s)',
        'bps',
        new InfluxQL(
          `SELECT mean("in_bps") AS "in" FROM "interface" WHERE $timeFilter AND ${F} GROUP BY time($__interval), "device", "ifName" fill(null)`,
          'A',
        ).alias('$tag_device $tag_ifName in'),
        new InfluxQL(
          `SELECT mean("out_bps") * -1 AS "out" FROM "interface" WHERE $timeFilter AND ${F} GROUP BY time($__interval), "device", "ifName" fill(null)`,
          'B',
        ).alias('$tag_device $tag_ifName out'),
      ),
    )
    .withPanel(
      series(
        'Galat / errors (per s)',
        'short',
        new InfluxQL(
          `SELECT mean("in_errors_ps") AS "in errors", mean("out_errors_ps") AS "out errors", mean("in_discards_ps") AS "in discards" FROM "interface" WHERE $timeFilter AND ${F} GROUP BY time($__interval), "device" fill(null)`,
        ).alias('$tag_device $col'),
      ),
    )
    .withPanel(
      series(
        'Klien Wi-Fi per AP dan SSID / Wi-Fi clients per AP and SSID',
        'none',
        new InfluxQL(
          `SELECT mean("clients") FROM "wifi" WHERE $timeFilter AND ${F} GROUP BY time($__interval), "device", "ssid" fill(null)`,
        ).alias('$tag_device $tag_ssid'),
      ),
    )
    .withPanel(
      series(
        'Latensi polling / poll latency',
        'ms',
        new InfluxQL(
          `SELECT mean("poll_ms") FROM "device" WHERE $timeFilter AND ${F} GROUP BY time($__interval), "device" fill(null)`,
        ).alias('$tag_device'),
      ),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Waktu hidup perangkat / device uptime')
        .datasource(INFLUX)
        .unit('s')
        .height(6)
        .span(24)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
        .graphMode(common.BigValueGraphMode.Area)
        .withTarget(
          new InfluxQL(
            `SELECT last("uptime_s") FROM "device" WHERE $timeFilter AND ${F} GROUP BY time($__interval), "device" fill(none)`,
          ).alias('$tag_device'),
        ),
    );
}
