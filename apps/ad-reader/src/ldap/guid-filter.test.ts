import { guidFromString } from '@canopy/contracts';
import { BerWriter, FilterParser } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { andFilter, chunk, escapeFilterBytes, escapeFilterString, guidEqualityFilter, guidOrFilter, guidOrFilterObject } from './guid-filter.js';

describe('GUID filters', () => {
  const g = guidFromString('6f9619ff-8b86-d011-b42d-00cf4fc964ff');

  it('escapes every byte in stored (mixed-endian) order', () => {
    expect(escapeFilterBytes(Buffer.from([0, 0x2a, 0x28, 0x29, 0x5c, 0xff]))).toBe('\\00\\2a\\28\\29\\5c\\ff');
    expect(guidEqualityFilter(g)).toBe('(objectGUID=\\ff\\19\\96\\6f\\86\\8b\\11\\d0\\b4\\2d\\00\\cf\\4f\\c9\\64\\ff)');
  });

  it('ORs a batch and round-trips through an LDAP filter parser to the same bytes', () => {
    const h = guidFromString('0b0a0908-0d0c-0f0e-1011-121314151617');
    const f = guidOrFilter([g, h]);
    expect(f.startsWith('(|(objectGUID=')).toBe(true);
    const parsed = FilterParser.parseString(f) as unknown as { filters: Array<{ value: string | Buffer }> };
    expect(parsed.filters).toHaveLength(2);
    expect(guidOrFilter([g])).toBe(guidEqualityFilter(g));
  });

  it('filter objects carry the raw GUID bytes on the wire (ldapts string parsing would mangle bytes >= 0x80)', () => {
    const wire = (f: { write(w: BerWriter): void }) => {
      const w = new BerWriter();
      f.write(w);
      return w.buffer;
    };
    const obj = wire(andFilter('(objectClass=user)', guidOrFilterObject([g])));
    expect(obj.includes(g)).toBe(true);
    const fromString = wire(FilterParser.parseString(guidEqualityFilter(g)));
    expect(fromString.includes(g)).toBe(false); // why guidOrFilterObject exists
  });

  it('refuses wrong sizes and empty batches', () => {
    expect(() => guidEqualityFilter(Buffer.alloc(15))).toThrow(/16 bytes/);
    expect(() => guidOrFilter([])).toThrow();
  });

  it('chunks and escapes strings', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(escapeFilterString('a*(b)\\')).toBe('a\\2a\\28b\\29\\5c');
  });
});
