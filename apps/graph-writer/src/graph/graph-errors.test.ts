import { ConflictError, InputError, NotFoundError, PermanentError, ThrottledError, UnavailableError } from '@canopy/errors';
import { describe, expect, it } from 'vitest';
import { classifyGraphResponse, classifyTransportError, conflictAttribute, isOutcomeUncertain, parseRetryAfter } from './graph-errors.js';

const body = (code: string, message: string, details?: unknown[]) => ({ error: { code, message, ...(details ? { details } : {}), innerError: { 'request-id': 'r-1' } } });

describe('Graph error classification', () => {
  it('treats 2xx as success', () => {
    expect(classifyGraphResponse(200, {}, {}, 'GET /users')).toBeUndefined();
    expect(classifyGraphResponse(204, {}, undefined, 'PATCH /users/1')).toBeUndefined();
  });

  it('makes 429 retriable with its Retry-After, and keeps the throttle scope', () => {
    const e = classifyGraphResponse(429, { 'Retry-After': '7', 'x-ms-throttle-scope': 'Tenant_Application/Write/a/t' }, body('TooManyRequests', 'Too many requests.'), 'POST /users')!;
    expect(e).toBeInstanceOf(ThrottledError);
    expect(e.retriable).toBe(true);
    expect(e.nextRetryDelayMs).toBe(7000);
    expect(e.details).toMatchObject({ httpStatus: 429, throttleScope: 'Tenant_Application/Write/a/t' });
  });

  it.each([500, 502, 503, 504])('makes %i retriable', (status) => {
    const e = classifyGraphResponse(status, { 'retry-after': '2' }, body('serviceNotAvailable', 'x'), 'PATCH /groups/1')!;
    expect(e.retriable).toBe(true);
    expect(e.nextRetryDelayMs).toBe(2000);
    if (status !== 500) expect(e).toBeInstanceOf(UnavailableError);
  });

  it('makes 400, 403, 404 permanent', () => {
    expect(classifyGraphResponse(400, {}, body('Request_BadRequest', "Invalid value specified for property 'mailNickname' of resource 'User'."), 'POST /users')).toBeInstanceOf(InputError);
    const bad = classifyGraphResponse(400, {}, body('Request_BadRequest', "Invalid value specified for property 'mailNickname' of resource 'User'."), 'POST /users')!;
    expect(bad.details.attribute).toBe('mailNickname');
    expect(classifyGraphResponse(403, {}, body('Authorization_RequestDenied', 'Insufficient privileges'), 'POST /users')).toBeInstanceOf(PermanentError);
    expect(classifyGraphResponse(404, {}, body('Request_ResourceNotFound', 'nope'), 'GET /users/1')).toBeInstanceOf(NotFoundError);
    for (const s of [400, 403, 404, 409]) expect(classifyGraphResponse(s, {}, body('X', 'y'), 'op')!.retriable).toBe(false);
  });

  it('turns a duplicate value into a ConflictError naming the property an admin must fix', () => {
    const e = classifyGraphResponse(
      400,
      {},
      body('Request_BadRequest', 'Another object with the same value for property userPrincipalName already exists.', [{ code: 'ObjectConflict', target: 'userPrincipalName' }]),
      'POST /users',
    )!;
    expect(e).toBeInstanceOf(ConflictError);
    expect(e.details.attribute).toBe('userPrincipalName');
    expect(e.message).toMatch(/change it in AD/);
    expect(conflictAttribute(body('Request_BadRequest', 'Another object with the same value for property proxyAddresses already exists.'))).toBe('proxyAddresses');
    expect(classifyGraphResponse(409, {}, body('Conflict', 'x'), 'op')).toBeInstanceOf(ConflictError);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('marks a write without an answer as outcome-uncertain, a read not', () => {
    const w = classifyTransportError(Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNRESET' } }), 'POST /users', true);
    expect(w.retriable).toBe(true);
    expect(isOutcomeUncertain(w)).toBe(true);
    expect(w.message).toContain('ECONNRESET');
    const timeout = classifyTransportError(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), 'GET /users', false);
    expect(timeout.type).toBe('Graph.Timeout');
    expect(isOutcomeUncertain(timeout)).toBe(false);
  });
});
