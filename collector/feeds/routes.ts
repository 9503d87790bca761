/**
 * The feeds for BPBD's emergency picture over HTTP (mounted by collector/http/server.ts under /feeds):
 *
 *   GET /feeds/outages.geojson     current outages, RFC 7946 FeatureCollection (application/geo+json)
 *   GET /feeds/cap.atom            Atom index of the CAP 1.2 messages: an Alert per open outage, the
 *                                  AllClear (Update) of those resolved in the last `recentMs`
 *   GET /feeds/cap/:identifier     one CAP 1.2 message (application/cap+xml)
 *
 * Built on each request from what the monitor knows now: nothing to keep in step.
 */
import express from 'express';
import type { Clock } from '../core/clock.ts';
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
