/**
 * A counting sink for scale-only fleet benchmarks (`bench-fleet.ts --sink null`): an HTTP server that
 * speaks the two calls the collector's InfluxDB 2.x sink makes (GET /ping, POST /api/v2/write) and keeps
 * nothing: it counts the points (lines) and bytes written and answers 204. So the collector does all its
 * own work (line protocol, HTTP, its writer's batching) while no database takes a share of the machine.
 * What it stands in for is said in the benchmark's table: the database's cost is not measured.
 *
 *   npx tsx scripts/bench/null-sink.ts [--port N]     (prints {"msg":"null sink ready","port":N})
 *
 * GET /stats answers {"writes":..,"points":..,"bytes":..}. Loopback only; stops on SIGTERM or SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Points in a line-protocol body: its non-empty lines (comments start with #). */
export function countPoints(chunk: Buffer, state: { atLineStart: boolean; lineHasData: boolean }): number {
  let points = 0;
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b === 0x0a) {
      if (state.lineHasData) points++;
      state.atLineStart = true;
      state.lineHasData = false;
    } else if (state.atLineStart) {
      state.atLineStart = false;
      state.lineHasData = b !== 0x23 && b !== 0x20 && b !== 0x0d;
    }
  }
  return points;
}

function main(): void {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } }, strict: true });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`null-sink: --port must be 0..65535, got "${values.port}"\n`);
    process.exit(2);
  }
  const stats = { writes: 0, points: 0, bytes: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && (path === '/api/v2/write' || path === '/write')) {
      const state = { atLineStart: true, lineHasData: false };
      req.on('data', (chunk: Buffer) => {
        stats.bytes += chunk.length;
        stats.points += countPoints(chunk, state);
      });
      req.on('end', () => {
        if (state.lineHasData) stats.points++;
        stats.writes++;
        res.writeHead(204).end();
      });
      req.on('error', () => res.destroy());
      return;
    }
    if (req.method === 'GET' && (path === '/ping' || path === '/health')) {
      res.writeHead(204).end();
      return;
    }
    if (req.method === 'GET' && path === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('null sink: only /ping, /api/v2/write, /stats\n');
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    const bound = typeof addr === 'object' && addr ? addr.port : port;
    process.stdout.write(`${JSON.stringify({ msg: 'null sink ready', port: bound })}\n`);
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
