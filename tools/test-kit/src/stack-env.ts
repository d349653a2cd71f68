import { readStackInfo } from '@canopy/stack';

/** Environment that points an app at the local stack's Kafka and Redis. */
export function stackEnv(extra: Record<string, string> = {}): Record<string, string> {
  const info = readStackInfo();
  return {
    CANOPY_KAFKA__BROKERS: info.kafka.brokers.join(','),
    CANOPY_REDIS__URL: info.redis.url,
    ...extra,
  };
}
