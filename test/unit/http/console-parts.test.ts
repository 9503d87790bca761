/**
 * The console back end's pure parts: the scope preview (collector/http/scope-preview.ts), the health
 * figures (health-metrics.ts), history buckets, WITA times, and the `console:` config section.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { HealthMeter } from '../../../collector/http/health-metrics.ts';
import { bucketMs } from '../../../collector/http/history.ts';
import { isoWita } from '../../../collector/core/time-zone.ts';
import { previewScope } from '../../../collector/http/scope-preview.ts';
import { parseConfig } from '../../../config/monitor.ts';
import { smallInventory, testDevice, testSite } from '../../support/fixtures.ts';

describe('previewScope', () => {
  const small = smallInventory();
  const inv = {
    sites: [
      ...small.sites,
      testSite('sd-kuta-1', { name: 'SD Negeri 1 Kuta', category: 'sd', kecamatan: 'Kuta', desa: 'Kuta' }),
    ],
    devices: [...small.devices, testDevice('sd-kuta-1-r1', 'sd-kuta-1', 'router')],
  };

  it('counts the sites and their devices a scope covers, with a sample of names', () => {
    expect(previewScope(inv, { kecamatan: ['Petang'] })).toEqual({
      sites: 2,
      devices: 4,
      sample: ['Puskesmas Petang I', 'Banjar Kiadan'],
      unknown: [],
    });
    expect(previewScope(inv, { categories: ['sd'] })).toMatchObject({ sites: 1, devices: 1 });
    expect(previewScope(inv, { kecamatan: ['Petang'], categories: ['puskesmas'] })).toMatchObject({
      sites: 1,
      devices: 3,
    });
  });

  it('a device scope covers only those devices', () => {
    expect(previewScope(inv, { devices: ['pkm-petang-1-ap2'] })).toEqual({
      sites: 1,
      devices: 1,
      sample: ['Puskesmas Petang I'],
      unknown: [],
    });
  });

  it('names the values that match nothing in the inventory', () => {
    expect(previewScope(inv, { kecamatan: ['Petang', 'Atlantis'], sites: ['nope'] })).toEqual({
      sites: 0,
      devices: 0,
      sample: [],
      unknown: [
        { field: 'sites', value: 'nope' },
        { field: 'kecamatan', value: 'Atlantis' },
      ],
    });
  });
});

describe('HealthMeter', () => {
  it('polls per second over the time since the previous reading; failing devices by reason', () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 3, 2, 0));
    const start = clock.now();
    let polls = { ok: 0, failed: 0 };
    const writer = { written: 100, buffered: 20, onDisk: 5, dropped: 0, invalid: 0, failures: 1 };
    const scheduler = { jobs: 10, running: 1, queued: 0, started: 30, overruns: 2, late: 0, maxLagMs: 0 };
    const meter = new HealthMeter(
      {
        status: () => ({ startedAt: start, polls, scheduler, writer }),
        failing: () => ['timeout: no answer', 'timeout: no answer', 'auth: wrong community'],
        mqttClients: () => 7,
      },
      clock,
    );
    clock.advance(10_000);
    polls = { ok: 90, failed: 10 };
    const a = meter.read();
    expect(a).toMatchObject({
      at: '2026-12-03T10:00:10.000+08:00',
      uptimeS: 10,
      polls: { perSecond: 10, ok: 90, failed: 10 },
      failing: { total: 3, byReason: { timeout: 2, auth: 1, refused: 0 } },
      buffer: { queued: 20, onDisk: 5, dropped: 0, written: 100, failures: 1 },
      scheduler: { overruns: 2 },
      mqtt: { clients: 7 },
      events: null,
    });
    clock.advance(5000);
    polls = { ok: 115, failed: 10 };
    expect(meter.read().polls.perSecond).toBe(5);
    clock.advance(100); // too soon for a new rate
    polls = { ok: 200, failed: 10 };
    expect(meter.read().polls.perSecond).toBe(5);
  });
});

describe('small helpers', () => {
  it('isoWita writes an instant in WITA with its offset', () => {
    expect(isoWita(Date.UTC(2026, 11, 3, 14, 15))).toBe('2026-12-03T22:15:00.000+08:00');
    expect(Date.parse(isoWita(1_764_000_000_123))).toBe(1_764_000_000_123);
  });

  it('history buckets give about 288 points, at least a minute', () => {
    expect(bucketMs(24)).toBe(300_000);
    expect(bucketMs(1)).toBe(60_000);
    expect(bucketMs(168)).toBe(35 * 60_000);
  });
});

describe('console: config section', () => {
  const base = 'inventory: inv.yaml\ninflux: { api: v1, url: "http://127.0.0.1:8086", database: netmon }\n';

  it('has defaults, with paths relative to the config file', () => {
    const c = parseConfig(base, '/etc/netmon/netmon.yaml', {});
    expect(c.console).toEqual({
      enabled: true,
      usersFile: '/etc/netmon/var/users.yaml',
      sessionsFile: '/etc/netmon/var/sessions.db',
      sessionIdleMs: 12 * 3600_000,
      sessionMaxMs: 7 * 86_400_000,
      secureCookies: false,
      maxEventClients: 200,
      trustProxy: false,
      tileUrl: '',
      tileAttribution: '',
    });
  });

  it('refuses an idle time longer than the maximum, and unknown keys, naming the line', () => {
    expect(() => parseConfig(`${base}console:\n  sessionIdle: 8d\n`, 'netmon.yaml', {})).toThrow(
      /netmon\.yaml:4:\d+: console\.sessionIdle: must not be longer than sessionMax/,
    );
    expect(() => parseConfig(`${base}console:\n  sesionMax: 8d\n`, 'netmon.yaml', {})).toThrow(
      /netmon\.yaml:4:\d+: console\.sesionMax: unknown key 'sesionMax'/,
    );
    expect(() => parseConfig(`${base}console:\n  sessionMax: soon\n`, 'netmon.yaml', {})).toThrow(
      /console\.sessionMax: 'soon' is not a duration/,
    );
  });
});
