/**
 * The v2c transport (collector/sources/snmp/v2c-transport.ts) over real loopback UDP: replies are matched
 * by request id and by the address the request went to; strays (late, from elsewhere, not SNMP) are
 * dropped and counted or blamed on their sender's requests; sockets stay bounded; closing fails what waits.
 * The "agent" is a plain UDP socket that answers with the request itself (the transport reads only the
 * header), or with what a test makes it send.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeHeader, encodeRequest, PduTag } from '../../../collector/sources/snmp/v2c-codec.ts';
import { V2cError, V2cTransport, type RequestOwner } from '../../../collector/sources/snmp/v2c-transport.ts';

type Reply = { err: Error | null; requestId?: number };

const bind = async (): Promise<Socket> => {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
};

const request = (id: number): Buffer =>
  encodeRequest({
    pdu: PduTag.GetRequest,
    requestId: id,
    community: Buffer.from('public'),
    oids: ['1.3.6.1.2.1.1.3.0'],
  });

/** Waits (with a deadline) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

class Owner implements RequestOwner {
  readonly unparseables: string[] = [];
  unparseable(err: unknown): void {
    this.unparseables.push(String(err));
  }
}

let agent: Socket;
let stranger: Socket;
let transport: V2cTransport;
/** What the agent does with each datagram it gets (default: sends it back). */
let onRequest: (msg: Buffer, rinfo: RemoteInfo) => void;

beforeEach(async () => {
  agent = await bind();
  stranger = await bind();
  onRequest = (msg, rinfo) => agent.send(msg, rinfo.port, rinfo.address);
  agent.on('message', (msg, rinfo) => onRequest(msg, rinfo));
  transport = new V2cTransport({ size: 2 });
});

afterEach(() => {
  transport.close();
  agent.close();
  stranger.close();
});

/** Sends request `id` to the agent; resolves with what `done` got. */
function ask(owner: RequestOwner, id = transport.nextId(), timeoutMs = 2000): Promise<Reply> {
  return new Promise((resolve) =>
    transport.send(owner, id, request(id), '127.0.0.1', agent.address().port, 4, timeoutMs, (err, _m, h) =>
      resolve({ err, requestId: h?.requestId }),
    ),
  );
}

describe('v2c transport', () => {
  it('matches each reply to its request by id, through a bounded number of sockets', async () => {
    const owner = new Owner();
    const ids = Array.from({ length: 20 }, () => transport.nextId());
    expect(new Set(ids).size).toBe(20);
    const replies = await Promise.all(ids.map((id) => ask(owner, id)));
    expect(replies).toEqual(ids.map((id) => ({ err: null, requestId: id })));
    expect(transport.stats()).toEqual({ sockets: 2, inFlight: 0, stray: 0 });
  });

  it('takes a reply only from where its request went: the same id from another address is a stray', async () => {
    const owner = new Owner();
    const held: { msg: Buffer; rinfo: RemoteInfo }[] = [];
    onRequest = (msg, rinfo) => held.push({ msg, rinfo });
    const reply = ask(owner);
    await until(() => held.length === 1, 'the request');
    const { msg, rinfo } = held[0]!;
    stranger.send(msg, rinfo.port, rinfo.address);
    await until(() => transport.stats().stray === 1, 'the stray counted');
    expect(transport.stats().inFlight).toBe(1);
    agent.send(msg, rinfo.port, rinfo.address);
    expect(await reply).toEqual({ err: null, requestId: decodeHeader(msg).requestId });
  });

  it('a reply after its timeout is a stray; the request failed as a timeout', async () => {
    const owner = new Owner();
    const held: { msg: Buffer; rinfo: RemoteInfo }[] = [];
    onRequest = (msg, rinfo) => held.push({ msg, rinfo });
    const reply = await ask(owner, undefined, 50);
    expect(reply.err).toBeInstanceOf(V2cError);
    expect(reply.err).toMatchObject({ reason: 'timeout' });
    const { msg, rinfo } = held[0]!;
    agent.send(msg, rinfo.port, rinfo.address);
    await until(() => transport.stats().stray === 1, 'the late reply counted');
    expect(transport.stats()).toMatchObject({ inFlight: 0 });
  });

  it('a datagram that is not SNMP is told to the requests waiting on its sender, else counted', async () => {
    const waiting = new Owner();
    const other = new Owner();
    let rinfoOf: RemoteInfo | undefined;
    onRequest = (_msg, rinfo) => {
      rinfoOf = rinfo;
      agent.send(Buffer.from('not snmp'), rinfo.port, rinfo.address);
    };
    const reply = ask(waiting, undefined, 300);
    await until(() => waiting.unparseables.length === 1, 'the agent blamed');
    expect(waiting.unparseables[0]).toMatch(/DecodeError|SEQUENCE|message/);
    expect(other.unparseables).toEqual([]);
    // The request still waits for a real reply; none comes: a timeout.
    expect((await reply).err).toMatchObject({ reason: 'timeout' });
    // The same junk from an address nobody waits on: counted only.
    stranger.send(Buffer.from('not snmp'), rinfoOf!.port, rinfoOf!.address);
    await until(() => transport.stats().stray === 1, 'the junk counted');
    expect(waiting.unparseables).toHaveLength(1);
  });

  it("cancel fails one owner's requests only; close fails the rest and refuses new ones", async () => {
    onRequest = () => undefined; // never answers
    const a = new Owner();
    const b = new Owner();
    const ra = ask(a);
    const rb = ask(b);
    transport.cancel(a, new V2cError('internal', 'session closed'));
    expect((await ra).err).toMatchObject({ reason: 'internal', message: 'session closed' });
    expect(transport.stats().inFlight).toBe(1);
    transport.close();
    expect((await rb).err).toMatchObject({ reason: 'internal', message: 'socket closed' });
    expect((await ask(a)).err).toMatchObject({ reason: 'internal', message: 'transport closed' });
    expect(transport.stats()).toEqual({ sockets: 0, inFlight: 0, stray: 0 });
  });
});
