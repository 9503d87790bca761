/**
 * One copy of the strings that many devices repeat and that are kept from poll to poll: interface names
 * ("ether1", "wlan0"), SSIDs, radios, ifIndex numbers as tags. Each device's reply decodes its own copy;
 * kept in a tag set or the counter memory, every device held one (issue #14: a heap snapshot at 33k
 * devices held 52,946 copies of "Badung-Free-WiFi" and 34,289 of "ether1"). Interned only where a string
 * is kept (a tag set made, a name that changed), not per poll.
 *
 * Bounded: past `MAX` distinct strings the table starts afresh (strings already shared stay shared; only
 * later ones are copied again), so a fleet of unique names costs no more than it did.
 */
const MAX = 65_536;
let table = new Map<string, string>();

/** The pooled copy of `s` (equal to it). */
export function intern(s: string): string {
  const known = table.get(s);
  if (known !== undefined) return known;
  if (table.size >= MAX) table = new Map();
  table.set(s, s);
  return s;
}
