/**
 * One outage for the channel tests: the router of Puskesmas Petang I down since 14:05 WITA on
 * 22 November 2026, its APs and the banjar behind it affected.
 */
import type { Alert } from '../../collector/alerting/alert.ts';
import { testDevice, testSite } from './fixtures.ts';

export const LINK = 'https://netmon.badungkab.go.id';

export const site = testSite('pkm-petang-1', {
  name: 'Puskesmas Petang I',
  category: 'puskesmas',
  kecamatan: 'Petang',
  desa: 'Belok Sidan',
  criticality: 'critical',
});
export const router = testDevice('pkm-petang-1-r1', 'pkm-petang-1', 'router');
export const startedAt = Date.UTC(2026, 10, 22, 6, 5); // 14:05 WITA
export const alert: Alert = {
  id: 'pkm-petang-1-r1@2026-11-22T06:05:00.000Z',
  status: 'firing',
  kind: 'device_down',
  severity: 'critical',
  deviceId: router.id,
  role: 'router',
  siteId: site.id,
  startedAt,
  cause: 'timeout',
  affectedDevices: ['pkm-petang-1-ap1', 'pkm-petang-1-ap2', 'bjr-kiadan-r1'],
  affectedSites: [{ id: 'bjr-kiadan', name: 'Banjar Kiadan' }],
};
