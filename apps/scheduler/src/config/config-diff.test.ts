import { describe, expect, it } from 'vitest';
import { diffJson } from './config-diff.js';
import { parseConfigFile } from './config-file.js';

describe('diffJson', () => {
  it('finds nothing between equal documents', () => {
    expect(diffJson({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
  });
  it('names added, removed and changed paths', () => {
    expect(diffJson({ a: 1, b: { c: 2 }, d: [1, 2] }, { b: { c: 3 }, e: true, d: [1, 5] })).toEqual([
      { path: 'a', kind: 'removed', before: 1 },
      { path: 'b.c', kind: 'changed', before: 2, after: 3 },
      { path: 'd[1]', kind: 'changed', before: 2, after: 5 },
      { path: 'e', kind: 'added', after: true },
    ]);
  });
});

describe('parseConfigFile', () => {
  it('reads YAML with global and forests', () => {
    const f = parseConfigFile('global:\n  tenant: {id: t}\nforests:\n  - name: corp\n');
    expect(f.forests).toHaveLength(1);
    expect(f.global).toEqual({ tenant: { id: 't' } });
  });
  it('refuses unknown top-level keys and bad syntax with a sentence', () => {
    expect(() => parseConfigFile('forest: []')).toThrow(/unknown top-level key\(s\) forest/);
    expect(() => parseConfigFile('forests: [')).toThrow(/not valid YAML/);
    expect(() => parseConfigFile('forests: 3')).toThrow(/'forests' must be a list/);
  });
});
