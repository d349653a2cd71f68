import { describe, expect, it } from 'vitest';
import { deleteWindowKey, shouldHold } from './delete-guard.js';

describe('accidental-delete decisions', () => {
  it('holds deletes beyond the threshold, and every delete of a forest that already has held ones', () => {
    expect(shouldHold(500, 500, false)).toBe(false);
    expect(shouldHold(501, 500, false)).toBe(true);
    expect(shouldHold(1, 500, true)).toBe(true);
    expect(shouldHold(1, 0, false)).toBe(true);
  });

  it('holds the first delete of a cycle that the reader counted beyond the threshold', () => {
    expect(shouldHold(1, 500, false, 600)).toBe(true);
    expect(shouldHold(1, 500, false, 500)).toBe(false);
    expect(shouldHold(1, 500, false, 0)).toBe(false);
  });

  it('counts per cycle when the op has one, else per time window', () => {
    expect(deleteWindowKey({ cycleId: 'c-42' }, 0, 3_600_000)).toBe('cycle:c-42');
    expect(deleteWindowKey({ cycleId: null }, 3_600_000 * 5 + 10, 3_600_000)).toBe('window:5');
  });
});
