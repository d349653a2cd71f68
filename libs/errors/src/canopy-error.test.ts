import { describe, expect, it } from 'vitest';
import {
  CanopyError,
  ConflictError,
  InputError,
  ThrottledError,
  httpStatusOf,
  isRetriable,
  toCanopyError,
} from './index.js';

describe('error taxonomy', () => {
  it('classifies throttling as retriable with its delay', () => {
    const err = new ThrottledError('slow down', { type: 'Graph.Throttled', nextRetryDelayMs: 5000 });
    expect(err.retriable).toBe(true);
    expect(err.nextRetryDelayMs).toBe(5000);
    expect(err.type).toBe('Graph.Throttled');
    expect(err).toBeInstanceOf(CanopyError);
    expect(httpStatusOf(err)).toBe(429);
  });

  it('classifies conflicts and bad input as permanent', () => {
    expect(isRetriable(new ConflictError('dup UPN'))).toBe(false);
    expect(httpStatusOf(new ConflictError('dup UPN'))).toBe(409);
    expect(httpStatusOf(new InputError('bad'))).toBe(400);
    expect(new InputError('bad').name).toBe('InputError');
  });

  it('wraps unknown errors without losing the cause', () => {
    const cause = new TypeError('boom');
    const wrapped = toCanopyError(cause);
    expect(wrapped.type).toBe('Unclassified');
    expect(wrapped.cause).toBe(cause);
    expect(isRetriable(cause)).toBe(false);
    expect(isRetriable(cause, true)).toBe(true);
    expect(toCanopyError(wrapped)).toBe(wrapped);
  });

  it('serialises to JSON for results and logs', () => {
    const json = new ThrottledError('x', { details: { scope: 'app' }, nextRetryDelayMs: 1 }).toJSON();
    expect(json).toMatchObject({ name: 'ThrottledError', retriable: true, details: { scope: 'app' } });
  });
});
