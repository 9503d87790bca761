/**
 * A TCP relay on loopback between MQTT clients and a broker that can turn into a black hole: `freeze()`
 * stops forwarding in both directions and keeps the broker's side of every connection open, as when a site's
 * uplink dies somewhere upstream. The broker hears nothing more and must notice by the keepalive; no FIN or
 * RST ever reaches it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface Blackhole {
  /** mqtt://127.0.0.1:PORT of the relay. */
  readonly url: string;
  freeze(): void;
  close(): Promise<void>;
}

export async function startBlackhole(target: string): Promise<Blackhole> {
  const { hostname, port } = new URL(target);
  let frozen = false;
  const sockets = new Set<Socket>();
  const track = (s: Socket): Socket => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    return s;
  };
  const server: Server = createServer((client) => {
    track(client);
    if (frozen) return void client.destroy();
    const upstream = track(connect(Number(port), hostname));
    client.on('data', (b: Buffer) => void (frozen || upstream.write(b)));
    upstream.on('data', (b: Buffer) => void (frozen || client.write(b)));
    // Closing is passed on only while the line is alive: a black hole swallows the client's FIN too.
    client.on('close', () => frozen || upstream.destroy());
    upstream.on('close', () => frozen || client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const relayPort = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `mqtt://127.0.0.1:${relayPort}`,
    freeze: () => {
      frozen = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
