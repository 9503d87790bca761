/**
 * Short bilingual texts for the feeds (CAP headline, event, area description; GeoJSON titles), Bahasa
 * Indonesia first. The long texts are the notification's own (collector/alerting/messages.ts).
 * Pure: Notification → text.
 */
import { formatWita } from '../core/time-zone.ts';
import type { Notification } from '../notify/notification.ts';

export interface Bilingual {
  readonly id: string;
  readonly en: string;
}

/** What a feed shows an incident as: still out, answering again while its recovery settles, or over. */
export type FeedState = 'firing' | 'recovering' | 'resolved';

export function feedState(n: Notification): FeedState {
  if (n.status === 'resolved') return 'resolved';
  return n.recovery ? 'recovering' : 'firing';
}

function witaOf(iso: string): string {
  return formatWita(Date.parse(iso));
}

/**
 * An outage inside a silence or maintenance window paged nobody: the feeds say so, with who and until
 * when, so the emergency picture does not take it for an outage nobody knows of. Undefined otherwise.
 */
export function silencedNote(n: Notification): Bilingual | undefined {
  const s = n.silenced;
  if (!s || n.status === 'resolved') return undefined;
  const until = witaOf(s.until);
  const by = s.by ? { id: ` oleh ${s.by}`, en: ` by ${s.by}` } : { id: '', en: '' };
  return s.kind === 'silence'
    ? {
        id: `Dibungkam${by.id} sampai ${until} (${s.reason}): tidak ada petugas yang dipanggil.`,
        en: `Silenced${by.en} until ${until} (${s.reason}): nobody was paged.`,
      }
    : {
        id: `Dalam jendela pemeliharaan "${s.reason}" sampai ${until}: tidak ada petugas yang dipanggil.`,
        en: `Inside the maintenance window "${s.reason}" until ${until}: nobody was paged.`,
      };
}

/** What happened, as a CAP `<event>`: the kind of outage, not the place. */
export function eventText(n: Notification): Bilingual {
  return n.kind === 'area_outage'
    ? { id: 'Gangguan jaringan massal', en: 'Mass network outage' }
    : { id: 'Gangguan jaringan internet', en: 'Network outage' };
}

/**
 * One line for a list or a map label: CAP §3.2.2 wants a headline under 160 characters, so names are
 * not enumerated here (the description has them).
 */
export function headline(n: Notification): Bilingual {
  const restored = n.status === 'resolved';
  if (n.kind === 'area_outage') {
    const kec = n.area?.kecamatan ?? '?';
    const down = n.area?.sitesDown ?? n.affected.sites.length;
    const total = n.area?.sitesTotal ?? down;
    return restored
      ? {
          id: `PULIH: gangguan massal di Kec. ${kec} berakhir`,
          en: `RESTORED: mass outage in ${kec} district over`,
        }
      : {
          id: `GANGGUAN MASSAL: ${down} dari ${total} lokasi di Kec. ${kec} terputus`,
          en: `MASS OUTAGE: ${down} of ${total} sites in ${kec} district offline`,
        };
  }
  const s = n.site;
  const place: Bilingual = s
    ? {
        id: `${s.name} (${s.categoryName.id}, Kec. ${s.kecamatan})`,
        en: `${s.name} (${s.categoryName.en}, ${s.kecamatan} district)`,
      }
    : { id: n.device?.id ?? n.id, en: n.device?.id ?? n.id };
  const others = n.affected.sites.length;
  if (restored)
    return { id: `PULIH: ${place.id} kembali terhubung`, en: `RESTORED: ${place.en} back online` };
  if (n.recovery) {
    const at = witaOf(n.recovery.confirmAt);
    return {
      id: `MEMULIH: ${place.id} terhubung lagi, dipastikan pukul ${at}`,
      en: `RECOVERING: ${place.en} back online, confirmed at ${at}`,
    };
  }
  const mark = n.silenced
    ? n.silenced.kind === 'silence'
      ? { id: ' [dibungkam]', en: ' [silenced]' }
      : { id: ' [pemeliharaan]', en: ' [maintenance]' }
    : { id: '', en: '' };
  return {
    id: `GANGGUAN: ${place.id} terputus${others > 0 ? ` (+${others} lokasi lain)` : ''}${mark.id}`,
    en: `OUTAGE: ${place.en} offline${others > 0 ? ` (+${others} other sites)` : ''}${mark.en}`,
  };
}

/** The place, for a CAP `<areaDesc>`: site, desa, kecamatan; or the kecamatan for an area incident. */
export function areaDescription(n: Notification): Bilingual {
  if (n.site) {
    return {
      id: `${n.site.name}, ${n.site.desa}, Kecamatan ${n.site.kecamatan}, Kabupaten Badung, Bali`,
      en: `${n.site.name}, ${n.site.desa}, ${n.site.kecamatan} district, Badung regency, Bali`,
    };
  }
  const kec = n.area?.kecamatan ?? '?';
  return {
    id: `Kecamatan ${kec}, Kabupaten Badung, Bali`,
    en: `${kec} district, Badung regency, Bali`,
  };
}

/** What a reader of the emergency picture can do about it. */
export function instruction(n: Notification): Bilingual {
  if (n.status === 'resolved') {
    return {
      id: 'Layanan jaringan telah pulih. Tidak perlu tindakan.',
      en: 'Service restored. No action needed.',
    };
  }
  if (n.recovery) {
    const at = witaOf(n.recovery.confirmAt);
    return {
      id: `Layanan tersambung kembali; dinyatakan pulih pukul ${at} bila tetap stabil. Tidak perlu tindakan.`,
      en: `Service is back; it is confirmed restored at ${at} if it stays up. No action needed.`,
    };
  }
  if (n.kind === 'area_outage') {
    return {
      id: 'Banyak lokasi padam bersamaan: kemungkinan pemadaman listrik, banjir atau gempa. Periksa kondisi lapangan; gunakan komunikasi cadangan (radio, telepon seluler) untuk lokasi di daerah ini.',
      en: 'Many sites went dark at once: possibly a power cut, flood or earthquake. Check conditions on the ground; use backup communications (radio, mobile phone) for sites in this area.',
    };
  }
  return {
    id: 'Internet dan Wi-Fi publik di lokasi ini tidak tersedia. Hubungi lokasi melalui telepon atau radio bila perlu.',
    en: 'Internet and public Wi-Fi at this site are unavailable. Reach the site by phone or radio if needed.',
  };
}
