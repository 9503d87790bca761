/**
 * The front door of an alerting candidate in a cluster (issue #15): one HTTP listener for the life of the
 * process, whose answers follow the election.
 *
 *   request ─► FrontDoor ─┬─ GET /health/cluster  any role: 200 { node, role, term, leader }
 *                         ├─ leader  ─► the term's app (server.ts buildApp on the term's Monitor and stores):
 *                         │             API, console, sessions, status page, CAP/GeoJSON feeds, hooks
 *                         └─ standby ─► GET /health: 503 { status: standby, leader } (a load balancer's
 *                            starting    health check sends traffic to the leader only);
 *                                        anything else: 503, bilingual, naming the leader and its address
 *                                        (X-Netmon-Leader, Retry-After), an HTML page for a browser
 *
 * The term change: `lead(term, app)` when a term's Monitor runs (no restart of the listener: open
 * connections and the port stay); `standby(term)` the moment the election deposes it, synchronously, so
 * the next request, even on a kept-alive connection, is answered by the standby side. A request already
 * inside the term's app when it ends meets the TermGate: every write through the service or the sessions
 * is refused (503) from that moment, before the term's store is closed (and PostgreSQL's fence would
 * refuse it anyway once the next leader holds it).
 *
 * Plain node:http here: server.ts stays the one file that builds express objects.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { SessionStoreLike } from '../store/store.ts';
import { ApiError, type MonitorService } from './service.ts';

export type FrontRole = 'standby' | 'starting' | 'leader';

/** Who leads, as this node last read the lease (collector/cluster/alerting-node.ts LeaderView). */
export interface LeaderAddress {
  readonly node: string;
  readonly term: number;
  readonly http?: string | undefined;
}

export interface FrontDoorDeps {
  /** This member's id (cluster.node). */
  readonly node: string;
  /** The leader as the lease last said; undefined while none is known. */
  readonly leader: () => LeaderAddress | undefined;
}

/** What a standby says, in both languages (the console's people read Bahasa Indonesia first). */
export function standbyText(node: string, leader: LeaderAddress | undefined): { id: string; en: string } {
  if (!leader)
    return {
      id: `Simpul ${node} sedang siaga dan pemimpin peringatan belum diketahui (pemilihan sedang berjalan); coba lagi sebentar lagi.`,
      en: `Node ${node} is on standby and no alerting leader is known yet (an election is under way); try again shortly.`,
    };
  const where = leader.http ? ` (${leader.http})` : '';
  return {
    id: `Simpul ${node} sedang siaga: API, konsol, halaman status dan umpan dilayani oleh pemimpin ${leader.node}${where}.`,
    en: `Node ${node} is on standby: the API, console, status page and feeds are served by the leader ${leader.node}${where}.`,
  };
}

export class FrontDoor {
  readonly #deps: FrontDoorDeps;
  #role: FrontRole = 'standby';
  #term: number | undefined;
  #app: RequestListener | undefined;
  #gate: TermGate | undefined;

  constructor(deps: FrontDoorDeps) {
    this.#deps = deps;
  }

  get role(): FrontRole {
    return this.#role;
  }

  get term(): number | undefined {
    return this.#term;
  }

  /** Elected: the term's store is opening; requests are told so until `lead`. */
  starting(term: number): void {
    this.#close();
    this.#role = 'starting';
    this.#term = term;
  }

  /** The term's Monitor runs: its app answers from now. `gate` is closed when the term ends. */
  lead(term: number, app: RequestListener, gate: TermGate): void {
    this.#close();
    this.#role = 'leader';
    this.#term = term;
    this.#app = app;
    this.#gate = gate;
  }

  /** Deposed (synchronous): the term's app answers nothing more, and its writes are refused. */
  standby(term: number): void {
    if (this.#term !== term) return;
    this.#close();
    this.#role = 'standby';
    this.#term = undefined;
  }

  /** The listener's handler, the same for the life of the process. */
  readonly handler: RequestListener = (req, res) => {
    res.setHeader('X-Netmon-Node', this.#deps.node);
    res.setHeader('X-Netmon-Role', this.#role);
    const path = pathOf(req);
    if (path === '/health/cluster' && (req.method === 'GET' || req.method === 'HEAD')) {
      json(res, 200, this.#clusterHealth());
      return;
    }
    const app = this.#app;
    if (this.#role === 'leader' && app) {
      app(req, res);
      return;
    }
    this.#standbyAnswer(req, res, path);
  };

  #close(): void {
    this.#gate?.close();
    this.#gate = undefined;
    this.#app = undefined;
  }

  /** The leader unless it is this node (whose lease record may outlive its own term by one read). */
  #otherLeader(): LeaderAddress | undefined {
    const l = this.#deps.leader();
    return l && l.node !== this.#deps.node ? l : undefined;
  }

  #clusterHealth(): Record<string, unknown> {
    const l = this.#role === 'leader' ? this.#deps.leader() : this.#otherLeader();
    return {
      node: this.#deps.node,
      role: this.#role,
      term: this.#term ?? null,
      leader: l ? { node: l.node, term: l.term, url: l.http ?? null } : null,
    };
  }

  #standbyAnswer(req: IncomingMessage, res: ServerResponse, path: string): void {
    const node = this.#deps.node;
    const leader = this.#otherLeader();
    const starting = this.#role === 'starting';
    const text = starting
      ? {
          id: `Simpul ${node} baru terpilih sebagai pemimpin dan sedang memuat insiden; coba lagi sebentar lagi.`,
          en: `Node ${node} has just been elected leader and is loading the incidents; try again shortly.`,
        }
      : standbyText(node, leader);
    res.setHeader('Retry-After', '1');
    res.setHeader('Cache-Control', 'no-store');
    if (leader?.http) res.setHeader('X-Netmon-Leader', leader.http);
    const leaderJson = leader ? { node: leader.node, term: leader.term, url: leader.http ?? null } : null;
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      json(res, 503, { status: this.#role, node, leader: leaderJson });
      return;
    }
    if (req.method === 'GET' && prefersHtml(req)) {
      html(res, 503, standbyPage(text, leader?.http));
      return;
    }
    json(res, 503, {
      error: this.#role,
      message: `${text.id} / ${text.en}`,
      text,
      leader: leaderJson,
    });
  }
}

/**
 * Open while its term leads; closed (for good) when the term ends. The term's service and sessions are
 * wrapped with it: a write that reaches them after the end is refused with 503, never applied.
 */
export class TermGate {
  #open = true;
  readonly #term: number;
  readonly #node: string;

  constructor(node: string, term: number) {
    this.#node = node;
    this.#term = term;
  }

  get open(): boolean {
    return this.#open;
  }

  close(): void {
    this.#open = false;
  }

  /** Throws ApiError 503 once the term has ended. */
  check(what: string): void {
    if (this.#open) return;
    throw new ApiError(
      503,
      `${what} ditolak: masa pimpinan ${this.#term} simpul ${this.#node} telah berakhir; kirim ulang ke pemimpin baru / ` +
        `${what} refused: term ${this.#term} of node ${this.#node} has ended; send it again to the new leader`,
    );
  }

  /** The service with every write checked first. */
  service(s: MonitorService): MonitorService {
    const w =
      <A extends unknown[], R>(what: string, f: (...a: A) => R) =>
      (...a: A): R => {
        this.check(what);
        return f(...a);
      };
    return {
      health: () => s.health(),
      sites: (f) => s.sites(f),
      site: (id) => s.site(id),
      incidents: (f) => s.incidents(f),
      incident: (id) => s.incident(id),
      maintenance: () => s.maintenance(),
      silences: () => s.silences(),
      availabilityReport: (q, f) => s.availabilityReport(q, f),
      acknowledge: w('acknowledge', (id: string, by: string, note: string | undefined) =>
        s.acknowledge(id, by, note),
      ),
      resolve: w('resolve', (id: string, by: string, note: string | undefined) => s.resolve(id, by, note)),
      addMaintenance: w('maintenance', (m: Parameters<MonitorService['addMaintenance']>[0], by: string) =>
        s.addMaintenance(m, by),
      ),
      deleteMaintenance: w('maintenance', (id: string, by: string) => s.deleteMaintenance(id, by)),
      addSilence: w('silence', (x: Parameters<MonitorService['addSilence']>[0], by: string) =>
        s.addSilence(x, by),
      ),
      deleteSilence: w('silence', (id: string, by: string) => s.deleteSilence(id, by)),
    };
  }

  /** The sessions with every write checked first (sign-in, sign-out, the idle clock's touch). */
  sessions(s: SessionStoreLike): SessionStoreLike {
    return {
      get: (h) => s.get(h),
      count: () => s.count(),
      flush: () => s.flush(),
      close: () => s.close(),
      insert: (r) => {
        this.check('sign-in');
        s.insert(r);
      },
      touch: (h, t) => {
        this.check('session');
        s.touch(h, t);
      },
      delete: (h) => {
        this.check('sign-out');
        return s.delete(h);
      },
      deleteUser: (u) => {
        this.check('sign-out');
        return s.deleteUser(u);
      },
      deleteExpired: (idle, created) => {
        this.check('session');
        return s.deleteExpired(idle, created);
      },
    };
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** A browser's navigation (Accept text/html before JSON), not the console's fetch. */
function prefersHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  const h = accept.indexOf('text/html');
  if (h === -1) return false;
  const j = accept.indexOf('application/json');
  return j === -1 || h < j;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(text);
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
  });
  res.end(body);
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function standbyPage(text: { id: string; en: string }, leaderUrl: string | undefined): string {
  const link = leaderUrl ? `<p><a href="${escapeHtml(leaderUrl)}/">${escapeHtml(leaderUrl)}</a></p>` : '';
  return `<!doctype html><html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>badung-netmon: siaga / standby</title></head><body style="font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em"><h1>Siaga / Standby</h1><p>${escapeHtml(text.id)}</p><p lang="en">${escapeHtml(text.en)}</p>${link}</body></html>`;
}
