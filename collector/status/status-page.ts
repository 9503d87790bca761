/**
 * The public status page's cache: the page and its JSON are rebuilt from the monitor's state on a timer
 * (every `rebuildMs`, and soon after a change is signalled) into prebuilt Buffers, plain and gzipped,
 * each with a strong ETag. A request only picks a Buffer, so any amount of public traffic costs the
 * polling nothing but the socket work; the monitor's state is read once per rebuild, whatever the load.
 *
 * Availability over 30 and 90 days is read from InfluxDB in the background (every `refreshMs`; one
 * history read of 90 days, computed by the reports' engine) and kept between reads; a failed read keeps
 * the last figures and is logged.
 *
 * Lifecycle: construct (nothing runs), start() builds at once and arms the timers, stop() clears them.
 * A history read in flight is not waited for (it may take up to its timeout while the database is away):
 * its result is dropped.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { Inventory } from '../core/types.ts';
import type { History } from '../reports/history.ts';
import { DAY_MS, statusAvailability } from './availability.ts';
import { buildPublicStatus, statusJson, type StatusAvailability } from './model.ts';
import { renderStatusHtml } from './render-html.ts';
import type { StatusSource } from './source.ts';

/** One response body, ready to send. */
export interface Prebuilt {
  readonly body: Buffer;
  readonly gzip: Buffer;
  /** Strong ETag (RFC 9110 8.8.3) of the body, quoted. */
  readonly etag: string;
  readonly contentType: string;
  readonly builtAtMs: number;
}

export interface StatusPageOptions {
  readonly source: StatusSource;
  readonly clock: Clock;
  readonly log: Logger;
  /** Rebuild at least this often. Default 5 s. */
  readonly rebuildMs?: number | undefined;
  /** After a change is signalled, rebuild within this long (changes in a burst make one rebuild). Default 250 ms. */
  readonly changeDelayMs?: number | undefined;
  /** Availability from InfluxDB; absent: the page shows "being computed" and the JSON null. */
  readonly availability?:
    | {
        readonly inventory: Inventory;
        readonly read: (fromMs: number, toMs: number) => Promise<History>;
        /** Default 10 min. */
        readonly refreshMs?: number | undefined;
      }
    | undefined;
}

export interface StatusPageStats {
  readonly builds: number;
  readonly buildFailures: number;
  readonly lastBuildMs: number | undefined;
  readonly availabilityAtMs: number | undefined;
  readonly availabilityFailures: number;
}

export class StatusPage {
  readonly #opts: StatusPageOptions;
  #html: Prebuilt | undefined;
  #json: Prebuilt | undefined;
  #availability: StatusAvailability | undefined;
  #timer: TimerHandle | undefined;
  #changeTimer: TimerHandle | undefined;
  #refreshTimer: TimerHandle | undefined;
  #running = false;
  #builds = 0;
  #buildFailures = 0;
  #lastBuildMs: number | undefined;
  #availabilityFailures = 0;

  constructor(opts: StatusPageOptions) {
    this.#opts = opts;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.rebuild();
    this.#armRebuild();
    if (this.#opts.availability) void this.#refreshLoop();
  }

  stop(): Promise<void> {
    this.#running = false;
    const { clock } = this.#opts;
    for (const t of [this.#timer, this.#changeTimer, this.#refreshTimer]) if (t) clock.clearTimeout(t);
    this.#timer = this.#changeTimer = this.#refreshTimer = undefined;
    return Promise.resolve();
  }

  /** The page, once built. */
  html(): Prebuilt | undefined {
    return this.#html;
  }

  /** `/status.json`, once built. */
  json(): Prebuilt | undefined {
    return this.#json;
  }

  stats(): StatusPageStats {
    return {
      builds: this.#builds,
      buildFailures: this.#buildFailures,
      lastBuildMs: this.#lastBuildMs,
      availabilityAtMs: this.#availability?.computedAtMs,
      availabilityFailures: this.#availabilityFailures,
    };
  }

  /** Something shown may have changed (a transition, an acknowledgement): rebuild soon. */
  changed(): void {
    if (!this.#running || this.#changeTimer) return;
    this.#changeTimer = this.#opts.clock.setTimeout(() => {
      this.#changeTimer = undefined;
      this.rebuild();
    }, this.#opts.changeDelayMs ?? 250);
  }

  /** Build both documents now from the monitor's state. A failure keeps the last ones and is logged. */
  rebuild(): void {
    const { clock, source, log } = this.#opts;
    const started = performance.now();
    try {
      const status = buildPublicStatus({
        nowMs: clock.now(),
        sites: source.sites(),
        incidents: source.incidents(),
        availability: this.#availability,
      });
      const now = clock.now();
      this.#html = prebuilt(this.#html, renderStatusHtml(status), 'text/html; charset=utf-8', now);
      this.#json = prebuilt(
        this.#json,
        `${JSON.stringify(statusJson(status), null, 1)}\n`,
        'application/json; charset=utf-8',
        now,
      );
      this.#builds++;
      this.#lastBuildMs = performance.now() - started;
    } catch (err) {
      this.#buildFailures++;
      log.error('status page build failed; serving the last one', { error: errorMessage(err) });
    }
  }

  /** Read the last 90 days from InfluxDB and recompute the availability figures; then rebuild. */
  async refreshAvailability(): Promise<void> {
    const av = this.#opts.availability;
    if (!av) return;
    const now = this.#opts.clock.now();
    try {
      const history = await av.read(now - 90 * DAY_MS, now);
      if (!this.#running) return;
      this.#availability = statusAvailability(av.inventory, history, now);
      this.#availabilityFailures = 0;
      if (this.#running) this.rebuild();
    } catch (err) {
      this.#availabilityFailures++;
      // Once per failure streak at warn level: a database away for hours is one line, not hundreds.
      const level = this.#availabilityFailures === 1 ? 'warn' : 'debug';
      this.#opts.log[level]('status page availability read failed; keeping the last figures', {
        error: errorMessage(err),
        failures: this.#availabilityFailures,
      });
    }
  }

  #armRebuild(): void {
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.rebuild();
      if (this.#running) this.#armRebuild();
    }, this.#opts.rebuildMs ?? 5000);
  }

  async #refreshLoop(): Promise<void> {
    await this.refreshAvailability();
    if (!this.#running) return;
    this.#refreshTimer = this.#opts.clock.setTimeout(
      () => void this.#refreshLoop(),
      this.#opts.availability?.refreshMs ?? 600_000,
    );
  }
}

/** The previous Prebuilt when the text is the same (same ETag, no re-compression), else a new one. */
function prebuilt(prev: Prebuilt | undefined, text: string, contentType: string, now: number): Prebuilt {
  const body = Buffer.from(text, 'utf8');
  if (prev && prev.contentType === contentType && prev.body.equals(body)) return prev;
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
  return { body, gzip: gzipSync(body), etag, contentType, builtAtMs: now };
}
