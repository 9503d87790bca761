/**
 * The InfluxDB schema: the one place that says which measurements exist, their tags, their fields, the
 * field types and units. Sinks use it to type fields (integer vs float), the README documents it from
 * here, and a test checks every Sample the collector produces against it.
 */
import type { Device, Site } from '../core/types.ts';

export type FieldType = 'float' | 'integer' | 'string' | 'boolean';

export interface FieldSpec {
  readonly type: FieldType;
  readonly unit: string;
  readonly description: string;
}

export interface MeasurementSpec {
  readonly description: string;
  readonly tags: readonly string[];
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

/** Tags every per-site measurement carries: which site and where it is. */
export const SITE_TAGS = ['site', 'site_name', 'category', 'kecamatan', 'desa'] as const;

/** Tags every per-device measurement carries: where the device is and what it is. */
export const DEVICE_TAGS = [...SITE_TAGS, 'device', 'role', 'profile'] as const;

const f = (type: FieldType, unit: string, description: string): FieldSpec => ({ type, unit, description });

export const SCHEMA = {
  interface: {
    description:
      'Per-interface traffic from IF-MIB, as rates computed from counter deltas between two polls.',
    tags: [...DEVICE_TAGS, 'ifIndex', 'ifName'],
    fields: {
      in_bps: f('float', 'bit/s', 'Received traffic (ifHCInOctets, or ifInOctets on 32-bit agents) x 8 / s'),
      out_bps: f('float', 'bit/s', 'Sent traffic (ifHCOutOctets or ifOutOctets) x 8 / s'),
      in_pps: f('float', 'packet/s', 'Received unicast packets per second'),
      out_pps: f('float', 'packet/s', 'Sent unicast packets per second'),
      in_errors_ps: f('float', 'error/s', 'ifInErrors per second'),
      out_errors_ps: f('float', 'error/s', 'ifOutErrors per second'),
      in_discards_ps: f('float', 'packet/s', 'ifInDiscards per second'),
      out_discards_ps: f('float', 'packet/s', 'ifOutDiscards per second'),
      oper_status: f('integer', 'enum', 'ifOperStatus: 1 up, 2 down, 3 testing, 5 dormant, 7 lowerLayerDown'),
      speed_bps: f('integer', 'bit/s', 'ifHighSpeed x 1e6, or ifSpeed'),
    },
  },
  wifi: {
    description: 'Wi-Fi clients per radio, VAP or WLAN, from the vendor MIB named by the device profile.',
    tags: [...DEVICE_TAGS, 'index', 'ssid', 'radio'],
    fields: {
      clients: f('integer', 'clients', 'Associated stations'),
    },
  },
  device: {
    description: 'One point per poll attempt of a device: reachability, poll latency and agent uptime.',
    tags: [...DEVICE_TAGS],
    fields: {
      reachable: f('integer', '0/1', '1 when the poll got an answer, 0 when it failed'),
      poll_ms: f('float', 'ms', 'Wall time of the whole poll (all requests)'),
      uptime_s: f('float', 's', 'sysUpTime / 100 (successful polls only)'),
      rebooted: f('integer', '0/1', '1 when sysUpTime went backwards since the previous poll'),
      failure: f(
        'string',
        'reason',
        'timeout | refused | auth | decode | agent_error | internal (failed polls)',
      ),
    },
  },
  device_state: {
    description: 'One point per device state transition (up, suspect, down, unreachable).',
    tags: [...DEVICE_TAGS, 'state'],
    fields: {
      state: f('string', 'state', 'The new state'),
      previous: f('string', 'state', 'The state before'),
      state_code: f('integer', 'enum', '1 up, 0 down, -1 unreachable, 2 suspect, 3 unknown'),
      cause: f('string', 'text', 'Last failure, or the parent device that made this one unreachable'),
    },
  },
  ping: {
    description:
      'One point per device per ping round (fping, collector/sources/ping): round-trip time and loss.',
    tags: [...DEVICE_TAGS],
    fields: {
      rtt_ms: f('float', 'ms', 'Mean round-trip time of the echoes answered (absent when none was)'),
      rtt_min_ms: f('float', 'ms', 'Fastest echo of the round'),
      rtt_max_ms: f('float', 'ms', 'Slowest echo of the round'),
      loss_pct: f('float', '%', 'Echo requests without a reply, percent of those sent'),
      sent: f('integer', 'packets', 'Echo requests sent this round'),
      received: f('integer', 'packets', 'Echo replies received this round'),
    },
  },
  trap: {
    description:
      'One point per SNMP trap accepted from a known device (collector/sources/traps); it triggers a poll.',
    tags: [...DEVICE_TAGS, 'trap'],
    fields: {
      source: f('string', 'address', 'The address the trap came from'),
      version: f('string', 'version', 'SNMP version of the trap: 1, 2c or 3'),
      if_index: f('integer', 'ifIndex', 'The interface of a linkDown or linkUp (IF-MIB ifIndex varbind)'),
    },
  },
  device_warning: {
    description:
      'A warning that is not an outage, raised (active 1) or cleared (active 0): snmp_not_answering when ping answers and SNMP does not.',
    tags: [...DEVICE_TAGS, 'kind'],
    fields: {
      active: f('integer', '0/1', '1 when raised, 0 when cleared'),
      cause: f('string', 'text', "The agent's last failure (raised only)"),
    },
  },
  telemetry: {
    description: 'What a device publishes over MQTT (netmon/v1/<site>/<device>/telemetry), field by field.',
    tags: [...DEVICE_TAGS],
    fields: {
      uptime_s: f('float', 's', 'Device uptime'),
      cpu_pct: f('float', '%', 'CPU load'),
      mem_pct: f('float', '%', 'Memory in use'),
      load1: f('float', 'load', '1-minute load average'),
      clients: f('integer', 'clients', 'Associated Wi-Fi stations'),
      rx_bps: f('float', 'bit/s', 'Received on the uplink'),
      tx_bps: f('float', 'bit/s', 'Sent on the uplink'),
      temperature_c: f('float', '°C', 'Board or sensor temperature'),
      rssi_dbm: f('float', 'dBm', 'Uplink signal strength'),
      power_v: f('float', 'V', 'Supply voltage'),
    },
  },
  maintenance: {
    description:
      'One point per site when a maintenance window or silence starts (active 1) or ends (active 0) covering it.',
    tags: [...SITE_TAGS],
    fields: {
      active: f('integer', 'bool', '1 from here the site is under maintenance, 0 it no longer is'),
      reason: f('string', 'text', 'The window its name, or the silence its comment'),
    },
  },
  site_state: {
    description:
      'Every site, every minute: the state it shows (the map colours it, availability averages `up`).',
    tags: [...SITE_TAGS],
    fields: {
      state: f(
        'string',
        'state',
        'up, down, unreachable, suspect, unknown, maintenance, flapping, recovering',
      ),
      state_code: f(
        'integer',
        'enum',
        '1 up, 0 down, -1 unreachable, 2 suspect, 3 unknown, 4 maintenance, 5 flapping, 6 recovering',
      ),
      up: f('integer', '0/1', '1 when the site reaches the internet (its router answers)'),
      in_maintenance: f('integer', '0/1', '1 inside a maintenance window or silence'),
      devices_down: f('integer', 'devices', 'Devices of the site down or unreachable'),
      lat: f('float', '°', 'Latitude (WGS 84)'),
      lon: f('float', '°', 'Longitude (WGS 84)'),
    },
  },
  incident: {
    description: 'One point per incident event: opened, flapping, clock_breached, resolved (tag `event`).',
    tags: [...SITE_TAGS, 'device', 'severity', 'kind', 'event'],
    fields: {
      id: f('string', 'id', 'The incident (as in the API and the notifications)'),
      text: f('string', 'text', 'A one-line summary (annotations)'),
      duration_s: f('float', 's', 'How long it lasted (resolved only)'),
    },
  },
  monitor: {
    description:
      "The monitor's own health every 10 s (or every poll interval when shorter), and at start and stop: its heartbeat. Component collector (polls, failures by reason, writer, overload; a worker's heap), component process (one process: its RSS and the main thread's heap), component mqtt (broker clients, messages), component ping (fping runs), component traps (traps received and dropped), component cluster (a cluster member: members, devices owned, results on the bus), component alerting (a cluster's alerting leader: results taken, duplicate, stale). Tag node: the cluster member that wrote it, or in one process the collection worker thread (collection-worker-K, with snmp.workers above 1); absent in one process polling on its main thread.",
    tags: ['component', 'node'],
    fields: {
      period_s: f('float', 's', 'Time since the previous point (0 for the heartbeat at start)'),
      polls: f('integer', 'count', 'Device polls since the previous point'),
      poll_failures: f('integer', 'count', 'Failed device polls since the previous point'),
      written: f('integer', 'samples', 'Samples written to the database since the previous point'),
      buffered: f('integer', 'samples', 'Samples waiting in memory and on disk'),
      dropped: f('integer', 'samples', 'Samples dropped past the buffer bound, total since start'),
      invalid: f('integer', 'samples', 'Samples rejected as invalid, total since start'),
      failures_timeout: f('integer', 'count', 'Failed polls since the previous point: no answer in time'),
      failures_refused: f('integer', 'count', 'ICMP port unreachable (no agent)'),
      failures_auth: f('integer', 'count', 'Wrong community or SNMPv3 credentials'),
      failures_decode: f('integer', 'count', 'An answer that could not be read'),
      failures_agent_error: f('integer', 'count', 'The agent answered with an error status'),
      failures_internal: f('integer', 'count', "The collector's own fault"),
      overloaded: f(
        'boolean',
        '',
        'Past capacity: turns have waited for a poll slot without a break (scheduler)',
      ),
      polls_due_per_s: f('float', 'polls/s', 'Polls the interval asks for: devices / interval'),
      polls_done_per_s: f('float', 'polls/s', 'Polls completed per second over the last 9 s'),
      polls_sustainable_per_s: f(
        'float',
        'polls/s',
        'Polls per second the collector sustains: measured while overloaded, else the in-flight cap bound',
      ),
      oldest_wait_ms: f('integer', 'ms', 'How long the oldest turn waiting for a poll slot has waited'),
      held_event_loop_s: f(
        'float',
        's',
        'Time since the previous point that polls were held because the event loop was full (back-pressure)',
      ),
      held_writer_s: f(
        'float',
        's',
        "Time since the previous point that polls were held because the writer's memory was full",
      ),
      rss_mb: f('float', 'MB', "The process's resident memory (component process)"),
      heap_used_mb: f(
        'float',
        'MB',
        "V8 heap in use: the main thread's (component process), a worker's (component collector)",
      ),
      heap_total_mb: f('float', 'MB', 'V8 heap reserved by the same thread'),
      mqtt_clients: f('integer', 'clients', 'MQTT clients connected to the embedded broker (component mqtt)'),
      mqtt_received: f(
        'integer',
        'messages',
        'MQTT messages received since the previous point (component mqtt)',
      ),
      mqtt_invalid: f('integer', 'messages', 'Malformed MQTT messages dropped since the previous point'),
      mqtt_rate_limited: f(
        'integer',
        'messages',
        "MQTT messages dropped since the previous point: over their device's rate limit",
      ),
      ping_rounds: f('integer', 'count', 'fping processes run since the previous point (component ping)'),
      ping_targets: f('integer', 'count', 'Addresses pinged since the previous point (component ping)'),
      ping_bad_output: f(
        'integer',
        'lines',
        'fping output lines that could not be read, or targets without a result (component ping)',
      ),
      ping_errors: f('integer', 'count', 'fping runs that failed outright since the previous point'),
      traps_received: f('integer', 'traps', 'SNMP traps received since the previous point (component traps)'),
      traps_accepted: f('integer', 'traps', 'Traps from known devices with the right credentials'),
      traps_dropped_unknown_source: f(
        'integer',
        'traps',
        'Traps dropped: from an address not in the inventory',
      ),
      traps_dropped_auth: f('integer', 'traps', 'Traps dropped: wrong v2c community or unknown SNMPv3 user'),
      members: f('integer', 'members', 'Live cluster members this member sees (component cluster)'),
      owned_devices: f('integer', 'devices', 'Devices this collector owns and polls (component cluster)'),
      results_acked: f(
        'integer',
        'results',
        'Probe results JetStream acked, total since start (component cluster)',
      ),
      results_queued: f('integer', 'results', 'Probe results waiting for NATS (component cluster)'),
      results_dropped: f(
        'integer',
        'results',
        'Probe results dropped past the queue bound, total since start (component cluster)',
      ),
      heartbeat_failures: f(
        'integer',
        'count',
        'Membership heartbeats that failed, total since start (component cluster)',
      ),
      results_taken: f(
        'integer',
        'results',
        'Probe results the alerting leader applied since the previous point (component alerting)',
      ),
      results_duplicate: f(
        'integer',
        'results',
        'Probe results seen before (delivery is at least once), dropped since the previous point',
      ),
      results_stale: f(
        'integer',
        'results',
        'Probe results older than two poll intervals since the previous point: history only, no page',
      ),
      mqtt_takeovers_refused: f(
        'integer',
        'logins',
        "MQTT logins refused since the previous point: another account's client id (embedded broker)",
      ),
    },
  },
} as const satisfies Record<string, MeasurementSpec>;

export type MeasurementName = keyof typeof SCHEMA;

/** The DEVICE_TAGS values for a device at a site. */
/** The one builder of a site's tags (site_state, maintenance, incident and every per-device point). */
export function siteTags(site: Site): Record<(typeof SITE_TAGS)[number], string> {
  return {
    site: site.id,
    site_name: site.name,
    category: site.category,
    kecamatan: site.kecamatan,
    desa: site.desa,
  };
}

export function deviceTags(site: Site, device: Device): Record<(typeof DEVICE_TAGS)[number], string> {
  return {
    ...siteTags(site),
    device: device.id,
    role: device.role,
    profile: device.profile,
  };
}

/** The declared type of a field, or undefined when the schema does not know it. */
export function fieldType(measurement: string, field: string): FieldType | undefined {
  const spec = (SCHEMA as Record<string, MeasurementSpec>)[measurement];
  return spec?.fields[field]?.type;
}
