/** A webhook receiver on loopback for scenario tests: records every notification POSTed to it. */
import { createServer, type Server } from 'node:http';
import type { Notification } from '../../collector/notify/notification.ts';

export interface WebhookPeer {
  readonly url: string;
  /** Every notification received, in order. */
  readonly received: Notification[];
  stop(): Promise<void>;
}

export async function startWebhookPeer(): Promise<WebhookPeer> {
  const received: Notification[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as Notification);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
