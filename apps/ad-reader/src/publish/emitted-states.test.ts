import { sampleMessages } from '@canopy/contracts';
import { describe, expect, it } from 'vitest';
import { EmittedStates } from './emitted-states.js';

describe('what the events topic already holds', () => {
  const sent = () => sampleMessages.adObjectEvent();

  it('skips only an object read back in the state already sent', () => {
    const s = new EmittedStates();
    const e = sent();
    expect(s.alreadySent(e)).toBe(false);
    s.remember(e);
    // The same state, read again by another reader at another time: already on the topic.
    expect(s.alreadySent({ ...sent(), readAt: new Date(), readerId: 'other', cycleId: 'x', origin: 'DELTA' })).toBe(true);
    // A newer state is sent.
    expect(s.alreadySent({ ...sent(), usnChanged: e.usnChanged + 1 })).toBe(false);
  });

  it('sends what changed without a new usnChanged: memberOf (a backlink), members, DN (a parent renamed), any attribute', () => {
    const s = new EmittedStates();
    s.remember(sent());
    expect(s.alreadySent({ ...sent(), memberOf: [{ guid: Buffer.alloc(16, 1), dn: 'CN=G,DC=corp' }] })).toBe(false);
    expect(s.alreadySent({ ...sent(), members: [] })).toBe(false);
    expect(s.alreadySent({ ...sent(), dn: 'CN=Zoë Ångström,OU=Renamed,DC=corp,DC=example,DC=test' })).toBe(false);
    expect(s.alreadySent({ ...sent(), attributes: { ...sent().attributes, title: ['x'] } })).toBe(false);
    expect(s.alreadySent({ ...sent(), binaryAttributes: { objectsid: [Buffer.from('02', 'hex')] } })).toBe(false);
    expect(s.alreadySent({ ...sent(), kind: 'TOMBSTONE' })).toBe(false);
  });

  it('never skips an event without a usnChanged, and forgets the oldest beyond its capacity', () => {
    const s = new EmittedStates(2);
    const a = { ...sent(), usnChanged: 0 };
    s.remember(a);
    expect(s.alreadySent(a)).toBe(false);
    const guid = (n: number) => Buffer.alloc(16, n);
    for (const n of [1, 2, 3]) s.remember({ ...sent(), objectGuid: guid(n) });
    expect(s.size).toBe(2);
    expect(s.alreadySent({ ...sent(), objectGuid: guid(1) })).toBe(false);
    expect(s.alreadySent({ ...sent(), objectGuid: guid(3) })).toBe(true);
  });
});
