/**
 * Ports for servers that scripts and tests start on loopback. A port the kernel hands out for port 0 comes
 * from its ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`, 32768-60999 here), the same range it
 * takes the local port of every outgoing connection and unbound UDP socket from: between "free a moment ago"
 * and the server's bind, one of the many clients a test suite runs in parallel could take it (CI: a
 * nats-server's route port and the monitor's HTTP port, "address already in use"). So ports are drawn at
 * random from outside that range, and checked free by binding them.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;
const DEFAULT_EPHEMERAL: readonly [number, number] = [32_768, 60_999];
const TRIES = 50;

/** The ports to draw from: the larger stretch outside the ephemeral range, from 10000 up to 65535. */
export function serverPortRange(ephemeral: readonly [number, number]): readonly [number, number] {
  const [lo, hi] = ephemeral;
  const below: [number, number] = [LOWEST, lo - 1];
  const above: [number, number] = [hi + 1, 65_535];
  const size = ([a, b]: readonly [number, number]): number => Math.max(0, b - a + 1);
  return size(below) >= size(above) ? below : above;
}

/** The kernel's ephemeral range, from "32768\t60999"; the usual default when unreadable. */
export function parseEphemeralRange(text: string | undefined): readonly [number, number] {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text ?? '');
  const lo = Number(m?.[1]);
  const hi = Number(m?.[2]);
  return m && lo >= 1 && hi >= lo && hi <= 65_535 ? [lo, hi] : DEFAULT_EPHEMERAL;
}

let range: readonly [number, number] | undefined;
function drawRange(): readonly [number, number] {
  if (range) return range;
  let text: string | undefined;
  try {
    text = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  } catch {
    text = undefined;
  }
  range = serverPortRange(parseEphemeralRange(text));
  return range;
}

const tcpFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });

const udpFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ port, address: '127.0.0.1', exclusive: true }, () => sock.close(() => resolve(true)));
  });

async function draw(free: (port: number) => Promise<boolean>, what: string): Promise<number> {
  const [lo, hi] = drawRange();
  for (let i = 0; i < TRIES; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    if (await free(port)) return port;
  }
  throw new Error(`no free ${what} port on 127.0.0.1 in ${lo}-${hi} after ${TRIES} tries`);
}

/** A TCP port on 127.0.0.1, outside the ephemeral range, that was free a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return draw(tcpFree, 'TCP');
}

/** A UDP port on 127.0.0.1, outside the ephemeral range, that was free a moment ago. */
export function freeLoopbackUdpPort(): Promise<number> {
  return draw(udpFree, 'UDP');
}
