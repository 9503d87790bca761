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
}

export interface WalkResult {
  /** Varbinds per requested base OID, in OID order, all inside the base. */
  readonly columns: ReadonlyMap<string, readonly VarBind[]>;
  readonly requests: number;
  /** How many times the repetitions were halved. */
  readonly fallbacks: number;
  /** The repetitions the last successful request used: a good starting point for the next walk. */
  readonly repetitions: number;
}

/** Parse "1.3.6.1" (a leading dot is allowed) into numbers. */
export function parseOid(oid: string): number[] {
  const s = oid.startsWith('.') ? oid.slice(1) : oid;
  return s === '' ? [] : s.split('.').map(Number);
}

/** Lexicographic OID order (RFC 3416: the order GETNEXT follows). */
export function compareOids(a: string, b: string): number {
  const x = parseOid(a);
  const y = parseOid(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

/** True when `oid` lies strictly under `base` (base "1.3.6.1.2.1.2.2.1.2" holds "...2.2.1.2.7"). */
export function inSubtree(base: string, oid: string): boolean {
  return oid.startsWith(base + '.');
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

export async function walkColumns(
  client: BulkRequester,
  bases: readonly string[],
  opts: WalkOptions,
): Promise<WalkResult> {
  const maxVarbinds = opts.maxVarbinds ?? 100_000;
  const unique = [...new Set(bases.map((b) => (b.startsWith('.') ? b.slice(1) : b)))];
  const out = new Map<string, VarBind[]>(unique.map((b) => [b, []]));
  const cursor = new Map<string, string>(unique.map((b) => [b, b]));
  let active = unique;
  let reps = Math.max(1, Math.floor(opts.maxRepetitions));
  let requests = 0;
  let fallbacks = 0;
  let total = 0;

  while (active.length > 0) {
    let reply: VarBind[][];
    try {
      requests++;
      reply = await client.getBulk(
        active.map((b) => cursor.get(b) ?? b),
        0,
        reps,
        reps > 1 ? { attempts: 1 } : {},
      );
    } catch (err) {
      if (reps > 1 && shouldFallBack(err)) {
        reps = Math.max(1, Math.floor(reps / 2));
        fallbacks++;
        continue;
      }
      throw err;
    }

    const stillActive: string[] = [];
    let progressed = false;
    active.forEach((base, i) => {
      const vbs = reply[i] ?? [];
      let done = false;
      for (const vb of vbs) {
        if (vb.type === 'endOfMibView' || !inSubtree(base, vb.oid)) {
          done = true;
          break;
        }
        const prev = cursor.get(base) ?? base;
        if (compareOids(vb.oid, prev) <= 0) {
          throw new SnmpError('agent_error', `agent returned non-increasing OID ${vb.oid} after ${prev}`, {
            retryable: false,
          });
        }
        out.get(base)?.push(vb);
        cursor.set(base, vb.oid);
        progressed = true;
        if (++total > maxVarbinds) {
          throw new SnmpError('agent_error', `walk of ${base} exceeded ${maxVarbinds} varbinds`, {
            retryable: false,
          });
        }
      }
      if (!done) stillActive.push(base);
    });
    if (!progressed && stillActive.length === active.length) {
      // An empty reply that ends no column would make the next request identical: stop, do not spin.
      throw new SnmpError('agent_error', `agent returned no varbinds for ${active.length} column(s)`, {
        retryable: false,
      });
    }
    active = stillActive;
  }
  return { columns: out, requests, fallbacks, repetitions: reps };
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
