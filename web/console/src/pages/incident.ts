/**
 * One incident: what it is, what it affects, its timeline (opened, notified, acknowledged, notes,
 * resolved) and the notifications sent. Operators acknowledge or resolve it with a note, here, on a
 * phone as well as on a desk.
 */
import { api, canOperate } from '../api.ts';
import { fill, h } from '../dom.ts';
import { t } from '../i18n.ts';
import { inLang, incidentTitle, statusText, type Incident, type IncidentDetail } from '../incidents-model.ts';
import { on } from '../live.ts';
import { loadSites, siteById } from '../store.ts';
import { ago, when } from '../time.ts';
import { errorBox, stateBadge, type Cleanup, type PageContext } from '../ui.ts';

function siteLink(id: string): HTMLElement {
  const s = siteById(id);
  return h('a', { href: `#/sites/${encodeURIComponent(id)}` }, s ? `${s.name} (${id})` : id);
}

function affected(i: Incident): HTMLElement {
  const items: (HTMLElement | string)[] = [];
  if (i.siteId) {
    const s = siteById(i.siteId);
    items.push(h('li', {}, siteLink(i.siteId), ' ', s ? stateBadge(s.state) : ''));
  }
  if (i.deviceId) items.push(h('li', {}, `${t('device')}: `, h('code', {}, i.deviceId)));
  if (i.kecamatan)
    items.push(h('li', {}, `${t('kecamatan')}: ${i.kecamatan}${i.desa ? ` · ${i.desa}` : ''}`));
  for (const [k, v] of Object.entries(i.data ?? {})) {
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
      const strings = v;
      items.push(
        h(
          'li',
          {},
          `${k} (${strings.length}): `,
          ...strings.slice(0, 50).flatMap((x, n) => [n > 0 ? ', ' : '', siteById(x) ? siteLink(x) : x]),
          strings.length > 50 ? ' …' : '',
        ),
      );
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      items.push(h('li', {}, `${k}: ${v}`));
    }
  }
  return h(
    'ul',
    { class: 'affected', 'data-testid': 'affected' },
    items.length ? items : h('li', {}, t('none')),
  );
}

export async function renderIncident(view: HTMLElement, ctx: PageContext, id: string): Promise<Cleanup> {
  await loadSites();
  const root = h('section', { class: 'incident-page' });
  fill(view, root);

  async function load(): Promise<void> {
    const d = await api.get<IncidentDetail>(`/incidents/${encodeURIComponent(id)}`);
    draw(d);
  }

  function draw(d: IncidentDetail): void {
    const i = d.incident;
    const actions = h('div', { class: 'actions' });
    if (canOperate(ctx.user) && i.status !== 'resolved') {
      const note = h('textarea', { name: 'note', rows: 2, maxlength: 2000, placeholder: t('note') });
      const msg = h('p', { class: 'error', role: 'alert', hidden: true });
      const act = (what: 'ack' | 'resolve') => {
        const body = note.value.trim() ? { note: note.value.trim() } : {};
        for (const b of actions.querySelectorAll('button')) b.disabled = true;
        api.post<Incident>(`/incidents/${encodeURIComponent(id)}/${what}`, body).then(
          () => load(),
          (err: unknown) => {
            msg.hidden = false;
            msg.textContent = err instanceof Error ? err.message : String(err);
            for (const b of actions.querySelectorAll('button')) b.disabled = false;
          },
        );
      };
      fill(
        actions,
        h('label', { class: 'field' }, h('span', {}, t('note')), note),
        h(
          'div',
          { class: 'row' },
          i.status === 'open' &&
            h(
              'button',
              { type: 'button', class: 'primary big', 'data-testid': 'ack', onclick: () => act('ack') },
              t('acknowledge'),
            ),
          h(
            'button',
            { type: 'button', class: 'big', 'data-testid': 'resolve', onclick: () => act('resolve') },
            t('resolve'),
          ),
        ),
        msg,
      );
    } else if (!canOperate(ctx.user)) {
      fill(actions, h('p', { class: 'muted' }, t('viewerOnly')));
    }
    fill(
      root,
      h('p', {}, h('a', { href: '#/incidents' }, `← ${t('incidents')}`)),
      h('h1', {}, incidentTitle(i)),
      h(
        'p',
        { class: 'row' },
        h('span', { class: `pill status-${i.status}`, 'data-testid': 'status' }, statusText(i.status)),
        h('span', { class: `pill sev-${i.severity}` }, i.severity),
        h('span', { class: 'muted' }, `${t('opened')} ${when(i.openedAt)} (${ago(i.openedAt)})`),
      ),
      i.acknowledgedBy &&
        h('p', { class: 'muted' }, `${t('acknowledgedBy')} ${i.acknowledgedBy}, ${when(i.acknowledgedAt)}`),
      i.resolvedAt != null && h('p', { class: 'muted' }, `${t('resolvedAt')} ${when(i.resolvedAt)}`),
      i.state === 'recovering' &&
        i.recoveryConfirmAt != null &&
        h('p', {}, stateBadge('recovering'), ` ${t('recoveryAt')} ${when(i.recoveryConfirmAt, 'hm')}`),
      i.silenced &&
        h(
          'p',
          { class: 'muted' },
          `${t('silences')}: ${i.silenced.reason} (${when(i.silenced.until, 'short')})`,
        ),
      inLang(i.summary) && h('p', { class: 'summary' }, inLang(i.summary)),
      actions,
      h('h2', {}, t('affected')),
      affected(i),
      h('h2', {}, t('timeline')),
      h(
        'ol',
        { class: 'timeline', 'data-testid': 'timeline' },
        d.timeline.map((e) =>
          h(
            'li',
            { 'data-type': e.type },
            h('time', {}, when(e.time ?? e.timeMs)),
            ' ',
            h('strong', {}, e.type),
            e.actor && ` — ${e.actor}`,
            e.note && h('blockquote', {}, e.note),
          ),
        ),
      ),
      h('h2', {}, t('notifications')),
      d.notifications.length === 0
        ? h('p', { class: 'muted' }, t('none'))
        : h(
            'table',
            { class: 'table' },
            h(
              'thead',
              {},
              h('tr', {}, h('th', {}, t('channel')), h('th', {}, t('kind')), h('th', {}, t('sentAt'))),
            ),
            h(
              'tbody',
              {},
              d.notifications.map((n) =>
                h(
                  'tr',
                  {},
                  h('td', {}, n.channel),
                  h('td', {}, n.kind),
                  h('td', {}, when(n.sentAt ?? n.time)),
                ),
              ),
            ),
          ),
    );
  }

  try {
    await load();
  } catch (err) {
    fill(root, errorBox(err));
    return;
  }
  return on('incident', (e) => {
    if (e.id === id) void load().catch((err: unknown) => console.warn(err));
  });
}
