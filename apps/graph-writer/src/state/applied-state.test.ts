import { describe, expect, it } from 'vitest';
import { canonicalJson, chunk, desiredStateHash, diffMembers, diffProperties, sameValue } from './applied-state.js';

const op = {
  targetType: 'USER' as const,
  action: 'UPSERT' as const,
  properties: { displayName: 'A', givenName: 'B', businessPhones: ['1', '2'] },
  createOnly: ['x', 'a'],
  members: null,
  uniqueCandidates: {},
};

describe('desired-state hashing', () => {
  it('is stable under key order and member order, and changes with any value', () => {
    const h = desiredStateHash(op);
    expect(desiredStateHash({ ...op, properties: { businessPhones: ['1', '2'], givenName: 'B', displayName: 'A' }, createOnly: ['a', 'x'] })).toBe(h);
    expect(desiredStateHash({ ...op, properties: { ...op.properties, givenName: 'C' } })).not.toBe(h);
    const g = { ...op, targetType: 'GROUP' as const, members: ['m1', 'm2', 'm2'] };
    expect(desiredStateHash({ ...g, members: ['m2', 'm1'] })).toBe(desiredStateHash(g));
    expect(desiredStateHash({ ...g, members: ['m1'] })).not.toBe(desiredStateHash(g));
    expect(desiredStateHash({ ...op, action: 'DELETE' })).not.toBe(h);
  });

  it('writes canonical JSON', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}');
  });
});

describe('property diffing', () => {
  it('names only what differs; null, missing, empty string and empty list are the same', () => {
    expect(diffProperties({ displayName: 'A', jobTitle: null, businessPhones: [] }, { displayName: 'A' })).toEqual([]);
    expect(diffProperties({ displayName: 'A', jobTitle: 'Dev' }, { displayName: 'a', jobTitle: 'Dev' })).toEqual(['displayName']);
    expect(diffProperties({ otherMails: ['b', 'a'] }, { otherMails: ['a', 'b'] })).toEqual([]);
    expect(diffProperties({ accountEnabled: false }, { accountEnabled: true })).toEqual(['accountEnabled']);
    expect(diffProperties({ a: 1, b: 2 }, {}, ['b'])).toEqual(['a']);
    expect(sameValue('', null)).toBe(true);
  });

  it('diffs member sets and chunks adds 20 to a write', () => {
    expect(diffMembers(['a', 'b', 'c'], ['b', 'd'])).toEqual({ add: ['a', 'c'], remove: ['d'] });
    const parts = chunk(Array.from({ length: 5000 }, (_, i) => i), 20);
    expect(parts).toHaveLength(250);
    expect(parts.every((p) => p.length === 20)).toBe(true);
  });
});
