import { AndFilter, EqualityFilter, FilterParser, OrFilter, type Filter } from 'ldapts';

/** Escape bytes for an LDAP filter value (RFC 4515): every byte as \xx. */
export function escapeFilterBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += `\\${b.toString(16).padStart(2, '0')}`;
  return out;
}

/** `(objectGUID=\xx...)` for one 16-byte GUID in stored byte order. */
export function guidEqualityFilter(guid: Uint8Array): string {
  if (guid.length !== 16) throw new Error(`objectGUID must be 16 bytes, got ${guid.length}`);
  return `(objectGUID=${escapeFilterBytes(guid)})`;
}

/** `(|(objectGUID=...)(objectGUID=...))` for a batch of GUIDs (a single GUID needs no OR). */
export function guidOrFilter(guids: Uint8Array[]): string {
  if (guids.length === 0) throw new Error('guidOrFilter needs at least one GUID');
  if (guids.length === 1) return guidEqualityFilter(guids[0]!);
  return `(|${guids.map(guidEqualityFilter).join('')})`;
}

/** Split into batches of at most `size`. */
export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Escape a string for an LDAP filter value (RFC 4515). */
export function escapeFilterString(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * The same OR filter as an ldapts Filter object with the GUIDs as raw bytes. Use this one for
 * searches: ldapts' string filter parser turns `\xx` escapes into UTF-16 code units and writes
 * them as UTF-8, so any byte >= 0x80 would reach the server as two bytes and match nothing.
 */
export function guidOrFilterObject(guids: Uint8Array[]): Filter {
  if (guids.length === 0) throw new Error('guidOrFilterObject needs at least one GUID');
  const eq = guids.map((g) => {
    if (g.length !== 16) throw new Error(`objectGUID must be 16 bytes, got ${g.length}`);
    return new EqualityFilter({ attribute: 'objectGUID', value: Buffer.from(g) });
  });
  return eq.length === 1 ? eq[0]! : new OrFilter({ filters: eq });
}

/** `(&<string filter><filter object>)` without passing binary values through the string parser. */
export function andFilter(text: string, filter: Filter): Filter {
  return new AndFilter({ filters: [FilterParser.parseString(text), filter] });
}
