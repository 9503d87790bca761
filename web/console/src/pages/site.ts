/**
 * A site's page: what it is, its devices and their states (live), its last 24 h (state, traffic,
 * clients: `GET /api/v1/sites/:id/history`), its incidents and the maintenance windows that cover it.
 */
import { api } from '../api.ts';
import { lines, stateStrip, type TimeRange } from '../chart.ts';
import { fill, h } from '../dom.ts';
import { categoryText, t } from '../i18n.ts';
import { incidentTitle, statusText, type Incident } from '../incidents-model.ts';
import { scopeCoversSite, scopeText, type Scope } from '../scope.ts';
import { loadSites, onSiteChange, siteById, type SiteView } from '../store.ts';
import { ago, toMs, when } from '../time.ts';
import { errorBox, stateBadge, warningBadge, type Cleanup, type PageContext } from '../ui.ts';

interface History {
  readonly siteId: string;
  readonly from: string | number;
  readonly to: string | number;
  readonly state: readonly { time: string | number; state: string }[];
  readonly devices: readonly {
    id: string;
    role: string;
    state: readonly { time: string | number; state: string }[];
  }[];
  readonly traffic: readonly { time: string | number; inBps: number | null; outBps: number | null }[];
  readonly clients: readonly { time: string | number; count: number | null }[];
}

interface Window {
  readonly id: string;
  readonly name: string;
  readonly scope: Scope;
  readonly schedule: Record<string, unknown>;
  readonly reason?: string | null;
}

function devicesTable(s: SiteView): HTMLElement {
  return h(
    'table',
    { class: 'table', 'data-testid': 'devices' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, t('device')),
        h('th', {}, t('role')),
        h('th', {}, t('state')),
        h('th', {}, t('since')),
      ),
    ),
    h(
      'tbody',
      {},
      s.devices.map((d) =>
        h(
          'tr',
          { 'data-device': d.id },
          h('td', {}, h('code', {}, d.id)),
          h('td', {}, d.role),
          h('td', {}, stateBadge(d.state), d.warning ? [' ', warningBadge(d.warning)] : []),
          h('td', {}, when(d.since, 'short')),
        ),
      ),
    ),
  );
}

/** "2 devices: SNMP not answering" under the site's state (it is not part of the state), or nothing. */
function warnedLine(s: SiteView): HTMLElement | false {
  const n = s.devices.filter((d) => d.warning).length;
  return (
    n > 0 &&
    h(
      'p',
      { class: 'row', 'data-testid': 'site-warnings', title: t('snmpNotAnsweringHint') },
      h('span', { class: 'pill warning' }, `⚠ ${t('devicesWarned', { n })}`),
    )
  );
}

export async function renderSite(view: HTMLElement, _ctx: PageContext, id: string): Promise<Cleanup> {
  await loadSites();
  const site = siteById(id);
  if (!site) {
    fill(view, errorBox(new Error(`${t('site')} '${id}'?`)));
    return;
  }
  const head = h('div', {});
  const devices = h('div', {});
  const history = h(
    'div',
    { class: 'history', 'data-testid': 'history' },
    h('p', { class: 'muted' }, t('loading')),
  );
  const incidents = h('ul', { class: 'incident-list', 'data-testid': 'site-incidents' });
  const windows = h('ul', { class: 'plain', 'data-testid': 'site-windows' });
  const drawHead = (s: SiteView) => {
    fill(
      head,
      h('p', {}, h('a', { href: `#/map?focus=${encodeURIComponent(s.id)}` }, `← ${t('map')}`)),
      h('h1', {}, s.name),
      h(
        'p',
        { class: 'row' },
        stateBadge(s.state),
        h(
          'span',
          { class: 'muted' },
          s.since != null ? `${t('since')} ${when(s.since)} (${ago(s.since)})` : '',
        ),
      ),
      s.recoveryConfirmAt != null &&
        h('p', { class: 'muted' }, `${t('recoveryAt')} ${when(s.recoveryConfirmAt, 'hm')}`),
      warnedLine(s),
      h('p', { class: 'muted' }, `${categoryText(s.category)} · ${s.desa} · ${s.kecamatan} · ${s.id}`),
    );
    fill(devices, h('h2', {}, t('devices')), devicesTable(s));
  };
  drawHead(site);
  fill(
    view,
    h(
      'section',
      { class: 'site-page' },
      head,
      devices,
      h('h2', {}, t('last24h')),
      history,
      h('h2', {}, t('incidents')),
      incidents,
      h('h2', {}, t('windows')),
      windows,
    ),
  );

  const stop = onSiteChange((s) => {
    if (s.id === id) drawHead(s);
  });

  const enc = encodeURIComponent(id);
  await Promise.all([
    api.get<History>(`/sites/${enc}/history?hours=24`).then(
      (hist) => {
        const r: TimeRange = {
          from: toMs(hist.from) ?? Date.now() - 86_400_000,
          to: toMs(hist.to) ?? Date.now(),
        };
        fill(
          history,
          stateStrip(hist.state, r, t('stateHistory')),
          ...hist.devices.map((d) => stateStrip(d.state, r, `${d.id} (${d.role})`)),
          hist.traffic.length === 0
            ? h('p', { class: 'muted' }, `${t('traffic')}: ${t('noData')}`)
            : lines(
                [
                  {
                    name: 'in',
                    colour: '#0072B2',
                    points: hist.traffic.map((p) => ({
                      time: p.time,
                      v: p.inBps == null ? NaN : p.inBps / 1e6,
                    })),
                  },
                  {
                    name: 'out',
                    colour: '#D55E00',
                    points: hist.traffic.map((p) => ({
                      time: p.time,
                      v: p.outBps == null ? NaN : p.outBps / 1e6,
                    })),
                  },
                ],
                r,
                t('traffic'),
                'Mbit/s',
              ),
          hist.clients.length === 0
            ? h('p', { class: 'muted' }, `${t('clients')}: ${t('noData')}`)
            : lines(
                [
                  {
                    name: 'clients',
                    colour: '#009E73',
                    points: hist.clients.map((p) => ({ time: p.time, v: p.count ?? NaN })),
                  },
                ],
                r,
                t('clients'),
                '',
              ),
        );
      },
      (err: unknown) => fill(history, errorBox(err)),
    ),
    api
      .get<{ incidents: Incident[] }>(`/incidents?site=${enc}&status=open,acknowledged,resolved&limit=20`)
      .then(
        (r) =>
          fill(
            incidents,
            r.incidents.length === 0
              ? h('li', { class: 'muted' }, t('none'))
              : r.incidents.map((i) =>
                  h(
                    'li',
                    {},
                    h(
                      'a',
                      {
                        class: `incident-card status-${i.status}`,
                        href: `#/incidents/${encodeURIComponent(i.id)}`,
                      },
                      h(
                        'span',
                        { class: 'row' },
                        h('span', { class: `pill status-${i.status}` }, statusText(i.status)),
                        h('span', { class: 'muted' }, when(i.openedAt, 'short')),
                      ),
                      h('strong', {}, incidentTitle(i)),
                    ),
                  ),
                ),
          ),
        (err: unknown) => fill(incidents, h('li', {}, errorBox(err))),
      ),
    api.get<{ maintenance: Window[] }>('/maintenance').then(
      (r) => {
        const mine = r.maintenance.filter((w) => scopeCoversSite(w.scope, site));
        fill(
          windows,
          mine.length === 0
            ? h('li', { class: 'muted' }, t('none'))
            : mine.map((w) =>
                h(
                  'li',
                  {},
                  h('strong', {}, w.name),
                  ` — ${scopeText(w.scope)}`,
                  w.reason ? ` (${w.reason})` : '',
                ),
              ),
        );
      },
      (err: unknown) => fill(windows, h('li', {}, errorBox(err))),
    ),
  ]);
  return stop;
}
