/**
 * Maintenance windows and silences: what keeps a planned or known outage from paging.
 *
 *   GET    /maintenance          viewer    { maintenance: MaintenanceView[] }
 *   POST   /maintenance          operator  201 the new window (Location: /api/v1/maintenance/<id>); 400 for
 *                                          one already over, or a scope naming what the inventory lacks
 *   DELETE /maintenance/:id      operator  204; a window from the config file is the service's 409
 *   GET    /silences             viewer    { silences: SilenceView[] }
 *   POST   /silences             operator  201 the new silence; 400 as for maintenance
 *   DELETE /silences/:id         operator  204
 *
 * Bodies: collector/http/bodies.ts. Times in answers are ISO 8601 in WITA (+08:00).
 */
import type { Router } from 'express';
import { parseMaintenanceBody, parseNoQuery, parseSilenceBody } from '../bodies.ts';
import { audit, param, type RouteKit } from './kit.ts';

export function registerSuppressionRoutes(router: Router, kit: RouteKit, base: string): void {
  const { service } = kit;

  router.get('/maintenance', kit.need('viewer'), (req, res) => {
    parseNoQuery(req.query);
    res.json({ maintenance: service.maintenance() });
  });

  router.post('/maintenance', kit.need('operator'), ...kit.jsonBody, (req, res) => {
    const by = audit(res, 'maintenance.create');
    const w = service.addMaintenance(parseMaintenanceBody(req.body, kit.now()), by);
    audit(res, 'maintenance.create', w.id);
    res
      .status(201)
      .location(`${base}/maintenance/${encodeURIComponent(w.id)}`)
      .json(w);
  });

  router.delete('/maintenance/:id', kit.need('operator'), (req, res) => {
    const id = param(req, 'id');
    const by = audit(res, 'maintenance.delete', id);
    service.deleteMaintenance(id, by);
    res.status(204).end();
  });

  router.get('/silences', kit.need('viewer'), (req, res) => {
    parseNoQuery(req.query);
    res.json({ silences: service.silences() });
  });

  router.post('/silences', kit.need('operator'), ...kit.jsonBody, (req, res) => {
    const by = audit(res, 'silence.create');
    const s = service.addSilence(parseSilenceBody(req.body, kit.now()), by);
    audit(res, 'silence.create', s.id);
    res
      .status(201)
      .location(`${base}/silences/${encodeURIComponent(s.id)}`)
      .json(s);
  });

  router.delete('/silences/:id', kit.need('operator'), (req, res) => {
    const id = param(req, 'id');
    const by = audit(res, 'silence.delete', id);
    service.deleteSilence(id, by);
    res.status(204).end();
  });
}
