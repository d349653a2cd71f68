import { codecs, guidFromString, type AdObjectEvent } from '@canopy/contracts';
import type { IncomingMessage } from '@canopy/kafka';
import { rulesFromConfig } from '@canopy/sync-rules';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transformBatch } from './transform-batch.js';

/**
 * Hostile input at the transformer: generated AD objects with values a real directory can hold
 * (control characters, right-to-left and combining marks, lone surrogates replaced, very long
 * values, thousands of values, invalid UPN characters, DNs with every escaped character,
 * duplicate proxyAddresses, missing attributes) and undecodable messages. Every message must end
 * as exactly one op, result or dead letter; nothing throws.
 */
const forest = 'corp.example.test';
const rules = rulesFromConfig(forest, { scoping: { ous: { exclude: ['OU=Quarantine,DC=corp,DC=example,DC=test'] } } }, {
  initialDomain: 'contoso.onmicrosoft.com',
  verifiedDomains: [forest],
});

const nasty = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\u202e\u0644\u0627 RTL', 'e\u0301\u0301\u0301', '\ud83d\ude00', '"quoted"', '\\', 'a,b=c+d<e>f#g;h', '@@@', 'x'.repeat(300)),
);
const dnValue = fc.array(fc.constantFrom(',', '+', '"', '\\', '<', '>', ';', '=', '#', ' ', 'é', 'ß', 'A'), { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));
const escapeRdn = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');

const eventArb: fc.Arbitrary<AdObjectEvent> = fc
  .record({
    cls: fc.constantFrom('USER', 'INET_ORG_PERSON', 'GROUP', 'CONTACT', 'OTHER') as fc.Arbitrary<AdObjectEvent['objectClass']>,
    kind: fc.constantFrom('SNAPSHOT', 'SNAPSHOT', 'SNAPSHOT', 'TOMBSTONE') as fc.Arbitrary<AdObjectEvent['kind']>,
    cn: dnValue,
    ou: fc.constantFrom('OU=Sales', 'OU=Quarantine', 'CN=Users', 'OU=R\\+D'),
    attrs: fc.dictionary(
      fc.constantFrom('displayname', 'givenname', 'sn', 'title', 'department', 'mail', 'userprincipalname', 'samaccountname', 'useraccountcontrol', 'grouptype', 'employeeid', 'telephonenumber', 'proxyaddresses', 'mailnickname', 'description', 'co'),
      fc.array(nasty, { minLength: 0, maxLength: 4 }),
    ),
    manyValues: fc.boolean(),
    hugeValue: fc.boolean(),
    members: fc.option(fc.array(dnValue, { maxLength: 5 }), { nil: null }),
  })
  .map(({ cls, kind, cn, ou, attrs, manyValues, hugeValue, members }) => {
    const attributes: Record<string, string[]> = Object.fromEntries(Object.entries(attrs).filter(([, v]) => v.length));
    if (manyValues) attributes.proxyaddresses = Array.from({ length: 10_000 }, (_, i) => `smtp:alias${i % 5000}@${forest}`);
    if (hugeValue) attributes.description = ['d'.repeat(1_000_000)];
    return {
      forest,
      domain: forest,
      objectGuid: guidFromString('6f9619ff-8b86-d011-b42d-00cf4fc964ff'),
      objectClass: cls,
      kind,
      dn: `CN=${escapeRdn(cn)},${ou},DC=corp,DC=example,DC=test`,
      usnChanged: 1,
      readAt: new Date(0),
      readerId: 'fuzz',
      attributes,
      binaryAttributes: { objectsid: [Buffer.from([1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0])] },
      members: members ? members.map((m, i) => ({ guid: guidFromString(`00000000-0000-0000-0000-${String(i).padStart(12, '0')}`), dn: `CN=${escapeRdn(m)},OU=Sales,DC=corp,DC=example,DC=test` })) : null,
      memberOf: [],
      lastKnownParent: null,
      origin: 'DELTA' as const,
      cycleId: null,
    };
  });

const message = (value: Buffer | null, offset: number): IncomingMessage => ({
  topic: `canopy.ad.objects.${forest}`,
  partition: 0,
  offset: String(offset),
  key: Buffer.from('k'),
  value,
  headers: {},
  timestamp: 0,
});

describe('hostile input never crashes the transformer', () => {
  it('every generated object ends as exactly one op, result or dead letter', () => {
    let cases = 0;
    fc.assert(
      fc.property(eventArb, (event) => {
        cases++;
        const out = transformBatch([message(codecs.adObjectEvent.encode(event), 1)], rules, 1);
        const results = out.results.map((r) => codecs.syncResult.decode(r.value));
        expect(out.ops.length + results.length).toBe(1);
        for (const op of out.ops) expect(() => codecs.entraOperation.decode(op.value)).not.toThrow();
        for (const r of results) expect(r.reason ?? r.error?.message).toBeTruthy();
      }),
      { numRuns: 300, seed: 20261123 },
    );
    expect(cases).toBe(300);
  });

  it('undecodable and unknown-schema messages become dead letters with the reason', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, withHeader) => {
        const value = withHeader ? Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.from(bytes)]) : Buffer.from(bytes);
        const out = transformBatch([message(value, 7)], rules, 1);
        expect(out.ops).toHaveLength(0);
        expect(out.deadLetters).toHaveLength(1);
        const dead = codecs.deadLetter.decode(out.deadLetters[0]!.value);
        expect(dead.errorType).toMatch(/^Contracts\./);
        expect(dead.value).toEqual(value);
      }),
      { numRuns: 300, seed: 7 },
    );
    const nullValue = transformBatch([message(null, 8)], rules, 1);
    expect(codecs.deadLetter.decode(nullValue.deadLetters[0]!.value).errorType).toBe('Contracts.Truncated');
  });
});
