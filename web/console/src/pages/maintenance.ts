/**
 * Maintenance windows and silences: the lists, a form for each (scope by sites, category, kecamatan or
 * desa, with a live preview of how many sites and devices the scope covers: `POST /api/v1/scope/preview`)
 * and delete. Viewers see the lists only.
 */
import { api, canOperate } from '../api.ts';
import { fill, h } from '../dom.ts';
import { categoryText, CATEGORY_TEXT, t } from '../i18n.ts';
import { scopeCoversSite, scopeText, type Scope } from '../scope.ts';
import { allSites, loadSites } from '../store.ts';
import { localInputToIso, msToLocalInput, when } from '../time.ts';
import { errorBox, field, select, type Cleanup, type PageContext } from '../ui.ts';

interface MaintenanceWindow {
  readonly id: string;
  readonly name: string;
  readonly scope: Scope;
  readonly schedule: {
    kind: 'once' | 'weekly';
    startMs?: number | string;
    endMs?: number | string;
    start?: string;
    end?: string;
    days?: string[];
    at?: string;
    durationMs?: number;
    duration?: number;
  };
  readonly source?: 'config' | 'api';
  readonly createdBy?: string | null;
  readonly reason?: string | null;
}
interface Silence {
  readonly id: string;
  readonly scope: Scope;
  readonly startsAt: string | number;
  readonly endsAt: string | number;
  readonly createdBy: string;
  readonly comment: string;
}
interface Preview {
  readonly sites: number;
  readonly devices: number;
  readonly sample?: readonly string[];
}

type ScopeKind = 'sites' | 'categories' | 'kecamatan' | 'desa';

function scheduleText(s: MaintenanceWindow['schedule']): string {
  if (s.kind === 'once') return `${when(s.startMs ?? s.start, 'short')} → ${when(s.endMs ?? s.end, 'short')}`;
  const hours = ((s.durationMs ?? s.duration ?? 0) / 3_600_000).toFixed(1).replace(/\.0$/, '');
  return `${(s.days ?? []).join(', ') || '*'} ${s.at ?? ''} (${hours} h)`;
}

/** The scope picker: a kind and its values; calls `changed` with the scope whenever either changes. */
function scopePicker(changed: (scope: Scope | undefined) => void): {
  el: HTMLElement;
  scope: () => Scope | undefined;
} {
  const sites = allSites();
  const kind = select(
    'scopeKind',
    [
      ['kecamatan', t('kecamatan')],
      ['categories', t('category')],
      ['desa', t('desa')],
      ['sites', t('sites')],
    ],
    'kecamatan',
  );
  const holder = h('div', { class: 'scope-values' });
  let values: () => string[] = () => [];
  const multi = (name: string, options: readonly (readonly [string, string])[]) => {
    const el = h('select', { name, multiple: true, size: Math.max(3, Math.min(8, options.length)) });
    for (const [v, text] of options) el.append(h('option', { value: v }, text));
    el.addEventListener('change', () => changed(scope()));
    values = () => [...el.selectedOptions].map((o) => o.value);
    return el;
  };
  const drawValues = () => {
    const k = kind.value as ScopeKind;
    if (k === 'sites') {
      const list = h(
        'datalist',
        { id: 'site-ids' },
        sites.map((s) => h('option', { value: s.id }, s.name)),
      );
      const input = h('input', {
        name: 'scopeSites',
        list: 'site-ids',
        placeholder: 'pkm-petang-i, kds-sangeh',
      });
      input.addEventListener('input', () => changed(scope()));
      values = () =>
        input.value
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
      fill(holder, field(t('values'), input), list);
    } else if (k === 'categories') {
      fill(
        holder,
        multi(
          'scopeCategories',
          Object.keys(CATEGORY_TEXT).map((c) => [c, categoryText(c)] as const),
        ),
      );
    } else if (k === 'kecamatan') {
      fill(
        holder,
        multi(
          'scopeKecamatan',
          [...new Set(sites.map((s) => s.kecamatan))].sort().map((v) => [v, v] as const),
        ),
      );
    } else {
      fill(
        holder,
        multi(
          'scopeDesa',
          [...new Set(sites.map((s) => s.desa))].sort().map((v) => [v, v] as const),
        ),
      );
    }
    changed(scope());
  };
  const scope = (): Scope | undefined => {
    const v = values();
    return v.length === 0 ? undefined : { [kind.value as ScopeKind]: v };
  };
  kind.addEventListener('change', drawValues);
  const el = h('fieldset', {}, h('legend', {}, t('scope')), field(t('scopeBy'), kind), holder);
  drawValues();
  return { el, scope };
}

/** Shows what a scope covers, from the monitor (the same matching as alerting), as the form changes. */
function previewBox(): { el: HTMLElement; update: (s: Scope | undefined) => void } {
  const el = h('p', { class: 'preview', 'data-testid': 'preview', 'aria-live': 'polite' });
  let seq = 0;
  let timer: number | undefined;
  const update = (scope: Scope | undefined) => {
    clearTimeout(timer);
    const mine = ++seq;
    if (!scope) {
      el.textContent = '';
      delete el.dataset.sites;
      return;
    }
    timer = window.setTimeout(() => {
      api.post<Preview>('/scope/preview', scope).then(
        (p) => {
          if (mine !== seq) return;
          el.dataset.sites = String(p.sites);
          el.textContent =
            t('previewCovers', { n: p.sites, d: p.devices }) +
            (p.sample?.length ? `: ${p.sample.join(', ')}…` : '');
        },
        (err: unknown) => {
          if (mine !== seq) return;
          // The monitor could not say (an older back end): count what this page knows, and say so.
          const n = allSites().filter((s) => scopeCoversSite(scope, s)).length;
          el.dataset.sites = String(n);
          el.textContent = `${t('previewCovers', { n, d: '?' })} (${err instanceof Error ? err.message : ''})`;
        },
      );
    }, 200);
  };
  return { el, update };
}

export async function renderMaintenance(view: HTMLElement, ctx: PageContext): Promise<Cleanup> {
  await loadSites();
  const operator = canOperate(ctx.user);
  const windowsList = h('ul', { class: 'plain', 'data-testid': 'windows' });
  const silencesList = h('ul', { class: 'plain', 'data-testid': 'silences' });

  async function load(): Promise<void> {
    const [m, s] = await Promise.all([
      api.get<{ maintenance: MaintenanceWindow[] }>('/maintenance'),
      api.get<{ silences: Silence[] }>('/silences'),
    ]);
    const del = (path: string, name: string) =>
      operator &&
      h(
        'button',
        {
          type: 'button',
          class: 'danger small',
          'data-testid': 'delete',
          onclick: () => {
            if (!confirm(t('confirmDelete', { x: name }))) return;
            api.del(path).then(
              () => load(),
              (err: unknown) => alert(err instanceof Error ? err.message : String(err)),
            );
          },
        },
        t('delete'),
      );
    fill(
      windowsList,
      m.maintenance.length === 0
        ? h('li', { class: 'muted' }, t('none'))
        : m.maintenance.map((w) =>
            h(
              'li',
              { 'data-window': w.id, class: 'card' },
              h('strong', {}, w.name),
              h('span', {}, scheduleText(w.schedule)),
              h('span', { class: 'muted' }, scopeText(w.scope)),
              w.reason && h('span', {}, w.reason),
              h(
                'span',
                { class: 'muted' },
                w.source === 'config' ? t('fromConfig') : `${t('createdBy')} ${w.createdBy ?? '?'}`,
              ),
              w.source !== 'config' && del(`/maintenance/${encodeURIComponent(w.id)}`, w.name),
            ),
          ),
    );
    fill(
      silencesList,
      s.silences.length === 0
        ? h('li', { class: 'muted' }, t('none'))
        : s.silences.map((x) =>
            h(
              'li',
              { 'data-silence': x.id, class: 'card' },
              h('strong', {}, x.comment),
              h('span', {}, `${when(x.startsAt, 'short')} → ${when(x.endsAt, 'short')}`),
              h('span', { class: 'muted' }, `${scopeText(x.scope)} · ${t('createdBy')} ${x.createdBy}`),
              del(`/silences/${encodeURIComponent(x.id)}`, x.comment),
            ),
          ),
    );
  }

  const forms: HTMLElement[] = [];
  if (operator) forms.push(maintenanceForm(load), silenceForm(load));
  fill(
    view,
    h(
      'section',
      { class: 'maintenance-page' },
      h('h1', {}, t('maintenance')),
      h(
        'div',
        { class: 'two' },
        h('div', {}, h('h2', {}, t('windows')), windowsList),
        h('div', {}, h('h2', {}, t('silences')), silencesList),
      ),
      operator ? h('div', { class: 'two' }, forms) : h('p', { class: 'muted' }, t('viewerOnly')),
    ),
  );
  try {
    await load();
  } catch (err) {
    fill(windowsList, h('li', {}, errorBox(err)));
  }
}

function maintenanceForm(reload: () => Promise<void>): HTMLElement {
  const preview = previewBox();
  const picker = scopePicker(preview.update);
  const now = Date.now();
  const name = h('input', { name: 'name', required: true, maxlength: 100 });
  const start = h('input', {
    name: 'start',
    type: 'datetime-local',
    required: true,
    value: msToLocalInput(now + 3600_000),
  });
  const end = h('input', {
    name: 'end',
    type: 'datetime-local',
    required: true,
    value: msToLocalInput(now + 3 * 3600_000),
  });
  const reason = h('input', { name: 'reason', maxlength: 500 });
  const msg = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'card', 'data-testid': 'maintenance-form' },
    h('h2', {}, t('newWindow')),
    field(t('name'), name),
    picker.el,
    preview.el,
    field(t('start'), start),
    field(t('end'), end),
    field(t('reason'), reason),
    h('button', { type: 'submit', class: 'primary' }, t('create')),
    msg,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    msg.hidden = true;
    const scope = picker.scope();
    const s = localInputToIso(start.value);
    const e = localInputToIso(end.value);
    if (!scope || !s || !e) {
      msg.hidden = false;
      msg.textContent = `${t('scope')} / ${t('schedule')}?`;
      return;
    }
    const body = {
      name: name.value.trim(),
      scope,
      schedule: { kind: 'once', start: s, end: e },
      ...(reason.value.trim() ? { reason: reason.value.trim() } : {}),
    };
    api.post<MaintenanceWindow>('/maintenance', body).then(
      () => {
        form.reset();
        preview.update(undefined);
        return reload();
      },
      (err: unknown) => {
        msg.hidden = false;
        msg.textContent = err instanceof Error ? err.message : String(err);
      },
    );
  });
  return form;
}

function silenceForm(reload: () => Promise<void>): HTMLElement {
  const preview = previewBox();
  const picker = scopePicker(preview.update);
  const duration = select(
    'duration',
    [
      ['1h', '1 h'],
      ['2h', '2 h'],
      ['4h', '4 h'],
      ['8h', '8 h'],
      ['1d', '24 h'],
    ],
    '2h',
  );
  const comment = h('input', { name: 'comment', required: true, maxlength: 500 });
  const msg = h('p', { class: 'error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { class: 'card', 'data-testid': 'silence-form' },
    h('h2', {}, t('newSilence')),
    picker.el,
    preview.el,
    field(t('duration'), duration),
    field(t('comment'), comment),
    h('button', { type: 'submit', class: 'primary' }, t('create')),
    msg,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    msg.hidden = true;
    const scope = picker.scope();
    if (!scope) {
      msg.hidden = false;
      msg.textContent = `${t('scope')}?`;
      return;
    }
    api.post<Silence>('/silences', { scope, duration: duration.value, comment: comment.value.trim() }).then(
      () => {
        form.reset();
        preview.update(undefined);
        return reload();
      },
      (err: unknown) => {
        msg.hidden = false;
        msg.textContent = err instanceof Error ? err.message : String(err);
      },
    );
  });
  return form;
}
