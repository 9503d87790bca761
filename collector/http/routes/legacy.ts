/**
 * The read-only routes from before the v1 API, kept for their callers (scripts/check-demo.ts reads
 * /api/status; the e2e tests read /api/status and /api/devices). server.ts mounts them under /api, behind
 * a viewer token; new callers use /api/v1.
 *
 *   GET /api/status            the Monitor's status
 *   GET /api/devices?state=    every device and its health
 *   GET /api/sites/:id         a site, its devices and their health
 *   GET /api/alerts            the open alerts
 */
import type { Router } from 'express';
import type { Monitor } from '../../app.ts';
import { ApiError } from '../service.ts';

/** What the legacy routes read (the Monitor has it). */
export type LegacySource = Pick<Monitor, 'status' | 'topology' | 'health'>;

export function registerLegacyRoutes(router: Router, source: LegacySource): void {
  router.get('/status', (_req, res) => {
    res.json(source.status());
  });

  router.get('/devices', (req, res) => {
    const wanted = typeof req.query.state === 'string' ? req.query.state : undefined;
    const topo = source.topology;
    const out = [];
    for (const [id, h] of source.health.snapshot()) {
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

  router.get('/sites/:id', (req, res) => {
    const topo = source.topology;
    const site = topo.site(req.params.id);
    if (!site) throw new ApiError(404, `no site with id '${req.params.id}'`);
    const devices = topo
      .deviceIds()
      .filter((id) => topo.device(id)?.siteId === site.id)
      .map((id) => ({ id, role: topo.device(id)?.role, ...source.health.get(id) }));
    res.json({ site, devices });
  });

  router.get('/alerts', (_req, res) => {
    res.json(source.status().openAlerts);
  });
}
