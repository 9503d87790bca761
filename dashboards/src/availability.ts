/**
 * Availability this month per category and per kecamatan against target, the worst sites, and SLA clock
 * breaches. Month-long ranges read the hourly rollups (dashboards/RETENTION.md): `up` averaged per hour.
 * The printable reports (issue #6) compute availability exactly from state transitions; this is the live
 * view of the same figure.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { filters, INFLUX, InfluxQL, tagVariable } from './influxql.ts';
import { WITA_TIME_ZONE } from '../../collector/core/time-zone.ts';

export const AVAILABILITY_UID = 'badung-netmon-availability';
/** The regency's targets: 99.5% for critical sites, 99% for the rest (thresholds of the gauges). */
export const TARGET_PCT = { critical: 99.5, other: 99 } as const;
const F = filters('kecamatan', 'category');
const ROLLUP = '"rollup"."site_state_1h"';

const targets = () =>
  new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
    { value: null, color: 'red' },
    { value: TARGET_PCT.other, color: 'yellow' },
    { value: TARGET_PCT.critical, color: 'green' },
  ]);

const gauge = (title: string, by: string) =>
  new bargauge.PanelBuilder()
    .title(title)
    .description(
      `Share of hours the sites reached the internet (mean of site_state.up per hour), against ${TARGET_PCT.critical}% (critical sites) and ${TARGET_PCT.other}%.`,
    )
    .datasource(INFLUX)
    .unit('percent')
    .min(90)
    .max(100)
    .decimals(2)
    .height(10)
    .span(12)
    .thresholds(targets())
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .orientation(common.VizOrientation.Horizontal)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .withTarget(
      new InfluxQL(
        `SELECT mean("up") * 100 AS "availability" FROM ${ROLLUP} WHERE $timeFilter AND ${F} GROUP BY "${by}"`,
      ).alias(`$tag_${by}`),
    );

export function availabilityDashboard(): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder('Badung: ketersediaan / availability')
    .uid(AVAILABILITY_UID)
    .tags(['badung-netmon', 'availability', 'sla'])
    .time({ from: 'now/M', to: 'now' })
    .refresh('1h')
    .timezone(WITA_TIME_ZONE)
    .withVariable(tagVariable('kecamatan', 'Kecamatan', 'site_state'))
    .withVariable(tagVariable('category', 'Kategori / category', 'site_state'))
    .withPanel(gauge('Ketersediaan per kategori / availability by category', 'category'))
    .withPanel(gauge('Ketersediaan per kecamatan / availability by kecamatan', 'kecamatan'))
    .withPanel(
      new table.PanelBuilder()
        .title('Situs terburuk / worst sites')
        .datasource(INFLUX)
        .unit('percent')
        .decimals(2)
        .height(12)
        .span(14)
        .thresholds(targets())
        .withTarget(
          new InfluxQL(
            `SELECT mean("up") * 100 AS "availability", sum("in_maintenance") AS "maintenance_h" FROM ${ROLLUP} WHERE $timeFilter AND ${F} GROUP BY "site_name", "category", "kecamatan"`,
          ).table(),
        )
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation({
          id: 'sortBy',
          options: { sort: [{ field: 'availability', desc: false }] },
        })
        .withTransformation({ id: 'limit', options: { limitField: 20 } }),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Pelanggaran batas waktu SLA / SLA clock breaches')
        .description(
          'Incidents not acknowledged within their clock (2 h critical, 24 h others), per category and kecamatan.',
        )
        .datasource(INFLUX)
        .height(12)
        .span(10)
        .noValue('0')
        .withTarget(
          new InfluxQL(
            `SELECT sum("events") AS "breaches" FROM "rollup"."incident_1h" WHERE $timeFilter AND "event" = 'clock_breached' AND ${F} GROUP BY "category", "kecamatan"`,
          ).table(),
        )
        .withTransformation({ id: 'merge', options: {} }),
    );
}
