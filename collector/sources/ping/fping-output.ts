/**
 * Reading what `fping -C <count> -q` prints (fping 5.1, on stderr): one summary line per target,
 *
 *   127.0.0.1   : 0.045 0.040 0.051        (round-trip times in ms, in order)
 *   127.77.7.1  : - - -                    ("-": no reply to that request)
 *
 * and, mixed in, lines that are not results: ICMP errors ("ICMP Host Unreachable from ... for ICMP Echo
 * sent to ..."), resolver failures ("name: Name or service not known"), duplicates. Pure: text in, data
 * out. A line that matches nothing known is kept as `unreadable` (the caller counts it and says it), and
 * a target asked for but absent from the output is `missing`: neither is taken as a lost ping.
 */

/** One target's round: the RTT of each request sent, `undefined` where no reply came. */
export interface PingTally {
  readonly host: string;
  readonly rttsMs: readonly (number | undefined)[];
}

export interface FpingParse {
  readonly tallies: ReadonlyMap<string, PingTally>;
  /** Targets asked for without a well-formed summary line (wrong count of values, or no line). */
  readonly missing: readonly string[];
  /** Lines that are neither a summary nor a known diagnostic. */
  readonly unreadable: readonly string[];
  /** Targets fping could not resolve or address (its own error line names them). */
  readonly unresolved: readonly string[];
}

const SUMMARY = /^(\S+)\s+:((?:\s+(?:-|\d+(?:\.\d+)?))+)\s*$/;
const DIAGNOSTICS = [
  /^ICMP .* from \S+ for ICMP Echo sent to \S+/,
  /^\S+ : duplicate for \[\d+\]/,
  /^\S+ : \[\d+\], .* \(.*\)$/, // per-reply lines without -q
];
const UNRESOLVED = /^(\S+): (?:Name or service not known|Temporary failure in name resolution|.*address.*)$/i;

export function parseFpingOutput(text: string, asked: readonly string[], count: number): FpingParse {
  const tallies = new Map<string, PingTally>();
  const unreadable: string[] = [];
  const unresolved: string[] = [];
  const wanted = new Set(asked);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = SUMMARY.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      const values = m[2].trim().split(/\s+/);
      if (!wanted.has(m[1]) || values.length !== count) {
        unreadable.push(line);
        continue;
      }
      tallies.set(m[1], { host: m[1], rttsMs: values.map((v) => (v === '-' ? undefined : Number(v))) });
      continue;
    }
    const u = UNRESOLVED.exec(line);
    if (u?.[1] !== undefined && wanted.has(u[1])) {
      unresolved.push(u[1]);
      continue;
    }
    if (DIAGNOSTICS.some((re) => re.test(line))) continue;
    unreadable.push(line);
  }
  const missing = asked.filter((h) => !tallies.has(h) && !unresolved.includes(h));
  return { tallies, missing, unreadable, unresolved };
}

/** RTT and loss of one tally, as the `ping` measurement holds them. */
export interface PingStats {
  readonly sent: number;
  readonly received: number;
  readonly lossPct: number;
  readonly rttMs?: number | undefined;
  readonly rttMinMs?: number | undefined;
  readonly rttMaxMs?: number | undefined;
}

export function pingStats(t: PingTally): PingStats {
  const got = t.rttsMs.filter((r): r is number => r !== undefined);
  const sent = t.rttsMs.length;
  const lossPct = sent === 0 ? 100 : (100 * (sent - got.length)) / sent;
  if (got.length === 0) return { sent, received: 0, lossPct };
  return {
    sent,
    received: got.length,
    lossPct,
    rttMs: got.reduce((a, b) => a + b, 0) / got.length,
    rttMinMs: Math.min(...got),
    rttMaxMs: Math.max(...got),
  };
}
