/**
 * The snmp_exporter module the SNMP benchmark generates: the same OIDs as our profile, the generator's
 * format (scalar without .0, ifIndex-indexed columns), and a clear refusal of what it cannot compare.
 */
import { describe, expect, it } from 'vitest';
import { loadProfiles, type Profile } from '../../../config/profiles.ts';
import { columnsOf } from '../../../collector/sources/snmp/poller.ts';
import { exporterModule, exporterTypeOf } from '../../../scripts/bench/exporter-module.ts';

const OPTS = { community: 'bench', maxRepetitions: 25, timeoutMs: 2000, retries: 0 };

describe('exporterModule', () => {
  const generic = loadProfiles().get('generic');
  if (!generic) throw new Error('config/profiles/generic.yaml is missing');

  it('walks exactly the columns our poller walks and GETs sysUpTime.0', () => {
    const m = exporterModule(generic, OPTS);
    expect(m.walk).toEqual(columnsOf(generic));
    expect(m.get).toEqual(['1.3.6.1.2.1.1.3.0']);
    expect(m.auth).toEqual({ community: 'bench' });
    expect(m).toMatchObject({ version: 2, max_repetitions: 25, retries: 0, timeout: '2000ms' });
  });

  it('has one metric per profile column, indexed by ifIndex, plus the sysUpTime scalar', () => {
    const m = exporterModule(generic, OPTS);
    const columns = m.metrics.filter((x) => x.indexes);
    expect(columns.map((x) => x.oid).sort()).toEqual(Object.values(generic.interfaces).sort());
    for (const c of columns) expect(c.indexes).toEqual([{ labelname: 'ifIndex', type: 'gauge' }]);
    const scalar = m.metrics.find((x) => x.name === 'sysUpTime');
    expect(scalar).toEqual(expect.objectContaining({ oid: '1.3.6.1.2.1.1.3', type: 'gauge' }));
    expect(scalar?.indexes).toBeUndefined();
    expect(new Set(m.metrics.map((x) => x.name)).size).toBe(m.metrics.length);
  });

  it.each([
    ['descr', 'DisplayString'],
    ['alias', 'DisplayString'],
    ['hcInOctets', 'counter'],
    ['inUcastPkts', 'counter'],
    ['outErrors', 'counter'],
    ['inDiscards', 'counter'],
    ['operStatus', 'gauge'],
    ['speed', 'gauge'],
    ['highSpeed', 'gauge'],
    ['type', 'gauge'],
  ] as const)('types %s as %s', (field, type) => {
    expect(exporterTypeOf(field)).toBe(type);
  });

  it('refuses a profile with Wi-Fi columns, naming it', () => {
    const wifi = loadProfiles().get('unifi-ap');
    if (!wifi?.wifi) throw new Error('unifi-ap is expected to have Wi-Fi columns');
    expect(() => exporterModule(wifi, OPTS)).toThrow(/profile "unifi-ap" has Wi-Fi columns/);
  });

  it('leaves sysUpTime out when the profile has none, and refuses one that is not a .0 scalar', () => {
    const noUp: Profile = { ...generic, scalars: {} };
    const m = exporterModule(noUp, OPTS);
    expect(m.get).toEqual([]);
    expect(m.metrics.some((x) => x.name === 'sysUpTime')).toBe(false);
    const odd: Profile = { ...generic, name: 'odd', scalars: { sysUpTime: '1.3.6.1.2.1.1.3' } };
    expect(() => exporterModule(odd, OPTS)).toThrow(/profile "odd": sysUpTime 1.3.6.1.2.1.1.3 is not a .0/);
  });
});
