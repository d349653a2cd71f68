import { describe, expect, it } from 'vitest';
import { checkBody, checkPasswordComplexity, checkUserPrincipalName, checkValueRules } from './rules.js';

describe('write rules', () => {
  it('password complexity: 8+ characters and 3 of 4 classes', () => {
    expect(() => checkPasswordComplexity('Abcdef1!')).not.toThrow();
    expect(() => checkPasswordComplexity('abcdefg1')).toThrow(/complexity/);
    expect(() => checkPasswordComplexity('Ab1!')).toThrow(/complexity/);
  });

  it('UPN must use a verified domain', () => {
    expect(() => checkUserPrincipalName('a@x.onmicrosoft.com', ['x.onmicrosoft.com'])).not.toThrow();
    expect(() => checkUserPrincipalName('a@y.example', ['x.onmicrosoft.com'])).toThrow(/verified domain/);
    expect(() => checkUserPrincipalName('a b@x.onmicrosoft.com', ['x.onmicrosoft.com'])).toThrow(/Invalid value/);
  });

  it('validates nested complex types from the CSDL', () => {
    const ok = { passwordProfile: { password: 'x', forceChangePasswordNextSignIn: true }, onPremisesExtensionAttributes: { extensionAttribute1: 'a' } };
    expect(checkBody({ kind: 'user', body: ok, extensions: new Map(), creating: true, now: 0 }).props).toEqual(ok);
    expect(() => checkBody({ kind: 'user', body: { passwordProfile: { pwd: 'x' } }, extensions: new Map(), creating: true, now: 0 })).toThrow(
      "Property 'pwd' does not exist on type 'microsoft.graph.passwordProfile'.",
    );
    expect(() => checkBody({ kind: 'user', body: { employeeHireDate: 'yesterday' }, extensions: new Map(), creating: true, now: 0 })).toThrow(/Edm.DateTimeOffset/);
    expect(() => checkBody({ kind: 'group', body: { groupTypes: [1] }, extensions: new Map(), creating: true, now: 0 })).toThrow(/Edm.String/);
    expect(() => checkBody({ kind: 'group', body: { visibility: null }, extensions: new Map(), creating: true, now: 0 })).not.toThrow();
  });
});

describe('value rules', () => {
  it('refuses over-long values, a second business phone, a bad usageLocation', () => {
    expect(() => checkValueRules('user', { jobTitle: 'x'.repeat(128) })).not.toThrow();
    expect(() => checkValueRules('user', { jobTitle: 'x'.repeat(129) })).toThrow("Invalid value specified for property 'jobTitle' of resource 'User'.");
    expect(() => checkValueRules('user', { employeeId: '12345678901234567' })).toThrow(/employeeId/);
    expect(() => checkValueRules('user', { businessPhones: ['1', '2'] })).toThrow(/Only one number/);
    expect(() => checkValueRules('user', { usageLocation: 'France' })).toThrow(/usageLocation/);
    expect(() => checkValueRules('group', { description: 'd'.repeat(1025) })).toThrow(/'description' of resource 'Group'/);
  });
});
