/**
 * Bahasa Indonesia and English. The switch is remembered per user (localStorage, keyed by the signed-in
 * name); before sign-in the last language used on this browser, else Indonesian.
 */
export type Lang = 'id' | 'en';

const T = {
  appName: ['Konsol Jaringan Wi-Fi Publik Badung', 'Badung Public Wi-Fi Console'],
  signIn: ['Masuk', 'Sign in'],
  signOut: ['Keluar', 'Sign out'],
  username: ['Nama pengguna', 'Username'],
  password: ['Kata sandi', 'Password'],
  wrongPassword: ['Nama pengguna atau kata sandi salah.', 'Wrong username or password.'],
  tooManyTries: [
    'Terlalu banyak percobaan. Coba lagi dalam {s} detik.',
    'Too many attempts. Try again in {s} seconds.',
  ],
  map: ['Peta', 'Map'],
  incidents: ['Insiden', 'Incidents'],
  maintenance: ['Pemeliharaan', 'Maintenance'],
  reports: ['Laporan', 'Reports'],
  health: ['Kesehatan monitor', 'Monitor health'],
  live: ['Langsung', 'Live'],
  offline: ['Terputus', 'Disconnected'],
  all: ['Semua', 'All'],
  kecamatan: ['Kecamatan', 'Kecamatan'],
  desa: ['Desa/kelurahan', 'Desa/kelurahan'],
  category: ['Kategori', 'Category'],
  state: ['Status', 'State'],
  sites: ['Lokasi', 'Sites'],
  site: ['Lokasi', 'Site'],
  devices: ['Perangkat', 'Devices'],
  device: ['Perangkat', 'Device'],
  role: ['Peran', 'Role'],
  since: ['Sejak', 'Since'],
  openSite: ['Buka halaman lokasi', 'Open the site page'],
  close: ['Tutup', 'Close'],
  loading: ['Memuat…', 'Loading…'],
  none: ['Tidak ada.', 'None.'],
  error: ['Kesalahan', 'Error'],
  status: ['Status', 'Status'],
  severity: ['Tingkat', 'Severity'],
  kind: ['Jenis', 'Kind'],
  opened: ['Dibuka', 'Opened'],
  acknowledgedBy: ['Ditangani oleh', 'Acknowledged by'],
  resolvedAt: ['Selesai', 'Resolved'],
  open: ['Terbuka', 'Open'],
  acknowledged: ['Ditangani', 'Acknowledged'],
  resolved: ['Selesai', 'Resolved'],
  acknowledge: ['Tangani', 'Acknowledge'],
  resolve: ['Selesaikan', 'Resolve'],
  note: ['Catatan', 'Note'],
  timeline: ['Linimasa', 'Timeline'],
  affected: ['Yang terdampak', 'Affected'],
  notifications: ['Notifikasi terkirim', 'Notifications sent'],
  channel: ['Kanal', 'Channel'],
  sentAt: ['Terkirim', 'Sent'],
  duration: ['Durasi', 'Duration'],
  last24h: ['24 jam terakhir', 'Last 24 hours'],
  traffic: ['Lalu lintas (Mbit/s)', 'Traffic (Mbit/s)'],
  clients: ['Klien Wi-Fi', 'Wi-Fi clients'],
  stateHistory: ['Riwayat status', 'State history'],
  windows: ['Jendela pemeliharaan', 'Maintenance windows'],
  silences: ['Senyap (tanpa notifikasi)', 'Silences'],
  newWindow: ['Jendela pemeliharaan baru', 'New maintenance window'],
  newSilence: ['Senyap baru', 'New silence'],
  name: ['Nama', 'Name'],
  reason: ['Alasan', 'Reason'],
  comment: ['Keterangan', 'Comment'],
  scope: ['Cakupan', 'Scope'],
  scopeBy: ['Cakupan menurut', 'Scope by'],
  values: ['Nilai (pisahkan dengan koma)', 'Values (comma-separated)'],
  start: ['Mulai (WITA)', 'Start (WITA)'],
  end: ['Selesai (WITA)', 'End (WITA)'],
  create: ['Buat', 'Create'],
  delete: ['Hapus', 'Delete'],
  confirmDelete: ['Hapus {x}?', 'Delete {x}?'],
  preview: ['Pratinjau', 'Preview'],
  previewCovers: ['Mencakup {n} lokasi, {d} perangkat', 'Covers {n} sites, {d} devices'],
  schedule: ['Jadwal', 'Schedule'],
  createdBy: ['Dibuat oleh', 'Created by'],
  fromConfig: ['dari berkas konfigurasi', 'from the config file'],
  month: ['Bulan', 'Month'],
  range: ['Rentang', 'Range'],
  from: ['Dari', 'From'],
  to: ['Sampai', 'To'],
  downloadPdf: ['Unduh PDF', 'Download PDF'],
  downloadCsv: ['Unduh CSV', 'Download CSV'],
  reportHint: [
    'Laporan ketersediaan per lokasi, kategori dan kecamatan (WITA).',
    'Availability per site, category and kecamatan (WITA).',
  ],
  pollsPerSecond: ['Polling per detik', 'Polls per second'],
  failuresByReason: ['Kegagalan menurut sebab', 'Failures by reason'],
  writeBuffer: ['Antrean tulis InfluxDB', 'InfluxDB write buffer'],
  mqttClients: ['Klien MQTT terhubung', 'MQTT clients connected'],
  lateRounds: ['Putaran polling terlambat', 'Late polling rounds'],
  overall: ['Keseluruhan', 'Overall'],
  details: ['Rincian', 'Details'],
  viewerOnly: ['Anda hanya dapat melihat (peran viewer).', 'You can only view (viewer role).'],
  saved: ['Tersimpan.', 'Saved.'],
  results: ['{n} dari {m} lokasi', '{n} of {m} sites'],
  noData: ['Belum ada data.', 'No data yet.'],
  recoveryAt: ['Pemulihan dipastikan pada', 'Recovery confirmed at'],
  snmpNotAnswering: ['SNMP tidak menjawab', 'SNMP not answering'],
  snmpNotAnsweringHint: [
    'Perangkat masih menjawab ping: bukan gangguan, tidak ada notifikasi.',
    'The device still answers ping: not an outage, nobody is paged.',
  ],
  devicesWarned: ['{n} perangkat: SNMP tidak menjawab', '{n} device(s): SNMP not answering'],
  language: ['Bahasa', 'Language'],
  signedInAs: ['Masuk sebagai', 'Signed in as'],
  'state.up': ['Normal', 'Up'],
  'state.down': ['Mati', 'Down'],
  'state.degraded': ['Terganggu', 'Degraded'],
  'state.unreachable': ['Tak terjangkau', 'Unreachable'],
  'state.maintenance': ['Pemeliharaan', 'Maintenance'],
  'state.recovering': ['Memulih', 'Recovering'],
  'state.flapping': ['Naik-turun', 'Flapping'],
  'state.suspect': ['Dicurigai', 'Suspect'],
  'state.unknown': ['Tidak diketahui', 'Unknown'],
  'state.not_monitored': ['Pemantauan terputus', 'Monitoring lost'],
} as const satisfies Record<string, readonly [string, string]>;

export type TextKey = keyof typeof T;

let current: Lang = readStored('netmon.lang') ?? 'id';
let user: string | undefined;
const listeners = new Set<() => void>();

function readStored(key: string): Lang | undefined {
  try {
    const v = localStorage.getItem(key);
    return v === 'id' || v === 'en' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function lang(): Lang {
  return current;
}

/** After sign-in: this user's remembered language, if any. */
export function useUser(name: string | undefined): void {
  user = name;
  const mine = name ? readStored(`netmon.lang:${name}`) : undefined;
  if (mine && mine !== current) setLang(mine);
  document.documentElement.lang = current;
}

export function setLang(l: Lang): void {
  current = l;
  try {
    localStorage.setItem('netmon.lang', l);
    if (user) localStorage.setItem(`netmon.lang:${user}`, l);
  } catch {
    // private mode: the switch still works for this page
  }
  document.documentElement.lang = l;
  for (const f of listeners) f();
}

export function onLangChange(f: () => void): void {
  listeners.add(f);
}

/** The text for `key` in the current language, `{name}` placeholders filled from `vars`. */
export function t(key: TextKey, vars: Record<string, string | number> = {}): string {
  const pair = T[key];
  const s: string = current === 'id' ? pair[0] : pair[1];
  return s.replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? `{${k}}`));
}

/** A site or device state in words; unknown states as they are. */
export function stateText(state: string): string {
  const key = `state.${state}` as TextKey;
  return key in T ? t(key) : state;
}

export const CATEGORY_TEXT: Record<string, readonly [string, string]> = {
  kantor_camat: ['Kantor camat', 'District office'],
  kantor_desa: ['Kantor desa', 'Village office'],
  kantor_lurah: ['Kantor lurah', 'Urban village office'],
  banjar: ['Banjar', 'Banjar hall'],
  lingkungan: ['Lingkungan', 'Neighbourhood'],
  sd: ['SD', 'Primary school'],
  smp: ['SMP', 'Junior high school'],
  puskesmas: ['Puskesmas', 'Health centre'],
  pustu: ['Pustu', 'Health post'],
  obyek_wisata: ['Obyek wisata', 'Tourist site'],
};

export function categoryText(c: string): string {
  const pair = CATEGORY_TEXT[c];
  return pair ? (current === 'id' ? pair[0] : pair[1]) : c;
}
