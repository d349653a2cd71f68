import { CanopyError, PermanentError, RetriableError } from '@canopy/errors';

/**
 * LDAP result codes (RFC 4511) that can go away by themselves: the DC is busy, unavailable,
 * restarting or slow. Everything else a server answers is permanent until someone changes
 * configuration or data (bad credentials, missing rights, a base that does not exist).
 */
const RETRIABLE_CODES = new Map<number, string>([
  [1, 'OperationsError'],
  [3, 'TimeLimitExceeded'],
  [11, 'AdminLimitExceeded'],
  [51, 'Busy'],
  [52, 'Unavailable'],
  [80, 'Other'],
]);

const PERMANENT_CODES = new Map<number, string>([
  [2, 'ProtocolError'],
  [8, 'StrongAuthRequired'],
  [12, 'UnavailableCriticalExtension'],
  [13, 'ConfidentialityRequired'],
  [32, 'NoSuchObject'],
  [34, 'InvalidDnSyntax'],
  [48, 'InappropriateAuthentication'],
  [49, 'InvalidCredentials'],
  [50, 'InsufficientAccessRights'],
  [53, 'UnwillingToPerform'],
]);

/** Transport failures seen from ldapts and Node's sockets. */
const TRANSPORT = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|socket|connection (closed|timeout)|timed out|not established|closed before/i;

export function ldapResultCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Classify anything ldapts or the socket threw. Credentials never appear in the message. */
export function classifyLdapError(err: unknown, what: string): CanopyError {
  if (err instanceof CanopyError) return err;
  const message = `${what}: ${(err as Error)?.message ?? String(err)}`;
  const code = ldapResultCode(err);
  if (code !== undefined) {
    const retriable = RETRIABLE_CODES.get(code);
    if (retriable) return new RetriableError(message, { type: `Ldap.${retriable}`, cause: err, details: { resultCode: code } });
    const permanent = PERMANENT_CODES.get(code) ?? `Result${code}`;
    return new PermanentError(message, { type: `Ldap.${permanent}`, cause: err, details: { resultCode: code } });
  }
  const sysCode = (err as { code?: unknown })?.code;
  if (typeof sysCode === 'string' && /^E[A-Z]+$/.test(sysCode) && !/^ERR_TLS|CERT|^DEPTH_ZERO|^SELF_SIGNED|^UNABLE_TO/.test(sysCode)) {
    return new RetriableError(message, { type: 'Ldap.Transport', cause: err, details: { code: sysCode } });
  }
  if (typeof sysCode === 'string' && /CERT|SELF_SIGNED|UNABLE_TO|DEPTH_ZERO|ERR_TLS/.test(sysCode)) {
    return new PermanentError(message, { type: 'Ldap.TlsVerification', cause: err, details: { code: sysCode } });
  }
  if (TRANSPORT.test(message)) return new RetriableError(message, { type: 'Ldap.Transport', cause: err });
  return new RetriableError(message, { type: 'Ldap.Unknown', cause: err });
}
