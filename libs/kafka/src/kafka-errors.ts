import { CanopyError, FencedError, PermanentError, RetriableError } from '@canopy/errors';

/** Broker answers meaning a newer producer with the same transactional id took over. */
const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);

/**
 * Classify an error thrown by the Kafka client library at the edge: kafkajs errors carry their own
 * `retriable` flag, which we keep; anything else is wrapped as retriable (network-like).
 */
export function classifyKafkaError(err: unknown, what: string): CanopyError {
  if (err instanceof CanopyError) return err;
  const e = err as { name?: string; message?: string; retriable?: boolean; type?: string };
  const message = `${what}: ${e?.message ?? String(err)}`;
  const inner = err as { originalError?: { type?: string }; cause?: { type?: string } } | undefined;
  const fenced = [e?.type, inner?.originalError?.type, inner?.cause?.type].some((t) => t !== undefined && FENCED.has(t));
  if (fenced) return new FencedError(message, { type: 'Kafka.Fenced', cause: err });
  const type = `Kafka.${e?.type ?? e?.name ?? 'Error'}`;
  return e?.retriable === false
    ? new PermanentError(message, { type, cause: err })
    : new RetriableError(message, { type, cause: err });
}
