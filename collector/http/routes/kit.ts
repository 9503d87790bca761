/**
 * What a route module gets from server.ts: the service, the time, and the middleware that guards a route.
 * Route modules register handlers on a router they are given and import express only as types, so
 * server.ts stays the one file that builds express objects.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Principal, Role } from '../auth.ts';
import type { MonitorService } from '../service.ts';

export interface RouteKit {
  readonly service: MonitorService;
  now(): number;
  /** 403 unless the request's principal has at least `role` (authentication has already run). */
  need(role: Role): RequestHandler;
  /** For writes: 415 unless the body is JSON, 413 above the size limit, then `req.body` parsed. */
  readonly jsonBody: RequestHandler[];
}

/** What the audit line of a write says it did: `incident.acknowledge` on `inc-42`. */
export interface AuditNote {
  readonly action: string;
  readonly target?: string | undefined;
}

/** The authenticated principal of this request (set by server.ts's authentication). */
export function principalOf(res: Response): Principal {
  const p = (res.locals as { principal?: Principal }).principal;
  if (!p) throw new Error('route reached without authentication');
  return p;
}

/** Name the action and its target in the request's audit line; returns the principal's name. */
export function audit(res: Response, action: string, target?: string): string {
  (res.locals as { audit?: AuditNote }).audit = { action, target };
  return principalOf(res).name;
}

/** A path parameter (`:id`). The guards before a handler make express type params loosely; this narrows. */
export function param(req: Request, name: string): string {
  const v = req.params[name];
  if (typeof v !== 'string') throw new Error(`route has no :${name} parameter`);
  return v;
}
