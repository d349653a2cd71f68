import { describe, expect, it } from 'vitest';
import { mailNicknameFrom, randomPassword, writableProperties } from './upsert.js';

describe('upsert helpers', () => {
  it('makes strong random passwords Entra accepts (3 of 4 classes, 32 chars)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = randomPassword();
      expect(p).toHaveLength(32);
      expect([/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(p)).length).toBe(4);
      seen.add(p);
    }
    expect(seen.size).toBe(50);
  });

  it('derives a valid mailNickname', () => {
    expect(mailNicknameFrom('jane.doe@corp.example.test')).toBe('jane.doe');
    expect(mailNicknameFrom('a b(c)@x')).toBe('abc');
  });

  it("drops properties only Microsoft's sync may set, and stamps the anchor on users", () => {
    const { writable, dropped } = writableProperties({
      targetType: 'USER',
      sourceAnchor: 'AAAA',
      properties: { displayName: 'x', proxyAddresses: ['SMTP:a@b'], onPremisesSamAccountName: 'x', onPremisesImmutableId: 'other' },
    } as never);
    expect(dropped).toEqual(['onPremisesSamAccountName', 'proxyAddresses']);
    expect(writable).toEqual({ displayName: 'x', onPremisesImmutableId: 'AAAA' });
  });
});
