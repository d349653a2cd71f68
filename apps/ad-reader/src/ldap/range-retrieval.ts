/**
 * AD returns at most MaxValRange values of a multi-valued attribute per search (1,500 by
 * default): the entry then holds `member;range=0-1499` instead of `member`, and the client asks
 * for `member;range=1500-*` and so on until a range ends with `*`. DirSync's incremental-values
 * mode reuses the same syntax: `member;range=1-1` holds added values, `member;range=0-0` removed.
 */
export interface RangedAttribute {
  /** Base attribute name, as returned (e.g. "member"). */
  name: string;
  low: number;
  /** null when the range ends with `*` (these were the last values). */
  high: number | null;
}

const RANGE = /^([^;]+)((?:;(?!range=)[^;]+)*);range=(\d+)-(\d+|\*)$/i;

export function parseRangedAttribute(type: string): RangedAttribute | null {
  const m = RANGE.exec(type);
  if (!m) return null;
  return { name: m[1]! + (m[2] ?? ''), low: Number(m[3]), high: m[4] === '*' ? null : Number(m[4]) };
}

/** The attribute to request next, or null when `range` was the last one. */
export function nextRangeRequest(range: RangedAttribute, valuesReturned: number): string | null {
  if (range.high === null) return null;
  // Servers may return fewer values than the range claims; continue after what the range says.
  const next = Math.max(range.high + 1, range.low + valuesReturned);
  return `${range.name};range=${next}-*`;
}

/** Find the (ranged or plain) attribute named `name` in an entry's keys, case-insensitively. */
export function findAttributeKey(keys: string[], name: string): { key: string; range: RangedAttribute | null } | null {
  const lower = name.toLowerCase();
  for (const key of keys) {
    if (key.toLowerCase() === lower) return { key, range: null };
    const r = parseRangedAttribute(key);
    if (r && r.name.toLowerCase() === lower) return { key, range: r };
  }
  return null;
}
