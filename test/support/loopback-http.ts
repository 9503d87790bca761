/**
 * A plain HTTP server on a free loopback port for tests of clients: the handler answers on cue (a status,
 * a header, a stall) what a real server cannot be made to answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface LoopbackHttp {
  /** http://127.0.0.1:PORT, no trailing slash. */
  readonly url: string;
  /** Drop open connections (a stalled answer included) and stop listening. */
  close(): Promise<void>;
}

export async function startLoopbackHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LoopbackHttp> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
