/**
 * A UDP relay between the poller and a real agent that loses every reply larger than `maxReplyBytes`,
 * as a path does that drops IP fragments (a VPN or Wi-Fi backhaul with a small MTU and a firewall that
 * discards fragments): the agent answers, the answer never arrives. A real agent on loopback cannot
 * produce this on cue (snmpsim 0.4.5 even dies on a reply over 64 KB), so this one fault is made here;
 * everything else is the agent's own answer, relayed byte for byte.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface LossyPath {
  readonly host: string;
  readonly port: number;
  /** Replies dropped for being too big. */
  readonly dropped: number;
  /** Size in bytes of every reply relayed or dropped, in order. */
  readonly replySizes: readonly number[];
  close(): Promise<void>;
}

export async function startLossyPath(
  agent: { host: string; port: number },
  maxReplyBytes: number,
): Promise<LossyPath> {
  const front = createSocket('udp4');
  /** One upstream socket per client address, so replies go back to the right poller socket. */
  const upstreams = new Map<string, Socket>();
  let dropped = 0;
  const replySizes: number[] = [];

  front.on('message', (msg, client) => {
    const key = `${client.address}:${client.port}`;
    let up = upstreams.get(key);
    if (!up) {
      const sock = createSocket('udp4');
      sock.on('message', (reply) => {
        replySizes.push(reply.length);
        if (reply.length > maxReplyBytes) {
          dropped++;
          return;
        }
        front.send(reply, client.port, client.address);
      });
      sock.on('error', () => sock.close());
      upstreams.set(key, sock);
      up = sock;
    }
    up.send(msg, agent.port, agent.host);
  });
  front.on('error', () => front.close());
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  return {
    host: '127.0.0.1',
    port: front.address().port,
    get dropped() {
      return dropped;
    },
    replySizes,
    close: async () => {
      for (const s of upstreams.values()) await new Promise<void>((r) => s.close(() => r()));
      await new Promise<void>((r) => front.close(() => r()));
    },
  };
}
