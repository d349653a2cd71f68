import { ROOT_CONTEXT, SpanKind, context, propagation, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * Traces across Kafka. Each stage continues the trace carried in a message's W3C `traceparent`
 * header with a span of its own and puts that span's context into the headers of what it
 * produces, so one object's path from the AD reader to the Graph write is one trace.
 *
 * Export is on when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set
 * (OTLP over HTTP). Without it nothing is recorded, and a stage passes the incoming context on
 * unchanged, so a downstream stage that exports still joins the same trace.
 */
const propagator = new W3CTraceContextPropagator();

export interface Tracing {
  enabled: boolean;
  shutdown(): Promise<void>;
}

let provider: TracerProvider | undefined;

export function initTracing(service: string, env: NodeJS.ProcessEnv = process.env, processors?: SpanProcessor[]): Tracing {
  propagation.setGlobalPropagator(propagator);
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` : undefined);
  const spanProcessors = processors ?? (endpoint ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: endpoint }), scheduledDelayMillis: 500 })] : []);
  if (!spanProcessors.length) return { enabled: false, shutdown: async () => undefined };
  provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': service }), spanProcessors });
  trace.setGlobalTracerProvider(provider);
  return {
    enabled: true,
    shutdown: async () => {
      await provider?.shutdown();
      trace.disable();
      provider = undefined;
    },
  };
}

type Headers = Record<string, Buffer | string | undefined>;

const getter = {
  keys: (carrier: Headers) => Object.keys(carrier),
  get: (carrier: Headers, key: string) => {
    const v = carrier[key];
    return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : v;
  },
};

/** The trace context a message carries (or the root context when it carries none). */
export function contextFromHeaders(headers: Headers): Context {
  return propagator.extract(ROOT_CONTEXT, headers, getter);
}

/** `traceparent` (and `tracestate`) for a context, to put on an outgoing message. */
export function headersFromContext(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  propagator.inject(ctx, out, { set: (c, k, v) => void (c[k] = v) });
  return out;
}

export interface StageSpan {
  span: Span;
  context: Context;
  /** Headers that continue the trace from this span. */
  headers: Record<string, string>;
  end(error?: unknown): void;
}

/**
 * Start a span for work on one message, as a child of the trace it carries. Without an exporter
 * the span records nothing and `headers` carry the incoming context unchanged.
 */
export function startStageSpan(stage: string, name: string, incoming: Headers, attributes: Attributes = {}, kind = SpanKind.CONSUMER): StageSpan {
  const parent = contextFromHeaders(incoming);
  const span = trace.getTracer(`canopy.${stage}`).startSpan(name, { kind, attributes }, parent);
  const ctx = span.isRecording() ? trace.setSpan(parent, span) : parent;
  return {
    span,
    context: ctx,
    headers: headersFromContext(ctx),
    end(error?: unknown) {
      if (error) {
        span.recordException(error instanceof Error ? error : new Error(String(error)));
        span.setStatus({ code: 2, message: (error as Error)?.message ?? String(error) });
      }
      span.end();
    },
  };
}

/** Start a new trace (the AD reader does, for each change it reads). */
export function startRootSpan(stage: string, name: string, attributes: Attributes = {}): StageSpan {
  return startStageSpan(stage, name, {}, attributes, SpanKind.PRODUCER);
}

export { context, trace };
