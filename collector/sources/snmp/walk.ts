/**
 * GETBULK walks (RFC 3416 section 4.2.3) of one subtree or of several table columns at once.
 *
 * - Several columns share each request: one GETBULK with N column cursors returns up to N x R varbinds,
 *   so a 12-interface ifTable + ifXTable read is one or two round trips instead of one walk per column.
 * - Too-big fallback: an agent may drop a reply that does not fit a UDP datagram instead of answering
 *   tooBig (snmpsim does, with vrp's large values). When a request with R > 1 repetitions times out or
 *   says tooBig, the same step is retried with R / 2, down to 1, before the device is declared down.
 *   Requests with R > 1 get one attempt only: a reply that is too big is dropped every time.
 * - Loop protection: an agent that returns an OID not greater than the previous one in a column is an
 *   error (agent_error), never an endless walk; so is a walk past `maxVarbinds`.
 */
import { NetmonError, SnmpError } from '../../core/errors.ts';
import type { RequestOptions, VarBind } from './session.ts';

export interface BulkRequester {
  getBulk(
    oids: readonly string[],
    nonRepeaters: number,
    maxRepetitions: number,
    opts?: RequestOptions,
  ): Promise<VarBind[][]>;
}

export interface WalkOptions {
  readonly maxRepetitions: number;
  /** Safety bound on varbinds collected in one walk (default 100,000). */
  readonly maxVarbinds?: number | undefined;
  /**
   * OIDs asked once, as the GETBULK non-repeaters of the walk's first request (a GETNEXT each, RFC 3416
   * section 4.2.3): a poll's scalars ride with the first step of its tables, one round trip for both.
   * Their varbinds are the result's `scalars`. That first request gets `firstAttempts` attempts and no
   * too-big fallback: any failure of it is thrown, and the caller decides (poller.ts).
   */
  readonly nonRepeaters?: readonly string[] | undefined;
  /** Attempts of a first request that carries nonRepeaters (default 1). */
  readonly firstAttempts?: number | undefined;
}

export interface WalkResult {
  /** Varbinds per requested base OID, in OID order, all inside the base. */
  readonly columns: ReadonlyMap<string, readonly VarBind[]>;
  readonly requests: number;
  /** How many times the repetitions were halved. */
  readonly fallbacks: number;
  /** The repetitions the last successful request used: a good starting point for the next walk. */
  readonly repetitions: number;
  /** The varbinds answering `nonRepeaters`, in their order (fewer if the agent returned fewer). */
  readonly scalars: readonly VarBind[];
}

/** Parse "1.3.6.1" (a leading dot is allowed) into numbers. */
export function parseOid(oid: string): number[] {
  const s = oid.startsWith('.') ? oid.slice(1) : oid;
  return s === '' ? [] : s.split('.').map(Number);
}

const DOT = 46; // '.'
const ZERO = 48; // '0'

/**
 * Lexicographic OID order (RFC 3416: the order GETNEXT follows), of dotted-decimal OIDs (a leading dot is
 * allowed). Allocation-free: the arcs are read digit by digit from the strings, never split or parsed
 * into arrays, as this runs for every varbind of every walk.
 */
export function compareOids(a: string, b: string): number {
  return compareOidsFrom(a, a.charCodeAt(0) === DOT ? 1 : 0, b, b.charCodeAt(0) === DOT ? 1 : 0);
}

/** compareOids from position `i` of `a` and `j` of `b` (each the start of an arc, or the end). */
function compareOidsFrom(a: string, i: number, b: string, j: number): number {
  const la = a.length;
  const lb = b.length;
  while (i < la && j < lb) {
    let x = 0;
    for (let c = a.charCodeAt(i); i < la && c !== DOT; c = a.charCodeAt(++i)) x = x * 10 + (c - ZERO);
    let y = 0;
    for (let c = b.charCodeAt(j); j < lb && c !== DOT; c = b.charCodeAt(++j)) y = y * 10 + (c - ZERO);
    if (x !== y) return x < y ? -1 : 1;
    i++; // past the dot (or past the end)
    j++;
  }
  const aDone = i >= la;
  const bDone = j >= lb;
  return aDone === bDone ? 0 : aDone ? -1 : 1;
}

/** True when `oid` lies strictly under `base` (base "1.3.6.1.2.1.2.2.1.2" holds "...2.2.1.2.7"). */
export function inSubtree(base: string, oid: string): boolean {
  // No `base + '.'`: that would build a string per varbind.
  return oid.length > base.length + 1 && oid.charCodeAt(base.length) === DOT && oid.startsWith(base);
}

/** The index part of `oid` under `base` ("" when it is not under it). */
export function oidSuffix(base: string, oid: string): string {
  return inSubtree(base, oid) ? oid.slice(base.length + 1) : '';
}

function shouldFallBack(err: unknown): boolean {
  if (!(err instanceof NetmonError)) return false;
  if (err.code === 'timeout') return true;
  return (err as { status?: unknown }).status === 'TooBig';
}

/** A single attempt for requests with R > 1 (see the header); shared, not built per request. */
const ONE_ATTEMPT = { attempts: 1 } as const;
const DEFAULT_ATTEMPTS = {} as const;
const NONE: readonly string[] = [];

export async function walkColumns(
  client: BulkRequester,
  bases: readonly string[],
  opts: WalkOptions,
): Promise<WalkResult> {
  const maxVarbinds = opts.maxVarbinds ?? 100_000;
  const unique = uniqueBases(bases);
  // Per column, by position in `unique`: what it collected and where its cursor stands. Arrays, not maps
  // keyed by OID strings: no hashing of long strings per varbind.
  // Each column's array is made when its first reply comes (undefined until then).
  const collected: (VarBind[] | undefined)[] = new Array<VarBind[] | undefined>(unique.length).fill(
    undefined,
  );
  const cursors: string[] = unique.slice();
  const active: number[] = unique.map((_, i) => i);
  let reps = Math.max(1, Math.floor(opts.maxRepetitions));
  let requests = 0;
  let fallbacks = 0;
  let total = 0;
  const scalars: VarBind[] = [];
  // Non-repeaters go with the first request only.
  let lead = opts.nonRepeaters ?? NONE;

  while (active.length > 0) {
    let reply: VarBind[][];
    const nr = lead.length;
    try {
      requests++;
      const oids = new Array<string>(nr + active.length);
      for (let k = 0; k < nr; k++) oids[k] = lead[k] ?? '';
      for (let k = 0; k < active.length; k++) oids[nr + k] = cursors[active[k] ?? 0] ?? '';
      const attempts =
        nr > 0 ? { attempts: opts.firstAttempts ?? 1 } : reps > 1 ? ONE_ATTEMPT : DEFAULT_ATTEMPTS;
      reply = await client.getBulk(oids, nr, reps, attempts);
    } catch (err) {
      if (nr === 0 && reps > 1 && shouldFallBack(err)) {
        reps = Math.max(1, Math.floor(reps / 2));
        fallbacks++;
        continue;
      }
      throw err;
    }
    if (nr > 0) {
      for (let k = 0; k < nr; k++) {
        const vb = reply[k]?.[0];
        if (vb !== undefined) scalars.push(vb);
      }
      lead = NONE;
    }

    let stillActive = 0;
    let progressed = false;
    for (let k = 0; k < active.length; k++) {
      const col = active[k] ?? 0;
      const base = unique[col] ?? '';
      const out = collected[col];
      const vbs = reply[nr + k];
      // Cursors inside the base are compared from the first index arc on: the base itself is equal.
      const from = base.length + 1;
      let prev = cursors[col] ?? base;
      let done = false;
      let taken = 0;
      if (vbs !== undefined) {
        for (const vb of vbs) {
          // The end of the column: the agent said so, or the OID left the base (the next column).
          if (vb.type === 'endOfMibView' || !inSubtree(base, vb.oid)) {
            done = true;
            break;
          }
          if (prev.length > base.length && compareOidsFrom(vb.oid, from, prev, from) <= 0) {
            throw new SnmpError('agent_error', `agent returned non-increasing OID ${vb.oid} after ${prev}`, {
              retryable: false,
            });
          }
          taken++;
          prev = vb.oid;
          progressed = true;
          if (++total > maxVarbinds) {
            throw new SnmpError('agent_error', `walk of ${base} exceeded ${maxVarbinds} varbinds`, {
              retryable: false,
            });
          }
        }
        // The column's first varbinds are taken in one copy of the right size (most columns end in the
        // first reply); later ones are appended.
        if (out === undefined) collected[col] = vbs.slice(0, taken);
        else for (let t = 0; t < taken; t++) out.push(vbs[t] as VarBind);
      }
      cursors[col] = prev;
      // Compacted in place: the columns that go on keep their order.
      if (!done) active[stillActive++] = col;
    }
    if (!progressed && stillActive === active.length) {
      // An empty reply that ends no column would make the next request identical: stop, do not spin.
      throw new SnmpError('agent_error', `agent returned no varbinds for ${active.length} column(s)`, {
        retryable: false,
      });
    }
    active.length = stillActive;
  }
  const columns = new Map<string, VarBind[]>();
  for (let i = 0; i < unique.length; i++) columns.set(unique[i] ?? '', collected[i] ?? []);
  return { columns, requests, fallbacks, repetitions: reps, scalars };
}

/**
 * The bases without a leading dot, each once, in the order given. Worked out once per array of bases
 * (the poller passes the same array, its profile's request plan, poll after poll), and again if the
 * array's contents changed since.
 */
const uniqueMemo = new WeakMap<readonly string[], { readonly given: string[]; readonly unique: string[] }>();
function uniqueBases(bases: readonly string[]): readonly string[] {
  const memo = uniqueMemo.get(bases);
  if (memo !== undefined && sameStrings(memo.given, bases)) return memo.unique;
  const seen = new Set<string>();
  for (const b of bases) seen.add(b.charCodeAt(0) === DOT ? b.slice(1) : b);
  const unique = [...seen];
  uniqueMemo.set(bases, { given: bases.slice(), unique });
  return unique;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Every varbind under one OID. */
export async function walkSubtree(
  client: BulkRequester,
  base: string,
  opts: WalkOptions,
): Promise<VarBind[]> {
  const res = await walkColumns(client, [base], opts);
  return [...(res.columns.values().next().value ?? [])];
}
