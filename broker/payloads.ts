/**
 * Payload schemas (zod) for what devices publish. A payload that fails is dropped with a reason; nothing
 * here throws.
 */
import { z } from 'zod';

/** Larger messages are dropped unread. A real agent's telemetry is 200-600 bytes. */
export const MAX_PAYLOAD_BYTES = 4096;

const num = (min: number, max: number) => z.number().finite().min(min).max(max);

// Unknown fields (firmware strings, radio details) are ignored, not refused: agents send more than we store.
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
    json = JSON.parse(payload.toString('utf8'));
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
