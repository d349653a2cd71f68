import { describe, expect, it } from 'vitest';
import { candidates, evaluate, parseFilter } from './filter.js';

const obj: Record<string, unknown> = {
  displayName: "O'Brien, Ada",
  userPrincipalName: 'ada@contoso.example',
  accountEnabled: true,
  proxyAddresses: ['SMTP:ada@contoso.example', 'smtp:a@contoso.example'],
  onPremisesImmutableId: 'abc==',
  employeeId: null,
};
const run = (f: string) => evaluate(parseFilter(f).ast, (p) => obj[p]);

describe('$filter parser', () => {
  it('evaluates eq (case-insensitive), quotes, booleans, any(), startswith, and/or/not, in', () => {
    expect(run("userPrincipalName eq 'ADA@contoso.example'")).toBe(true);
    expect(run("displayName eq 'O''Brien, Ada'")).toBe(true);
    expect(run('accountEnabled eq false')).toBe(false);
    expect(run("proxyAddresses/any(p:p eq 'smtp:a@contoso.example')")).toBe(true);
    expect(run("proxyAddresses/any(x:startswith(x,'smtp:A'))")).toBe(true);
    expect(run("startswith(displayName,'o''b') and (accountEnabled eq false or onPremisesImmutableId eq 'abc==')")).toBe(true);
    expect(run("onPremisesImmutableId in ('x', 'ABC==')")).toBe(true);
    expect(run("not(accountEnabled eq true)")).toBe(false);
    expect(run('employeeId eq null')).toBe(true);
  });

  it('marks advanced operators', () => {
    expect(parseFilter("displayName eq 'x'").advanced).toBe(false);
    expect(parseFilter("displayName ne 'x'").advanced).toBe(true);
    expect(parseFilter("endswith(mail,'@x')").advanced).toBe(true);
    expect(parseFilter("not(displayName eq 'x')").advanced).toBe(true);
    expect(parseFilter('employeeId eq null').advanced).toBe(true);
  });

  it('rejects malformed filters with a 400', () => {
    for (const bad of ["displayName eq 'x", 'displayName eq', "displayName xx 'a'", "(displayName eq 'a'", '']) {
      expect(() => parseFilter(bad), bad).toThrowError(expect.objectContaining({ status: 400 }));
    }
  });

  it('plans index lookups for eq, any(eq), in, and/or; scans otherwise', () => {
    const lookup = (prop: string, v: string) => (prop === 'mail' || prop === 'proxyAddresses' ? [`${prop}:${v}`] : undefined);
    expect(candidates(parseFilter("mail eq 'A@X'").ast, lookup)).toEqual(new Set(['mail:a@x']));
    expect(candidates(parseFilter("mail eq 'a' or mail eq 'b'").ast, lookup)).toEqual(new Set(['mail:a', 'mail:b']));
    expect(candidates(parseFilter("mail eq 'a' and startswith(displayName,'x')").ast, lookup)).toEqual(new Set(['mail:a']));
    expect(candidates(parseFilter("mail eq 'a' or startswith(displayName,'x')").ast, lookup)).toBeUndefined();
    expect(candidates(parseFilter("proxyAddresses/any(p:p eq 'SMTP:a')").ast, lookup)).toEqual(new Set(['proxyAddresses:smtp:a']));
  });
});
