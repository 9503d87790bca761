import { describe, expect, it } from 'vitest';
import { AlertBook } from '../../../collector/alerting/alert.ts';
import { alertText, formatDuration } from '../../../collector/alerting/messages.ts';
import { formatWita, isoWita } from '../../../collector/core/time-zone.ts';
import type { Transition } from '../../../collector/core/types.ts';
import { Topology } from '../../../collector/health/topology.ts';
import { buildNotification } from '../../../collector/notify/notification.ts';
import { smallInventory } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 22, 6, 5); // 14:05 WITA
const tr = (
  deviceId: string,
  from: Transition['from'],
  to: Transition['to'],
  timeMs: number,
): Transition => ({
  deviceId,
  siteId: deviceId.replace(/-(r|ap)\d+$/, ''),
  from,
  to,
  timeMs,
});

describe('AlertBook', () => {
  it('opens one alert per outage and resolves it once', () => {
    const book = new AlertBook(new Topology(smallInventory()));
    const opened = book.onTransition(tr('pkm-petang-1-r1', 'suspect', 'down', T0));
    expect(opened).toMatchObject({
      status: 'firing',
      severity: 'critical',
      role: 'router',
      siteId: 'pkm-petang-1',
    });
    expect(opened?.affectedDevices).toEqual(['pkm-petang-1-ap1', 'pkm-petang-1-ap2', 'bjr-pelaga-1-r1']);
    expect(opened?.affectedSites).toEqual([{ id: 'bjr-pelaga-1', name: 'Banjar Kiadan' }]);
    // Dependents going unreachable raise nothing.
    expect(book.onTransition(tr('pkm-petang-1-ap1', 'suspect', 'unreachable', T0 + 1))).toBeUndefined();
    // A second "down" for the same outage raises nothing.
    expect(book.onTransition(tr('pkm-petang-1-r1', 'unreachable', 'down', T0 + 2))).toBeUndefined();
    expect(book.open()).toHaveLength(1);
    const resolved = book.onTransition(tr('pkm-petang-1-r1', 'down', 'up', T0 + 1_800_000));
    expect(resolved).toMatchObject({ status: 'resolved', id: opened?.id, resolvedAt: T0 + 1_800_000 });
    expect(book.open()).toHaveLength(0);
    expect(book.onTransition(tr('pkm-petang-1-r1', 'down', 'up', T0 + 1_900_000))).toBeUndefined();
  });

  it('raises nothing for unreachable devices coming back or first-time ups', () => {
    const book = new AlertBook(new Topology(smallInventory()));
    expect(book.onTransition(tr('pkm-petang-1-ap1', 'unknown', 'up', T0))).toBeUndefined();
    expect(book.onTransition(tr('pkm-petang-1-ap1', 'unreachable', 'up', T0))).toBeUndefined();
  });
});

describe('messages', () => {
  it('formats WITA (UTC+8) and durations', () => {
    expect(formatWita(T0)).toBe('14:05 WITA, 22-11-2026');
    expect(formatWita(Date.UTC(2026, 9, 31, 16, 30))).toBe('00:30 WITA, 01-11-2026');
    expect(formatDuration(65 * 60_000)).toEqual({ id: '1 jam 5 menit', en: '1 h 5 min' });
    expect(formatDuration(30 * 60_000)).toEqual({ id: '30 menit', en: '30 min' });
  });

  it.each<[number, string, string]>([
    [0, '0 detik', '0 s'],
    [22_000, '22 detik', '22 s'],
    [59_400, '59 detik', '59 s'],
    [60_000, '1 menit', '1 min'],
    [89_000, '1 menit', '1 min'],
    [5 * 60_000, '5 menit', '5 min'],
    [59 * 60_000 + 20_000, '59 menit', '59 min'],
    [3600_000, '1 jam 0 menit', '1 h 0 min'],
    [65 * 60_000, '1 jam 5 menit', '1 h 5 min'],
    [26 * 3600_000 + 60_000, '26 jam 1 menit', '26 h 1 min'],
    [-5000, '0 detik', '0 s'],
  ])('a duration of %i ms reads "%s" / "%s", never "0 min" for a short one', (ms, id, en) => {
    expect(formatDuration(ms)).toEqual({ id, en });
  });

  it('a 22 s outage recovers "after 22 s down" in both languages; recovering says when it is confirmed', () => {
    const topo = new Topology(smallInventory());
    const alert = new AlertBook(topo).onTransition(tr('pkm-petang-1-r1', 'suspect', 'down', T0));
    const site = topo.site('pkm-petang-1');
    const device = topo.device('pkm-petang-1-r1');
    if (!alert || !site || !device) throw new Error('fixture');
    const recovered = alertText({ ...alert, status: 'resolved', resolvedAt: T0 + 22_000 }, site, device);
    expect(recovered.id).toMatch(/setelah gangguan 22 detik\./);
    expect(recovered.en).toMatch(/after 22 s down\./);
    expect(recovered.id + recovered.en).not.toMatch(/0 min|0 menit/);
    const recovering = alertText(
      { ...alert, recovery: { sinceMs: T0 + 22_000, confirmAtMs: T0 + 22_000 + 120_000 } },
      site,
      device,
    );
    expect(recovering.id).toMatch(
      /^MEMULIH: .* merespons lagi sejak 14:05 WITA, 22-11-2026 setelah gangguan 22 detik; dinyatakan pulih pukul 14:07 WITA, 22-11-2026 bila tetap stabil\.$/,
    );
    expect(recovering.en).toMatch(
      /^RECOVERING: .* answering again since 14:05 WITA, 22-11-2026 after 22 s down; confirmed recovered at 14:07 WITA, 22-11-2026 if it stays up\.$/,
    );
  });

  it('isoWita: ISO 8601 with milliseconds and the +08:00 offset, the same instant', () => {
    const t = Date.parse('2026-12-03T14:15:00Z');
    expect(isoWita(t)).toBe('2026-12-03T22:15:00.000+08:00');
    expect(Date.parse(isoWita(t + 7))).toBe(t + 7);
    expect(isoWita(Date.parse('2026-12-31T16:30:00.250Z'))).toBe('2027-01-01T00:30:00.250+08:00');
  });

  it('writes a bilingual page with site, category, desa, kecamatan, since when, what is affected and a link', () => {
    const inv = smallInventory();
    const topo = new Topology(inv);
    const book = new AlertBook(topo);
    const alert = book.onTransition(tr('pkm-petang-1-r1', 'suspect', 'down', T0));
    if (!alert) throw new Error('no alert');
    const site = topo.site('pkm-petang-1');
    const device = topo.device('pkm-petang-1-r1');
    if (!site || !device) throw new Error('fixture');
    const text = alertText(alert, site, device, 'http://127.0.0.1:8080/sites/pkm-petang-1');
    expect(text.id).toContain(
      '[KRITIS] GANGGUAN: Router pkm-petang-1-r1 di Puskesmas Petang I (Puskesmas, Pelaga, Kec. Petang)',
    );
    expect(text.id).toContain('sejak 14:05 WITA, 22-11-2026');
    expect(text.id).toContain('3 perangkat di belakangnya tidak terjangkau');
    expect(text.id).toContain('1 lokasi lain ikut terputus: Banjar Kiadan');
    expect(text.en).toContain(
      '[CRITICAL] DOWN: Router pkm-petang-1-r1 at Puskesmas Petang I (community health centre, Pelaga, Petang district)',
    );
    expect(text.en).toContain('http://127.0.0.1:8080/sites/pkm-petang-1');
    const resolved = book.onTransition(tr('pkm-petang-1-r1', 'down', 'up', T0 + 65 * 60_000));
    if (!resolved) throw new Error('no recovery');
    const back = alertText(resolved, site, device);
    expect(back.id).toBe(
      'PULIH: Router pkm-petang-1-r1 di Puskesmas Petang I (Puskesmas, Pelaga, Kec. Petang) kembali normal pukul 15:10 WITA, 22-11-2026 setelah gangguan 1 jam 5 menit.',
    );
    expect(back.en).toBe(
      'RECOVERED: Router pkm-petang-1-r1 at Puskesmas Petang I (community health centre, Pelaga, Petang district) back up at 15:10 WITA, 22-11-2026 after 1 h 5 min down.',
    );
    const n = buildNotification(resolved, site, device, 'http://127.0.0.1:8080/');
    expect(n).toMatchObject({
      schema: 'badung-netmon/alert/v1',
      status: 'resolved',
      durationS: 3900,
      link: 'http://127.0.0.1:8080/sites/pkm-petang-1',
    });
    expect(n.site?.categoryName).toEqual({ id: 'Puskesmas', en: 'community health centre' });
    // The JSON never carries the device's credentials.
    expect(JSON.stringify(n)).not.toContain('public');
  });
});
