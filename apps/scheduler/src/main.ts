import { readFileSync } from 'node:fs';
import { ConfigStore } from '@canopy/central-config';
import { KafkaClient, ensureCanopyTopics } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { createRedis } from '@canopy/redis';
import { Readiness, handleHelp, runService } from '@canopy/service-runtime';
import { CommandBus } from './commands/command-bus.js';
import { ConfigApplyService } from './config/config-apply.service.js';
import { validateForestRules } from './config/rules-validator.js';
import { ProvisioningLog } from './log/provisioning-log.js';
import { SchedulerModule } from './scheduler.module.js';
import type { SchedulerCore } from './scheduler-core.js';
import { FullSyncSchedule } from './schedule/full-sync-schedule.js';
import { QuarantineMonitor } from './schedule/quarantine-monitor.js';
import { loadSchedulerSettings } from './settings.js';
import { StatusService } from './status/status.service.js';
import { DeadLettersService } from './dlq/dead-letters.service.js';
import { ExplainService } from './objects/explain.service.js';
import { ObjectIndex } from './objects/object-index.js';
import { ReplayService } from './replay/replay.service.js';
import { RedisLossMonitor } from './schedule/redis-loss-monitor.js';

export const HELP = `
Schedules, control commands, central configuration (canopy.config) and the control API used by
the canopy CLI. Creates Canopy's topics when missing and applies CANOPY_INITIAL_CONFIG when
canopy.config is empty.

Environment:
  CANOPY_KAFKA__BROKERS          host:port[,host:port]  (required)
  CANOPY_REDIS__URL              redis://host:port or rediss://... (default redis://127.0.0.1:6379)
  CANOPY_CONTROL__TOKEN[_FILE]   bearer token of the control API (required)
  CANOPY_INITIAL_CONFIG          forests.yaml applied when canopy.config is empty
  CANOPY_TOPIC_PARTITIONS        partitions per topic for small machines (default: per-topic defaults)

Usage: node apps/scheduler/dist/main.js [--help]
`;

handleHelp('scheduler', HELP);
const settings = loadSchedulerSettings();
const log = createLogger({ name: 'scheduler' });
const kafka = new KafkaClient(settings.kafka, log);
const forestsInConfig: string[] = [];
const p = settings.topicPartitions;
const created = await ensureCanopyTopics(kafka.admin(), {
  forests: forestsInConfig,
  ...(p ? { partitions: { entraOps: p, syncResults: p, adObjects: p } } : {}),
});
if (created.length) log.info({ created }, 'created topics');
const producer = await kafka.producer();
const redis = createRedis(settings.redis, log, 'canopy-scheduler');
const store = new ConfigStore(kafka, log, settings.instanceId);
await store.start();

const configApply = new ConfigApplyService(store, producer, log, validateForestRules);
const commands = new CommandBus(kafka, producer, log, settings.instanceId);
const provisioningLog = new ProvisioningLog(kafka, redis, log);
const status = new StatusService(kafka, redis, store, provisioningLog, log);
const quarantine = new QuarantineMonitor(store, redis, commands, log);
const schedule = new FullSyncSchedule(store, redis, commands, log);
const objectIndex = new ObjectIndex(kafka, redis, log);
const explain = new ExplainService(kafka, objectIndex, store, provisioningLog);
const replay = new ReplayService(kafka, producer, store, log);
const deadLetters = new DeadLettersService(kafka, producer, redis, log);
const redisLoss = new RedisLossMonitor(redis, store, replay, log);

// Every forest gets its object topic as soon as its configuration exists.
store.onChange((snap) => {
  void ensureCanopyTopics(kafka.admin(), { forests: [...snap.forests.keys()], ...(p ? { partitions: { adObjects: p } } : {}) }).catch(
    (err: unknown) => log.error({ err }, 'could not create forest topics'),
  );
});
await ensureCanopyTopics(kafka.admin(), { forests: [...store.snapshot().forests.keys()], ...(p ? { partitions: { adObjects: p } } : {}) });

if (settings.initialConfig && store.version === 0) {
  const result = await configApply.apply(readFileSync(settings.initialConfig, 'utf8'), 'initial configuration');
  log.info({ version: result.toVersion, file: settings.initialConfig }, 'initial configuration applied');
}

await commands.start();
provisioningLog.onResult((r) => void quarantine.observe(r).catch((err: unknown) => log.warn({ err }, 'quarantine check failed')));
await provisioningLog.start();
await objectIndex.start();
schedule.start();
redisLoss.start();

const core: SchedulerCore = { log, kafka, producer, redis, store, commands, provisioningLog, configApply, status, explain, replay, deadLetters };
const stopAll = async () => {
  schedule.stop();
  redisLoss.stop();
  await Promise.allSettled([commands.stop(), provisioningLog.stop(), objectIndex.stop(), store.stop()]);
  await kafka.close();
  redis.disconnect();
};
const service = await runService({
  name: 'scheduler',
  module: SchedulerModule.with(core, settings.control.token, stopAll),
  defaultPort: 8080,
  help: HELP,
  logger: log,
});
const readiness = service.app.get(Readiness);
readiness.set('kafka', true);
readiness.set('configuration', store.global() !== undefined, store.global() ? undefined : 'no global configuration applied yet');
store.onChange(() => readiness.set('configuration', store.global() !== undefined));
