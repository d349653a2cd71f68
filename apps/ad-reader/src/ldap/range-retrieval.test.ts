import { describe, expect, it } from 'vitest';
import { findAttributeKey, nextRangeRequest, parseRangedAttribute } from './range-retrieval.js';

describe('range retrieval', () => {
  it('parses ranged attribute names', () => {
    expect(parseRangedAttribute('member;range=0-1499')).toEqual({ name: 'member', low: 0, high: 1499 });
    expect(parseRangedAttribute('member;range=1500-*')).toEqual({ name: 'member', low: 1500, high: null });
    expect(parseRangedAttribute('Member;Range=1-1')).toEqual({ name: 'Member', low: 1, high: 1 });
    expect(parseRangedAttribute('member')).toBeNull();
    expect(parseRangedAttribute('member;range=x-1')).toBeNull();
  });

  it('asks for the next range until one ends with *', () => {
    expect(nextRangeRequest({ name: 'member', low: 0, high: 1499 }, 1500)).toBe('member;range=1500-*');
    expect(nextRangeRequest({ name: 'member', low: 1500, high: 2999 }, 1500)).toBe('member;range=3000-*');
    expect(nextRangeRequest({ name: 'member', low: 3000, high: null }, 2000)).toBeNull();
  });

  it('finds plain or ranged keys case-insensitively', () => {
    expect(findAttributeKey(['dn', 'member;range=0-1499'], 'member')).toEqual({ key: 'member;range=0-1499', range: { name: 'member', low: 0, high: 1499 } });
    expect(findAttributeKey(['dn', 'Member'], 'member')).toEqual({ key: 'Member', range: null });
    expect(findAttributeKey(['dn', 'memberOf'], 'member')).toBeNull();
  });
});
