/**
 * Alert texts for people: Bahasa Indonesia first, English alongside. Times in WITA (UTC+8), Bali's zone.
 * Pure: (alert, context) → text.
 */
import { CATEGORY_INFO } from '../core/categories.ts';
import type { Device, Site } from '../core/types.ts';
import type { Alert } from './alert.ts';
import type { AreaIncident } from './area.ts';
import { formatWita } from '../core/time-zone.ts';

/**
 * How long something lasted, for people: "22 detik" / "22 s" under a minute, "5 menit" / "5 min" under an
 * hour, then "1 jam 5 menit" / "1 h 5 min". A 22 s outage is never "0 min".
 */
export function formatDuration(ms: number): { id: string; en: string } {
  const totalS = Math.max(0, Math.round(ms / 1000));
  if (totalS < 60) return { id: `${totalS} detik`, en: `${totalS} s` };
  const totalMin = Math.round(totalS / 60);
  const h = Math.floor(totalMin / 60);
  const m = totalMin % 60;
  if (h === 0) return { id: `${m} menit`, en: `${m} min` };
  return { id: `${h} jam ${m} menit`, en: `${h} h ${m} min` };
}

const ROLE: Record<Device['role'], { readonly id: string; readonly en: string }> = {
  router: { id: 'Router', en: 'Router' },
  ap: { id: 'Access point', en: 'Access point' },
  sensor: { id: 'Sensor', en: 'Sensor' },
};
const SEVERITY = {
  critical: { id: 'KRITIS', en: 'CRITICAL' },
  high: { id: 'TINGGI', en: 'HIGH' },
  medium: { id: 'SEDANG', en: 'MEDIUM' },
  low: { id: 'RENDAH', en: 'LOW' },
} as const;

export interface AlertText {
  readonly id: string;
  readonly en: string;
}

export function alertText(alert: Alert, site: Site, device: Device, link?: string): AlertText {
  const cat = CATEGORY_INFO[site.category];
  const role = ROLE[device.role];
  const sev = SEVERITY[alert.severity];
  const place = {
    id: `${site.name} (${cat.id}, ${site.desa}, Kec. ${site.kecamatan})`,
    en: `${site.name} (${cat.en}, ${site.desa}, ${site.kecamatan} district)`,
  };
  const nAp = alert.affectedDevices.filter((id) => id.length > 0).length;
  const nSites = alert.affectedSites.length;
  const sitesList = alert.affectedSites
    .slice(0, 10)
    .map((s) => s.name)
    .join(', ');
  const more = nSites > 10 ? ` (+${nSites - 10})` : '';
  const linkLine = link ? `\n${link}` : '';

  if (alert.status === 'firing' && alert.recovery) {
    // Answering again, not yet confirmed: the incident stays open until the recovery has settled.
    const r = alert.recovery;
    const dur = formatDuration(r.sinceMs - alert.startedAt);
    return {
      id: `MEMULIH: ${role.id} ${device.id} di ${place.id} merespons lagi sejak ${formatWita(r.sinceMs)} setelah gangguan ${dur.id}; dinyatakan pulih pukul ${formatWita(r.confirmAtMs)} bila tetap stabil.${linkLine}`,
      en: `RECOVERING: ${role.en} ${device.id} at ${place.en} answering again since ${formatWita(r.sinceMs)} after ${dur.en} down; confirmed recovered at ${formatWita(r.confirmAtMs)} if it stays up.${linkLine}`,
    };
  }
  if (alert.status === 'firing') {
    const affId =
      (nAp > 0 ? ` ${nAp} perangkat di belakangnya tidak terjangkau.` : '') +
      (nSites > 0 ? ` ${nSites} lokasi lain ikut terputus: ${sitesList}${more}.` : '');
    const affEn =
      (nAp > 0 ? ` ${nAp} device(s) behind it are unreachable.` : '') +
      (nSites > 0 ? ` ${nSites} other site(s) lost their link: ${sitesList}${more}.` : '');
    return {
      id: `[${sev.id}] GANGGUAN: ${role.id} ${device.id} di ${place.id} tidak merespons sejak ${formatWita(alert.startedAt)}.${affId}${linkLine}`,
      en: `[${sev.en}] DOWN: ${role.en} ${device.id} at ${place.en} not responding since ${formatWita(alert.startedAt)}.${affEn}${linkLine}`,
    };
  }
  const dur = formatDuration((alert.resolvedAt ?? alert.startedAt) - alert.startedAt);
  const at = formatWita(alert.resolvedAt ?? alert.startedAt);
  const flaps = alert.flaps ?? 0;
  return {
    id: `PULIH: ${role.id} ${device.id} di ${place.id} kembali normal pukul ${at} setelah gangguan ${dur.id}${flaps > 0 ? ` (sempat ${flaps} kali putus lagi)` : ''}.${linkLine}`,
    en: `RECOVERED: ${role.en} ${device.id} at ${place.en} back up at ${at} after ${dur.en} down${flaps > 0 ? ` (went down again ${flaps} time(s) meanwhile)` : ''}.${linkLine}`,
  };
}

/** A device going up and down: one notice, then silence until it is stable (its recovery). */
export function flappingText(alert: Alert, site: Site, device: Device, link?: string): AlertText {
  const cat = CATEGORY_INFO[site.category];
  const role = ROLE[device.role];
  const sev = SEVERITY[alert.severity];
  const n = alert.flaps ?? 0;
  const linkLine = link ? `\n${link}` : '';
  return {
    id: `[${sev.id}] TIDAK STABIL: ${role.id} ${device.id} di ${site.name} (${cat.id}, ${site.desa}, Kec. ${site.kecamatan}) putus-nyambung: ${n} kali putus lagi sejak ${formatWita(alert.startedAt)}. Pemberitahuan berikutnya saat sudah stabil.${linkLine}`,
    en: `[${sev.en}] FLAPPING: ${role.en} ${device.id} at ${site.name} (${cat.en}, ${site.desa}, ${site.kecamatan} district) keeps going down and up: down again ${n} time(s) since ${formatWita(alert.startedAt)}. Next notice when it is stable.${linkLine}`,
  };
}

/** A mass outage in one kecamatan: the texts for BPBD and on-call staff. */
export function areaText(inc: AreaIncident, link?: string): AlertText {
  const n = inc.sites.length;
  const critical = inc.sites.filter((s) => s.criticality === 'critical' || s.criticality === 'high');
  const names = critical
    .slice(0, 8)
    .map((s) => s.name)
    .join(', ');
  const linkLine = link ? `\n${link}` : '';
  if (inc.status === 'firing') {
    const at = formatWita(inc.startedAt);
    return {
      id: `[KRITIS] GANGGUAN MASSAL di Kec. ${inc.kecamatan}: ${n} dari ${inc.totalSites} lokasi terputus sejak ${at}.${critical.length > 0 ? ` Termasuk layanan penting: ${names}.` : ''} Kemungkinan pemadaman listrik, banjir atau gempa.${linkLine}`,
      en: `[CRITICAL] MASS OUTAGE in ${inc.kecamatan} district: ${n} of ${inc.totalSites} sites down since ${at}.${critical.length > 0 ? ` Including critical services: ${names}.` : ''} Possibly a power cut, flood or earthquake.${linkLine}`,
    };
  }
  const at = formatWita(inc.resolvedAt ?? inc.startedAt);
  const dur = formatDuration((inc.resolvedAt ?? inc.startedAt) - inc.startedAt);
  return {
    id: `PULIH: gangguan massal di Kec. ${inc.kecamatan} berakhir pukul ${at} setelah ${dur.id}.${linkLine}`,
    en: `RECOVERED: the mass outage in ${inc.kecamatan} district ended at ${at} after ${dur.en}.${linkLine}`,
  };
}

/** An incident its clock ran out on, going to the next contact: the first text with an escalation line. */
export function escalationText(
  base: AlertText,
  e: {
    readonly level: number;
    readonly contact: string;
    readonly clockMs: number;
    readonly openedAt: number;
  },
): AlertText {
  const clock = formatDuration(e.clockMs);
  return {
    id: `[ESKALASI ${e.level} → ${e.contact}] Belum ditanggapi dalam ${clock.id} sejak ${formatWita(e.openedAt)}.\n${base.id}`,
    en: `[ESCALATION ${e.level} → ${e.contact}] Not acknowledged within ${clock.en} since ${formatWita(e.openedAt)}.\n${base.en}`,
  };
}
