/**
 * The monitor's HTTP endpoint (the only importer of express): health for process supervisors, and the
 * current state of devices, sites and alerts as JSON. Loopback by default; issue #4 adds auth and writes.
 */
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Monitor } from '../app.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';

export interface HttpOptions {
  readonly host: string;
  readonly port: number;
}

export interface RunningHttp {
  readonly url: string;
  close(): Promise<void>;
}

export function buildApp(monitor: Monitor, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');

  app.get('/health', (_req, res) => {
    const s = monitor.status();
    const degraded = s.writer.buffered > 0 || s.writer.dropped > 0;
    res.status(200).json({
      status: degraded ? 'degraded' : 'ok',
      uptimeS: Math.round((Date.now() - s.startedAt) / 1000),
      devices: s.devices,
      states: s.states,
      writer: s.writer,
    });
  });

  app.get('/api/status', (_req, res) => {
    res.json(monitor.status());
  });

  app.get('/api/devices', (req, res) => {
    const wanted = typeof req.query.state === 'string' ? req.query.state : undefined;
    const topo = monitor.topology;
    const out = [];
    for (const [id, h] of monitor.health.snapshot()) {
      if (wanted && h.state !== wanted) continue;
      const d = topo.device(id);
      out.push({
        id,
        site: d?.siteId,
        role: d?.role,
        state: h.state,
        since: new Date(h.since).toISOString(),
        failures: h.failures,
        lastFailure: h.lastFailure,
      });
    }
    res.json(out);
  });

  app.get('/api/sites/:id', (req, res) => {
    const site = monitor.topology.site(req.params.id);
    if (!site) {
      res.status(404).json({ error: `no site with id '${req.params.id}'` });
      return;
    }
    const devices = monitor.topology
      .deviceIds()
      .filter((id) => monitor.topology.device(id)?.siteId === site.id)
      .map((id) => ({ id, role: monitor.topology.device(id)?.role, ...monitor.health.get(id) }));
    res.json({ site, devices });
  });

  app.get('/api/alerts', (_req, res) => {
    res.json(monitor.status().openAlerts);
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    log.error('http handler failed', { error: errorMessage(err) });
    res.status(500).json({ error: 'internal error' });
  });
  return app;
}

export async function startHttp(monitor: Monitor, opts: HttpOptions, log: Logger): Promise<RunningHttp> {
  const app = buildApp(monitor, log);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    url: `http://${opts.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
