/**
 * A TCP proxy on loopback that a test or a demo controls: the uplink of an edge site. `cut()` breaks every
 * open connection and refuses new ones (`reset`, as a link that drops does), or keeps them open and
 * forwards nothing (`stall`, as a link that silently loses every packet does), until `restore()`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type CutMode = 'reset' | 'stall';

export interface TcpProxy {
  readonly port: number;
  /** `127.0.0.1:PORT` */
  readonly address: string;
  readonly isCut: boolean;
  cut(mode?: CutMode): void;
  restore(): void;
  stop(): Promise<void>;
  /** Connections accepted so far (a reconnecting client shows here). */
  readonly accepted: number;
}

export async function startTcpProxy(targetHost: string, targetPort: number, port = 0): Promise<TcpProxy> {
  if (!/^127\./.test(targetHost) && targetHost !== 'localhost')
    throw new Error(`tcp proxy: only loopback targets, not ${targetHost}`);
  const pairs = new Set<[Socket, Socket]>();
  let mode: CutMode | undefined;
  let accepted = 0;

  const server: Server = createServer((client) => {
    accepted++;
    if (mode) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      from.on('data', (b: Buffer) => {
        if (mode === 'stall') return; // lost on the wire
        if (!to.write(b)) from.pause();
      });
      to.on('drain', () => from.resume());
    };
    forward(client, upstream);
    forward(upstream, client);
    const close = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    port: bound,
    address: `127.0.0.1:${bound}`,
    get isCut() {
      return mode !== undefined;
    },
    get accepted() {
      return accepted;
    },
    cut(m: CutMode = 'reset') {
      mode = m;
      if (m === 'reset')
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
    },
    restore() {
      // A stalled connection stays unusable (bytes were lost in the middle of its stream): drop it, as a
      // peer's keep-alive would, so clients reconnect over the restored link.
      if (mode === 'stall')
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
      mode = undefined;
    },
    stop: async () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
