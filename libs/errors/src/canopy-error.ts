/**
 * Canopy's error taxonomy. Every error that crosses a module boundary is a CanopyError carrying
 * a stable `type`, whether a retry can help (`retriable`), an optional hint of when to retry
 * (`nextRetryDelayMs`, e.g. from a Retry-After header) and its `cause`. Edges (LDAP, Graph,
 * Kafka, Redis, Avro decoding) classify what they see; the core only reads the classification.
 * HTTP status mapping happens only at the HTTP edge (see `httpStatusOf`).
 */
export interface CanopyErrorOptions {
  /** Stable machine-readable type, e.g. 'Graph.Throttled', 'Ldap.Busy', 'Contracts.UnknownFingerprint'. */
  type?: string;
  /** True when the same operation may succeed if tried again later. */
  retriable?: boolean;
  /** Suggested delay before a retry, when the source said (Retry-After). */
  nextRetryDelayMs?: number;
  cause?: unknown;
  /** Structured facts for logs and results. Never put secrets here. */
  details?: Record<string, unknown>;
}

export class CanopyError extends Error {
  readonly type: string;
  readonly retriable: boolean;
  readonly nextRetryDelayMs: number | undefined;
  readonly details: Record<string, unknown>;

  constructor(message: string, options: CanopyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.type = options.type ?? new.target.name;
    this.retriable = options.retriable ?? false;
    this.nextRetryDelayMs = options.nextRetryDelayMs;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      type: this.type,
      message: this.message,
      retriable: this.retriable,
      ...(this.nextRetryDelayMs === undefined ? {} : { nextRetryDelayMs: this.nextRetryDelayMs }),
      ...(Object.keys(this.details).length ? { details: this.details } : {}),
    };
  }
}

/** A failure that may go away: timeouts, throttling, 5xx, a DC restarting, a broker election. */
export class RetriableError extends CanopyError {
  constructor(message: string, options: Omit<CanopyErrorOptions, 'retriable'> = {}) {
    super(message, { ...options, retriable: true });
  }
}

/** A failure that will repeat until someone changes data or configuration. */
export class PermanentError extends CanopyError {
  constructor(message: string, options: Omit<CanopyErrorOptions, 'retriable' | 'nextRetryDelayMs'> = {}) {
    super(message, { ...options, retriable: false });
  }
}

/** Bad input from a user or an upstream system (a value, a request, a document). */
export class InputError extends PermanentError {}
/** Configuration that cannot work; raised at start-up or on apply, never mid-stream. */
export class ConfigError extends PermanentError {}
/** The thing asked for does not exist. */
export class NotFoundError extends PermanentError {}
/** The write would collide with existing state (duplicate UPN, proxyAddress, ...). */
export class ConflictError extends PermanentError {}
/** A message on a topic that cannot be decoded (unknown schema, corrupt body). */
export class DecodeError extends PermanentError {}
/** The remote side asked us to slow down. */
export class ThrottledError extends RetriableError {}
/** The remote side is unavailable or timed out. */
export class UnavailableError extends RetriableError {}
/** We lost a lease/fencing race: stop writing, do not retry as the same holder. */
export class FencedError extends PermanentError {}

/** True when `err` says a retry may help. Unknown errors are treated as retriable only if asked. */
export function isRetriable(err: unknown, unknownIsRetriable = false): boolean {
  if (err instanceof CanopyError) return err.retriable;
  return unknownIsRetriable;
}

/** Wrap any thrown value as a CanopyError, keeping an existing classification. */
export function toCanopyError(err: unknown, fallback: CanopyErrorOptions = {}): CanopyError {
  if (err instanceof CanopyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CanopyError(message, { type: 'Unclassified', ...fallback, cause: err });
}

/** Map an error to an HTTP status, for the HTTP edge only. */
export function httpStatusOf(err: unknown): number {
  if (err instanceof InputError || err instanceof ConfigError || err instanceof DecodeError) return 400;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof ThrottledError) return 429;
  if (err instanceof UnavailableError) return 503;
  return 500;
}
