/**
 * Deterministic pseudo-randomness: every simulated quantity is a hash of (seed, device, name, ...), so
 * the same seed and time give the same values in any process, in any order of evaluation.
 */

/** FNV-1a over the UTF-16 code units, then a murmur3 finaliser for good low bits. */
export function hash32(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const s = String(part);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x1f; // separator, so ("ab","c") differs from ("a","bc")
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) determined by the parts. */
export function unit(...parts: readonly (string | number)[]): number {
  return hash32(...parts) / 4294967296;
}

/** A number in [lo, hi) determined by the parts. */
export function between(lo: number, hi: number, ...parts: readonly (string | number)[]): number {
  return lo + (hi - lo) * unit(...parts);
}
