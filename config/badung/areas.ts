/**
 * Badung's 6 kecamatan and 62 desa/kelurahan (../shared/reference/badung.md), with the named puskesmas
 * and tourist sites. Data only.
 */
export interface Kecamatan {
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
  readonly kelurahan: readonly string[];
  readonly desa: readonly string[];
}

export const KECAMATAN: readonly Kecamatan[] = [
  {
    name: 'Kuta Selatan',
    lat: -8.8,
    lon: 115.17,
    kelurahan: ['Benoa', 'Jimbaran', 'Tanjung Benoa'],
    desa: ['Kutuh', 'Pecatu', 'Ungasan'],
  },
  {
    name: 'Kuta',
    lat: -8.72,
    lon: 115.17,
    kelurahan: ['Kuta', 'Legian', 'Seminyak', 'Tuban', 'Kedonganan'],
    desa: [],
  },
  {
    name: 'Kuta Utara',
    lat: -8.64,
    lon: 115.15,
    kelurahan: ['Kerobokan', 'Kerobokan Kaja', 'Kerobokan Kelod'],
    desa: ['Canggu', 'Dalung', 'Tibubeneng'],
  },
  {
    name: 'Mengwi',
    lat: -8.55,
    lon: 115.17,
    kelurahan: ['Abianbase', 'Kapal', 'Lukluk', 'Sading', 'Sempidi'],
    desa: [
      'Baha',
      'Buduk',
      'Cemagi',
      'Gulingan',
      'Kekeran',
      'Kuwum',
      'Mengwi',
      'Mengwitani',
      'Munggu',
      'Penarungan',
      'Pererenan',
      'Sembung',
      'Sobangan',
      'Tumbak Bayuh',
      'Werdi Bhuwana',
    ],
  },
  {
    name: 'Abiansemal',
    lat: -8.52,
    lon: 115.23,
    kelurahan: [],
    desa: [
      'Abiansemal',
      'Angantaka',
      'Ayunan',
      'Blahkiuh',
      'Bongkasa',
      'Bongkasa Pertiwi',
      'Darmasaba',
      'Dauh Yeh Cani',
      'Jagapati',
      'Mambal',
      'Mekar Bhuwana',
      'Punggul',
      'Sangeh',
      'Sedang',
      'Selat',
      'Sibang Gede',
      'Sibang Kaja',
      'Taman',
    ],
  },
  {
    name: 'Petang',
    lat: -8.33,
    lon: 115.23,
    kelurahan: [],
    desa: ['Belok Sidan', 'Carangsari', 'Getasan', 'Pangsan', 'Pelaga', 'Petang', 'Sulangai'],
  },
];

/** The 13 puskesmas and their kecamatan. */
export const PUSKESMAS: readonly { name: string; kecamatan: string }[] = [
  { name: 'Kuta Selatan', kecamatan: 'Kuta Selatan' },
  { name: 'Kuta I', kecamatan: 'Kuta' },
  { name: 'Kuta II', kecamatan: 'Kuta' },
  { name: 'Kuta Utara', kecamatan: 'Kuta Utara' },
  { name: 'Mengwi I', kecamatan: 'Mengwi' },
  { name: 'Mengwi II', kecamatan: 'Mengwi' },
  { name: 'Mengwi III', kecamatan: 'Mengwi' },
  { name: 'Abiansemal I', kecamatan: 'Abiansemal' },
  { name: 'Abiansemal II', kecamatan: 'Abiansemal' },
  { name: 'Abiansemal III', kecamatan: 'Abiansemal' },
  { name: 'Abiansemal IV', kecamatan: 'Abiansemal' },
  { name: 'Petang I', kecamatan: 'Petang' },
  { name: 'Petang II', kecamatan: 'Petang' },
];

/** Named tourist sites and the desa/kelurahan they are in. */
export const TOURIST_SITES: readonly { name: string; desa: string }[] = [
  { name: 'Pura Luhur Uluwatu', desa: 'Pecatu' },
  { name: 'Garuda Wisnu Kencana', desa: 'Ungasan' },
  { name: 'Pantai Pandawa', desa: 'Kutuh' },
  { name: 'Pantai Melasti', desa: 'Ungasan' },
  { name: 'Pantai Jimbaran', desa: 'Jimbaran' },
  { name: 'Pantai Tanjung Benoa', desa: 'Tanjung Benoa' },
  { name: 'Pantai Kuta', desa: 'Kuta' },
  { name: 'Pantai Legian', desa: 'Legian' },
  { name: 'Pantai Seminyak', desa: 'Seminyak' },
  { name: 'Pantai Petitenget', desa: 'Kerobokan Kelod' },
  { name: 'Pantai Batu Bolong', desa: 'Canggu' },
  { name: 'Pantai Berawa', desa: 'Canggu' },
  { name: 'Pantai Seseh', desa: 'Munggu' },
  { name: 'Pantai Cemagi', desa: 'Cemagi' },
  { name: 'Taman Ayun', desa: 'Mengwi' },
  { name: 'Pura Sada', desa: 'Kapal' },
  { name: 'Alas Pala Sangeh', desa: 'Sangeh' },
  { name: 'Jembatan Tukad Bangkung', desa: 'Pelaga' },
  { name: 'Air Terjun Nungnung', desa: 'Pelaga' },
  { name: 'Desa Wisata Carangsari', desa: 'Carangsari' },
  { name: 'Desa Wisata Pangsan', desa: 'Pangsan' },
];
