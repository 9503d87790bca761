/**
 * Severity, routing and clocks on fake time: a puskesmas outage pages the first contact only; two hours
 * unacknowledged, the clock is breached (recorded) and the next contact is told; acknowledged in time,
 * nothing escalates. The incidents are in a real (in-memory) SQLite store.
 */
import { describe, expect, it } from 'vitest';
import { Monitor } from '../../../collector/monitor.ts';
import { FakeClock } from '../../../collector/core/clock.ts';
import { memoryLogger } from '../../../collector/core/log.ts';
import {
  DEFAULT_CLOCKS,
  channelsUpTo,
  escalationChain,
  readClock,
  severityOf,
  type OnCallPolicy,
} from '../../../collector/alerting/oncall.ts';
import { IncidentStore } from '../../../collector/store/incident-store.ts';
import { smallInventory } from '../../support/fixtures.ts';
import { ScriptedPoller, RecordingChannel, advance, flush } from '../../support/monitor-fakes.ts';

const HOUR = 3600_000;
const policy: OnCallPolicy = {
  severityByCategory: { banjar: 'medium' },
  clocksMs: DEFAULT_CLOCKS,
  contacts: [
    { name: 'noc', channels: ['tg-noc'] },
    { name: 'head', channels: ['mail-head'] },
    { name: 'everyone', channels: ['tg-noc', 'mail-head', 'hook'] },
  ],
  routes: [
    { match: { severities: ['critical'] }, escalation: ['noc', 'head'] },
    { match: { kecamatan: ['Petang'] }, escalation: ['noc'] },
    { match: {}, escalation: ['everyone'] },
  ],
};

describe('on-call policy (pure)', () => {
  it('severity: the per-category override, else the site its criticality', () => {
    expect(severityOf(policy, { category: 'banjar', criticality: 'low' })).toBe('medium');
    expect(severityOf(policy, { category: 'puskesmas', criticality: 'critical' })).toBe('critical');
    expect(severityOf(policy, { category: 'sd', criticality: 'high' })).toBe('high');
  });

  it('routes: first match wins; a rule naming kecamatan does not match an incident without one', () => {
    const chain = (i: Parameters<typeof escalationChain>[1]) =>
      escalationChain(policy, i)?.map((c) => c.name);
    expect(chain({ kind: 'device_down', severity: 'critical', kecamatan: 'Kuta' })).toEqual(['noc', 'head']);
    expect(chain({ kind: 'device_down', severity: 'low', kecamatan: 'Petang' })).toEqual(['noc']);
    expect(chain({ kind: 'area_outage', severity: 'low' })).toEqual(['everyone']);
    expect(escalationChain({ ...policy, routes: [] }, { kind: 'x', severity: 'low' })).toBeUndefined();
    expect(
      escalationChain(
        { ...policy, routes: [{ match: { kinds: ['y'] }, escalation: ['noc'] }] },
        { kind: 'x', severity: 'low' },
      ),
    ).toEqual([]);
    expect(channelsUpTo(policy, { kind: 'device_down', severity: 'critical' }, 1)).toEqual([
      'tg-noc',
      'mail-head',
    ]);
  });

  it('clocks: 2 h critical, 24 h the rest; one level per clock period', () => {
    const opened = 1_000_000;
    expect(readClock(policy, { severity: 'critical', openedAt: opened }, opened + 2 * HOUR - 1)).toEqual({
      deadlineMs: opened + 2 * HOUR,
      breached: false,
      level: 0,
      nextMs: opened + 2 * HOUR,
    });
    expect(readClock(policy, { severity: 'critical', openedAt: opened }, opened + 2 * HOUR).level).toBe(1);
    expect(readClock(policy, { severity: 'critical', openedAt: opened }, opened + 4 * HOUR).level).toBe(2);
    expect(readClock(policy, { severity: 'low', openedAt: opened }, opened + 23 * HOUR).breached).toBe(false);
    expect(readClock(policy, { severity: 'low', openedAt: opened }, opened + 24 * HOUR).breached).toBe(true);
  });
});

async function harness() {
  const clock = new FakeClock(Date.UTC(2026, 10, 22, 2, 0));
  const poller = new ScriptedPoller(clock);
  const store = new IncidentStore(':memory:');
  const tg = new RecordingChannel('tg-noc');
  const mail = new RecordingChannel('mail-head');
  const hook = new RecordingChannel('hook');
  const monitor = new Monitor(
    {
      clock,
      log: memoryLogger('warn'),
      inventory: smallInventory(),
      poller,
      writer: {
        push: () => undefined,
        start: () => Promise.resolve(),
        stop: () => Promise.resolve(),
        stats: () => ({ written: 0, buffered: 0, dropped: 0, invalid: 0, failures: 0 }),
      },
      notifiers: [tg, mail, hook],
      store,
    },
    {
      intervalMs: 60_000,
      jitterMs: 0,
      concurrency: 8,
      downAfterFailures: 2,
      recheckMs: 10_000,
      selfMetricsMs: 600_000,
      oncall: policy,
      clockCheckMs: 60_000,
    },
  );
  await monitor.start();
  await advance(clock, 120_000);
  // The puskesmas router goes (its APs and the banjar behind it with it).
  for (const id of ['pkm-petang-1-r1', 'pkm-petang-1-ap1', 'pkm-petang-1-ap2', 'bjr-pelaga-1-r1'])
    poller.cut.add(id);
  await advance(clock, 180_000);
  const incident = store.unresolved()[0];
  if (!incident) throw new Error('no incident opened');
  return { clock, poller, store, tg, mail, hook, monitor, incident };
}

describe('Monitor: routing, clocks and escalation', () => {
  it('critical and unacknowledged for 2 h: breach recorded once, the next contact told, recovery to both', async () => {
    const h = await harness();
    expect(h.incident.severity).toBe('critical');
    expect(h.tg.sent.map((n) => n.status)).toEqual(['firing']);
    expect(h.mail.sent).toEqual([]);
    expect(h.hook.sent).toEqual([]);

    await advance(h.clock, 2 * HOUR);
    const esc = h.mail.sent.filter((n) => n.escalation);
    expect(esc).toHaveLength(1);
    expect(esc[0]?.escalation?.level).toBe(1);
    expect(esc[0]?.text.id).toMatch(/^\[ESKALASI 1 → head\] Belum ditanggapi dalam 2 jam 0 menit/);
    expect(esc[0]?.text.en).toMatch(/^\[ESCALATION 1 → head\] Not acknowledged within 2 h 0 min/);
    const stored = h.store.get(h.incident.id);
    expect(stored?.clockBreachedAt).toBe(h.incident.openedAt + 2 * HOUR);
    expect(stored?.escalationLevel).toBe(1);
    // The chain ends at 'head': more time brings no more messages, and the breach is recorded once.
    await advance(h.clock, 5 * HOUR, 600_000);
    expect(h.mail.sent).toHaveLength(1);
    expect(h.tg.sent).toHaveLength(1);
    const types = h.store.timeline(h.incident.id).map((e) => e.type);
    expect(types.filter((t) => t === 'clock_breached')).toHaveLength(1);
    expect(types.filter((t) => t === 'escalated:1')).toHaveLength(1);

    h.poller.cut.clear();
    await advance(h.clock, 180_000);
    expect(h.tg.sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
    expect(h.mail.sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
    expect(h.hook.sent).toEqual([]);
    await h.monitor.stop();
  });

  it('acknowledged in time: no breach, no escalation; ack twice is a conflict; resolve by hand pages the recovery', async () => {
    const h = await harness();
    const ack = h.monitor.acknowledge(h.incident.id, 'wayan', 'on my way to Petang');
    expect(ack.outcome).toBe('ok');
    expect(h.monitor.acknowledge(h.incident.id, 'made', undefined)).toMatchObject({ outcome: 'conflict' });
    expect(h.monitor.acknowledge('nope', 'made', undefined)).toEqual({ outcome: 'not_found' });
    await advance(h.clock, 6 * HOUR, 600_000);
    expect(h.mail.sent).toEqual([]);
    expect(h.store.get(h.incident.id)?.clockBreachedAt).toBeUndefined();

    const res = h.monitor.resolveByHand(h.incident.id, 'wayan', 'genset replaced, link checked');
    expect(res).toMatchObject({ outcome: 'ok', incident: { status: 'resolved' } });
    await flush();
    expect(h.tg.sent.map((n) => n.status)).toEqual(['firing', 'resolved']);
    expect(h.monitor.resolveByHand(h.incident.id, 'wayan', undefined)).toMatchObject({ outcome: 'conflict' });
    const tl = h.store.timeline(h.incident.id);
    expect(tl.find((e) => e.type === 'acknowledged')).toMatchObject({
      actor: 'wayan',
      note: 'on my way to Petang',
    });
    expect(tl.find((e) => e.type === 'resolved')).toMatchObject({ actor: 'wayan' });
    await h.monitor.stop();
  });
});
