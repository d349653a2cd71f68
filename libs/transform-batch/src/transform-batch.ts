import { randomUUID } from 'node:crypto';
import {
  HEADERS,
  TOPICS,
  codecs,
  forestOfTopic,
  guidFromString,
  isGuidString,
  keys,
  type DeadLetter,
  type SyncResult,
} from '@canopy/contracts';
import { CanopyError } from '@canopy/errors';
import type { IncomingMessage, OutgoingMessage } from '@canopy/kafka';
import { transform, type ForestRules } from '@canopy/sync-rules';
import { startStageSpan } from '@canopy/tracing';

/** Largest encoded op produced; Kafka's default max.message.bytes is 1 MiB. */
export const MAX_OP_BYTES = 900_000;

export interface BatchOutput {
  ops: OutgoingMessage[];
  results: OutgoingMessage[];
  deadLetters: OutgoingMessage[];
  counts: { ops: Record<string, number>; outcomes: Record<string, number> };
}

function sourceHeaders(m: IncomingMessage, configVersion: number, trace: Record<string, string>): Record<string, string | Buffer | undefined> {
  return {
    [HEADERS.traceparent]: trace.traceparent ?? m.headers[HEADERS.traceparent],
    [HEADERS.tracestate]: trace.tracestate ?? m.headers[HEADERS.tracestate],
    [HEADERS.configVersion]: String(configVersion),
    [HEADERS.sourceTopic]: m.topic,
    [HEADERS.sourcePartition]: String(m.partition),
    [HEADERS.sourceOffset]: m.offset,
  };
}

function resultMessage(result: SyncResult, headers: Record<string, string | Buffer | undefined>): OutgoingMessage {
  return { key: keys.syncResult(result), value: codecs.syncResult.encode(result), headers };
}

export function deadLetterFor(m: IncomingMessage, err: CanopyError, now: Date): DeadLetter {
  return {
    deadLetterId: randomUUID(),
    stage: 'TRANSFORMER',
    sourceTopic: m.topic,
    sourcePartition: m.partition,
    sourceOffset: Number(m.offset),
    key: m.key,
    value: m.value,
    headers: Object.fromEntries(Object.entries(m.headers).filter((e): e is [string, Buffer] => e[1] !== undefined)),
    reason: err.message,
    errorType: err.type,
    retriable: err.retriable,
    attempts: 1,
    at: now,
  };
}

/**
 * Transform one Kafka batch of AD object events into ops, results and dead letters. Pure apart
 * from the clock: every message ends as an op (the writer reports its outcome), a SKIPPED or
 * FAILED result, or a dead letter with a FAILED result (undecodable input). Never throws.
 */
export function transformBatch(
  messages: IncomingMessage[],
  rules: ForestRules,
  configVersion: number,
  now: () => Date = () => new Date(),
): BatchOutput {
  const out: BatchOutput = { ops: [], results: [], deadLetters: [], counts: { ops: {}, outcomes: {} } };
  const count = (bucket: Record<string, number>, k: string) => (bucket[k] = (bucket[k] ?? 0) + 1);
  for (const m of messages) {
    // One span per object, continuing the trace the reader started (see @canopy/tracing).
    const span = startStageSpan('transformer', 'transform', m.headers, { 'canopy.topic': m.topic, 'canopy.offset': m.offset });
    try {
      transformOne(m, span.headers);
    } finally {
      span.end();
    }
  }
  return out;

  function transformOne(m: IncomingMessage, trace: Record<string, string>): void {
    const headers = sourceHeaders(m, configVersion, trace);
    const at = now();
    let event;
    try {
      event = codecs.adObjectEvent.decode(m.value);
    } catch (err) {
      const error = err as CanopyError;
      const forest = forestOfTopic(m.topic) ?? rules.forest;
      const keyText = m.key?.toString('utf8') ?? '';
      out.deadLetters.push({ key: m.key, value: codecs.deadLetter.encode(deadLetterFor(m, error, at)), headers });
      out.results.push(
        resultMessage(
          {
            resultId: randomUUID(),
            opId: null,
            forest,
            objectGuid: isGuidString(keyText) ? guidFromString(keyText) : null,
            sourceAnchor: null,
            dn: null,
            targetType: null,
            stage: 'TRANSFORMER',
            outcome: 'FAILED',
            entraId: null,
            reason: `undecodable message at ${m.topic}/${m.partition}@${m.offset} sent to ${TOPICS.deadLetters.name}`,
            error: { type: error.type, code: null, message: error.message, retriable: false, httpStatus: null, attribute: null, expression: null },
            writes: 0,
            changedProperties: [],
            configVersion,
            at,
          },
          headers,
        ),
      );
      count(out.counts.outcomes, 'FAILED');
      return;
    }
    const outcome = transform(event, rules, { configVersion, now: at });
    const base = {
      resultId: randomUUID(),
      forest: event.forest,
      objectGuid: event.objectGuid,
      dn: event.dn,
      stage: 'TRANSFORMER' as const,
      entraId: null,
      writes: 0,
      changedProperties: [],
      configVersion,
      at,
    };
    const opBytes = outcome.kind === 'op' ? codecs.entraOperation.encode(outcome.op) : null;
    if (outcome.kind === 'op' && opBytes!.length <= MAX_OP_BYTES) {
      out.ops.push({ key: keys.entraOp(outcome.op.sourceAnchor), value: opBytes!, headers });
      count(out.counts.ops, outcome.op.action);
    } else if (outcome.kind === 'op') {
      // Kafka refuses records over its max message size (1 MB by default): report, never stall.
      const error = new CanopyError(
        `the operation for this object is ${opBytes!.length} bytes, over the ${MAX_OP_BYTES}-byte limit of one Kafka record; reduce the mapped values (e.g. proxyAddresses)`,
        { type: 'Transform.OpTooLarge' },
      );
      out.deadLetters.push({ key: m.key, value: codecs.deadLetter.encode(deadLetterFor(m, error, at)), headers });
      out.results.push(
        resultMessage(
          {
            ...base,
            opId: outcome.op.opId,
            sourceAnchor: outcome.op.sourceAnchor,
            targetType: outcome.op.targetType,
            outcome: 'FAILED',
            reason: 'operation too large',
            error: { type: error.type, code: null, message: error.message, retriable: false, httpStatus: null, attribute: null, expression: null },
          },
          headers,
        ),
      );
      count(out.counts.outcomes, 'FAILED');
    } else if (outcome.kind === 'skipped') {
      out.results.push(
        resultMessage(
          { ...base, opId: null, sourceAnchor: null, targetType: null, outcome: 'SKIPPED', reason: outcome.reason, error: null },
          headers,
        ),
      );
      count(out.counts.outcomes, 'SKIPPED');
    } else {
      const failure = new CanopyError(outcome.error.message, { type: outcome.error.type });
      out.deadLetters.push({ key: m.key, value: codecs.deadLetter.encode(deadLetterFor(m, failure, at)), headers });
      out.results.push(
        resultMessage(
          {
            ...base,
            opId: null,
            sourceAnchor: null,
            targetType: null,
            outcome: 'FAILED',
            reason: outcome.error.attribute ? `mapping of ${outcome.error.attribute} failed` : 'transform failed',
            error: {
              type: outcome.error.type,
              code: null,
              message: outcome.error.message,
              retriable: false,
              httpStatus: null,
              attribute: outcome.error.attribute,
              expression: outcome.error.expression,
            },
          },
          headers,
        ),
      );
      count(out.counts.outcomes, 'FAILED');
    }
  }
}
