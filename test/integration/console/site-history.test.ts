/**
 * Site history (collector/http/history.ts) against a real influxd: known points written with line
 * protocol, read back as the console's site page gets them: the state at `from` then changes only, each
 * device's transitions (devices without any listed too), the router's busiest interface, clients summed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSiteHistory } from '../../../collector/http/history.ts';
import { startTestInfluxd, type TestServer } from '../../support/influx.ts';

const DB = 'netmon_history';
const NOW = Date.UTC(2026, 11, 3, 4, 0, 0); // 12:00 WITA
const MIN = 60_000;
let influx: TestServer;

const tags = (device: string, role: string) =>
  `site=pkm-1,site_name=Puskesmas\\ Petang\\ I,category=puskesmas,kecamatan=Petang,desa=Pelaga,device=${device},role=${role}`;

beforeAll(async () => {
  influx = await startTestInfluxd();
  const q = await fetch(`${influx.url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: `CREATE DATABASE ${DB}` }),
  });
  expect(q.status).toBe(200);
  const at = (minAgo: number) => (NOW - minAgo * MIN) * 1e6; // ns
  const site = 'site_state,site=pkm-1,site_name=P,category=puskesmas,kecamatan=Petang,desa=Pelaga';
  const lines = [
    `${site} state="up",state_code=1i ${at(120)}`,
    `${site} state="up",state_code=1i ${at(50)}`,
    `${site} state="up",state_code=1i ${at(40)}`,
    `${site} state="down",state_code=0i ${at(30)}`,
    `${site} state="down",state_code=0i ${at(20)}`,
    `${site} state="up",state_code=1i ${at(10)}`,
    // another site's points are not this one's
    `site_state,site=pkm-2 state="down",state_code=0i ${at(35)}`,
    `device_state,${tags('pkm-1-r1', 'router')},state=up state="up",previous="unknown" ${at(180)}`,
    `device_state,${tags('pkm-1-r1', 'router')},state=down state="down",previous="up" ${at(30)}`,
    `device_state,${tags('pkm-1-r1', 'router')},state=up state="up",previous="down" ${at(10)}`,
    `interface,${tags('pkm-1-r1', 'router')},ifIndex=1,ifName=ether1 in_bps=1000,out_bps=500 ${at(25)}`,
    `interface,${tags('pkm-1-r1', 'router')},ifIndex=2,ifName=ether2 in_bps=400,out_bps=900 ${at(25)}`,
    `interface,${tags('pkm-1-ap1', 'ap')},ifIndex=1,ifName=eth0 in_bps=99999,out_bps=99999 ${at(25)}`,
    `wifi,${tags('pkm-1-ap1', 'ap')},index=1,ssid=BadungFree,radio=2g clients=3i ${at(25)}`,
    `wifi,${tags('pkm-1-ap1', 'ap')},index=2,ssid=BadungFree,radio=5g clients=2i ${at(25)}`,
  ];
  const w = await fetch(`${influx.url}/write?db=${DB}`, { method: 'POST', body: lines.join('\n') });
  expect(w.status, await w.text()).toBe(204);
});

afterAll(async () => {
  await influx?.dispose();
});

describe('readSiteHistory on real InfluxDB', () => {
  it('answers the last hour of a site as the console draws it', async () => {
    const h = await readSiteHistory(
      { url: influx.url, database: DB },
      {
        id: 'pkm-1',
        devices: [
          { id: 'pkm-1-r1', role: 'router' },
          { id: 'pkm-1-ap1', role: 'ap' },
        ],
      },
      1,
      NOW,
    );
    expect(h.siteId).toBe('pkm-1');
    expect(h.from).toBe('2026-12-03T11:00:00.000+08:00');
    expect(h.to).toBe('2026-12-03T12:00:00.000+08:00');
    expect(h.state).toEqual([
      { time: '2026-12-03T11:00:00.000+08:00', state: 'up' },
      { time: '2026-12-03T11:30:00.000+08:00', state: 'down' },
      { time: '2026-12-03T11:50:00.000+08:00', state: 'up' },
    ]);
    expect(h.devices).toEqual([
      {
        id: 'pkm-1-r1',
        role: 'router',
        state: [
          { time: '2026-12-03T11:00:00.000+08:00', state: 'up' },
          { time: '2026-12-03T11:30:00.000+08:00', state: 'down' },
          { time: '2026-12-03T11:50:00.000+08:00', state: 'up' },
        ],
      },
      { id: 'pkm-1-ap1', role: 'ap', state: [] },
    ]);
    // one-minute buckets over the hour; the router's busiest interface, not the AP's
    const busy = h.traffic.filter((p) => p.inBps !== null);
    expect(busy).toEqual([{ time: '2026-12-03T11:35:00.000+08:00', inBps: 1000, outBps: 900 }]);
    expect(h.traffic.length).toBeGreaterThanOrEqual(60);
    expect(h.clients.filter((p) => p.count !== null)).toEqual([
      { time: '2026-12-03T11:35:00.000+08:00', count: 5 },
    ]);
  });
});
