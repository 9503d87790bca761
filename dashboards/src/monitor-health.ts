/**
 * Monitor health: polls per second, poll duration, failures by reason, the write buffer and what was
 * dropped, MQTT clients and message rates. From the `monitor` points (every 10 s) and `device` polls.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { INFLUX, InfluxQL } from './influxql.ts';
import { WITA_TIME_ZONE } from '../../collector/core/time-zone.ts';

export const MONITOR_HEALTH_UID = 'badung-netmon-health';
const REASONS = ['timeout', 'refused', 'auth', 'decode', 'agent_error', 'internal'] as const;

const series = (title: string, unit: string, query: InfluxQL, span = 12) =>
  new timeseries.PanelBuilder()
    .title(title)
    .datasource(INFLUX)
    .unit(unit)
    .height(8)
    .span(span)
    .withTarget(query);

export function monitorHealthDashboard(): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder('Badung: kesehatan monitor / monitor health')
    .uid(MONITOR_HEALTH_UID)
    .tags(['badung-netmon', 'self'])
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .timezone(WITA_TIME_ZONE)
    .withPanel(
      series(
        'Polling per detik / polls per second',
        'reqps',
        new InfluxQL(
          `SELECT sum("polls") / sum("period_s") AS "polls/s", sum("poll_failures") / sum("period_s") AS "failed/s" FROM "monitor" WHERE $timeFilter AND "component" = 'collector' GROUP BY time($__interval) fill(null)`,
        ).alias('$col'),
      ),
    )
    .withPanel(
      series(
        'Durasi polling / poll duration',
        'ms',
        new InfluxQL(
          `SELECT mean("poll_ms") AS "mean", percentile("poll_ms", 95) AS "p95", max("poll_ms") AS "max" FROM "device" WHERE $timeFilter GROUP BY time($__interval) fill(null)`,
        ).alias('$col'),
      ),
    )
    .withPanel(
      series(
        'Kegagalan menurut sebab / failures by reason',
        'short',
        new InfluxQL(
          `SELECT ${REASONS.map((r) => `sum("failures_${r}") AS "${r}"`).join(', ')} FROM "monitor" WHERE $timeFilter AND "component" = 'collector' GROUP BY time($__interval) fill(0)`,
        ).alias('$col'),
      ).stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)),
    )
    .withPanel(
      series(
        'Antrean tulis / write buffer (samples waiting)',
        'short',
        new InfluxQL(
          `SELECT max("buffered") AS "buffered" FROM "monitor" WHERE $timeFilter AND "component" = 'collector' GROUP BY time($__interval) fill(null)`,
        ).alias('$col'),
      ),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Sampel dibuang / samples dropped')
        .description(
          'Dropped past the on-disk buffer bound, and rejected as invalid: totals since the monitor started.',
        )
        .datasource(INFLUX)
        .height(6)
        .span(8)
        .colorMode(common.BigValueColorMode.Value)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
        .thresholds(
          new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
            { value: null, color: 'green' },
            { value: 1, color: 'red' },
          ]),
        )
        .withTarget(
          new InfluxQL(
            `SELECT last("dropped") AS "dropped", last("invalid") AS "invalid" FROM "monitor" WHERE $timeFilter AND "component" = 'collector'`,
          ).alias('$col'),
        ),
    )
    .withPanel(
      series(
        'Klien MQTT / MQTT clients',
        'none',
        new InfluxQL(
          `SELECT last("mqtt_clients") AS "clients" FROM "monitor" WHERE $timeFilter AND "component" = 'mqtt' GROUP BY time($__interval) fill(null)`,
        ).alias('$col'),
        8,
      ),
    )
    .withPanel(
      series(
        'Pesan MQTT per detik / MQTT messages per second',
        'short',
        new InfluxQL(
          `SELECT sum("mqtt_received") / sum("period_s") AS "received/s", sum("mqtt_invalid") / sum("period_s") AS "invalid/s" FROM "monitor" WHERE $timeFilter AND "component" = 'mqtt' GROUP BY time($__interval) fill(null)`,
        ).alias('$col'),
        8,
      ),
    );
}
