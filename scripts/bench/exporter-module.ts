/**
 * An snmp_exporter module that reads exactly what one of our SNMP profiles reads, so the benchmark
 * compares the two pollers on the same OIDs. Pure: profile in, module object out.
 *
 * Format: the generator's output format of snmp_exporter 0.21 (Debian's prometheus-snmp-exporter), with
 * numeric OIDs because Debian ships no MIB files. In 0.21 the community belongs to the module
 * (`auth: {community}`), not to the request, and modules sit at the top level of snmp.yml.
 */
import type { InterfaceField, Profile } from '../../config/profiles.ts';
import { columnsOf } from '../../collector/sources/snmp/poller.ts';

export interface ExporterMetric {
  readonly name: string;
  readonly oid: string;
  readonly type: 'counter' | 'gauge' | 'DisplayString';
  readonly help: string;
  readonly indexes?: readonly { readonly labelname: string; readonly type: 'gauge' }[];
}

export interface ExporterModule {
  readonly walk: readonly string[];
  readonly get: readonly string[];
  readonly metrics: readonly ExporterMetric[];
  readonly version: 2;
  readonly max_repetitions: number;
  readonly retries: number;
  readonly timeout: string;
  readonly auth: { readonly community: string };
}

export interface ExporterModuleOptions {
  readonly community: string;
  readonly maxRepetitions: number;
  readonly timeoutMs: number;
  readonly retries: number;
}

/** The metric name of a profile field, e.g. hcInOctets → if_hcInOctets. */
export const metricNameOf = (field: string): string => `if_${field}`;
export const SYS_UPTIME_METRIC = 'sysUpTime';

/** RFC 2863 column types: text (DisplayString), Counter32/Counter64, or Integer/Gauge32 as gauge. */
export function exporterTypeOf(field: InterfaceField): ExporterMetric['type'] {
  if (field === 'descr' || field === 'name' || field === 'alias') return 'DisplayString';
  return /Octets|Pkts|Errors|Discards/.test(field) ? 'counter' : 'gauge';
}

/**
 * The module: sysUpTime.0 by GET, every interface column the profile names walked, indexed by ifIndex.
 * Wi-Fi columns are vendor tables with other indexes; the generic profile has none, and a profile that
 * does is refused here rather than compared on different OIDs.
 */
export function exporterModule(profile: Profile, opts: ExporterModuleOptions): ExporterModule {
  if (profile.wifi) {
    throw new Error(
      `profile "${profile.name}" has Wi-Fi columns: the exporter module covers interface tables only (use generic)`,
    );
  }
  const metrics: ExporterMetric[] = [];
  const get: string[] = [];
  const upTime = profile.scalars.sysUpTime;
  if (upTime !== undefined) {
    if (!upTime.endsWith('.0'))
      throw new Error(`profile "${profile.name}": sysUpTime ${upTime} is not a .0 scalar`);
    get.push(upTime);
    // The generator writes a scalar as its object OID (without .0) and no indexes.
    metrics.push({
      name: SYS_UPTIME_METRIC,
      oid: upTime.slice(0, -2),
      type: 'gauge',
      help: 'SNMPv2-MIB sysUpTime (hundredths of a second)',
    });
  }
  for (const [field, oid] of Object.entries(profile.interfaces) as [InterfaceField, string][]) {
    metrics.push({
      name: metricNameOf(field),
      oid,
      type: exporterTypeOf(field),
      help: `IF-MIB ${field} (${oid})`,
      indexes: [{ labelname: 'ifIndex', type: 'gauge' }],
    });
  }
  return {
    walk: columnsOf(profile),
    get,
    metrics,
    version: 2,
    max_repetitions: opts.maxRepetitions,
    retries: opts.retries,
    timeout: `${opts.timeoutMs}ms`,
    auth: { community: opts.community },
  };
}
