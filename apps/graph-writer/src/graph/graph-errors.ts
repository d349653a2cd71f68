import {
  CanopyError,
  ConflictError,
  InputError,
  NotFoundError,
  PermanentError,
  RetriableError,
  ThrottledError,
  UnavailableError,
} from '@canopy/errors';

/**
 * Classification of what Graph answered (or failed to answer) at the edge. The rest of the writer
 * only reads `retriable`, `type`, `nextRetryDelayMs` and the details (httpStatus, code, attribute).
 *
 * - 429, 503, 504, 5xx, 408, timeouts and dropped connections are retriable, with Retry-After;
 * - 400, 403, 404, 409 are permanent; a duplicate value (ObjectConflict) is a ConflictError naming
 *   the property, so an admin knows what to fix;
 * - a write whose connection failed or timed out has an *uncertain outcome*: it may have been
 *   applied. Such errors carry details.outcomeUncertain and must never be retried blindly.
 */
export interface GraphErrorDetails {
  httpStatus: number | null;
  code: string | null;
  attribute: string | null;
  requestId?: string | null;
  outcomeUncertain?: boolean;
  [key: string]: unknown;
}

export interface GraphErrorBody {
  error?: { code?: string; message?: string; details?: Array<{ code?: string; target?: string; message?: string }>; innerError?: Record<string, unknown> };
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

const CONFLICT_MESSAGE = /same value for property (\w+)/i;

/** The property a conflict is about, from Graph's details or message. */
export function conflictAttribute(body: GraphErrorBody | undefined): string | null {
  const detail = body?.error?.details?.find((d) => d.code === 'ObjectConflict' || d.target);
  if (detail?.target) return detail.target;
  const m = CONFLICT_MESSAGE.exec(body?.error?.message ?? '');
  return m ? m[1]! : null;
}

function headerOf(headers: Record<string, string | undefined> | Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const h = headers as Record<string, string | undefined>;
  const key = Object.keys(h).find((k) => k.toLowerCase() === name.toLowerCase());
  return key ? h[key] : undefined;
}

/**
 * Classify one Graph response (a whole request or one item of a $batch). Returns undefined for
 * a success (2xx).
 */
export function classifyGraphResponse(
  status: number,
  headers: Record<string, string | undefined> | Headers | undefined,
  body: unknown,
  what: string,
): CanopyError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const b = (typeof body === 'object' && body !== null ? body : {}) as GraphErrorBody;
  const code = b.error?.code ?? null;
  const message = b.error?.message ?? `HTTP ${status}`;
  const requestId = (b.error?.innerError?.['request-id'] as string | undefined) ?? headerOf(headers, 'request-id') ?? null;
  const retryAfter = parseRetryAfter(headerOf(headers, 'retry-after'));
  const details: GraphErrorDetails = { httpStatus: status, code, attribute: null, requestId };
  const text = `${what}: ${status} ${code ?? ''} ${message}`.replace(/\s+/g, ' ').trim();

  if (status === 429) {
    details.throttleScope = headerOf(headers, 'x-ms-throttle-scope') ?? null;
    details.throttleInformation = headerOf(headers, 'x-ms-throttle-information') ?? null;
    return new ThrottledError(text, { type: 'Graph.Throttled', nextRetryDelayMs: retryAfter ?? 5_000, details });
  }
  if (status === 503 || status === 504 || status === 502 || status === 408) {
    return new UnavailableError(text, { type: status === 504 || status === 408 ? 'Graph.Timeout' : 'Graph.Unavailable', nextRetryDelayMs: retryAfter, details });
  }
  if (status >= 500) {
    return new RetriableError(text, { type: 'Graph.ServerError', nextRetryDelayMs: retryAfter, details });
  }
  if (status === 401) {
    // An expired or revoked token: retriable after the token is renewed.
    return new RetriableError(text, { type: 'Graph.Unauthorized', details });
  }
  if (status === 424) {
    return new RetriableError(text, { type: 'Graph.FailedDependency', details });
  }
  const attribute = conflictAttribute(b);
  if (status === 409 || (status === 400 && (attribute !== null && (code === 'Request_BadRequest' || /already exists/i.test(message))))) {
    details.attribute = attribute;
    const advice = attribute
      ? `another object in the tenant already has this ${attribute}; change it in AD (or on the other object) and the next sync will retry`
      : 'another object in the tenant holds the same value';
    return new ConflictError(`${text} (${advice})`, { type: 'Graph.Conflict', details });
  }
  if (status === 404) return new NotFoundError(text, { type: 'Graph.NotFound', details });
  if (status === 403) {
    return new PermanentError(`${text} (the app lacks a Graph permission, or the object is protected)`, { type: 'Graph.Forbidden', details });
  }
  if (status === 400) {
    const m = /property '(\w+)'/.exec(message);
    details.attribute = m ? m[1]! : null;
    return new InputError(text, { type: 'Graph.BadRequest', details });
  }
  return new PermanentError(text, { type: `Graph.Http${status}`, details });
}

/** A request that got no answer (connection reset, DNS, TLS, timeout). Writes: outcome unknown. */
export function classifyTransportError(err: unknown, what: string, isWrite: boolean): CanopyError {
  if (err instanceof CanopyError) return err;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const timedOut = e?.name === 'TimeoutError' || e?.name === 'AbortError';
  const reason = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
  const details: GraphErrorDetails = { httpStatus: null, code: timedOut ? 'Timeout' : 'ConnectionFailed', attribute: null, outcomeUncertain: isWrite };
  return new UnavailableError(`${what}: ${timedOut ? 'timed out' : 'no answer'} (${reason})${isWrite ? '; outcome unknown' : ''}`, {
    type: timedOut ? 'Graph.Timeout' : 'Graph.ConnectionFailed',
    details,
    cause: err,
  });
}

export function isOutcomeUncertain(err: unknown): boolean {
  return err instanceof CanopyError && err.details.outcomeUncertain === true;
}

export function httpStatusOfError(err: unknown): number | null {
  return err instanceof CanopyError && typeof err.details.httpStatus === 'number' ? err.details.httpStatus : null;
}

export function graphCodeOf(err: unknown): string | null {
  return err instanceof CanopyError && typeof err.details.code === 'string' ? err.details.code : null;
}
