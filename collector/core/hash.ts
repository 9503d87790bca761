/**
 * The project's one non-cryptographic hash: FNV-1a over UTF-16 code units, then murmur3's 32-bit
 * finaliser (plain FNV leaves the high bits poorly mixed when ids differ in their last byte only, like
 * dev-1 and dev-2). Pure, no imports: the scheduler spreads devices' poll phases with it and the
 * simulator derives every seeded quantity from it, so its outputs must never change.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Folded in after each part of hash32, so ("ab", "c") differs from ("a", "bc"). */
const PART_SEPARATOR = 0x1f;

function fnv1a(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/** murmur3's fmix32: every input bit reaches every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** An unsigned 32-bit hash of one string (no part separator). */
export function hashString(s: string): number {
  return fmix32(fnv1a(FNV_OFFSET, s));
}

/** An unsigned 32-bit hash of several parts, each followed by a separator. */
export function hash32(...parts: readonly (string | number)[]): number {
  let h = FNV_OFFSET;
  for (const part of parts) {
    h = fnv1a(h, String(part));
    h ^= PART_SEPARATOR;
    h = Math.imul(h, FNV_PRIME);
  }
  return fmix32(h);
}

/** A number in [0, 1) determined by the parts. */
export function unit(...parts: readonly (string | number)[]): number {
  return hash32(...parts) / 0x100000000;
}

/** A number in [lo, hi) determined by the parts. */
export function between(lo: number, hi: number, ...parts: readonly (string | number)[]): number {
  return lo + (hi - lo) * unit(...parts);
}
