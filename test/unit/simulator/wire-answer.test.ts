/**
 * The agent's wire path (snmp-agent.ts: the request read in place, an answer plan cached per view and
 * request, the response written in one go) must send exactly the bytes of the generic path (decodeMessage,
 * answerPdu, encodePdu, encodeCommunityMessage), for the collector's own requests and for the edges:
 * GET of missing instances, GETNEXT past the end, GETBULK with non-repeaters, a budget too small, SET,
 * a wrong community, SNMPv1, malformed datagrams. And a plan is a cache: values still change with time.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../collector/core/clock.ts';
import { columnsOf } from '../../../collector/sources/snmp/poller.ts';
import { encodeRequest, PduTag } from '../../../collector/sources/snmp/v2c-codec.ts';
import { loadProfiles } from '../../../config/profiles.ts';
import { FleetSimulator } from '../../../simulator/fleet.ts';
import { answerPdu, mibViewFor } from '../../../simulator/mib-view.ts';
import {
  PduType,
  decodeMessage,
  encodeCommunityMessage,
  encodePdu,
  scanCommunityRequest,
} from '../../../simulator/snmp-message.ts';
import type { CommunityMessage } from '../../../simulator/snmp-message.ts';
import { syntheticInventory } from '../../../simulator/synthetic-inventory.ts';

const inv = syntheticInventory({ sites: 30, port: 16100, seed: 5 });
const clock = new FakeClock(Date.UTC(2026, 11, 3, 10, 15));
const sim = new FleetSimulator({ inventory: inv, seed: 5, clock });
const profiles = loadProfiles();
const devices = inv.devices.filter((d) => d.role !== 'sensor');
const COMMUNITY = Buffer.from('public');

/** What the generic path answers (the agent's behaviour before the wire path): the reference. */
function generic(id: string, datagram: Buffer): Buffer | undefined {
  const msg = decodeMessage(datagram) as CommunityMessage;
  if (msg.version !== 1 || !msg.community.equals(COMMUNITY)) return undefined;
  const pdu = msg.pdu;
  if (![PduType.Get, PduType.GetNext, PduType.GetBulk, PduType.Set].includes(pdu.type as 0xa0))
    return undefined;
  const model = sim.model(id);
  const budget = 65_000 - 48 - msg.community.length;
  const a = answerPdu(mibViewFor(model), model, () => sim.valuesAt(id), pdu, budget);
  return encodeCommunityMessage(
    1,
    msg.community,
    encodePdu(
      {
        type: PduType.Response,
        requestId: pdu.requestId,
        errorStatus: a.errorStatus,
        errorIndex: a.errorIndex,
        varbinds: [],
      },
      a.bytes ? [a.bytes] : a.varbinds,
    ),
  );
}

function request(
  type: number,
  oids: readonly string[],
  nonRepeaters = 0,
  maxRepetitions = 0,
  requestId = 4242,
): Buffer {
  return encodeRequest({ pdu: type, requestId, community: COMMUNITY, oids, nonRepeaters, maxRepetitions });
}

function sameAsGeneric(id: string, datagram: Buffer): Buffer | undefined {
  const wire = sim.answerDatagram(id, datagram);
  const want = generic(id, datagram);
  expect(wire === undefined, `${id}: answered or not`).toBe(want === undefined);
  if (wire && want) expect(wire.toString('hex'), id).toBe(want.toString('hex'));
  return wire;
}

describe('the wire path answers with the bytes of the generic path', () => {
  it("for the collector's one-trip poll of every device (sysUpTime non-repeater, every column, rows + 1)", () => {
    let checked = 0;
    for (const d of devices) {
      const profile = profiles.get(d.profile);
      if (!profile) continue;
      const model = sim.model(d.id);
      const rows = Math.max(model.interfaces.length, model.wifi.length);
      const req = request(PduTag.GetBulkRequest, ['1.3.6.1.2.1.1.3', ...columnsOf(profile)], 1, rows + 1);
      const a = sameAsGeneric(d.id, req);
      expect(a && a.length > 200, d.id).toBe(true);
      // Asked again (a plan from the cache), with another request id: still the same as the generic path.
      sameAsGeneric(
        d.id,
        request(PduTag.GetBulkRequest, ['1.3.6.1.2.1.1.3', ...columnsOf(profile)], 1, rows + 1, 7),
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('for GET, GETNEXT and GETBULK at the edges of the view', () => {
    const ids = devices.slice(0, 12).map((d) => d.id);
    const cases: Buffer[] = [
      request(PduTag.GetRequest, ['1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.1.5.0']),
      request(PduTag.GetRequest, ['1.3.6.1.2.1.2.2.1.10.99', '1.3.6.1.4.1.9999.1.0', '1.3.6.1.2.1.1.3.0']),
      request(PduTag.GetNextRequest, ['1.3', '1.3.6.1.2.1.2.2.1.10', '1.3.6.1.9']),
      request(PduTag.GetBulkRequest, ['1.3.6.1.2.1.1.3', '1.3.6.1.2.1.2.2.1.2'], 1, 25),
      request(PduTag.GetBulkRequest, ['1.3.6.1.2.1.31.1.1.1.6', '1.3.6.1.4.1'], 0, 200),
      request(PduTag.GetBulkRequest, ['1.3.6.1.2.1.1.1', '1.3.6.1.2.1.1.3', '1.3.6.1.2.1.1.5'], 9, 3),
      request(PduTag.GetBulkRequest, ['1.3.6.1.2.1.2.2.1.1'], 0, 0),
      request(PduTag.GetBulkRequest, ['1.3.6.1.9'], 0, 10),
      request(PduTag.GetBulkRequest, ['1.3'], 0, 100_000), // capped at 2,048 varbinds
      request(PduTag.GetRequest, ['1.3.6.1.2.1.1.3.0'], 0, 0, 0),
      request(PduTag.GetRequest, ['1.3.6.1.2.1.1.3.0'], 0, 0, 0x7fffffff),
    ];
    for (const id of ids) for (const c of cases) sameAsGeneric(id, c);
  });

  it('SET is refused as notWritable, as before', () => {
    const id = devices[0]?.id ?? '';
    const set = encodeCommunityMessage(
      1,
      COMMUNITY,
      encodePdu({
        type: PduType.Set,
        requestId: 9,
        errorStatus: 0,
        errorIndex: 0,
        varbinds: [{ oid: [1, 3, 6, 1, 2, 1, 1, 5, 0], value: { type: 'octets', value: 'x' } }],
      }),
    );
    const a = sameAsGeneric(id, set);
    expect(a).toBeDefined();
  });

  it('stays silent on a wrong community, SNMPv1 and malformed datagrams', () => {
    const id = devices[0]?.id ?? '';
    const good = request(PduTag.GetRequest, ['1.3.6.1.2.1.1.3.0']);
    const wrong = encodeRequest({
      pdu: PduTag.GetRequest,
      requestId: 1,
      community: Buffer.from('publix'),
      oids: ['1.3.6.1.2.1.1.3.0'],
    });
    expect(sim.answerDatagram(id, wrong)).toBeUndefined();
    const v1 = Buffer.from(good);
    const at = v1.indexOf(Buffer.from([0x02, 0x01, 0x01])); // INTEGER 1 (v2c) -> 0 (v1)
    v1[at + 2] = 0;
    expect(scanCommunityRequest(v1)?.version).toBe(0);
    expect(sim.answerDatagram(id, v1)).toBeUndefined();
    // Truncated anywhere: never an answer, sometimes a BerError (the agent drops both alike).
    for (let n = 0; n < good.length; n++) {
      let answer: Buffer | undefined;
      try {
        answer = sim.answerDatagram(id, good.subarray(0, n));
      } catch {
        answer = undefined;
      }
      expect(answer, `truncated to ${n}`).toBeUndefined();
    }
    // A varbind list that is not one (its OID tag broken): dropped, and not remembered as a plan.
    const bad = Buffer.from(good);
    bad[bad.indexOf(Buffer.from([0x06, 0x08, 0x2b]))] = 0x04;
    expect(() => sim.answerDatagram(id, bad)).toThrow();
    expect(() => sim.answerDatagram(id, bad)).toThrow();
  });

  it('serves values of the moment from a cached plan', () => {
    const d = devices.find((x) => x.profile === 'mikrotik-routeros') ?? devices[0];
    const id = d?.id ?? '';
    const req = request(PduTag.GetRequest, ['1.3.6.1.2.1.1.3.0', '1.3.6.1.2.1.2.2.1.10.1']);
    const first = sameAsGeneric(id, req);
    clock.advance(60_000);
    const later = sameAsGeneric(id, req);
    expect(later?.equals(first ?? Buffer.alloc(0))).toBe(false);
  });
});
