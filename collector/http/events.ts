/**
 * Live events for the console: `GET /api/v1/events` as a Server-Sent Events stream (HTML Living Standard,
 * section 9.2 "Server-sent events"). The EventHub holds the open streams and writes each published event
 * to all of them; what is published comes from live-feed.ts (the monitor's transitions, incident changes).
 *
 *   snapshot   once on connect           { sites: [{ id, state, since, recoveryConfirmAt? }] }
 *   site       a site's state changed    { id, state, previous, since, recoveryConfirmAt?, at }
 *   device     a device's state changed  { id, siteId, state, previous, at }
 *   incident   open, acknowledged, recovering, resolved   { id, status, siteId?, kind, at }
 *   health     every 5 s                 the body of GET /api/v1/health
 *   `: ping`   every 15 s                a comment, so proxies and the browser see the stream alive
 *
 * Bounded: at most `maxClients` streams (more: 503 + Retry-After); an event is serialized once, and a
 * client whose unsent data passes `maxBufferedBytes` (it reads slower than events come) is dropped rather
 * than buffered without end: its EventSource reconnects and gets a fresh snapshot.
 *
 * Long-lived responses and the server's timeouts: Node's requestTimeout and headersTimeout cover only
 * receiving the request; a stream's socket gets no inactivity timeout (setTimeout(0)), and the 15 s ping
 * keeps intermediaries from closing it.
 */
import type { Request, Response, Router } from 'express';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { parseNoQuery } from './bodies.ts';
import type { RouteKit } from './routes/kit.ts';

export type LiveEventType = 'snapshot' | 'site' | 'device' | 'incident' | 'health';

export interface EventHubOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly maxClients: number;
  /** The first event of every stream. */
  readonly snapshot: () => unknown;
  /** The `health` event's body (GET /api/v1/health's). */
  readonly health: () => unknown;
  /** Unsent bytes past which a client is dropped. Default 256 KiB. */
  readonly maxBufferedBytes?: number | undefined;
  readonly pingMs?: number | undefined;
  readonly healthMs?: number | undefined;
  /** The browser's reconnect delay, sent as `retry:`. Default 2 s. */
  readonly retryMs?: number | undefined;
}

interface Client {
  readonly res: Response;
  readonly who: string;
  readonly since: number;
  /** For a session's stream: false once the session has ended (signed out, expired, account gone). */
  readonly valid?: (() => Promise<boolean>) | undefined;
}

export interface EventHubStats {
  readonly clients: number;
  readonly connected: number;
  readonly dropped: number;
  readonly refused: number;
  readonly published: number;
}

export class EventHub {
  readonly #opts: EventHubOptions;
  readonly #clients = new Set<Client>();
  #seq = 0;
  #stats = { connected: 0, dropped: 0, refused: 0, published: 0 };
  #pingTimer: TimerHandle | undefined;
  #healthTimer: TimerHandle | undefined;
  #running = false;

  constructor(opts: EventHubOptions) {
    this.#opts = opts;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#armPing();
    this.#armHealth();
  }

  /** End every stream (the server cannot close while they are open) and stop the timers. */
  stop(): void {
    this.#running = false;
    if (this.#pingTimer) this.#opts.clock.clearTimeout(this.#pingTimer);
    if (this.#healthTimer) this.#opts.clock.clearTimeout(this.#healthTimer);
    for (const c of this.#clients) c.res.end();
    this.#clients.clear();
  }

  stats(): EventHubStats {
    return { clients: this.#clients.size, ...this.#stats };
  }

  /** Write an event to every open stream. */
  publish(type: LiveEventType, data: unknown): void {
    if (this.#clients.size === 0) return;
    this.#stats.published++;
    this.#broadcast(frame(type, data, ++this.#seq));
  }

  /**
   * Serve one stream: the route handler of GET /events. `who` names the principal in logs; `valid`,
   * for a session's stream, is asked at every ping and ends the stream once its session has ended.
   */
  connect(req: Request, res: Response, who: string, valid?: () => Promise<boolean>): void {
    if (!this.#running) {
      res
        .status(503)
        .set('Retry-After', '5')
        .json({ error: 'unavailable', message: 'the monitor is stopping' });
      return;
    }
    if (this.#clients.size >= this.#opts.maxClients) {
      this.#stats.refused++;
      this.#opts.log.warn('event stream refused: too many open', { who, max: this.#opts.maxClients });
      res
        .status(503)
        .set('Retry-After', '10')
        .json({
          error: 'unavailable',
          message: `too many open event streams (at most ${this.#opts.maxClients}); try again shortly`,
        });
      return;
    }
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      Connection: 'keep-alive',
      // nginx and similar proxies buffer responses unless told not to.
      'X-Accel-Buffering': 'no',
    });
    const client: Client = { res, who, since: this.#opts.clock.now(), valid };
    this.#clients.add(client);
    this.#stats.connected++;
    res.on('close', () => this.#clients.delete(client));
    let first: string;
    try {
      first = frame('snapshot', this.#opts.snapshot(), ++this.#seq);
    } catch (err) {
      this.#opts.log.error('event snapshot failed', { error: errorMessage(err) });
      this.#clients.delete(client);
      res.destroy();
      return;
    }
    res.write(`retry: ${this.#opts.retryMs ?? 2000}\n\n${first}`);
  }

  #broadcast(text: string): void {
    const limit = this.#opts.maxBufferedBytes ?? 256 * 1024;
    for (const c of this.#clients) {
      if (c.res.writableLength > limit) {
        this.#clients.delete(c);
        this.#stats.dropped++;
        this.#opts.log.warn('event stream dropped: the client reads too slowly', {
          who: c.who,
          unsentBytes: c.res.writableLength,
          openForS: Math.round((this.#opts.clock.now() - c.since) / 1000),
        });
        c.res.destroy();
        continue;
      }
      c.res.write(text);
    }
  }

  #armPing(): void {
    this.#pingTimer = this.#opts.clock.setTimeout(() => {
      if (!this.#running) return;
      this.#broadcast(': ping\n\n');
      this.#endEndedSessions();
      this.#armPing();
    }, this.#opts.pingMs ?? 15_000);
  }

  /** A signed-out or expired session's stream ends (within a ping period); its browser must sign in. */
  #endEndedSessions(): void {
    for (const c of this.#clients) {
      if (!c.valid) continue;
      c.valid().then(
        (ok) => {
          if (ok || !this.#clients.delete(c)) return;
          this.#opts.log.info('event stream ended: its session has ended', { who: c.who });
          c.res.end();
        },
        (err: unknown) => this.#opts.log.error('session re-check failed', { error: errorMessage(err) }),
      );
    }
  }

  #armHealth(): void {
    this.#healthTimer = this.#opts.clock.setTimeout(() => {
      if (!this.#running) return;
      try {
        if (this.#clients.size > 0) this.publish('health', this.#opts.health());
      } catch (err) {
        this.#opts.log.error('health event failed', { error: errorMessage(err) });
      }
      this.#armHealth();
    }, this.#opts.healthMs ?? 5000);
  }
}

function frame(type: LiveEventType, data: unknown, id: number): string {
  // JSON.stringify escapes newlines, so the data is one `data:` line.
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * GET /events (viewer), for a token or a session cookie alike. `sessionValid`, given the request, says
 * whether a session's stream may go on (undefined for a token's stream: a token is checked once).
 */
export function registerEventRoutes(
  router: Router,
  kit: RouteKit,
  hub: EventHub,
  sessionValid?: (req: Request, res: Response) => (() => Promise<boolean>) | undefined,
): void {
  router.get('/events', kit.need('viewer'), (req, res) => {
    parseNoQuery(req.query);
    const p = (res.locals as { principal?: { name: string } }).principal;
    hub.connect(req, res, p?.name ?? '?', sessionValid?.(req, res));
  });
}
