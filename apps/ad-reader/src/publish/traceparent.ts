import { randomBytes } from 'node:crypto';
import { context, isSpanContextValid, propagation, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('canopy-ad-reader');

/**
 * A W3C traceparent for one event: from a real span when an OpenTelemetry SDK is registered,
 * else a random, valid one (so the trace still starts here and downstream stages can join it).
 */
export function newTraceparent(name = 'ad-reader.emit'): string {
  const span = tracer.startSpan(name);
  try {
    if (isSpanContextValid(span.spanContext())) {
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), span), carrier);
      if (carrier.traceparent) return carrier.traceparent;
      const sc = span.spanContext();
      return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 1).toString(16).padStart(2, '0')}`;
    }
  } finally {
    span.end();
  }
  return randomTraceparent();
}

export function randomTraceparent(): string {
  let traceId = randomBytes(16).toString('hex');
  let spanId = randomBytes(8).toString('hex');
  // All-zero ids are invalid in W3C trace context.
  if (/^0+$/.test(traceId)) traceId = `${traceId.slice(0, 31)}1`;
  if (/^0+$/.test(spanId)) spanId = `${spanId.slice(0, 15)}1`;
  return `00-${traceId}-${spanId}-01`;
}

export const TRACEPARENT_RE = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;
