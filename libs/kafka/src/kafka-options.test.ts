import { createLogger } from '@canopy/logger';
import { describe, expect, it } from 'vitest';
import { KafkaClient } from './kafka-client.js';
import { kafkaOptionsSchema } from './kafka-options.js';

describe('kafka.consumer fetch sizes', () => {
  const log = createLogger({ name: 'test', level: 'silent' });

  it('default to kafkajs (unset)', () => {
    expect(kafkaOptionsSchema.parse({ brokers: 'k:9092' }).consumer).toEqual({});
  });

  it('apply to every consumer of the client unless the caller sets its own', async () => {
    const options = kafkaOptionsSchema.parse({ brokers: 'k:9092', consumer: { maxBytes: '1048576', maxBytesPerPartition: '262144' } });
    expect(options.consumer).toEqual({ maxBytes: 1_048_576, maxBytesPerPartition: 262_144 });
    const client = new KafkaClient(options, log);
    expect(client.consumer({ groupId: 'a' }).options).toMatchObject({ groupId: 'a', maxBytes: 1_048_576, maxBytesPerPartition: 262_144 });
    expect(client.consumer({ groupId: 'b', maxBytesPerPartition: 65_536 }).options.maxBytesPerPartition).toBe(65_536);
    await client.close();
  });

  it('rejects a size that is not a positive integer', () => {
    expect(() => kafkaOptionsSchema.parse({ brokers: 'k:9092', consumer: { maxBytes: '0' } })).toThrow();
  });
});
