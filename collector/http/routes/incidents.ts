/**
 * Incidents: what on-call staff look at and act on.
 *
 *   GET  /incidents?status=open,acknowledged&site=&kecamatan=&severity=&since=&limit=   viewer
 *   GET  /incidents/:id                       viewer    { incident, timeline, notifications }
 *   POST /incidents/:id/ack      {note?}      operator  the incident, acknowledged
 *   POST /incidents/:id/resolve  {note?}      operator  the incident, resolved by hand
 *
 * A refusal of the service (unknown incident 404, already resolved 409) is its ApiError, sent as is.
 */
import type { Router } from 'express';
import { parseIncidentQuery, parseNoQuery, parseNoteBody } from '../bodies.ts';
import { ApiError } from '../service.ts';
import { audit, param, type RouteKit } from './kit.ts';

export function registerIncidentRoutes(router: Router, kit: RouteKit): void {
  const { service } = kit;

  router.get('/incidents', kit.need('viewer'), (req, res) => {
    res.json({ incidents: service.incidents(parseIncidentQuery(req.query, kit.now())) });
  });

  router.get('/incidents/:id', kit.need('viewer'), (req, res) => {
    const id = param(req, 'id');
    parseNoQuery(req.query);
    const detail = service.incident(id);
    if (!detail) throw new ApiError(404, `no incident '${id}'`);
    res.json(detail);
  });

  router.post('/incidents/:id/ack', kit.need('operator'), ...kit.jsonBody, (req, res) => {
    const id = param(req, 'id');
    const by = audit(res, 'incident.acknowledge', id);
    const { note } = parseNoteBody(req.body);
    res.json(service.acknowledge(id, by, note));
  });

  router.post('/incidents/:id/resolve', kit.need('operator'), ...kit.jsonBody, (req, res) => {
    const id = param(req, 'id');
    const by = audit(res, 'incident.resolve', id);
    const { note } = parseNoteBody(req.body);
    res.json(service.resolve(id, by, note));
  });
}
