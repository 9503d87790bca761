/**
 * The live map: every site as a marker coloured and shaped by its state (states.ts), clustered with a
 * ring showing the mix of states inside each cluster, over the kecamatan outlines the monitor derives
 * from its own data (so it works offline); a tile layer only when the config names one. Filters by
 * kecamatan, category and state; a click opens the site's panel. Live: a `site` event re-draws its
 * marker and its cluster at once.
 *
 * Leaflet and markercluster are the vendor scripts index.html loads before the console (window.L).
 */
import type * as Leaflet from 'leaflet';
import type {} from 'leaflet.markercluster';
import { fill, h } from '../dom.ts';
import { categoryText, stateText, t } from '../i18n.ts';
import { SITE_STATES, lookOf, markerSvg, stateRank } from '../states.ts';
import { allSites, loadSites, onSiteChange, siteById, type SiteView } from '../store.ts';
import { ago, toMs, when } from '../time.ts';
import { select, stateBadge, warningBadge, type Cleanup, type PageContext } from '../ui.ts';

interface SiteMarkerOptions extends Leaflet.MarkerOptions {
  readonly siteId: string;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function siteIcon(L: typeof Leaflet, s: SiteView, changedAt?: number, eventAt?: unknown): Leaflet.DivIcon {
  const extra =
    changedAt === undefined ? '' : ` data-changed-at="${changedAt}" data-event-at="${toMs(eventAt) ?? ''}"`;
  return L.divIcon({
    className: 'site-marker',
    html: `<span class="site-pin" data-site="${esc(s.id)}" data-state="${esc(s.state)}"${extra}>${markerSvg(s.state)}</span>`,
    iconSize: [20, 20],
    iconAnchor: [10, 10],
  });
}

/** A ring of state shares around the count (stroke-dasharray on a circle of circumference 100). */
function clusterIcon(L: typeof Leaflet, cluster: Leaflet.MarkerCluster): Leaflet.DivIcon {
  const counts = new Map<string, number>();
  for (const m of cluster.getAllChildMarkers()) {
    const s = siteById((m.options as SiteMarkerOptions).siteId);
    const st = s?.state ?? 'unknown';
    counts.set(st, (counts.get(st) ?? 0) + 1);
  }
  const total = cluster.getChildCount();
  const ordered = [...counts].sort((a, b) => stateRank(a[0]) - stateRank(b[0]));
  let offset = 25; // start at 12 o'clock
  const rings = ordered
    .map(([st, n]) => {
      const pct = (100 * n) / total;
      const seg = `<circle r="15.9155" cx="21" cy="21" fill="none" stroke="${lookOf(st).colour}" stroke-width="7" stroke-dasharray="${pct.toFixed(3)} ${(100 - pct).toFixed(3)}" stroke-dashoffset="${offset.toFixed(3)}"/>`;
      offset -= pct;
      return seg;
    })
    .join('');
  const mix = ordered.map(([st, n]) => `${st}:${n}`).join(',');
  const worst = ordered[0]?.[0] ?? 'unknown';
  const size = total >= 100 ? 46 : 40;
  return L.divIcon({
    className: 'site-cluster',
    html:
      `<span class="cluster-pin" data-count="${total}" data-mix="${mix}" data-worst="${worst}">` +
      `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 42 42" aria-hidden="true">` +
      `<circle r="12" cx="21" cy="21" fill="white"/>${rings}` +
      `<text x="21" y="25" text-anchor="middle" font-size="11" font-weight="bold" fill="#1b1b1b">${total}</text></svg></span>`,
    iconSize: [size, size],
  });
}

function leaflet(): typeof Leaflet {
  const L = (window as unknown as { L?: typeof Leaflet }).L;
  if (!L) throw new Error('Leaflet did not load (/console/vendor/leaflet/leaflet.js)');
  return L;
}

export async function renderMap(view: HTMLElement, ctx: PageContext): Promise<Cleanup> {
  const L = leaflet();
  await loadSites();
  const sites = allSites().filter((s) => typeof s.lat === 'number' && typeof s.lon === 'number');

  const mapEl = h('div', { id: 'map', class: 'map', 'data-testid': 'map' });
  const panel = h('aside', { class: 'site-panel', hidden: true, 'data-testid': 'site-panel' });
  const legend = h('div', { class: 'legend', 'data-testid': 'legend' });
  const shown = h('span', { class: 'muted', 'data-testid': 'shown' });
  const kecamatan = [...new Set(sites.map((s) => s.kecamatan))].sort();
  const categories = [...new Set(sites.map((s) => s.category))].sort();
  const fKec = select('kecamatan', [
    ['', `${t('kecamatan')}: ${t('all')}`],
    ...kecamatan.map((k) => [k, k] as const),
  ]);
  const fCat = select('category', [
    ['', `${t('category')}: ${t('all')}`],
    ...categories.map((c) => [c, categoryText(c)] as const),
  ]);
  const fState = select('state', [
    ['', `${t('state')}: ${t('all')}`],
    ...SITE_STATES.map((s) => [s, stateText(s)] as const),
  ]);
  fill(
    view,
    h(
      'section',
      { class: 'map-page' },
      h('div', { class: 'filters' }, fKec, fCat, fState, shown),
      h('div', { class: 'map-wrap' }, mapEl, panel),
      legend,
    ),
  );

  const map = L.map(mapEl, { zoomSnap: 0.5, minZoom: 8, maxZoom: 18, attributionControl: true });
  const tileUrl = document.querySelector<HTMLMetaElement>('meta[name="netmon-tile-url"]')?.content ?? '';
  const tileAttribution =
    document.querySelector<HTMLMetaElement>('meta[name="netmon-tile-attribution"]')?.content ?? '';
  if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19, attribution: tileAttribution }).addTo(map);

  const outlines = await fetch('/console/outlines.geojson').then((r) =>
    r.ok ? (r.json() as Promise<GeoJSON.FeatureCollection>) : undefined,
  );
  let bounds: Leaflet.LatLngBounds | undefined;
  if (outlines) {
    const layer = L.geoJSON(outlines, {
      style: () => ({ className: 'kec-outline', weight: 1.5 }),
      onEachFeature: (f, l) => {
        const name = (f.properties as { kecamatan?: string } | null)?.kecamatan ?? '';
        l.bindTooltip(name, { permanent: true, direction: 'center', className: 'kec-label' });
      },
    }).addTo(map);
    bounds = layer.getBounds();
  }
  if (!bounds?.isValid() && sites.length > 0)
    bounds = L.latLngBounds(sites.map((s) => [s.lat!, s.lon!] as [number, number]));
  if (bounds?.isValid()) map.fitBounds(bounds, { padding: [10, 10] });
  else map.setView([-8.55, 115.18], 11);

  const cluster = L.markerClusterGroup({
    showCoverageOnHover: false,
    maxClusterRadius: 45,
    spiderfyOnMaxZoom: true,
    chunkedLoading: true,
    iconCreateFunction: (c) => clusterIcon(L, c),
  });
  const markers = new Map<string, Leaflet.Marker>();
  /** The state each marker shows. */
  const drawn = new Map<string, string>();
  for (const s of sites) {
    drawn.set(s.id, s.state);
    const m = L.marker([s.lat!, s.lon!], {
      icon: siteIcon(L, s),
      title: `${s.name} — ${stateText(s.state)}`,
      siteId: s.id,
    } as SiteMarkerOptions);
    m.on('click', () => openPanel(s.id));
    markers.set(s.id, m);
  }

  const matches = (s: SiteView): boolean =>
    (!fKec.value || s.kecamatan === fKec.value) &&
    (!fCat.value || s.category === fCat.value) &&
    (!fState.value || s.state === fState.value);

  const inLayer = new Set<string>();
  function applyFilters(): void {
    cluster.clearLayers();
    inLayer.clear();
    const list: Leaflet.Marker[] = [];
    for (const s of sites) {
      if (!matches(s)) continue;
      const m = markers.get(s.id);
      if (m) {
        if (drawn.get(s.id) !== s.state) {
          drawn.set(s.id, s.state);
          m.setIcon(siteIcon(L, s, Date.now()));
        }
        list.push(m);
        inLayer.add(s.id);
      }
    }
    cluster.addLayers(list);
    shown.textContent = t('results', { n: list.length, m: sites.length });
    shown.dataset.count = String(list.length);
    drawLegend();
  }

  function drawLegend(): void {
    const counts = new Map<string, number>();
    for (const s of sites) if (inLayer.has(s.id)) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
    const states = [
      ...SITE_STATES,
      ...[...counts.keys()].filter((st) => !(SITE_STATES as readonly string[]).includes(st)),
    ];
    fill(
      legend,
      states.map((st) =>
        h(
          'span',
          { class: 'legend-item', 'data-state': st, 'data-count': counts.get(st) ?? 0 },
          stateBadge(st),
          h('b', {}, String(counts.get(st) ?? 0)),
        ),
      ),
    );
  }

  function openPanel(id: string): void {
    const s = siteById(id);
    if (!s) return;
    panel.hidden = false;
    panel.dataset.site = id;
    fill(
      panel,
      h(
        'button',
        { type: 'button', class: 'close', 'aria-label': t('close'), onclick: () => (panel.hidden = true) },
        '×',
      ),
      h('h2', {}, s.name),
      h(
        'p',
        {},
        stateBadge(s.state),
        ' ',
        h(
          'span',
          { class: 'muted' },
          s.since != null ? `${t('since')} ${when(s.since, 'short')} (${ago(s.since)})` : '',
        ),
      ),
      s.recoveryConfirmAt != null &&
        h('p', { class: 'muted' }, `${t('recoveryAt')} ${when(s.recoveryConfirmAt, 'hm')}`),
      h(
        'dl',
        {},
        h('dt', {}, t('category')),
        h('dd', {}, categoryText(s.category)),
        h('dt', {}, t('kecamatan')),
        h('dd', {}, s.kecamatan),
        h('dt', {}, t('desa')),
        h('dd', {}, s.desa),
      ),
      h(
        'ul',
        { class: 'devices' },
        s.devices.map((d) =>
          h(
            'li',
            { 'data-device': d.id },
            stateBadge(d.state),
            ' ',
            h('code', {}, d.id),
            ` (${d.role})`,
            d.warning ? [' ', warningBadge(d.warning)] : [],
          ),
        ),
      ),
      h('a', { class: 'button primary', href: `#/sites/${encodeURIComponent(s.id)}` }, t('openSite')),
    );
  }

  const stop = onSiteChange((s, e) => {
    const m = markers.get(s.id);
    if (!m) return;
    const nowMatches = matches(s);
    if (nowMatches !== inLayer.has(s.id)) {
      applyFilters();
    } else if (nowMatches && drawn.get(s.id) !== s.state) {
      // Only a change of the site's state redraws it (a device event alone does not), so the marker
      // keeps the time of the event that changed it.
      drawn.set(s.id, s.state);
      m.setIcon(siteIcon(L, s, Date.now(), e?.at));
      m.options.title = `${s.name} — ${stateText(s.state)}`;
      cluster.refreshClusters(m);
      drawLegend();
    }
    if (panel.dataset.site === s.id && !panel.hidden) openPanel(s.id);
  });

  for (const f of [fKec, fCat, fState]) f.addEventListener('change', applyFilters);
  map.addLayer(cluster);
  applyFilters();

  const focus = ctx.params.get('focus');
  const fm = focus ? markers.get(focus) : undefined;
  if (focus && fm) {
    cluster.zoomToShowLayer(fm, () => openPanel(focus));
  }
  return () => {
    stop();
    map.remove();
  };
}
