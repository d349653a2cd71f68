import type { ConfigStore } from '@canopy/central-config';
import type { KafkaClient, KafkaProducer } from '@canopy/kafka';
import type { Logger } from '@canopy/logger';
import type { RedisClient } from '@canopy/redis';
import type { CommandBus } from './commands/command-bus.js';
import type { ConfigApplyService } from './config/config-apply.service.js';
import type { ProvisioningLog } from './log/provisioning-log.js';
import type { StatusService } from './status/status.service.js';
import type { DeadLettersService } from './dlq/dead-letters.service.js';
import type { ExplainService } from './objects/explain.service.js';
import type { ReplayService } from './replay/replay.service.js';

/** Everything the scheduler's API and schedules use, built once in main.ts. */
export interface SchedulerCore {
  log: Logger;
  kafka: KafkaClient;
  producer: KafkaProducer;
  redis: RedisClient;
  store: ConfigStore;
  commands: CommandBus;
  provisioningLog: ProvisioningLog;
  configApply: ConfigApplyService;
  status: StatusService;
  explain: ExplainService;
  replay: ReplayService;
  deadLetters: DeadLettersService;
}

export const SCHEDULER_CORE = Symbol.for('canopy.scheduler.core');
