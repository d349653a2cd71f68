import { CanopyError, PermanentError, RetriableError } from '@canopy/errors';

/**
 * Classify an error thrown by the Kafka client library at the edge: kafkajs errors carry their own
 * `retriable` flag, which we keep; anything else is wrapped as retriable (network-like).
 */
export function classifyKafkaError(err: unknown, what: string): CanopyError {
  if (err instanceof CanopyError) return err;
  const e = err as { name?: string; message?: string; retriable?: boolean; type?: string };
  const message = `${what}: ${e?.message ?? String(err)}`;
  const type = `Kafka.${e?.type ?? e?.name ?? 'Error'}`;
  return e?.retriable === false
    ? new PermanentError(message, { type, cause: err })
    : new RetriableError(message, { type, cause: err });
}
