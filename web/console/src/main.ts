/**
 * The console's entry: who is signed in, the frame (header, navigation, language switch, live dot) and a
 * hash router that renders one page at a time. Pages are functions of (view, context) that may return a
 * cleanup, run when the next page replaces them.
 */
import { api, ApiFailure, setCsrf, whenUnauthorized, type User } from './api.ts';
import { fill, h } from './dom.ts';
import { lang, onLangChange, setLang, t, useUser, type TextKey } from './i18n.ts';
import { connect, disconnect, on } from './live.ts';
import { resetStore } from './store.ts';
import { errorBox, type Cleanup, type PageContext } from './ui.ts';
import { renderSignIn } from './pages/signin.ts';
import { renderMap } from './pages/map.ts';
import { renderIncidents } from './pages/incidents.ts';
import { renderIncident } from './pages/incident.ts';
import { renderSite } from './pages/site.ts';
import { renderMaintenance } from './pages/maintenance.ts';
import { renderReports } from './pages/reports.ts';
import { renderHealth } from './pages/health.ts';

type Page = (view: HTMLElement, ctx: PageContext, arg: string) => Cleanup | Promise<Cleanup>;

interface Route {
  readonly re: RegExp;
  readonly page: Page;
  readonly nav: string;
}
const ROUTES: readonly Route[] = [
  { re: /^\/?$|^\/map$/, page: renderMap, nav: 'map' },
  { re: /^\/incidents$/, page: renderIncidents, nav: 'incidents' },
  { re: /^\/incidents\/(.+)$/, page: renderIncident, nav: 'incidents' },
  { re: /^\/sites\/(.+)$/, page: renderSite, nav: 'map' },
  { re: /^\/maintenance$/, page: renderMaintenance, nav: 'maintenance' },
  { re: /^\/reports$/, page: renderReports, nav: 'reports' },
  { re: /^\/health$/, page: renderHealth, nav: 'health' },
];
const NAV: readonly (readonly [string, TextKey])[] = [
  ['map', 'map'],
  ['incidents', 'incidents'],
  ['maintenance', 'maintenance'],
  ['reports', 'reports'],
  ['health', 'health'],
];

const root = document.getElementById('app') as HTMLElement;
let user: User | undefined;
let cleanup: Cleanup;
let renderSeq = 0;

async function start(): Promise<void> {
  whenUnauthorized(() => {
    if (user) signedOut();
  });
  try {
    const s = await api.get<{ user: User; csrfToken: string }>('/session');
    signedIn(s.user, s.csrfToken);
  } catch (err) {
    if (!(err instanceof ApiFailure) || err.status !== 401) console.error(err);
    showSignIn();
  }
}

function showSignIn(): void {
  useUser(undefined);
  fill(root);
  renderSignIn(root, (u, csrf) => signedIn(u, csrf));
}

function signedIn(u: User, csrf: string): void {
  user = u;
  setCsrf(csrf);
  useUser(u.name);
  connect();
  frame();
  window.addEventListener('hashchange', onHash);
  void route();
}

function signedOut(): void {
  window.removeEventListener('hashchange', onHash);
  runCleanup();
  user = undefined;
  setCsrf(undefined);
  disconnect();
  resetStore();
  showSignIn();
}

async function signOut(): Promise<void> {
  try {
    await api.del('/session');
  } catch (err) {
    console.warn('sign-out', err);
  }
  signedOut();
}

let view: HTMLElement;
let navLinks = new Map<string, HTMLAnchorElement>();

function frame(): void {
  if (!user) return;
  const dot = h('span', { class: 'live-dot', 'data-live': 'no', title: t('offline') });
  on('connection', (c) => {
    dot.dataset.live = c.connected ? 'yes' : 'no';
    dot.title = c.connected ? t('live') : t('offline');
  });
  navLinks = new Map(NAV.map(([id, key]) => [id, h('a', { href: `#/${id}`, 'data-nav': id }, t(key))]));
  const langSwitch = h(
    'button',
    {
      type: 'button',
      class: 'lang',
      'data-testid': 'lang-switch',
      'aria-label': t('language'),
      onclick: () => setLang(lang() === 'id' ? 'en' : 'id'),
    },
    lang() === 'id' ? 'EN' : 'ID',
  );
  const who = h('span', { class: 'who', title: t('signedInAs') }, `${user.name} (${user.role})`);
  const out = h('button', { type: 'button', class: 'signout', onclick: () => void signOut() }, t('signOut'));
  view = h('main', { id: 'view' });
  fill(
    root,
    h(
      'header',
      { class: 'top' },
      h('a', { class: 'brand', href: '#/map' }, dot, h('span', {}, 'Badung NetMon')),
      h('nav', {}, [...navLinks.values()]),
      h('div', { class: 'me' }, langSwitch, who, out),
    ),
    view,
  );
}

onLangChange(() => {
  if (!user) {
    showSignIn();
    return;
  }
  frame();
  void route();
});

function onHash(): void {
  void route();
}

function runCleanup(): void {
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
}

async function route(): Promise<void> {
  if (!user) return;
  const hash = location.hash.replace(/^#/, '') || '/map';
  const [path = '/map', query = ''] = hash.split('?');
  const seq = ++renderSeq;
  runCleanup();
  const found = ROUTES.map((r) => ({ r, m: r.re.exec(path) })).find((x) => x.m);
  for (const [id, a] of navLinks) a.classList.toggle('active', id === found?.r.nav);
  if (!found?.m) {
    location.hash = '#/map';
    return;
  }
  const ctx: PageContext = { user, params: new URLSearchParams(query) };
  // Each render gets its own element: a page still loading when the next one starts writes into an
  // element no longer shown, never over the new page.
  const pageEl = h('div', { class: 'page' });
  fill(pageEl, h('p', { class: 'muted' }, t('loading')));
  fill(view, pageEl);
  try {
    const c = await found.r.page(pageEl, ctx, decodeURIComponent(found.m[1] ?? ''));
    if (seq !== renderSeq) {
      if (typeof c === 'function') c();
      return;
    }
    cleanup = c;
  } catch (err) {
    if (seq !== renderSeq) return;
    console.error(err);
    fill(pageEl, errorBox(err));
  }
}

void start();
