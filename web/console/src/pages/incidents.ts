/**
 * The incident list, phone first: one card per incident (status, severity, what, since when), filters by
 * status, kecamatan and severity; new and changed incidents arrive live (the list reloads on an
 * `incident` event).
 */
import { api } from '../api.ts';
import { fill, h } from '../dom.ts';
import { t } from '../i18n.ts';
import { incidentTitle, statusText, type Incident } from '../incidents-model.ts';
import { on } from '../live.ts';
import { allSites, loadSites } from '../store.ts';
import { ago, when } from '../time.ts';
import { errorBox, select, type Cleanup, type PageContext } from '../ui.ts';

const STATUS_CHOICES = [
  ['open,acknowledged', 'open'],
  ['open', 'open'],
  ['acknowledged', 'acknowledged'],
  ['resolved', 'resolved'],
] as const;

export async function renderIncidents(view: HTMLElement, ctx: PageContext): Promise<Cleanup> {
  await loadSites();
  const kecamatan = [...new Set(allSites().map((s) => s.kecamatan))].sort();
  const fStatus = select(
    'status',
    STATUS_CHOICES.map(
      ([v, k], i) =>
        [v, i === 0 ? `${statusText('open')} + ${statusText('acknowledged')}` : statusText(k)] as const,
    ),
    ctx.params.get('status') ?? 'open,acknowledged',
  );
  const fKec = select('kecamatan', [
    ['', `${t('kecamatan')}: ${t('all')}`],
    ...kecamatan.map((k) => [k, k] as const),
  ]);
  const fSev = select('severity', [
    ['', `${t('severity')}: ${t('all')}`],
    ...(['critical', 'high', 'medium', 'low'] as const).map((s) => [s, s] as const),
  ]);
  const list = h('ul', { class: 'incident-list', 'data-testid': 'incident-list' });
  fill(
    view,
    h(
      'section',
      { class: 'incidents-page' },
      h('h1', {}, t('incidents')),
      h('div', { class: 'filters' }, fStatus, fKec, fSev),
      list,
    ),
  );

  let seq = 0;
  async function load(): Promise<void> {
    const mine = ++seq;
    const q = new URLSearchParams({ status: fStatus.value, limit: '200' });
    if (fKec.value) q.set('kecamatan', fKec.value);
    if (fSev.value) q.set('severity', fSev.value);
    try {
      const r = await api.get<{ incidents: Incident[] }>(`/incidents?${q.toString()}`);
      if (mine !== seq) return;
      if (r.incidents.length === 0) {
        fill(list, h('li', { class: 'muted' }, t('none')));
        return;
      }
      fill(
        list,
        r.incidents.map((i) =>
          h(
            'li',
            {},
            h(
              'a',
              {
                class: `incident-card sev-${i.severity} status-${i.status}`,
                href: `#/incidents/${encodeURIComponent(i.id)}`,
                'data-incident': i.id,
                'data-status': i.status,
              },
              h(
                'span',
                { class: 'row' },
                h('span', { class: `pill status-${i.status}` }, statusText(i.status)),
                h('span', { class: `pill sev-${i.severity}` }, i.severity),
                h('span', { class: 'muted' }, ago(i.openedAt)),
              ),
              h('strong', {}, incidentTitle(i)),
              h('span', { class: 'muted' }, `${t('opened')} ${when(i.openedAt, 'short')}`),
              i.acknowledgedBy && h('span', { class: 'muted' }, `${t('acknowledgedBy')} ${i.acknowledgedBy}`),
            ),
          ),
        ),
      );
    } catch (err) {
      if (mine === seq) fill(list, h('li', {}, errorBox(err)));
    }
  }
  for (const f of [fStatus, fKec, fSev]) f.addEventListener('change', () => void load());
  await load();
  let timer: number | undefined;
  const stop = on('incident', () => {
    // Several incidents change at once in an area outage: one reload for the burst.
    clearTimeout(timer);
    timer = window.setTimeout(() => void load(), 150);
  });
  return () => {
    stop();
    clearTimeout(timer);
  };
}
