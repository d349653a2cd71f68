import { HEADERS, codecs, sampleMessages } from '@canopy/contracts';
import { describe, expect, it } from 'vitest';
import { encodeEvent, oversizedResult } from './event-publisher.js';
import { TRACEPARENT_RE, newTraceparent, randomTraceparent } from './traceparent.js';

describe('event encoding', () => {
  it('encodes with key = objectGUID string and the reader headers', () => {
    const ev = sampleMessages.adObjectEvent();
    const res = encodeEvent(ev, 7);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const m = res.encoded.message;
    expect(m.key).toBe('6f9619ff-8b86-d011-b42d-00cf4fc964ff');
    expect(codecs.adObjectEvent.decode(m.value!)).toMatchObject({ dn: ev.dn, kind: 'SNAPSHOT' });
    expect(m.headers![HEADERS.fencingToken]).toBe('7');
    expect(m.headers![HEADERS.usnChanged]).toBe('123456');
    expect(m.headers![HEADERS.readerId]).toBe('ad-reader-corp-0');
    expect(m.headers![HEADERS.traceparent]).toMatch(TRACEPARENT_RE);
  });

  it('refuses an oversized object and describes it as a READER FAILED result', () => {
    const ev = sampleMessages.adObjectEvent();
    ev.binaryAttributes.thumbnailphoto = [Buffer.alloc(950_000, 1)];
    const res = encodeEvent(ev, 1);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    const r = oversizedResult(ev, res.size, 900_000, 3);
    expect(r).toMatchObject({ stage: 'READER', outcome: 'FAILED', forest: ev.forest, dn: ev.dn, configVersion: 3 });
    expect(r.reason).toMatch(/too large/);
    expect(codecs.syncResult.decode(codecs.syncResult.encode(r)).error!.type).toBe('Reader.ObjectTooLarge');
  });

  it('generates valid W3C traceparents without an SDK', () => {
    expect(randomTraceparent()).toMatch(TRACEPARENT_RE);
    expect(newTraceparent()).toMatch(TRACEPARENT_RE);
    expect(newTraceparent()).not.toBe(newTraceparent());
  });
});
