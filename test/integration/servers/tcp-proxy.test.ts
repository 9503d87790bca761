/** The uplink a test controls (scripts/lib/servers/tcp-proxy.ts): forwards, cuts (reset or stall), restores. */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../../scripts/lib/servers/tcp-proxy.ts';

let echo: Server;
let echoPort = 0;
beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const a = echo.address();
  echoPort = typeof a === 'object' && a ? a.port : 0;
});
afterAll(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

function open(p: TcpProxy): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(p.port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** What comes back within `ms` (the echo server returns what it gets). */
function roundTrip(s: Socket, text: string, ms = 500): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (b: Buffer): void => {
      got += b.toString();
    };
    s.on('data', onData);
    s.write(text);
    setTimeout(() => {
      s.off('data', onData);
      resolve(got);
    }, ms);
  });
}

const closed = (s: Socket): Promise<void> =>
  s.destroyed ? Promise.resolve() : new Promise((r) => s.once('close', () => r()));

describe('tcp proxy', () => {
  it('forwards both ways, resets on cut, refuses while cut, forwards again after restore', async () => {
    const p = await startTcpProxy('127.0.0.1', echoPort);
    try {
      const s = await open(p);
      expect(await roundTrip(s, 'hello')).toBe('hello');
      p.cut();
      await closed(s);
      expect(p.isCut).toBe(true);
      const refused = await open(p);
      await closed(refused);
      p.restore();
      const again = await open(p);
      expect(await roundTrip(again, 'back')).toBe('back');
      again.destroy();
      expect(p.accepted).toBe(3);
    } finally {
      await p.stop();
    }
  });

  it('stall keeps the connection open and loses every byte until restore drops it', async () => {
    const p = await startTcpProxy('127.0.0.1', echoPort);
    try {
      const s = await open(p);
      p.cut('stall');
      expect(await roundTrip(s, 'lost', 300)).toBe('');
      expect(s.destroyed).toBe(false);
      p.restore();
      await closed(s);
      const again = await open(p);
      expect(await roundTrip(again, 'ok')).toBe('ok');
      again.destroy();
    } finally {
      await p.stop();
    }
  });

  it('refuses a target that is not loopback', async () => {
    await expect(startTcpProxy('10.0.0.1', 80)).rejects.toThrow(/only loopback/);
  });
});
