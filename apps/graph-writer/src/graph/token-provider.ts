import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { X509Certificate, createHash } from 'node:crypto';
import { ConfigError, RetriableError, PermanentError } from '@canopy/errors';
import type { Secret } from '@canopy/config';
import type { Logger } from '@canopy/logger';

/**
 * App-only tokens for Microsoft Graph through MSAL's client-credentials flow, with a client secret
 * or (recommended) a certificate. The authority is `<authorityHost>/<tenantId>`; its host is a
 * known authority and its metadata is given, so MSAL makes no instance-discovery call: the public
 * cloud, the national clouds and a test emulator differ only by configuration.
 *
 * Tokens are cached (MSAL's cache plus our copy) and renewed in the background well before they
 * expire, so a write never waits on the token endpoint.
 */
export interface TokenProviderOptions {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret?: Secret;
  /** PEM certificate (public part) and its private key. */
  certificatePem?: string;
  privateKey?: Secret;
  /** Scope, default `<graph origin>/.default`. */
  scope: string;
  /** Renew this long before expiry (ms). */
  refreshMargin?: number;
}

export interface AccessTokenSource {
  getAccessToken(): Promise<string>;
  /** Drop the cached token (after a 401). */
  invalidate(): void;
}

export function authorityMetadata(authorityHost: string, tenantId: string): string {
  const base = `${authorityHost.replace(/\/+$/, '')}/${tenantId}`;
  return JSON.stringify({
    token_endpoint: `${base}/oauth2/v2.0/token`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    issuer: `${base}/v2.0`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
  });
}

export class TokenProvider implements AccessTokenSource {
  #app: ConfidentialClientApplication;
  readonly #config: Configuration;
  #token: { value: string; expiresAt: number } | undefined;
  #inflight: Promise<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #skipCache = false;

  constructor(
    private readonly options: TokenProviderOptions,
    private readonly log: Logger,
  ) {
    const host = new URL(options.authorityHost).host;
    const auth: Configuration['auth'] = {
      clientId: options.clientId,
      authority: `${options.authorityHost.replace(/\/+$/, '')}/${options.tenantId}`,
      knownAuthorities: [host],
      authorityMetadata: authorityMetadata(options.authorityHost, options.tenantId),
    };
    if (options.certificatePem && options.privateKey) {
      const cert = new X509Certificate(options.certificatePem);
      auth.clientCertificate = {
        thumbprintSha256: createHash('sha256').update(cert.raw).digest('hex').toUpperCase(),
        privateKey: options.privateKey.reveal(),
        x5c: options.certificatePem,
      };
    } else if (options.clientSecret) {
      auth.clientSecret = options.clientSecret.reveal();
    } else {
      throw new ConfigError(
        'graph credentials missing: set CANOPY_GRAPH__CERTIFICATE_FILE and CANOPY_GRAPH__PRIVATE_KEY_FILE (recommended) or CANOPY_GRAPH__CLIENT_SECRET_FILE',
      );
    }
    this.#config = { auth };
    this.#app = new ConfidentialClientApplication(this.#config);
  }

  get credentialKind(): 'certificate' | 'secret' {
    return this.options.certificatePem ? 'certificate' : 'secret';
  }

  async getAccessToken(): Promise<string> {
    const margin = this.options.refreshMargin ?? 10 * 60_000;
    if (this.#token && this.#token.expiresAt - Date.now() > margin) return this.#token.value;
    if (this.#token && this.#token.expiresAt - Date.now() > 30_000) {
      // Still valid: renew in the background, answer now.
      void this.#acquire().catch(() => undefined);
      return this.#token.value;
    }
    return this.#acquire();
  }

  /**
   * Drop the token after a 401. The MSAL application is rebuilt too: it also caches the signed
   * client assertion, and a fresh token request gets a fresh assertion.
   */
  invalidate(): void {
    this.#token = undefined;
    this.#skipCache = true;
    this.#app = new ConfidentialClientApplication(this.#config);
  }

  #acquire(): Promise<string> {
    return (this.#inflight ??= (async () => {
      try {
        const res = await this.#app.acquireTokenByClientCredential({
          scopes: [this.options.scope],
          // Our own copy decides when to renew; ask MSAL for a fresh one when we do.
          ...(this.#token || this.#skipCache ? { skipCache: true } : {}),
        });
        if (!res?.accessToken) throw new RetriableError('token endpoint returned no access token', { type: 'Graph.TokenMissing' });
        const expiresAt = res.expiresOn ? res.expiresOn.getTime() : Date.now() + 3_600_000;
        this.#token = { value: res.accessToken, expiresAt };
        this.#skipCache = false;
        this.#schedule(expiresAt);
        this.log.debug({ expiresAt: new Date(expiresAt).toISOString(), credential: this.credentialKind }, 'graph token acquired');
        return res.accessToken;
      } catch (err) {
        const e = classifyMsalError(err);
        // MSAL reports a refused TLS handshake as "fetch failed": name the real cause
        // (an unknown CA, a certificate for another host name, ...).
        if (e instanceof RetriableError && e.details?.code === 'network_error') {
          const cause = await transportProblem(this.options.authorityHost);
          if (cause) throw new RetriableError(`${e.message}; ${cause}`, { type: e.type, details: e.details, cause: err });
        }
        throw e;
      } finally {
        this.#inflight = undefined;
      }
    })());
  }

  #schedule(expiresAt: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    const margin = this.options.refreshMargin ?? 10 * 60_000;
    const inMs = Math.max(5_000, expiresAt - Date.now() - margin);
    this.#timer = setTimeout(() => void this.#acquire().catch((err: unknown) => this.log.warn({ err }, 'background token renewal failed; will retry on use')), inMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }
}

/**
 * Why `url` cannot be reached, as Node's TLS or socket layer says it (certificate not trusted,
 * wrong host name, connection refused), or undefined when it can.
 */
export async function transportProblem(url: string, timeoutMs = 5_000): Promise<string | undefined> {
  try {
    await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs) });
    return undefined;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.message ? `${new URL(url).host}: ${cause.code ? `${cause.code}: ` : ''}${cause.message}` : undefined;
  }
}

/** MSAL errors: invalid client/credential are permanent (configuration); network trouble is retriable. */
export function classifyMsalError(err: unknown): Error {
  if (err instanceof RetriableError || err instanceof PermanentError) return err;
  const e = err as { errorCode?: string; errorMessage?: string; message?: string };
  const code = e?.errorCode ?? 'unknown';
  const message = (e?.errorMessage ?? e?.message ?? String(err)).split('\n')[0]!;
  if (/invalid_client|unauthorized_client|invalid_request|AADSTS7000215|AADSTS700027|AADSTS700016|AADSTS90002/i.test(`${code} ${message}`)) {
    return new PermanentError(`token request refused (${code}): ${message}`, { type: 'Graph.AuthFailed', details: { code } });
  }
  return new RetriableError(`token request failed (${code}): ${message}`, { type: 'Graph.TokenUnavailable', details: { code }, cause: err });
}
