/** Stage 5, routing: the channels a notice goes to, by kind, severity, category, kecamatan and level. */
import { describe, expect, it } from 'vitest';
import type { OnCallPolicy } from '../../../../collector/alerting/oncall.ts';
import { DEFAULT_CLOCKS } from '../../../../collector/alerting/oncall.ts';
import { RoutingStage, routeOf } from '../../../../collector/alerting/stages/routing.ts';
import type { Notice } from '../../../../collector/alerting/stages/stage.ts';
import { testSite } from '../../../support/fixtures.ts';
import { alertOf, runStage } from './notices.ts';

const oncall: OnCallPolicy = {
  severityByCategory: {},
  clocksMs: DEFAULT_CLOCKS,
  contacts: [
    { name: 'noc', channels: ['telegram:noc'] },
    { name: 'kadis', channels: ['email:kadis'] },
    { name: 'petang', channels: ['whatsapp:petang'] },
    { name: 'bpbd', channels: ['webhook:bpbd'] },
  ],
  routes: [
    { match: { kinds: ['area_outage'] }, escalation: ['bpbd'] },
    { match: { kinds: ['flapping'] }, escalation: ['noc'] },
    { match: { severities: ['critical'] }, escalation: ['noc', 'kadis'] },
    { match: { kecamatan: ['Petang'] }, escalation: ['petang', 'noc'] },
  ],
};
const sites = new Map([
  ['pkm', testSite('pkm', { category: 'puskesmas', criticality: 'critical' })],
  ['bjr', testSite('bjr', { kecamatan: 'Petang' })],
  ['mgw', testSite('mgw', { kecamatan: 'Mengwi' })],
]);
const levels = new Map([['bjr-r1@t0', 1]]);

function stage(policy: OnCallPolicy = oncall) {
  return new RoutingStage({
    oncall: policy,
    siteOf: (id) => sites.get(id),
    levelOf: (id) => levels.get(id) ?? 0,
  });
}

const notice = (
  kind: 'page' | 'flapping',
  site: string,
  over: Parameters<typeof alertOf>[2] = {},
): Notice => ({
  kind,
  alert: alertOf(`${site}-r1`, site, { severity: sites.get(site)?.criticality ?? 'low', ...over }),
  timeMs: 0,
});
const area: Notice = {
  kind: 'area',
  timeMs: 0,
  incident: { id: 'a', status: 'firing', kecamatan: 'Petang', startedAt: 0, sites: [], totalSites: 9 },
};

describe('RoutingStage', () => {
  it.each([
    ['a critical page', notice('page', 'pkm'), ['telegram:noc']],
    ['a page in Petang', notice('page', 'bjr'), ['whatsapp:petang']],
    // A recovery goes to everyone the outage reached (bjr's incident escalated to level 1).
    [
      'a recovery escalated once',
      notice('page', 'bjr', { status: 'resolved' }),
      ['whatsapp:petang', 'telegram:noc'],
    ],
    ['a recovery not escalated', notice('page', 'pkm', { status: 'resolved' }), ['telegram:noc']],
    ['a flapping notice', notice('flapping', 'bjr', { flaps: 2 }), ['telegram:noc']],
    ['a page no route matches', notice('page', 'mgw'), []],
    ['an area outage', area, ['webhook:bpbd']],
  ] as const)('%s goes to %o', (_what, n, channels) => {
    const out = runStage(stage(), n);
    expect(out).toHaveLength(1);
    expect(out[0]?.to?.channels).toEqual(channels);
  });

  it('without routes, every channel (channels undefined)', () => {
    const out = runStage(stage({ ...oncall, routes: [] }), notice('page', 'pkm'));
    expect(out[0]?.to).toEqual({ channels: undefined });
  });

  it('routeOf: an area has no category', () => {
    expect(routeOf('area_outage', 'critical', { kecamatan: 'Petang' })).toEqual({
      kind: 'area_outage',
      severity: 'critical',
      category: undefined,
      kecamatan: 'Petang',
    });
  });
});
