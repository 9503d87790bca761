/**
 * Uptime reports for planners (collector/reports/).
 *
 *   GET /reports/availability?month=2026-10&format=pdf|csv|html|json&category=&kecamatan=&site=   viewer
 *
 * `from`/`to` (ISO 8601 with offset) instead of `month` for any range. PDF, CSV and HTML come as a
 * download named after the period; JSON is the report's data, its times (`from`, `to`, `generatedAt`)
 * ISO 8601 in WITA like the rest of v1.
 */
import type { Router } from 'express';
import { parseReportQuery } from '../bodies.ts';
import type { RouteKit } from './kit.ts';

export function registerReportRoutes(router: Router, kit: RouteKit): void {
  router.get('/reports/availability', kit.need('viewer'), async (req, res) => {
    const { format, ...q } = parseReportQuery(req.query);
    const r = await kit.service.availabilityReport(q, format);
    res.type(r.contentType);
    if (format !== 'json') res.attachment(r.filename);
    res.send(r.body);
  });
}
