/** Pieces every page uses: the page contract, error boxes, state badges, small form helpers. */
import type { User } from './api.ts';
import { h } from './dom.ts';
import { stateText, t } from './i18n.ts';
import { markerSvg } from './states.ts';
import { when } from './time.ts';

export interface PageContext {
  readonly user: User;
  /** Query parameters of the hash (`#/map?focus=site-1`). */
  readonly params: URLSearchParams;
}
export type Cleanup = (() => void) | void;

export function errorBox(err: unknown): HTMLElement {
  const msg = err instanceof Error ? err.message : String(err);
  return h('p', { class: 'error', role: 'alert' }, `${t('error')}: ${msg}`);
}

/** The state's shape and word, as on the map. */
export function stateBadge(state: string): HTMLElement {
  const icon = h('span', { class: 'badge-icon' });
  // Our own markup from a fixed table (states.ts), no data from the API.
  icon.innerHTML = markerSvg(state, 14);
  return h('span', { class: `badge state-${state}`, 'data-state': state }, icon, stateText(state));
}

/** A device's warning beside its state: not an outage, so a pill of its own, never a state colour. */
export function warningBadge(w: { readonly kind: string; readonly since: string | number }): HTMLElement {
  const text = w.kind === 'snmp_not_answering' ? t('snmpNotAnswering') : w.kind;
  return h(
    'span',
    {
      class: 'pill warning',
      'data-warning': w.kind,
      title: `${t('snmpNotAnsweringHint')} (${t('since')} ${when(w.since, 'short')})`,
    },
    `⚠ ${text}`,
  );
}

export function field(label: string, control: HTMLElement): HTMLElement {
  return h('label', { class: 'field' }, h('span', {}, label), control);
}

export function select(
  name: string,
  options: readonly (readonly [string, string])[],
  value = '',
): HTMLSelectElement {
  const el = h('select', { name });
  for (const [v, text] of options) el.append(h('option', { value: v, selected: v === value }, text));
  return el;
}

export function sortByName<T extends { name: string }>(list: T[]): T[] {
  return list.sort((a, b) => a.name.localeCompare(b.name));
}
