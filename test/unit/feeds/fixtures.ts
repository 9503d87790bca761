/** Notifications for the feed tests, built the way the monitor builds them (collector/notify/notification.ts). */
import type { Alert } from '../../../collector/alerting/alert.ts';
import type { AreaIncident, AreaSite } from '../../../collector/alerting/area.ts';
import type { Criticality, Site } from '../../../collector/core/types.ts';
import {
  buildAreaNotification,
  buildNotification,
  type Notification,
} from '../../../collector/notify/notification.ts';
import { testDevice, testSite } from '../../support/fixtures.ts';

export const LINK_BASE = 'https://netmon.badungkab.go.id';
export const SENDER = 'netmon@kominfo.badungkab.go.id';
/** 2026-11-23 02:15:00 UTC = 10:15 WITA. */
export const T0 = Date.UTC(2026, 10, 23, 2, 15, 0);
export const T_END = T0 + 95 * 60_000;

export const PUSKESMAS: Site = testSite('pkm-petang-1', {
  name: 'Puskesmas Petang I',
  category: 'puskesmas',
  criticality: 'critical',
  kecamatan: 'Petang',
  desa: 'Petang',
  lat: -8.3,
  lon: 115.22,
});

export function siteAlert(
  site: Site,
  status: 'firing' | 'resolved' = 'firing',
  over: Partial<Alert> = {},
): Notification {
  const device = testDevice(`${site.id}-r1`, site.id, 'router');
  const alert: Alert = {
    id: `${device.id}@${new Date(T0).toISOString()}`,
    status,
    kind: 'device_down',
    severity: site.criticality,
    deviceId: device.id,
    role: 'router',
    siteId: site.id,
    startedAt: T0,
    resolvedAt: status === 'resolved' ? T_END : undefined,
    cause: 'timeout',
    affectedDevices: [`${site.id}-ap1`, `${site.id}-ap2`],
    affectedSites: [],
    ...over,
  };
  return buildNotification(alert, site, device, LINK_BASE);
}

export function siteOf(criticality: Criticality, over: Partial<Site> = {}): Site {
  const category = { critical: 'puskesmas', high: 'kantor_camat', medium: 'sd', low: 'banjar' } as const;
  return testSite(`s-${criticality}`, { criticality, category: category[criticality], ...over });
}

/** Five sites of Petang spread over a few km (Pelaga in the north to Carangsari in the south). */
export const PETANG_SITES: readonly AreaSite[] = [
  {
    id: 'bjr-pelaga-1',
    name: 'Banjar Kiadan',
    category: 'banjar',
    criticality: 'low',
    lat: -8.27,
    lon: 115.23,
  },
  {
    id: 'bjr-pelaga-2',
    name: 'Banjar Auman',
    category: 'banjar',
    criticality: 'low',
    lat: -8.29,
    lon: 115.21,
  },
  {
    id: 'pkm-petang-1',
    name: 'Puskesmas Petang I',
    category: 'puskesmas',
    criticality: 'critical',
    lat: -8.3,
    lon: 115.22,
  },
  {
    id: 'sd-getasan-1',
    name: 'SD Negeri 1 Getasan',
    category: 'sd',
    criticality: 'medium',
    lat: -8.33,
    lon: 115.24,
  },
  {
    id: 'kd-carangsari',
    name: 'Kantor Desa Carangsari',
    category: 'kantor_desa',
    criticality: 'medium',
    lat: -8.36,
    lon: 115.23,
  },
];

export function areaIncident(status: 'firing' | 'resolved' = 'firing', sites = PETANG_SITES): Notification {
  const inc: AreaIncident = {
    id: `area:Petang@${new Date(T0).toISOString()}`,
    status,
    kecamatan: 'Petang',
    startedAt: T0,
    resolvedAt: status === 'resolved' ? T_END : undefined,
    sites,
    totalSites: 58,
  };
  return buildAreaNotification(inc, LINK_BASE);
}
