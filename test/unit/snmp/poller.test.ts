/**
 * SnmpPoller over a fake transport (faults on cue: replies dropped above a size, a dead agent), for what
 * the integration tests cannot time: how the learned GETBULK repetitions move between polls.
 */
import { describe, expect, it } from 'vitest';
import { SnmpError } from '../../../collector/core/errors.ts';
import { Secret } from '../../../collector/core/secret.ts';
import type { Device } from '../../../collector/core/types.ts';
import { REGROW_AFTER_POLLS, SnmpPoller } from '../../../collector/sources/snmp/poller.ts';
import type { SnmpClient, VarBind } from '../../../collector/sources/snmp/session.ts';
import { compareOids, walkSubtree } from '../../../collector/sources/snmp/walk.ts';
import { parseProfiles } from '../../../config/profiles.ts';

const profiles = parseProfiles([
  {
    file: 'tiny.yaml',
    text: [
      'scalars: { sysUpTime: 1.3.6.1.2.1.1.3.0 }',
      'interfaces:',
      '  descr: 1.3.6.1.2.1.2.2.1.2',
      '  inOctets: 1.3.6.1.2.1.2.2.1.10',
      '',
    ].join('\n'),
  },
]);
const ROWS = 40;
function mib(rows: number): VarBind[] {
  return [
    ...Array.from({ length: rows }, (_, i) => ({
      oid: `1.3.6.1.2.1.2.2.1.2.${i + 1}`,
      type: 'OctetString' as const,
      value: Buffer.from(`ether${i + 1}`),
    })),
    ...Array.from({ length: rows }, (_, i) => ({
      oid: `1.3.6.1.2.1.2.2.1.10.${i + 1}`,
      type: 'Counter32' as const,
      value: 1000 * (i + 1),
    })),
  ].sort((a, b) => compareOids(a.oid, b.oid));
}

const SYS_UPTIME: VarBind = { oid: '1.3.6.1.2.1.1.3.0', type: 'TimeTicks', value: 4242 };

/** An agent whose replies are lost when they would carry more than `limit` varbinds. */
class FakeAgent implements SnmpClient {
  limit = Infinity;
  dead = false;
  bulkSizes: number[] = [];
  /** Every request: 'get', or 'bulk' with its non-repeaters. */
  requests: string[] = [];
  readonly #mib: VarBind[];
  constructor(rows: number) {
    this.#mib = [SYS_UPTIME, ...mib(rows)];
  }
  get(oids: readonly string[]): Promise<VarBind[]> {
    this.requests.push('get');
    if (this.dead)
      return Promise.reject(new SnmpError('timeout', 'no response (timeout)', { retryable: true }));
    return Promise.resolve(oids.map((oid) => ({ oid, type: 'TimeTicks' as const, value: 4242 })));
  }
  getBulk(oids: readonly string[], nr: number, reps: number): Promise<VarBind[][]> {
    this.bulkSizes.push(reps);
    this.requests.push(`bulk/${nr}`);
    if (this.dead || nr + (oids.length - nr) * reps > this.limit)
      return Promise.reject(new SnmpError('timeout', 'no response (timeout)', { retryable: true }));
    const next = (start: string, n: number): VarBind[] => {
      const after = this.#mib.filter((vb) => compareOids(vb.oid, start) > 0).slice(0, n);
      while (after.length < n) after.push({ oid: start, type: 'endOfMibView', value: null });
      return after;
    };
    // RFC 3416 4.2.3: a GETNEXT for each non-repeater, `reps` of them for each repeater.
    return Promise.resolve(oids.map((start, i) => next(start, i < nr ? 1 : reps)));
  }
  bulkWalk(base: string, reps: number): Promise<VarBind[]> {
    return walkSubtree(this, base, { maxRepetitions: reps });
  }
  close(): void {}
}

const device: Device = {
  id: 'r1',
  siteId: 's1',
  role: 'router',
  host: '192.0.2.1',
  port: 161,
  profile: 'tiny',
  snmp: { version: '2c', community: new Secret('public') },
};

function setup(maxRepetitions = 16, rows = ROWS) {
  const agent = new FakeAgent(rows);
  const poller = new SnmpPoller({
    timeoutMs: 100,
    retries: 0,
    maxRepetitions,
    profiles,
    openClient: () => agent,
  });
  return { agent, poller };
}

describe('SnmpPoller repetitions', () => {
  it('learns the repetitions that fit and starts the next poll there', async () => {
    const { agent, poller } = setup(16);
    agent.limit = 8; // 2 columns x 4 repetitions
    const first = await poller.pollDetailed(device);
    expect(first.fallbacks).toBe(2); // 16 → 8 → 4
    expect(first.repetitions).toBe(4);
    expect(first.reading.interfaces).toHaveLength(ROWS);
    expect(first.reading.interfaces[ROWS - 1]).toMatchObject({ name: `ether${ROWS}`, inOctets: 40_000n });
    agent.bulkSizes = [];
    const second = await poller.pollDetailed(device);
    expect(second.fallbacks).toBe(0);
    expect(new Set(agent.bulkSizes)).toEqual(new Set([4]));
  });

  it(`tries twice as many again after ${REGROW_AFTER_POLLS} clean polls, up to the configured maximum`, async () => {
    const { agent, poller } = setup(16);
    agent.limit = 8;
    await poller.pollDetailed(device); // learns 4
    agent.limit = Infinity; // the loss was bad luck, not size
    for (let i = 0; i < REGROW_AFTER_POLLS; i++)
      expect((await poller.pollDetailed(device)).repetitions).toBe(4);
    expect((await poller.pollDetailed(device)).repetitions).toBe(8);
    for (let i = 0; i < REGROW_AFTER_POLLS; i++) await poller.pollDetailed(device);
    expect((await poller.pollDetailed(device)).repetitions).toBe(16);
    for (let i = 0; i < 3 * REGROW_AFTER_POLLS; i++) await poller.pollDetailed(device);
    agent.bulkSizes = [];
    await poller.pollDetailed(device);
    expect(Math.max(...agent.bulkSizes)).toBe(16);
  });

  it('a device that really needs few repetitions pays one fallback per regrowth attempt only', async () => {
    const { agent, poller } = setup(16);
    agent.limit = 8;
    let fallbacks = 0;
    const polls = 4 * REGROW_AFTER_POLLS + 1;
    for (let i = 0; i < polls; i++) fallbacks += (await poller.pollDetailed(device)).fallbacks;
    // 2 on the first poll, then one (8 → 4) each time it tries 8 again.
    expect(fallbacks).toBe(2 + Math.floor((polls - 1) / (REGROW_AFTER_POLLS + 1)));
  });

  it('once the table size is known, asks for rows + 1 repetitions: every row and each column end', async () => {
    const { agent, poller } = setup(25, 12);
    const first = await poller.pollDetailed(device);
    expect(agent.bulkSizes).toEqual([25]);
    agent.bulkSizes = [];
    agent.requests = [];
    const second = await poller.pollDetailed(device);
    expect(agent.bulkSizes).toEqual([13]);
    // One round trip: sysUpTime rides in the GETBULK as a non-repeater.
    expect(agent.requests).toEqual(['bulk/1']);
    expect(second.requests).toBe(1);
    expect(second.reading.interfaces).toEqual(first.reading.interfaces);
    expect(second.reading.sysUpTimeCs).toBe(4242);
    expect(first.reading.sysUpTimeCs).toBe(4242);
  });

  it('a one-trip request that is lost from a device that answers: two trips, for the next polls too', async () => {
    const { agent, poller } = setup(25, 12);
    await poller.pollDetailed(device); // learns 12 rows
    agent.limit = 2 * 13; // the two columns fit, the extra non-repeater does not
    agent.requests = [];
    const lost = await poller.pollDetailed(device);
    expect(agent.requests).toEqual(['bulk/1', 'get', 'bulk/0']);
    expect(lost).toMatchObject({ requests: 3, fallbacks: 0 });
    expect(lost.reading.interfaces).toHaveLength(12);
    agent.requests = [];
    for (let i = 0; i < REGROW_AFTER_POLLS; i++) await poller.pollDetailed(device);
    expect(agent.requests.filter((r) => r === 'bulk/1')).toEqual([]);
    agent.limit = Infinity;
    agent.requests = [];
    await poller.pollDetailed(device);
    expect(agent.requests).toEqual(['bulk/1']);
  });

  it('a dead device: the one-trip request, then the liveness GET with the attempts left', async () => {
    const { agent, poller } = setup(25, 12);
    await poller.pollDetailed(device);
    agent.dead = true;
    agent.requests = [];
    await expect(poller.pollDetailed(device)).rejects.toMatchObject({ code: 'timeout' });
    expect(agent.requests).toEqual(['bulk/1', 'get']);
  });

  it('a dead device fails with a timeout, the learned repetitions unchanged', async () => {
    const { agent, poller } = setup(16);
    agent.limit = 8;
    await poller.pollDetailed(device);
    agent.dead = true;
    await expect(poller.pollDetailed(device)).rejects.toMatchObject({ code: 'timeout' });
    agent.dead = false;
    agent.bulkSizes = [];
    expect((await poller.pollDetailed(device)).fallbacks).toBe(0);
    expect(agent.bulkSizes[0]).toBe(4);
  });
});
