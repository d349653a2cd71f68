import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextFromHeaders, headersFromContext, initTracing, startRootSpan, startStageSpan } from './index.js';

describe('traces across Kafka headers', () => {
  it('without an exporter, a stage passes the incoming trace context on unchanged', () => {
    const incoming = { traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01') };
    const s = startStageSpan('transformer', 'transform', incoming);
    expect(s.headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    s.end();
    expect(headersFromContext(contextFromHeaders({}))).toEqual({});
  });

});

describe('with an exporter', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: ReturnType<typeof initTracing>;
  beforeAll(() => {
    tracing = initTracing('test', {}, [new SimpleSpanProcessor({ exporter })]);
  });
  afterAll(() => tracing.shutdown());

  it('reader -> transformer -> writer is one trace, each span the child of the previous', () => {
    expect(tracing.enabled).toBe(true);
    const reader = startRootSpan('ad-reader', 'read object', { 'canopy.forest': 'corp' });
    const transformer = startStageSpan('transformer', 'transform', { traceparent: Buffer.from(reader.headers.traceparent!) });
    const writer = startStageSpan('graph-writer', 'write', transformer.headers);
    writer.end();
    transformer.end();
    reader.end(new Error('boom'));
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['write', 'transform', 'read object']);
    const traceIds = new Set(spans.map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);
    const [w, t, r] = spans;
    expect(w!.parentSpanContext?.spanId).toBe(t!.spanContext().spanId);
    expect(t!.parentSpanContext?.spanId).toBe(r!.spanContext().spanId);
    expect(r!.status.code).toBe(2);
    expect(transformer.headers.traceparent).toMatch(new RegExp(`^00-${r!.spanContext().traceId}-${t!.spanContext().spanId}-01$`));
  });
});
