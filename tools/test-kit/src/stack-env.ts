import { randomUUID } from 'node:crypto';
import { readStackInfo } from '@canopy/stack';

/** A fresh namespace for one test suite: its own topics, consumer groups and Redis keys. */
export function testNamespace(label: string): string {
  return `t-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 20)}-${randomUUID().slice(0, 8)}`;
}

/**
 * Environment that points an app at the local stack's Kafka and Redis. With a namespace, the app
 * sees only that namespace's topics, groups and Redis keys, so suites running at the same time on
 * the shared stack cannot disturb each other.
 */
export function stackEnv(extra: Record<string, string> = {}, namespace?: string): Record<string, string> {
  const info = readStackInfo();
  return {
    CANOPY_KAFKA__BROKERS: info.kafka.brokers.join(','),
    CANOPY_REDIS__URL: info.redis.url,
    ...(namespace
      ? {
          CANOPY_KAFKA__NAMESPACE: namespace,
          CANOPY_REDIS__KEY_PREFIX: `${namespace}:canopy:`,
          CANOPY_WRITER__REDIS_PREFIX: `${namespace}:canopy:gw`,
        }
      : {}),
    ...extra,
  };
}
