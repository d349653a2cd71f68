import { X509Certificate, createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, constants, type KeyObject } from 'node:crypto';
import type { Clock } from './clock.js';
import { invalidToken } from './graph-error.js';

/**
 * The part of the Microsoft identity platform a daemon uses: client credentials (secret or
 * certificate assertion) at /{tenant}/oauth2/v2.0/token, discovery, JWKS, and the validation of
 * the issued access tokens by the Graph surface.
 */
export interface AppCertificate {
  pem: string;
  /** hex SHA-1 of the DER (x5t) */
  thumbprintSha1: string;
  /** hex SHA-256 of the DER (x5t#S256) */
  thumbprintSha256: string;
}

export interface AppRegistration {
  clientId: string;
  /** Object id of the application object (used by /applications/{id}). */
  objectId: string;
  /** Object id of its service principal in the tenant (token oid/sub). */
  servicePrincipalId: string;
  displayName: string;
  secrets: string[];
  certificates: AppCertificate[];
  /** Application permissions granted with admin consent, e.g. User.ReadWrite.All. */
  roles: string[];
}

export function describeCertificate(pem: string): AppCertificate {
  const cert = new X509Certificate(pem);
  return {
    pem: cert.toString(),
    thumbprintSha1: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(cert.raw).digest('hex').toUpperCase(),
  };
}

export const b64url = (buf: Buffer | string): string => Buffer.from(buf).toString('base64url');

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  appid: string;
  app_displayname: string;
  appidacr: string;
  idp: string;
  idtyp: 'app';
  oid: string;
  sub: string;
  roles: string[];
  tid: string;
  uti: string;
  ver: '1.0';
}

export class TokenError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    description: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
  }

  body(now: number): Record<string, unknown> {
    const trace = randomUUID();
    const corr = randomUUID();
    return {
      error: this.error,
      error_description: `${this.message} Trace ID: ${trace} Correlation ID: ${corr} Timestamp: ${new Date(now).toISOString().replace('T', ' ').slice(0, 19)}Z`,
      error_codes: [this.aadsts],
      timestamp: new Date(now).toISOString().replace('T', ' ').slice(0, 19) + 'Z',
      trace_id: trace,
      correlation_id: corr,
    };
  }
}

export interface IdentityOptions {
  clock: Clock;
  tenantId: string;
  /** Names (besides the tenant id) accepted in the {tenant} path segment, e.g. verified domains. */
  tenantAliases: () => string[];
  /** https://127.0.0.1:PORT (no trailing slash) */
  authorityBase: () => string;
  /** Resource the tokens are for (aud): https://graph.microsoft.com by default. */
  resource: string;
  signingKeyPem: string;
  apps: () => Iterable<AppRegistration>;
  tokenLifetimeSeconds: number;
}

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export class IdentityPlatform {
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly kid: string;
  private verified = new Map<string, AccessTokenClaims>();
  private seenJti = new Map<string, number>();

  constructor(private o: IdentityOptions) {
    this.privateKey = createPrivateKey(o.signingKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    const der = this.publicKey.export({ type: 'spki', format: 'der' });
    this.kid = b64url(createHash('sha256').update(der).digest()).slice(0, 27);
  }

  get issuer(): string {
    return `https://sts.windows.net/${this.o.tenantId}/`;
  }

  knowsTenant(t: string): boolean {
    const lower = t.toLowerCase();
    return lower === this.o.tenantId || this.o.tenantAliases().some((a) => a.toLowerCase() === lower);
  }

  tokenEndpoint(tenant: string, base = this.o.authorityBase()): string {
    return `${base}/${tenant}/oauth2/v2.0/token`;
  }

  /** Discovery document; `base` is the scheme and host the client used (issuer must match it). */
  openidConfiguration(tenant: string, base = this.o.authorityBase()): Record<string, unknown> {
    const tid = this.o.tenantId;
    return {
      token_endpoint: this.tokenEndpoint(tenant, base),
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${tid}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${tenant}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'roles'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'canopy-emulator',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: new URL(base).host,
      rbac_url: 'https://pas.windows.net',
    };
  }

  jwks(base = this.o.authorityBase()): Record<string, unknown> {
    const jwk = this.publicKey.export({ format: 'jwk' }) as { n: string; e: string };
    return { keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, x5t: this.kid, n: jwk.n, e: jwk.e, issuer: `${base}/${this.o.tenantId}/v2.0` }] };
  }

  /** Handle a token request body (already form-decoded). */
  issue(tenant: string, form: URLSearchParams, basicAuth?: { id: string; secret: string }, base = this.o.authorityBase()): Record<string, unknown> {
    const now = this.o.clock.now();
    if (!this.knowsTenant(tenant)) {
      throw new TokenError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`);
    }
    const grant = form.get('grant_type');
    if (grant !== 'client_credentials') {
      throw new TokenError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant ?? ''}'.`);
    }
    const clientId = (form.get('client_id') ?? basicAuth?.id ?? '').toLowerCase();
    const app = [...this.o.apps()].find((a) => a.clientId === clientId);
    if (!clientId) throw new TokenError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    if (!app) {
      throw new TokenError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
    }
    const scope = form.get('scope') ?? '';
    const resource = this.resourceOfScope(scope, tenant);

    const secret = form.get('client_secret') ?? basicAuth?.secret;
    const assertion = form.get('client_assertion');
    let acr: string;
    if (secret !== undefined && secret !== null) {
      if (!app.secrets.includes(secret)) {
        throw new TokenError(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`);
      }
      acr = '1';
    } else if (assertion) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        throw new TokenError(400, 'invalid_request', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
      }
      // The assertion is stamped by the client's wall clock, not by the emulator's (possibly
      // advanced or frozen) clock, so its time window is checked against wall time.
      this.verifyAssertion(app, assertion, tenant, Date.now(), base);
      acr = '2';
    } else {
      throw new TokenError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }

    const iat = Math.floor(now / 1000);
    const claims: AccessTokenClaims = {
      aud: resource,
      iss: this.issuer,
      iat,
      nbf: iat,
      exp: iat + this.o.tokenLifetimeSeconds,
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: acr,
      idp: this.issuer,
      idtyp: 'app',
      oid: app.servicePrincipalId,
      sub: app.servicePrincipalId,
      roles: [...app.roles],
      tid: this.o.tenantId,
      uti: b64url(randomUUID()),
      ver: '1.0',
    };
    return {
      token_type: 'Bearer',
      expires_in: this.o.tokenLifetimeSeconds,
      ext_expires_in: this.o.tokenLifetimeSeconds,
      access_token: this.sign(claims),
    };
  }

  private resourceOfScope(scope: string, tenant: string): string {
    const scopes = scope.split(' ').filter(Boolean);
    const main = scopes.find((s) => s !== 'openid' && s !== 'profile' && s !== 'offline_access');
    if (!main || !main.endsWith('/.default')) {
      throw new TokenError(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
    }
    const res = main.slice(0, -'/.default'.length);
    if (res === this.o.resource || res === GRAPH_APP_ID || res === `${this.o.resource}/`) return this.o.resource;
    throw new TokenError(400, 'invalid_resource', 500011, `The resource principal named ${res} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
  }

  private verifyAssertion(app: AppRegistration, jwt: string, tenant: string, now: number, base: string): void {
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new TokenError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new TokenError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    }
    const alg = header.alg;
    if (alg !== 'RS256' && alg !== 'PS256') {
      throw new TokenError(401, 'invalid_client', 5002738, `Invalid JWT token. '${String(alg)}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256,RS384,RS512,PS256,PS384,PS512'`);
    }
    const s256 = typeof header['x5t#S256'] === 'string' ? Buffer.from(header['x5t#S256'], 'base64url').toString('hex').toUpperCase() : undefined;
    const s1 = typeof header.x5t === 'string' ? Buffer.from(header.x5t, 'base64url').toString('hex').toUpperCase() : undefined;
    const cert = app.certificates.find((c) => (s256 && c.thumbprintSha256 === s256) || (s1 && c.thumbprintSha1 === s1));
    if (!cert) {
      throw new TokenError(401, 'invalid_client', 700027, `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${s256 ?? s1 ?? ''}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'.]`);
    }
    const key = new X509Certificate(cert.pem).publicKey;
    const data = Buffer.from(`${parts[0]}.${parts[1]}`);
    const sig = Buffer.from(parts[2]!, 'base64url');
    const ok =
      alg === 'PS256'
        ? verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig)
        : verify('sha256', data, key, sig);
    if (!ok) throw new TokenError(401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
    const aud = payload.aud;
    const accepted = [this.tokenEndpoint(tenant, base), this.tokenEndpoint(this.o.tenantId, base), `${base}/${this.o.tenantId}/v2.0`];
    if (typeof aud !== 'string' || !accepted.includes(aud)) {
      throw new TokenError(401, 'invalid_client', 700212, `Client assertion audience claim does not match the token endpoint. Audience: '${String(aud)}'.`);
    }
    if (payload.iss !== app.clientId || payload.sub !== app.clientId) {
      throw new TokenError(401, 'invalid_client', 700023, 'Client assertion issuer and subject must both be the client id.');
    }
    const sec = now / 1000;
    if (typeof payload.exp !== 'number' || payload.exp < sec - 300 || (typeof payload.nbf === 'number' && payload.nbf > sec + 300)) {
      throw new TokenError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    if (typeof payload.jti === 'string') {
      const key2 = `${app.clientId}:${payload.jti}`;
      if (this.seenJti.has(key2)) throw new TokenError(401, 'invalid_client', 700025, 'Client assertion has been replayed (jti seen before).');
      this.seenJti.set(key2, payload.exp as number);
      if (this.seenJti.size > 10_000) {
        for (const [k, exp] of this.seenJti) if (exp < sec - 300) this.seenJti.delete(k);
      }
    }
  }

  sign(claims: object, header: Record<string, unknown> = {}): string {
    const h = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5t: this.kid, kid: this.kid, ...header }));
    const p = b64url(JSON.stringify(claims));
    const s = sign('sha256', Buffer.from(`${h}.${p}`), this.privateKey);
    return `${h}.${p}.${b64url(s)}`;
  }

  /** Validate a Graph request's bearer token; throws Graph's 401. */
  validate(authorization: string | undefined): AccessTokenClaims {
    if (!authorization || !authorization.trim()) throw invalidToken('Access token is empty.');
    const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (!m) throw invalidToken('Access token is empty.');
    const token = m[1]!;
    const now = this.o.clock.now() / 1000;
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp <= now) throw invalidToken('Lifetime validation failed, the token is expired.');
      return cached;
    }
    const parts = token.split('.');
    if (parts.length !== 3) throw invalidToken('CompactToken parsing failed with error code: 80049217');
    let claims: AccessTokenClaims;
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as AccessTokenClaims;
    } catch {
      throw invalidToken('CompactToken parsing failed with error code: 80049217');
    }
    if (header.alg !== 'RS256' || !verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, Buffer.from(parts[2]!, 'base64url'))) {
      throw invalidToken('Access token validation failure. Invalid signature.');
    }
    if (claims.aud !== this.o.resource && claims.aud !== GRAPH_APP_ID) throw invalidToken('Access token validation failure. Invalid audience.');
    if (claims.iss !== this.issuer || claims.tid !== this.o.tenantId) throw invalidToken('Access token validation failure. Invalid issuer.');
    if (typeof claims.exp !== 'number' || claims.exp <= now) throw invalidToken('Lifetime validation failed, the token is expired.');
    if (typeof claims.nbf === 'number' && claims.nbf > now + 300) throw invalidToken('Lifetime validation failed, the token is not yet valid.');
    if (this.verified.size > 50_000) this.verified.clear();
    this.verified.set(token, claims);
    return claims;
  }
}
