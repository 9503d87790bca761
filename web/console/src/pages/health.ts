/**
 * The monitor's own health (`GET /api/v1/health`, then the live `health` event every 5 s): polls per
 * second, failures by reason, the InfluxDB write buffer, MQTT clients, and everything else it reports.
 */
import { api } from '../api.ts';
import { fill, h } from '../dom.ts';
import { t } from '../i18n.ts';
import { on, type HealthEvent } from '../live.ts';
import { when } from '../time.ts';
import { errorBox, type Cleanup, type PageContext } from '../ui.ts';

type Json = Record<string, unknown>;

/** The first value found at any of the dotted paths (the body's shape may grow; look where it may be). */
function pick(body: Json, paths: readonly string[]): unknown {
  for (const p of paths) {
    let v: unknown = body;
    for (const k of p.split('.')) v = v && typeof v === 'object' ? (v as Json)[k] : undefined;
    if (v !== undefined) return v;
  }
  return undefined;
}

function num(v: unknown): string {
  return typeof v === 'number'
    ? Number.isInteger(v)
      ? String(v)
      : v.toFixed(1)
    : v === undefined
      ? '–'
      : JSON.stringify(v);
}

function tree(v: unknown): HTMLElement | string {
  if (typeof v === 'string') return v;
  if (v === null || typeof v !== 'object') return num(v);
  if (Array.isArray(v))
    return h(
      'ul',
      {},
      v.map((x) => h('li', {}, tree(x))),
    );
  return h(
    'dl',
    { class: 'tree' },
    Object.entries(v as Json).flatMap(([k, x]) => [h('dt', {}, k), h('dd', {}, tree(x))]),
  );
}

export async function renderHealth(view: HTMLElement, _ctx: PageContext): Promise<Cleanup> {
  const root = h('section', { class: 'health-page' });
  fill(view, root);
  const draw = (body: Json) => {
    // collector/http/health-metrics.ts: `metrics` beside the health endpoint's status and details.
    const pps = pick(body, ['metrics.polls.perSecond']);
    const failures = pick(body, ['metrics.failing.byReason']);
    const failing = pick(body, ['metrics.failing.total']);
    const writer = pick(body, ['metrics.buffer', 'details.writer']);
    const mqtt = pick(body, ['metrics.mqtt.clients']);
    const overruns = pick(body, ['metrics.scheduler.overruns']);
    // Devices that answer ping while SNMP does not (monitor-service.ts): not outages, listed to be fixed.
    const warned = pick(body, ['details.warnings.devices']);
    const warnedList = Array.isArray(warned) ? (warned as { deviceId?: unknown; siteId?: unknown }[]) : [];
    const st = pick(body, ['status']);
    const status = typeof st === 'string' ? st : '?';
    fill(
      root,
      h('h1', {}, t('health')),
      h(
        'p',
        { class: 'row' },
        h('span', { class: `pill health-${status}`, 'data-testid': 'health-status' }, status),
        h('span', { class: 'muted' }, when(Date.now())),
      ),
      h(
        'div',
        { class: 'tiles' },
        h(
          'div',
          { class: 'tile', 'data-testid': 'pps' },
          h('span', {}, t('pollsPerSecond')),
          h('b', {}, num(pps)),
        ),
        h(
          'div',
          { class: 'tile', 'data-testid': 'failures' },
          h('span', {}, `${t('failuresByReason')} (${num(failing)})`),
          tree(failures ?? {}),
        ),
        h(
          'div',
          { class: 'tile', 'data-testid': 'buffer' },
          h('span', {}, t('writeBuffer')),
          tree(writer ?? {}),
        ),
        h(
          'div',
          { class: 'tile', 'data-testid': 'mqtt' },
          h('span', {}, t('mqttClients')),
          h('b', {}, num(mqtt)),
        ),
        h(
          'div',
          { class: 'tile', 'data-testid': 'overruns' },
          h('span', {}, t('lateRounds')),
          h('b', {}, num(overruns)),
        ),
        h(
          'div',
          { class: 'tile', 'data-testid': 'snmp-warnings', title: t('snmpNotAnsweringHint') },
          h('span', {}, t('snmpNotAnswering')),
          h('b', {}, num(pick(body, ['details.warnings.count']) ?? 0)),
          warnedList.length > 0 &&
            h(
              'ul',
              { class: 'plain' },
              warnedList
                .slice(0, 10)
                .map((w) =>
                  h(
                    'li',
                    {},
                    typeof w.siteId === 'string'
                      ? h('a', { href: `#/sites/${encodeURIComponent(w.siteId)}` }, String(w.deviceId))
                      : String(w.deviceId),
                  ),
                ),
            ),
        ),
      ),
      h('details', {}, h('summary', {}, t('details')), tree(body)),
    );
  };
  try {
    draw(await api.get<Json>('/health'));
  } catch (err) {
    fill(root, errorBox(err));
  }
  return on('health', (e: HealthEvent) => draw(e as Json));
}
