/**
 * A hand-built AvailabilityReport for October 2026 (WITA) for the renderers' tests: 6 kecamatan, the 10
 * categories with their targets (one category never observed: availability null), 20 worst sites, one
 * of them with a name full of HTML's special characters.
 */
import { CATEGORY_INFO } from '../../collector/core/categories.ts';
import { CATEGORIES, type Category } from '../../collector/core/types.ts';
import type {
  AvailabilityFigures,
  AvailabilityReport,
  GroupRow,
  SiteRow,
} from '../../collector/reports/model.ts';

const H = 3600_000;
const WITA = 8 * H;
export const OCT_FROM = Date.UTC(2026, 9, 1) - WITA;
export const OCT_TO = Date.UTC(2026, 10, 1) - WITA;
/** 09:30 WITA, 01-11-2026. */
export const GENERATED_AT = Date.UTC(2026, 10, 1, 9, 30) - WITA;
const PERIOD = OCT_TO - OCT_FROM;

export const EVIL_NAME = 'Banjar "Tegal" & <Sari> Kerobokan';

/** Figures for `sites` sites over October with the given availability (null: nothing observed). */
export function figures(
  pct: number | null,
  sites = 1,
  extra: Partial<AvailabilityFigures> = {},
): AvailabilityFigures {
  const unknownMs = extra.unknownMs ?? 2 * H * sites;
  const maintenanceMs = extra.maintenanceMs ?? H * sites;
  const observed = pct === null ? 0 : PERIOD * sites - unknownMs - maintenanceMs;
  const downMs = pct === null ? 0 : Math.round(observed * (1 - pct / 100));
  const outages = downMs > 0 ? Math.max(1, Math.round(downMs / (2 * H))) : 0;
  const unknown = pct === null ? PERIOD * sites : unknownMs;
  return {
    periodMs: PERIOD,
    upMs: observed - downMs,
    downMs,
    maintenanceMs: pct === null ? 0 : maintenanceMs,
    unknownMs: unknown,
    unknownSharePct: (100 * (extra.unknownMs ?? unknown)) / (PERIOD * sites),
    availabilityPct: pct,
    outages,
    longestOutageMs: outages > 0 ? Math.min(downMs, 3 * H + 12 * 60_000) : 0,
    mttrMs: outages > 0 ? Math.round(downMs / outages) : null,
    clockBreaches: outages > 3 ? 1 : 0,
    ...extra,
  };
}

export const KECAMATAN_PCT: Readonly<Record<string, number>> = {
  Abiansemal: 99.12,
  Kuta: 97.85,
  'Kuta Selatan': 98.4,
  'Kuta Utara': 99.6,
  Mengwi: 99.91,
  Petang: 96.73,
};

/** Categories' availability; smp was never observed. */
export const CATEGORY_PCT: Readonly<Record<Category, number | null>> = {
  kantor_camat: 99.2,
  kantor_desa: 99.05,
  kantor_lurah: 98.9,
  banjar: 98.35,
  lingkungan: 97.6,
  sd: 98.7,
  smp: null,
  puskesmas: 99.7,
  pustu: 99.1,
  obyek_wisata: 97.95,
};

const TARGETS: Readonly<Record<string, number>> = { critical: 99.5, high: 99.0, medium: 98.5, low: 98.0 };
export function targetOf(c: Category): number {
  return TARGETS[CATEGORY_INFO[c].criticality] ?? 98;
}

function group(key: string, label: string, pct: number | null, sites: number, targetPct?: number): GroupRow {
  const meeting = pct === null ? 0 : Math.round(sites * (pct / 100) ** 40);
  return {
    ...figures(pct, sites),
    key,
    label,
    sites,
    sitesMeetingTarget: meeting,
    sitesMeetingTargetPct: (100 * meeting) / sites,
    targetPct,
  };
}

function site(i: number, pct: number, name?: string): SiteRow {
  const category = CATEGORIES[i % CATEGORIES.length] ?? 'banjar';
  const kecamatan = Object.keys(KECAMATAN_PCT)[i % 6] ?? 'Petang';
  const targetPct = targetOf(category);
  return {
    ...figures(pct),
    siteId: `bdg-${String(i).padStart(4, '0')}`,
    name: name ?? `Situs Uji ${i}`,
    category,
    kecamatan,
    desa: `Desa ${i}`,
    targetPct,
    meetsTarget: pct >= targetPct,
  };
}

export function sampleReport(): AvailabilityReport {
  const worst = Array.from({ length: 20 }, (_, i) =>
    site(i + 1, 80 + i * 0.9, i === 2 ? EVIL_NAME : undefined),
  );
  const unobserved: SiteRow = {
    ...figures(null),
    siteId: 'bdg-0999',
    name: 'SMPN 9 Mengwi',
    category: 'smp',
    kecamatan: 'Mengwi',
    desa: 'Sempidi',
    targetPct: 98.5,
    meetsTarget: null,
  };
  const sitesByCategory: Record<Category, number> = {
    kantor_camat: 6,
    kantor_desa: 46,
    kantor_lurah: 16,
    banjar: 379,
    lingkungan: 169,
    sd: 249,
    smp: 22,
    puskesmas: 13,
    pustu: 54,
    obyek_wisata: 33,
  };
  const overall = figures(98.73, 987);
  return {
    fromMs: OCT_FROM,
    toMs: OCT_TO,
    generatedAtMs: GENERATED_AT,
    periodLabel: '2026-10',
    filters: {},
    noData: false,
    overall: {
      ...overall,
      sites: 987,
      sitesMeetingTarget: 861,
      sitesMeetingTargetPct: (100 * 861) / 987,
      clockBreaches: 4,
    },
    byCategory: CATEGORIES.map((c) =>
      group(
        c,
        `${CATEGORY_INFO[c].id} / ${CATEGORY_INFO[c].en}`,
        CATEGORY_PCT[c],
        sitesByCategory[c],
        targetOf(c),
      ),
    ),
    byKecamatan: Object.entries(KECAMATAN_PCT).map(([k, pct]) => group(k, k, pct, 160)),
    byDesa: [],
    sites: [...worst, unobserved],
    worst,
  };
}

/** Nothing observed anywhere: every chart is empty. The PNG checks must fail on it. */
export function emptyReport(): AvailabilityReport {
  const r = sampleReport();
  const blank = (g: GroupRow): GroupRow => ({
    ...g,
    ...figures(null, g.sites),
    sitesMeetingTarget: 0,
    sitesMeetingTargetPct: 0,
  });
  return {
    ...r,
    noData: true,
    overall: { ...r.overall, ...figures(null, 987), sitesMeetingTarget: 0, sitesMeetingTargetPct: 0 },
    byCategory: r.byCategory.map(blank),
    byKecamatan: r.byKecamatan.map(blank),
    worst: [],
  };
}
