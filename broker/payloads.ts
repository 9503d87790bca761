/**
 * Payload schemas (zod) for what devices publish. A payload that fails is dropped with a reason; nothing
 * here throws.
 */
import { z } from 'zod';

/** Larger messages are dropped unread. A real agent's telemetry is 200-600 bytes. */
export const MAX_PAYLOAD_BYTES = 4096;

/**
 * How far a device's own timestamp (`ts`) may be from the receive time. Older than the raw retention (30 d
 * by default) it would land outside the raw retention policy; a clock far ahead writes points "in the
 * future" that dashboards show as now for days; `ts: 9e15` (year 287,000) passed validation and failed at
 * InfluxDB, taking its batch with it.
 */
export interface TimestampWindow {
  /** Oldest accepted: this long before the receive time. */
  readonly maxAgeMs: number;
  /** Newest accepted: this long after the receive time (device clocks drift). */
  readonly maxAheadMs: number;
}
export const DEFAULT_TIMESTAMP_WINDOW: TimestampWindow = {
  maxAgeMs: 30 * 86_400_000,
  maxAheadMs: 5 * 60_000,
};

/** Why `ts` is outside `window` around `nowMs`, or undefined when it is inside. Pure. */
export function timestampProblem(ts: number, nowMs: number, window: TimestampWindow): string | undefined {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const span = (ms: number): string =>
    ms % 86_400_000 === 0
      ? `${ms / 86_400_000} d`
      : ms % 60_000 === 0
        ? `${ms / 60_000} min`
        : `${ms / 1000} s`;
  if (ts < nowMs - window.maxAgeMs)
    return `ts ${ts} is older than ${span(window.maxAgeMs)} before the receive time (${iso(nowMs)}): outside the raw retention; send Unix milliseconds`;
  if (ts > nowMs + window.maxAheadMs) {
    const readable = Number.isFinite(ts) && ts < 8.64e15 ? ` (${iso(ts)})` : '';
    return `ts ${ts}${readable} is more than ${span(window.maxAheadMs)} after the receive time (${iso(nowMs)}): check the device clock; send Unix milliseconds, not microseconds`;
  }
  return undefined;
}

/**
 * Keys JSON.parse would keep as own properties that name an object's machinery. zod's object schemas drop
 * unknown keys today, but nothing downstream should ever meet them, whatever the schema (strict ones would
 * refuse the whole payload): they are dropped at parse time, at any depth.
 */
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const dropPoison = (key: string, value: unknown): unknown => (POISON_KEYS.has(key) ? undefined : value);

const num = (min: number, max: number) => z.number().finite().min(min).max(max);

// Unknown fields (firmware strings, radio details) are dropped, not refused: agents send more than we store.
// `ts` is checked against the receive time by the collector (timestampProblem).
export const telemetrySchema = z.object({
  /** Unix ms of the measurement; the receive time when absent. */
  ts: z.number().int().positive().optional(),
  uptime_s: num(0, 1e10).optional(),
  cpu_pct: num(0, 100).optional(),
  mem_pct: num(0, 100).optional(),
  load1: num(0, 1e4).optional(),
  clients: z.number().int().min(0).max(10_000).optional(),
  rx_bps: num(0, 1e12).optional(),
  tx_bps: num(0, 1e12).optional(),
  temperature_c: num(-40, 150).optional(),
  rssi_dbm: num(-120, 0).optional(),
  power_v: num(0, 400).optional(),
});
export type Telemetry = z.infer<typeof telemetrySchema>;

export const statusSchema = z.strictObject({
  state: z.enum(['online', 'offline']),
  /** false (or absent) on a Last Will: the device vanished; true when it said goodbye. */
  clean: z.boolean().optional(),
  ts: z.number().int().positive().optional(),
});
export type Status = z.infer<typeof statusSchema>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

export function parsePayload<T>(schema: z.ZodType<T>, payload: Buffer): Parsed<T> {
  if (payload.length > MAX_PAYLOAD_BYTES)
    return { ok: false, reason: `payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'), dropPoison);
  } catch (err) {
    return { ok: false, reason: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const r = schema.safeParse(json);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    reason: r.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; '),
  };
}
