import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
const log = createLogger({ name: 'p', level: 'warn' });
const k = new KafkaClient(kafkaOptionsSchema.parse({ brokers: '127.0.0.1:19092' }), log);
const topic = 'adr-prof-' + Date.now();
await k.admin().ensureTopics([{ name: topic, partitions: 6 }]);
const p = await k.producer({ transactionalId: 'adr-prof-' + topic });
await p.initTransactions();
const msgs = Array.from({ length: 1000 }, (_, i) => ({ key: 'k' + i, value: Buffer.alloc(800, 1) }));
for (let i = 0; i < 5; i++) {
  const t0 = Date.now(); const tx = await p.transaction(); const t1 = Date.now();
  await tx.send(topic, msgs); const t2 = Date.now(); await tx.commit(); const t3 = Date.now();
  console.log('begin', t1 - t0, 'send', t2 - t1, 'commit', t3 - t2);
}
for (let i = 0; i < 3; i++) {
  const t0 = Date.now(); const tx = await p.transaction(); const t1 = Date.now();
  await tx.send(topic, msgs.slice(0, 1)); const t2 = Date.now(); await tx.commit(); const t3 = Date.now();
  console.log('small: begin', t1 - t0, 'send', t2 - t1, 'commit', t3 - t2);
  await new Promise(r => setTimeout(r, 500));
}
await k.admin().deleteTopics([topic]); await k.close();
