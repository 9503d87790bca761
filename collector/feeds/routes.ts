/**
 * The feeds for BPBD's emergency picture over HTTP (mounted by collector/http/server.ts under /feeds):
 *
 *   GET /feeds/outages.geojson     current outages, RFC 7946 FeatureCollection (application/geo+json)
 *   GET /feeds/cap.atom            Atom index of the CAP 1.2 messages: an Alert per open outage, the
 *                                  AllClear (Update) of those resolved in the last `recentMs`
 *   GET /feeds/cap/:identifier     one CAP 1.2 message (application/cap+xml)
 *
 * Built on each request from what the monitor knows now: nothing to keep in step.
 *
 * Who may read them is feedAccess's decision (access.ts): an API token in the header, a feed key as
 * `?key=`, a viewer token as `?token=`, or nobody needed with `api.feedsPublic`. Answers carry
 * `Access-Control-Allow-Origin: *`, so a map in a browser on another origin can read them.
 */
import express, { type RequestHandler } from 'express';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { decideFeedAccess, type FeedAccessPolicy } from './access.ts';
import type { Notification } from '../notify/notification.ts';
import { capAtomFeed, ATOM_MEDIA_TYPE } from './cap-atom.ts';
import { CAP_MEDIA_TYPE, capMessage, originalRef, type CapMessage, type CapOptions } from './cap.ts';
import { outageFeatureCollection } from './geojson.ts';

export interface FeedSource {
  feedNotifications(resolvedSinceMs: number): { current: Notification[]; recent: Notification[] };
}

export interface FeedOptions {
  readonly clock: Clock;
  /** CAP options (sender, scope, ...) without per-message fields. */
  readonly cap: Omit<CapOptions, 'prior' | 'sentMs'>;
  /** The URL the feeds are reached at from outside, e.g. https://netmon.badungkab.go.id/feeds. */
  readonly baseUrl: string;
  /** How long a resolved outage keeps its all-clear in the CAP feed. Default 24 h. */
  readonly recentMs?: number | undefined;
}

export function capMessages(source: FeedSource, opts: FeedOptions): CapMessage[] {
  const now = opts.clock.now();
  const { current, recent } = source.feedNotifications(now - (opts.recentMs ?? 24 * 3600_000));
  const out: CapMessage[] = [];
  for (const n of [...current, ...recent]) {
    try {
      const prior = n.status === 'resolved' ? originalRef(n, opts.cap) : undefined;
      out.push(capMessage(n, { ...opts.cap, prior }));
    } catch {
      // A notification CAP cannot carry (no usable time or sender): left out of the feed, not fatal.
    }
  }
  return out;
}

export function feedsRouter(source: FeedSource, opts: FeedOptions): express.Router {
  const router = express.Router();
  const base = opts.baseUrl.replace(/\/$/, '');
  const messageUrl = (m: CapMessage) => `${base}/cap/${encodeURIComponent(m.ref.identifier)}`;

  router.get('/outages.geojson', (_req, res) => {
    const { current } = source.feedNotifications(opts.clock.now());
    res.type('application/geo+json').send(JSON.stringify(outageFeatureCollection(current)));
  });

  router.get('/cap.atom', (_req, res) => {
    const messages = capMessages(source, opts);
    res.type(ATOM_MEDIA_TYPE).send(
      capAtomFeed(messages, {
        id: `${base}/cap.atom`,
        title: 'Gangguan jaringan Wi-Fi publik Kabupaten Badung / Badung public Wi-Fi outages',
        selfUrl: `${base}/cap.atom`,
        updatedMs: opts.clock.now(),
        authorName: opts.cap.senderName ?? opts.cap.sender,
        messageUrl,
      }),
    );
  });

  router.get('/cap/:identifier', (req, res) => {
    const m = capMessages(source, opts).find((x) => x.ref.identifier === req.params.identifier);
    if (!m) {
      res
        .status(404)
        .json({ error: 'not_found', message: `no current CAP message '${req.params.identifier}'` });
      return;
    }
    res.type(CAP_MEDIA_TYPE).send(m.xml);
  });
  return router;
}

// ---- who may read the feeds (access.ts decides) -----------------------------------------------------------

const REALM = 'badung-netmon';

/** Query values of a parameter: none, one, or several when repeated (`?key=a&key=b`). */
function queryValues(v: unknown): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  // Repeated (`?key=a&key=b`) or nested (`?key[x]=a`): more than one value, refused as such.
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  return [JSON.stringify(v), ''];
}

/**
 * The feeds' gate, mounted before feedsRouter by collector/http/server.ts. Refusals are JSON
 * `{ error, message }` (401 with `WWW-Authenticate`, 403, 400) and a log line naming the path, never the
 * query string (it holds the credential).
 */
export function feedAccess(policy: FeedAccessPolicy, log: Logger): RequestHandler {
  return (req, res, next) => {
    // A browser map on another origin reads the feeds; no cookies are involved, so any origin may.
    res.set('Access-Control-Allow-Origin', '*');
    if (req.method === 'OPTIONS') {
      res
        .set({
          'Access-Control-Allow-Methods': 'GET, HEAD',
          'Access-Control-Allow-Headers': 'Authorization',
          'Access-Control-Max-Age': '600',
        })
        .status(204)
        .end();
      return;
    }
    const decision = decideFeedAccess(
      {
        queryToken: queryValues(req.query.token),
        queryKey: queryValues(req.query.key),
        authorization: req.get('authorization'),
      },
      policy,
    );
    if (decision.ok) {
      res.locals.feedReader = decision.reader;
      next();
      return;
    }
    log.warn('feed access refused', {
      status: decision.status,
      reason: decision.reason,
      principal: decision.principal,
      method: req.method,
      path: req.baseUrl + req.path,
      ip: req.ip,
      requestId: (res.locals as { requestId?: string }).requestId,
    });
    if (decision.status === 401)
      res.set(
        'WWW-Authenticate',
        decision.reason === 'missing'
          ? `Bearer realm="${REALM}"`
          : `Bearer realm="${REALM}", error="invalid_token"`,
      );
    const error =
      decision.status === 400 ? 'bad_request' : decision.status === 401 ? 'unauthorized' : 'forbidden';
    res.status(decision.status).json({ error, message: decision.message });
  };
}
