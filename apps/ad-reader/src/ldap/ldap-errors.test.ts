import { BusyError, InsufficientAccessError, InvalidCredentialsError, NoSuchObjectError, TimeLimitExceededError, UnavailableError } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { classifyLdapError } from './ldap-errors.js';

describe('LDAP error classification', () => {
  it('busy, unavailable, time limit and dropped connections are retriable', () => {
    expect(classifyLdapError(new BusyError('busy'), 'x')).toMatchObject({ retriable: true, type: 'Ldap.Busy' });
    expect(classifyLdapError(new UnavailableError('down'), 'x')).toMatchObject({ retriable: true, type: 'Ldap.Unavailable' });
    expect(classifyLdapError(new TimeLimitExceededError('slow'), 'x')).toMatchObject({ retriable: true });
    expect(classifyLdapError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'x')).toMatchObject({ retriable: true, type: 'Ldap.Transport' });
    expect(classifyLdapError(new Error('Connection closed before message response was received'), 'x').retriable).toBe(true);
  });

  it('credentials, rights, a missing base and certificate failures are permanent', () => {
    expect(classifyLdapError(new InvalidCredentialsError('bad'), 'x')).toMatchObject({ retriable: false, type: 'Ldap.InvalidCredentials' });
    expect(classifyLdapError(new InsufficientAccessError('no'), 'x')).toMatchObject({ retriable: false, type: 'Ldap.InsufficientAccessRights' });
    expect(classifyLdapError(new NoSuchObjectError('none'), 'x')).toMatchObject({ retriable: false, type: 'Ldap.NoSuchObject' });
    expect(classifyLdapError(Object.assign(new Error('self signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'x')).toMatchObject({
      retriable: false,
      type: 'Ldap.TlsVerification',
    });
  });
});
