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
 * A build reads every site, so its cost grows with the fleet (about 10-15 us a site: 10 ms for Badung's
 * 987 sites, half a second for 30 times that on a busy machine). Rebuilding 250 ms after every change
 * would, in a fleet large enough to have a transition in every quarter second, rebuild four times a
 * second and saturate the event loop that also polls. So the time spent building is budgeted: the next
 * build (on the timer or after a change) comes no sooner than the last build's duration divided by
 * `buildBudget` (default 0.05, i.e. at most 5 % of one core). For Badung that changes nothing (10 ms /
 * 0.05 = 200 ms, under the 250 ms change delay); at 100k devices the page is rebuilt every few seconds
 * instead of continuously, and says when it was built.
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
  /** Rebuild at least this often. Default 15 s. */
  readonly rebuildMs?: number | undefined;
  /** After a change is signalled, rebuild within this long (changes in a burst make one rebuild). Default 250 ms. */
  readonly changeDelayMs?: number | undefined;
  /**
   * The share of one core that building may take (0 < budget <= 1): builds are spaced by at least the
   * last build's duration / budget. Default 0.05.
   */
  readonly buildBudget?: number | undefined;
  /** Monotonic time in ms for measuring a build's duration (tests inject one). Default performance.now. */
  readonly elapsedMs?: (() => number) | undefined;
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
  /** The spacing of builds now: the timer's period (rebuildMs, or longer when builds are slow). */
  readonly periodMs: number;
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
  /** When the last build was made (clock time), and when the periodic timer fires next. */
  #lastBuildAt = -Infinity;
  #timerAt = Infinity;
  #availabilityFailures = 0;

  constructor(opts: StatusPageOptions) {
    const budget = opts.buildBudget ?? 0.05;
    if (!(budget > 0 && budget <= 1)) throw new RangeError('StatusPage: buildBudget must be in (0, 1]');
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
    this.#timerAt = Infinity;
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
      periodMs: this.#periodMs(),
      availabilityAtMs: this.#availability?.computedAtMs,
      availabilityFailures: this.#availabilityFailures,
    };
  }

  /**
   * Something shown may have changed (a transition, an acknowledgement): rebuild soon, within the change
   * delay or, when builds are slow (a large fleet), once the build budget allows it.
   */
  changed(): void {
    if (!this.#running || this.#changeTimer) return;
    const now = this.#opts.clock.now();
    const at = Math.max(now + (this.#opts.changeDelayMs ?? 250), this.#lastBuildAt + this.#budgetGapMs());
    // The periodic build comes first: it shows the change.
    if (this.#timerAt <= at) return;
    this.#changeTimer = this.#opts.clock.setTimeout(() => {
      this.#changeTimer = undefined;
      this.rebuild();
      // The periodic build starts over from this one: it would otherwise follow it at once.
      if (!this.#running) return;
      if (this.#timer) this.#opts.clock.clearTimeout(this.#timer);
      this.#armRebuild();
    }, at - now);
  }

  /** Build both documents now from the monitor's state. A failure keeps the last ones and is logged. */
  rebuild(): void {
    const { clock, source, log } = this.#opts;
    const elapsed = this.#opts.elapsedMs ?? (() => performance.now());
    const started = elapsed();
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
      this.#lastBuildMs = elapsed() - started;
      this.#lastBuildAt = now;
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

  /** The least time between two builds that keeps building within its budget. */
  #budgetGapMs(): number {
    return (this.#lastBuildMs ?? 0) / (this.#opts.buildBudget ?? 0.05);
  }

  #periodMs(): number {
    return Math.max(this.#opts.rebuildMs ?? 15_000, Math.round(this.#budgetGapMs()));
  }

  #armRebuild(): void {
    const period = this.#periodMs();
    this.#timerAt = this.#opts.clock.now() + period;
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      // This build shows any change signalled meanwhile.
      if (this.#changeTimer) this.#opts.clock.clearTimeout(this.#changeTimer);
      this.#changeTimer = undefined;
      this.rebuild();
      if (this.#running) this.#armRebuild();
    }, period);
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
