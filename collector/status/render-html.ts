/**
 * The public status page as one HTML document (pure): for citizens on a phone and for BPBD's desk.
 * Bahasa Indonesia first with English beside it; times in WITA. Plain server-rendered HTML and inline
 * CSS: no script, no external resource, a meta refresh every minute. Narrow screens (360 px) get the
 * same content stacked. Every text from the data is escaped.
 */
import { formatWita } from '../core/time-zone.ts';
import { escapeHtml, formatPct } from '../reports/render-html.ts';
import type { Counts, PublicOutage, PublicStatus } from './model.ts';

/** Seconds between automatic reloads of the page. */
export const REFRESH_S = 60;

/** "23:01 WITA, 03-12-2026", as the alerts write it: the same in both languages. */
function when(ms: number): string {
  return escapeHtml(formatWita(ms));
}

/** "Teks / <span>Text</span>": Indonesian first, English muted. Both escaped. */
function bi(id: string, en: string): string {
  return `${escapeHtml(id)} <span class="en" lang="en">/ ${escapeHtml(en)}</span>`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",Arial,sans-serif;color:#1b1f23;background:#f4f6f8}
header{background:#0b4f8a;color:#fff;padding:16px 20px}
header h1{margin:0;font-size:1.35rem;line-height:1.25}
header p{margin:6px 0 0;font-size:.9rem;opacity:.9}
header .en{color:#d6e6f5}
main{max-width:1100px;margin:0 auto;padding:12px}
section{background:#fff;border-radius:8px;padding:14px 16px;margin:12px 0;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.1rem;margin:0 0 10px}
.en{color:#57606a;font-weight:normal}
.summary{display:flex;flex-wrap:wrap;gap:10px}
.tile{flex:1 1 140px;border-radius:8px;padding:10px 12px;background:#eef2f6}
.tile b{display:block;font-size:1.8rem;line-height:1.1}
.tile.ok{background:#e3f4e8;color:#145a2c}.tile.down{background:#fde7e4;color:#8a1c0e}
.tile.mt{background:#fff4d6;color:#6b4e00}.tile.unk{background:#eceff3;color:#3d4752}
.tile .en{color:inherit;opacity:.8}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e1e5ea;vertical-align:top}
th{background:#f0f3f6;font-weight:600}
td.n,th.n{text-align:right;white-space:nowrap}
.bad{color:#b42318;font-weight:600}
ul.outages{list-style:none;margin:0;padding:0}
ul.outages li{border-left:5px solid #d92d20;background:#fff6f5;margin:0 0 8px;padding:8px 10px;border-radius:4px}
ul.outages li.mt{border-left-color:#dca100;background:#fffaeb}
ul.outages .site{font-weight:600}
ul.outages .where,ul.outages .since{font-size:.9rem;color:#3d4752}
.badge{display:inline-block;font-size:.8rem;padding:1px 8px;border-radius:10px;margin-top:4px;font-weight:600}
.badge.yes{background:#d1f0da;color:#145a2c}.badge.no{background:#fde7e4;color:#8a1c0e}.badge.mt{background:#fff0c2;color:#6b4e00}
.badge .en{color:inherit;opacity:.85}
.none{color:#145a2c;font-weight:600}
.note{font-size:.85rem}
footer{font-size:.8rem;color:#57606a;padding:4px 16px 20px;max-width:1100px;margin:0 auto}
@media (max-width:520px){
 header{padding:12px 14px}header h1{font-size:1.1rem}
 main{padding:4px}section{padding:10px 6px;margin:8px 0}
 .tile{flex:1 1 45%;padding:8px}.tile b{font-size:1.4rem}
 table{font-size:.74rem}th,td{padding:5px 2px}
 th{font-weight:600;overflow-wrap:anywhere}
 th .en{display:block;font-size:.68rem}
 .wide{display:none}
}
`;

function tiles(t: Counts): string {
  const tile = (cls: string, n: number, id: string, en: string) =>
    `<div class="tile ${cls}"><b>${n}</b>${bi(id, en)}</div>`;
  return `<div class="summary">
${tile('ok', t.working, 'Wi-Fi berfungsi', 'Wi-Fi working')}
${tile('down', t.down, 'Gangguan', 'Not working')}
${tile('mt', t.maintenance, 'Pemeliharaan', 'Maintenance')}
${tile('unk', t.unknown, 'Belum diketahui', 'Not yet known')}
${t.unmonitored > 0 ? tile('unk', t.unmonitored, 'Pemantauan terputus', 'Monitoring lost') : ''}
</div>`;
}

function countCells(c: Counts): string {
  return `<td class="n">${c.working} / ${c.sites}</td><td class="n${c.down > 0 ? ' bad' : ''}">${c.down}</td><td class="n wide">${c.maintenance}</td>`;
}

const COUNT_HEADS = `<th class="n">${bi('Berfungsi', 'Working')}</th><th class="n">${bi('Gangguan', 'Down')}</th><th class="n wide">${bi('Pemeliharaan', 'Maintenance')}</th>`;

/**
 * Kecamatan whose sites nobody monitors now (their edge collector is cut off from the centre): said
 * plainly, so nobody reads their sites as working, nor as down. Empty when there are none.
 */
function unmonitored(s: PublicStatus): string {
  const lost = s.byKecamatan.filter((k) => k.unmonitored > 0);
  if (lost.length === 0) return '';
  const items = lost
    .map(
      (k) =>
        `<li class="mt"><div class="site">Kec. ${escapeHtml(k.kecamatan)}</div><div class="where">${bi(
          `${k.unmonitored} lokasi: status tidak diketahui, bukan berarti mati`,
          `${k.unmonitored} sites: state unknown, which does not mean they are down`,
        )}</div></li>`,
    )
    .join('\n');
  return `<section>
<h2>${bi('Pemantauan terputus', 'Monitoring lost')} (${lost.length})</h2>
<ul class="outages">
${items}
</ul>
</section>
`;
}

function outageItem(o: PublicOutage): string {
  const badge = o.maintenance
    ? `<span class="badge mt">${bi('Pemeliharaan terjadwal', 'Planned maintenance')}</span>`
    : o.handled
      ? `<span class="badge yes">${bi('Sedang ditangani', 'Being handled')}</span>`
      : `<span class="badge no">${bi('Belum ditangani', 'Not yet handled')}</span>`;
  return `<li${o.maintenance ? ' class="mt"' : ''}><div class="site">${escapeHtml(o.site)}</div>
<div class="where">${escapeHtml(o.desa)}, Kec. ${escapeHtml(o.kecamatan)} · ${bi(o.categoryName.id, o.categoryName.en)}</div>
<div class="since">${bi('Sejak', 'Since')}: ${when(o.sinceMs)}</div>
${badge}</li>`;
}

export function renderStatusHtml(s: PublicStatus): string {
  const av = s.availability;
  const kecRows = s.byKecamatan
    .map(
      (k) =>
        `<tr><td>${escapeHtml(k.kecamatan)}</td>${countCells(k)}<td class="n">${formatPct(k.availability30d)}</td><td class="n">${formatPct(k.availability90d)}</td></tr>`,
    )
    .join('\n');
  const catRows = s.byCategory
    .map((c) => `<tr><td>${bi(c.name.id, c.name.en)}</td>${countCells(c)}</tr>`)
    .join('\n');
  const outages =
    s.outages.length === 0
      ? `<p class="none">${bi('Tidak ada gangguan saat ini.', 'No outages right now.')}</p>`
      : `<ul class="outages">\n${s.outages.map(outageItem).join('\n')}\n</ul>`;
  const avNote = av
    ? `${bi('Ketersediaan dihitung', 'Availability computed')}: ${when(av.computedAtMs)}. ${bi(
        'Waktu pemeliharaan dan waktu tanpa pemantauan tidak dihitung.',
        'Maintenance and unmonitored time are not counted.',
      )}`
    : bi('Ketersediaan sedang dihitung.', 'Availability is being computed.');
  return `<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_S}">
<title>Status Wi-Fi Publik Kabupaten Badung / Badung Public Wi-Fi Status</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Status Wi-Fi Publik Kabupaten Badung <span class="en" lang="en">/ Badung Public Wi-Fi Status</span></h1>
<p>${bi('Diperbarui', 'Updated')}: ${when(s.generatedAtMs)} · ${s.totals.working} ${bi(
    `dari ${s.totals.sites} lokasi berfungsi`,
    `of ${s.totals.sites} sites working`,
  )}</p>
</header>
<main>
<section aria-label="Ringkasan / Summary">
${tiles(s.totals)}
</section>
<section>
<h2>${bi('Gangguan saat ini', 'Current outages')} (${s.outages.length})</h2>
${outages}
</section>
${unmonitored(s)}<section>
<h2>${bi('Per kecamatan', 'By district')}</h2>
<div class="scroll"><table>
<thead><tr><th>Kecamatan</th>${COUNT_HEADS}<th class="n">${bi('30 hari', '30 days')}</th><th class="n">${bi('90 hari', '90 days')}</th></tr></thead>
<tbody>
${kecRows}
</tbody></table></div>
<p class="en note">${avNote}</p>
</section>
<section>
<h2>${bi('Per kategori', 'By category')}</h2>
<div class="scroll"><table>
<thead><tr><th>${bi('Kategori', 'Category')}</th>${COUNT_HEADS}</tr></thead>
<tbody>
${catRows}
</tbody></table></div>
</section>
</main>
<footer>${bi(
    'Halaman ini diperbarui otomatis setiap menit. Data: Diskominfo Kabupaten Badung.',
    'This page refreshes every minute. Data: Badung Communications Office.',
  )} <a href="status.json">status.json</a></footer>
</body>
</html>
`;
}
