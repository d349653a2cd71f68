import { Client, AuthenticationHandler, HTTPMessageHandler, ResponseType } from '@microsoft/microsoft-graph-client';
import type { CanopyError } from '@canopy/errors';
import type { Logger } from '@canopy/logger';
import { classifyGraphResponse, classifyTransportError } from './graph-errors.js';
import type { AccessTokenSource } from './token-provider.js';

/**
 * Thin edge over @microsoft/microsoft-graph-client: one `request()` that returns Graph's answer
 * (status, headers, JSON body) whatever the status, and classifies only transport failures.
 *
 * The middleware chain is authentication + HTTP only: retries are the writer's business (its
 * write quota and its global pause must see every 429), so the SDK's RetryHandler is left out.
 * `customHosts` always names the configured host: without it the SDK silently sends requests to a
 * non-Microsoft host (national cloud proxies, the emulator) with no Authorization header.
 */
export interface GraphHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface GraphRequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path below the version, e.g. /users?$filter=... */
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com/v1.0 */
  baseUrl: string;
  tokens: AccessTokenSource;
  requestTimeoutMs: number;
  /** Called once per HTTP exchange (metrics). */
  onResponse?: (method: string, status: number | 'error') => void;
}

export class GraphClient {
  readonly #client: Client;
  readonly baseUrl: string;

  constructor(
    private readonly options: GraphClientOptions,
    private readonly log: Logger,
  ) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    const url = new URL(this.baseUrl);
    const auth = new AuthenticationHandler({ getAccessToken: () => options.tokens.getAccessToken() });
    this.#client = Client.initWithMiddleware({
      baseUrl: url.origin,
      defaultVersion: url.pathname.replace(/^\/+/, ''),
      customHosts: new Set([url.hostname]),
      middleware: [auth, new HTTPMessageHandler()],
    } as never);
  }

  /** Full URL of a path below the version (what $batch items and @odata.bind refer to). */
  url(path: string): string {
    return `${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}`;
  }

  /**
   * Send one request. Resolves with any HTTP answer; rejects only when there was none (classified
   * retriable; for writes marked outcome-uncertain). A 401 renews the token and retries once.
   */
  async request(spec: GraphRequestSpec, attempt = 0): Promise<GraphHttpResponse> {
    const what = `${spec.method} ${spec.path.split('?')[0]}`;
    const label = spec.path === '/$batch' ? 'BATCH' : spec.method;
    // Token trouble surfaces here, classified (the SDK would wrap it as a transport failure);
    // the SDK's authentication handler then takes the cached token.
    await this.options.tokens.getAccessToken();
    let res: Response;
    try {
      let req = this.#client
        .api(this.url(spec.path))
        .responseType(ResponseType.RAW)
        .option('signal', AbortSignal.timeout(this.options.requestTimeoutMs));
      for (const [k, v] of Object.entries(spec.headers ?? {})) req = req.header(k, v);
      switch (spec.method) {
        case 'GET':
          res = (await req.get()) as Response;
          break;
        case 'POST':
          res = (await req.post(spec.body ?? {})) as Response;
          break;
        case 'PATCH':
          res = (await req.patch(spec.body ?? {})) as Response;
          break;
        case 'PUT':
          res = (await req.put(spec.body ?? {})) as Response;
          break;
        case 'DELETE':
          res = (await req.delete()) as Response;
          break;
      }
    } catch (err) {
      this.options.onResponse?.(label, 'error');
      throw classifyTransportError(unwrapSdkError(err), what, spec.method !== 'GET');
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k.toLowerCase()] = v));
    let body: unknown;
    try {
      const text = await res.text();
      body = text ? JSON.parse(text) : undefined;
    } catch (err) {
      if (res.status >= 200 && res.status < 300) {
        this.options.onResponse?.(label, 'error');
        throw classifyTransportError(err, `${what}: unreadable response`, spec.method !== 'GET');
      }
      body = undefined;
    }
    this.options.onResponse?.(label, res.status);
    if (res.status === 401 && attempt === 0) {
      this.log.warn({ what }, 'graph answered 401: renewing the token and retrying once');
      this.options.tokens.invalidate();
      return this.request(spec, 1);
    }
    return { status: res.status, headers, body };
  }

  /** Send and classify: resolves with the body of a 2xx, rejects with a classified error otherwise. */
  async call<T = unknown>(spec: GraphRequestSpec): Promise<T> {
    const res = await this.request(spec);
    const err: CanopyError | undefined = classifyGraphResponse(res.status, res.headers, res.body, `${spec.method} ${spec.path.split('?')[0]}`);
    if (err) throw err;
    return res.body as T;
  }

  /** GET every page of a collection (following @odata.nextLink). */
  async getAll<T = Record<string, unknown>>(path: string, headers?: Record<string, string>): Promise<T[]> {
    const out: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: { value?: T[]; '@odata.nextLink'?: string } = await this.call({ method: 'GET', path: next, headers });
      out.push(...(page.value ?? []));
      const link = page['@odata.nextLink'];
      next = link ? (link.startsWith(this.baseUrl) ? link.slice(this.baseUrl.length) : new URL(link).pathname.replace(/^\/v1\.0|^\/beta/, '') + new URL(link).search) : undefined;
    }
    return out;
  }
}

function unwrapSdkError(err: unknown): unknown {
  // The SDK wraps fetch failures in its GraphError (statusCode -1); keep the cause for the message.
  const e = err as { statusCode?: number; message?: string; body?: unknown; name?: string };
  if (e && typeof e === 'object' && 'statusCode' in e && (e.statusCode === -1 || e.statusCode === undefined)) {
    const cause = (e as { cause?: unknown }).cause;
    return cause ?? err;
  }
  return err;
}

/** A $filter clause value: quoted, quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Build a query string whose values are percent-encoded (anchors hold '+', '/' and '='). */
export function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
