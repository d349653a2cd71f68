import { ConfigStore } from '@canopy/central-config';
import { KafkaClient } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { Readiness, ServiceMetrics, handleHelp, runService } from '@canopy/service-runtime';
import { initTracing } from '@canopy/tracing';
import { loadTransformerSettings } from './settings.js';
import { TransformerModule } from './transformer.module.js';
import { TransformerService } from './transformer.service.js';

export const HELP = `
Consumes canopy.ad.objects.* (every forest; new forests are picked up without a restart),
applies each forest's scoping and attribute mapping from canopy.config (hot-reloaded), and
produces canopy.entra.ops keyed by source anchor, plus results and dead letters. Stateless:
scale it by adding replicas (one consumer group, partitions are shared out).

Environment:
  CANOPY_KAFKA__BROKERS        host:port[,host:port]  (required)
  CANOPY_TOPIC_REFRESH_MS      how often to look for new forest topics (default 10000)
  OTEL_EXPORTER_OTLP_ENDPOINT  export traces (OTLP/HTTP); each object's trace continues from the reader's

Usage: node apps/transformer/dist/main.js [--help]
`;

handleHelp('transformer', HELP);
const settings = loadTransformerSettings();
const log = createLogger({ name: 'transformer' });
const tracing = initTracing('transformer');
const kafka = new KafkaClient(settings.kafka, log);
const store = new ConfigStore(kafka, log, settings.instanceId);
const running: { service?: TransformerService } = {};
const stopAll = async () => {
  await running.service?.stop();
  await store.stop();
  await kafka.close();
  await tracing.shutdown();
};
const app = await runService({
  name: 'transformer',
  module: TransformerModule.with(stopAll),
  defaultPort: 8082,
  help: HELP,
  logger: log,
});
const readiness = app.app.get(Readiness);
const metrics = app.app.get(ServiceMetrics);
readiness.set('kafka-consumer', false, 'starting');
await store.start();
const producer = await kafka.producer();
running.service = new TransformerService(kafka, producer, store, log, readiness, metrics, settings.topicRefreshMs);
await running.service.start();
log.info({ forests: [...store.snapshot().forests.keys()] }, 'transformer running');
