import { describe, expect, it } from 'vitest';
import { skipReasonKind } from './provisioning-log.js';

describe('skipReasonKind', () => {
  it('keeps a reason that names no object whole', () => {
    const r = 'not synchronized: computer objects are not synchronized (users, groups and contacts are)';
    expect(skipReasonKind(r)).toBe(r);
  });

  it('replaces DNs (with escaped commas), GUIDs and numbers, so reasons of many objects count together', () => {
    expect(skipReasonKind('out of scope (ou-exclude): OU=Out Of Scope,OU=Canopy,DC=corp,DC=example,DC=test excluded')).toBe(
      'out of scope (ou-exclude): <dn> excluded',
    );
    expect(skipReasonKind('member CN=Smith\\, John,OU=Staff,DC=corp,DC=example,DC=test; 3 more')).toBe('member <dn>; N more');
    expect(skipReasonKind('object 0f8fad5b-d9cb-469f-a165-70867728950e is 2 MB')).toBe('object <id> is N MB');
    expect(skipReasonKind('out of scope: OU=A,DC=x')).toBe(skipReasonKind('out of scope: OU=B,DC=y'));
  });

  it('names a missing reason and caps long ones', () => {
    expect(skipReasonKind(null)).toBe('(no reason given)');
    expect(skipReasonKind('x'.repeat(500))).toHaveLength(160);
  });
});
