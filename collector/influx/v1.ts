/**
 * The InfluxDB 1.x HTTP API (/write, /query; InfluxDB 1.x, and 2.x/3.x through their 1.x compatibility
 * endpoints): the only file that imports the npm `influx` package, and the only one that speaks this API.
 * Writes, retention statements, report and console reads all go through here.
 *
 * Transport: the package's connection Pool (influx/lib/src/pool), not its InfluxDB class, because
 *  - writes: SampleWriter hands us ready line protocol (sinks/line-protocol.ts). InfluxDB.writePoints only
 *    takes point objects and re-encodes them with an escaper that leaves a trailing backslash in a tag
 *    unescaped (influxd then refuses the line); Pool.stream posts our bytes as they are — the same call
 *    writePoints makes (`POST /write?db=&rp=&precision=`), minus the conversion;
 *  - queries: InfluxDB.query/queryRaw read the whole answer into one string (Pool.json). Pool.stream hands
 *    back the response stream, so `series()` asks for `chunked=true` and yields each chunk's series as
 *    it arrives: a month of heartbeats is never one string in memory.
 * Basic auth is built by the Pool from `auth` (once, here). Retries are not the Pool's: maxRetries 0 and
 * a backoff that never takes the only host out of the pool; callers (SampleWriter, keepRetention) retry
 * on the SinkError's `retryable`/`retryAfterMs` (core/http-failure.ts).
 *
 * Deadline: a Watchdog per request aborts it when the server stays silent for `timeoutMs`.
 *
 * The Pool reports a 5xx as ServiceNotAvailableError(statusMessage), without the status or headers. The
 * adapter's agent notes each response as it arrives (`TapAgent`), so a 503's status, Retry-After and
 * body still reach the classifier.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import {
  Pool,
  RequestError,
  ServiceNotAvailableError,
  type IPoolRequestOptions,
} from 'influx/lib/src/pool.js';
import { SinkError } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';
import { httpSinkError, networkSinkError, serverUrl } from '../sinks/sink.ts';

export interface InfluxV1Connection {
  /** e.g. http://127.0.0.1:8086, or with a path prefix behind a proxy: https://host/influx */
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: Secret | undefined;
  /** How long the server may stay silent: before its answer, or between two chunks of it. */
  readonly timeoutMs: number;
}

/** One series of an InfluxQL answer (a chunk may carry part of a series: `partial: true`). */
export interface InfluxSeries {
  readonly name?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values?: readonly (readonly unknown[])[];
  readonly partial?: boolean;
}

/** One statement's result. */
export interface StatementResult {
  readonly series?: readonly InfluxSeries[];
  readonly error?: string;
}

interface QueryDocument {
  readonly results?: readonly StatementResult[];
  readonly error?: string;
}

/** How much of an error answer is kept for its message (a partial write's names the points it dropped). */
const MAX_ERROR_BODY = 64 * 1024;

/** A backoff that never takes the (only) host out of the Pool: we retry ourselves. */
interface BackoffStrategy {
  getDelay(): number;
  next(): BackoffStrategy;
  reset(): BackoffStrategy;
}
const noBackoff: BackoffStrategy = {
  getDelay: () => 0,
  next: () => noBackoff,
  reset: () => noBackoff,
};

/**
 * The deadline of one request: aborts it when the server has sent nothing for `ms` — before the answer,
 * or between two chunks of it. Disarmed while the consumer holds a chunk, so a slow reader is not taken
 * for a slow server; a stream of a month of history may take longer than `ms` in all, but never stalls.
 * (The Pool's own timeout is a socket idle timeout that it ignores once the headers have come.)
 */
class Watchdog {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #fired = false;
  constructor(ms: number) {
    this.#ms = ms;
    this.arm();
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  /** The server went quiet for too long and the request was aborted. */
  get fired(): boolean {
    return this.#fired;
  }
  /** (Re)start the countdown. */
  arm(): void {
    this.disarm();
    this.#timer = setTimeout(() => {
      this.#fired = true;
      this.#controller.abort(new DOMException(`no data within ${this.#ms} ms`, 'TimeoutError'));
    }, this.#ms);
  }
  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** An answer's stream and the deadline that watches it. */
interface Answer {
  readonly res: IncomingMessage;
  readonly watchdog: Watchdog;
}

/** What the tap saw of the latest answer to a request (status, headers, and the body of a 5xx). */
interface Seen {
  res?: IncomingMessage;
  body: string;
}

/**
 * An agent that tells `onRequest` about each request the Pool makes through it. Node calls
 * Agent#addRequest synchronously from http.request (undocumented but stable since Node 0.x; the Pool
 * offers no other way to see a 5xx's headers).
 */
function tapAgent(https_: boolean): {
  agent: http.Agent;
  tap: { onRequest?: (req: http.ClientRequest) => void };
} {
  const tap: { onRequest?: (req: http.ClientRequest) => void } = {};
  const Base = https_ ? https.Agent : http.Agent;
  type AddRequest = (this: http.Agent, req: http.ClientRequest, options: unknown) => void;
  const addRequest = (Base.prototype as unknown as { addRequest: AddRequest }).addRequest;
  const agent = new Base({ keepAlive: true });
  (agent as unknown as { addRequest: AddRequest }).addRequest = function (req, options) {
    tap.onRequest?.(req);
    addRequest.call(this, req, options);
  };
  return { agent, tap };
}

export class InfluxV1Client {
  /** "influx-v1 host:port", for messages. */
  readonly name: string;
  readonly #pool: Pool;
  readonly #agent: http.Agent;
  readonly #tap: { onRequest?: (req: http.ClientRequest) => void };
  readonly #auth: string | undefined;
  readonly #timeoutMs: number;
  /** Where writes go, and how (write() does not go through the Pool: see there). */
  readonly #writeTo: {
    readonly request: typeof http.request;
    readonly hostname: string;
    readonly port: number;
    readonly path: string;
    readonly authorization: string | undefined;
  };

  /** No I/O. Throws SinkError (not retryable) for a URL that is not http(s). */
  constructor(conn: InfluxV1Connection, name = 'influx-v1') {
    const url = serverUrl(name, conn.url);
    this.name = `${name} ${url.host}`;
    this.#timeoutMs = conn.timeoutMs;
    const secure = url.protocol === 'https:';
    const { agent, tap } = tapAgent(secure);
    this.#agent = agent;
    this.#tap = tap;
    this.#pool = new Pool({ maxRetries: 0, requestTimeout: conn.timeoutMs, backoff: noBackoff });
    // The Pool appends "/write" to the path and reads the port as given: no trailing slash, explicit port.
    const port = url.port || (secure ? '443' : '80');
    const path = url.pathname.replace(/\/+$/, '');
    this.#pool.addHost(`${url.protocol}//${url.hostname}:${port}${path}`, { agent });
    this.#auth =
      conn.username !== undefined ? `${conn.username}:${conn.password?.reveal() ?? ''}` : undefined;
    this.#writeTo = {
      request: secure ? https.request : http.request,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(port),
      path: `${path}/write`,
      authorization:
        this.#auth !== undefined ? `Basic ${Buffer.from(this.#auth).toString('base64')}` : undefined,
    };
  }

  /**
   * POST ready line protocol (ms timestamps) to /write: one string, or a batch in pieces
   * (line-protocol.ts encodeBatchPieces) written one after the other as one body.
   *
   * Not through the Pool: it measures the body with Buffer.from(body) (a copy of every batch, outside the
   * heap, only to count its bytes) and takes one string; a batch of a second at the Badung load is about
   * 200 KB, which V8 puts straight into its old generation, and both made the collector's mark-compacts
   * several times more frequent (issue #14). Pieces under 32 KB die young. Errors as the Pool's path
   * gives them: an HTTP status as httpSinkError, silence as `timeout`, the network as networkSinkError.
   */
  async write(
    body: string | readonly string[],
    target: { database: string; retentionPolicy?: string | undefined },
  ): Promise<void> {
    const what = `${this.name} write`;
    const pieces = typeof body === 'string' ? [body] : body;
    let length = 0;
    for (const piece of pieces) length += Buffer.byteLength(piece, 'utf8');
    const query = new URLSearchParams({ db: target.database, precision: 'ms' });
    if (target.retentionPolicy) query.set('rp', target.retentionPolicy);
    const to = this.#writeTo;
    const watchdog = new Watchdog(this.#timeoutMs);
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = to.request(
          {
            hostname: to.hostname,
            port: to.port,
            path: `${to.path}?${query.toString()}`,
            method: 'POST',
            agent: this.#agent,
            signal: watchdog.signal,
            headers: {
              'content-type': 'text/plain; charset=utf-8',
              'content-length': length,
              ...(to.authorization !== undefined ? { authorization: to.authorization } : {}),
            },
          },
          resolve,
        );
        req.on('error', reject);
        for (const piece of pieces) req.write(piece);
        req.end();
      });
      watchdog.arm(); // the headers came: a new countdown for the body
      const status = res.statusCode ?? 0;
      // 204: nothing to read, but drained so the connection is reused. Otherwise the start of the answer
      // for the error (a 400's names the points it dropped).
      let text = '';
      res.setEncoding('utf8');
      for await (const chunk of res as AsyncIterable<string>) {
        watchdog.arm();
        if (status >= 300 && text.length < MAX_ERROR_BODY) text += chunk;
      }
      if (status >= 300) throw httpSinkError(what, status, text, header(res, 'retry-after'));
    } catch (err) {
      throw this.#streamFailure(what, err, watchdog);
    } finally {
      watchdog.disarm();
    }
  }

  /**
   * Run one InfluxQL statement by POST (CREATE, ALTER, DROP and SHOW alike) and return its result;
   * a statement InfluxDB refuses is a SinkError `influxql`, not retryable.
   */
  async execute(statement: string, database?: string): Promise<StatementResult> {
    const what = `${this.name}: ${statement}`;
    const answer = await this.#request(statement, {
      method: 'POST',
      path: '/query',
      body: new URLSearchParams({ q: statement, ...(database ? { db: database } : {}) }).toString(),
    });
    let result: StatementResult = {};
    for await (const doc of this.#documents(answer, what)) result = doc.results?.[0] ?? result;
    return result;
  }

  /**
   * Run an InfluxQL query (GET, `epoch=ms`, `chunked=true`) and yield its series chunk by chunk as the
   * server sends them. A series longer than `chunkSize` rows comes in parts, each with the series' name
   * and tags: callers fold, they do not index.
   */
  async *series(
    q: string,
    opts: { database: string; chunkSize?: number | undefined },
  ): AsyncGenerator<InfluxSeries, void, undefined> {
    const what = `${this.name}: ${q.slice(0, 120)}`;
    const answer = await this.#request(q.slice(0, 120), {
      method: 'GET',
      path: '/query',
      query: {
        db: opts.database,
        q,
        epoch: 'ms',
        chunked: 'true',
        chunk_size: String(opts.chunkSize ?? 20_000),
      },
    });
    for await (const doc of this.#documents(answer, what)) {
      for (const r of doc.results ?? []) yield* r.series ?? [];
    }
  }

  /** Close idle keep-alive connections. The client can still be used (it opens new ones). */
  close(): void {
    this.#agent.destroy();
  }

  /**
   * One request through the Pool: the response stream of a 2xx with its armed watchdog (the reader
   * disarms it when done), or a SinkError that says whether to retry.
   */
  #request(op: string, options: IPoolRequestOptions): Promise<Answer> {
    const seen: Seen = { body: '' };
    const watchdog = new Watchdog(this.#timeoutMs);
    const signal = watchdog.signal;
    return new Promise((resolve, reject) => {
      this.#tap.onRequest = (req) =>
        req.once('response', (res: IncomingMessage) => {
          seen.res = res;
          // The Pool drains a 5xx's body unread; keep its start for the error message.
          if ((res.statusCode ?? 0) >= 500)
            res.on('data', (c: Buffer | string) => {
              if (seen.body.length < 500) seen.body += c.toString();
            });
        });
      try {
        this.#pool.stream(
          { ...options, signal, ...(this.#auth !== undefined ? { auth: this.#auth } : {}) },
          (err, res) => {
            if (!err) return resolve({ res, watchdog });
            watchdog.disarm();
            reject(this.#failure(op, err, seen));
          },
        );
      } finally {
        this.#tap.onRequest = undefined;
      }
    });
  }

  /** A failure while a request or its answer streamed: ours as it is, silence as `timeout`, else the network's. */
  #streamFailure(what: string, err: unknown, watchdog: Watchdog): SinkError {
    if (err instanceof SinkError) return err;
    if (watchdog.fired)
      return new SinkError('timeout', `${what}: no data within ${this.#timeoutMs} ms`, {
        retryable: true,
        cause: err,
      });
    return networkSinkError(what, err, this.#timeoutMs);
  }

  /** The Pool's error as a SinkError. */
  #failure(op: string, err: unknown, seen: Seen): SinkError {
    const what = `${this.name} ${op}`;
    if (err instanceof RequestError) {
      // 3xx/4xx: the Pool read the body into the message ("A 401 Unauthorized error occurred: {...}").
      const at = err.message.indexOf(' error occurred: ');
      const body = at >= 0 ? err.message.slice(at + ' error occurred: '.length) : err.message;
      // Not the RequestError itself as the cause: its `req` holds our Authorization header, and a logger
      // that walks causes must never meet the password.
      return httpSinkError(
        what,
        err.res.statusCode ?? 0,
        body,
        header(err.res, 'retry-after'),
        new Error(err.message),
      );
    }
    if (err instanceof ServiceNotAvailableError) {
      const status = seen.res?.statusCode;
      if (status !== undefined && status >= 500)
        return httpSinkError(what, status, seen.body, header(seen.res, 'retry-after'), err);
      // "Request timed out": the socket sat idle for timeoutMs.
      return new SinkError('timeout', `${what}: no answer within ${this.#timeoutMs} ms`, {
        retryable: true,
        cause: err,
      });
    }
    return networkSinkError(what, err, this.#timeoutMs);
  }

  /** The newline-separated JSON documents of an answer (one per chunk), checked for errors. */
  async *#documents(answer: Answer, what: string): AsyncGenerator<QueryDocument, void, undefined> {
    const { res, watchdog } = answer;
    const parse = (line: string): QueryDocument => {
      let doc: QueryDocument;
      try {
        doc = JSON.parse(line) as QueryDocument;
      } catch (err) {
        throw new SinkError('decode', `${what}: not JSON: ${line.slice(0, 200)}`, {
          retryable: false,
          cause: err,
        });
      }
      const error = doc.error ?? doc.results?.find((r) => r.error !== undefined)?.error;
      if (error !== undefined) throw new SinkError('influxql', `${what}: ${error}`, { retryable: false });
      return doc;
    };
    let buffered = '';
    try {
      for await (const chunk of res as AsyncIterable<string | Buffer>) {
        watchdog.arm(); // the server is talking: a new countdown
        buffered += chunk.toString();
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() === '') continue;
          const doc = parse(line);
          watchdog.disarm(); // the consumer's time is not the server's
          yield doc;
          watchdog.arm();
        }
      }
    } catch (err) {
      throw this.#streamFailure(what, err, watchdog);
    } finally {
      watchdog.disarm();
      if (!res.readableEnded) res.destroy(); // a consumer that stopped early, or a refusal mid-stream
    }
    if (buffered.trim() !== '') yield parse(buffered);
  }
}

function header(res: IncomingMessage | undefined, name: string): string | undefined {
  const v = res?.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
