import { guidFromString } from '@canopy/contracts';
import { FilterParser } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { chunk, escapeFilterBytes, escapeFilterString, guidEqualityFilter, guidOrFilter } from './guid-filter.js';

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

  it('refuses wrong sizes and empty batches', () => {
    expect(() => guidEqualityFilter(Buffer.alloc(15))).toThrow(/16 bytes/);
    expect(() => guidOrFilter([])).toThrow();
  });

  it('chunks and escapes strings', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(escapeFilterString('a*(b)\\')).toBe('a\\2a\\28b\\29\\5c');
  });
});
