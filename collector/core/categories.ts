/**
 * What each site category is called, for people, and how critical it is by default
 * (../shared/reference/badung.md, "The 987 connected sites").
 */
import type { Category, Criticality } from './types.ts';

export interface CategoryInfo {
  /** Bahasa Indonesia, as the regency writes it. */
  readonly id: string;
  readonly en: string;
  readonly criticality: Criticality;
}

export const CATEGORY_INFO: Readonly<Record<Category, CategoryInfo>> = {
  kantor_camat: { id: 'Kantor Camat', en: 'district office', criticality: 'critical' },
  kantor_desa: { id: 'Kantor Desa', en: 'village office', criticality: 'medium' },
  kantor_lurah: { id: 'Kantor Lurah', en: 'urban-ward office', criticality: 'medium' },
  banjar: { id: 'Banjar', en: 'hamlet community hall', criticality: 'low' },
  lingkungan: { id: 'Lingkungan', en: 'urban-ward neighbourhood office', criticality: 'low' },
  sd: { id: 'Sekolah Dasar Negeri', en: 'public primary school', criticality: 'medium' },
  smp: { id: 'Sekolah Menengah Pertama', en: 'public junior high school', criticality: 'medium' },
  puskesmas: { id: 'Puskesmas', en: 'community health centre', criticality: 'critical' },
  pustu: { id: 'Puskesmas Pembantu', en: 'sub-health centre', criticality: 'high' },
  obyek_wisata: { id: 'Obyek Wisata', en: 'tourist site', criticality: 'medium' },
};
