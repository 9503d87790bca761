/**
 * The current state of sites and devices, and the monitor's own health in full (for viewers; the
 * unauthenticated /health of server.ts says only ok or degraded).
 *
 *   GET /sites?kecamatan=&state=      { sites: SiteState[] }
 *   GET /sites/:id                    SiteState
 *   GET /health                       { status, details }
 */
import type { Router } from 'express';
import { parseNoQuery, parseSitesQuery } from '../bodies.ts';
import { ApiError } from '../service.ts';
import { param, type RouteKit } from './kit.ts';

export function registerStateRoutes(router: Router, kit: RouteKit): void {
  const { service } = kit;

  router.get('/health', kit.need('viewer'), (req, res) => {
    parseNoQuery(req.query);
    res.json(service.health());
  });

  router.get('/sites', kit.need('viewer'), (req, res) => {
    res.json({ sites: service.sites(parseSitesQuery(req.query)) });
  });

  router.get('/sites/:id', kit.need('viewer'), (req, res) => {
    const id = param(req, 'id');
    parseNoQuery(req.query);
    const site = service.site(id);
    if (!site) throw new ApiError(404, `no site '${id}'`);
    res.json(site);
  });
}
