/**
 * Reference process for the transformer benchmark: consumes BENCH_SOURCE and produces the same
 * bytes to BENCH_TARGET with the project's Kafka wrapper, batch by batch, as the transformer does.
 */
import { loadConfig, z } from '@canopy/config';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';

const settings = loadConfig(z.object({ kafka: kafkaOptionsSchema }), { service: 'bench-passthrough' });
const log = createLogger({ name: 'bench-passthrough', level: 'warn' });
const kafka = new KafkaClient(settings.kafka, log);
const producer = await kafka.producer();
const consumer = kafka.consumer({ groupId: 'bench-passthrough' });
await consumer.subscribe({ topics: [process.env.BENCH_SOURCE!], fromBeginning: true });
await consumer.run(async (batch, ctx) => {
  await producer.send(process.env.BENCH_TARGET!, batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })));
  ctx.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  await ctx.commit();
});
process.once('SIGTERM', () => void kafka.close().then(() => process.exit(0)));
