/**
 * Reports for planners: a month (or a range) and filters, then PDF or CSV straight from
 * `GET /api/v1/reports/availability` (a plain download link: the session cookie goes with it).
 */
import { fill, h } from '../dom.ts';
import { categoryText, CATEGORY_TEXT, t } from '../i18n.ts';
import { allSites, loadSites } from '../store.ts';
import { localInputToIso, monthOf } from '../time.ts';
import { field, select, type Cleanup, type PageContext } from '../ui.ts';

export async function renderReports(view: HTMLElement, _ctx: PageContext): Promise<Cleanup> {
  await loadSites();
  const kecamatan = [...new Set(allSites().map((s) => s.kecamatan))].sort();
  const mode = select('mode', [
    ['month', t('month')],
    ['range', t('range')],
  ]);
  const month = h('input', { name: 'month', type: 'month', value: monthOf(Date.now()) });
  const from = h('input', { name: 'from', type: 'datetime-local' });
  const to = h('input', { name: 'to', type: 'datetime-local' });
  const kec = select('kecamatan', [['', t('all')], ...kecamatan.map((k) => [k, k] as const)]);
  const cat = select('category', [
    ['', t('all')],
    ...Object.keys(CATEGORY_TEXT).map((c) => [c, categoryText(c)] as const),
  ]);
  const pdf = h(
    'a',
    { class: 'button primary', 'data-testid': 'download-pdf', download: '' },
    t('downloadPdf'),
  );
  const csv = h('a', { class: 'button', 'data-testid': 'download-csv', download: '' }, t('downloadCsv'));
  const monthField = field(t('month'), month);
  const rangeFields = h('div', { class: 'row', hidden: true }, field(t('from'), from), field(t('to'), to));

  const update = () => {
    const range = mode.value === 'range';
    monthField.hidden = range;
    rangeFields.hidden = !range;
    const q = new URLSearchParams();
    if (range) {
      const f = localInputToIso(from.value);
      const e = localInputToIso(to.value);
      if (f) q.set('from', f);
      if (e) q.set('to', e);
    } else if (month.value) q.set('month', month.value);
    if (kec.value) q.set('kecamatan', kec.value);
    if (cat.value) q.set('category', cat.value);
    q.set('format', 'pdf');
    pdf.href = `/api/v1/reports/availability?${q.toString()}`;
    q.set('format', 'csv');
    csv.href = `/api/v1/reports/availability?${q.toString()}`;
  };
  for (const el of [mode, month, from, to, kec, cat]) el.addEventListener('change', update);
  update();
  fill(
    view,
    h(
      'section',
      { class: 'reports-page card' },
      h('h1', {}, t('reports')),
      h('p', { class: 'muted' }, t('reportHint')),
      field('', mode),
      monthField,
      rangeFields,
      field(t('kecamatan'), kec),
      field(t('category'), cat),
      h('div', { class: 'row' }, pdf, csv),
    ),
  );
}
