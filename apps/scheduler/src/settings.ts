import { hostname } from 'node:os';
import { loadConfig, secret, z } from '@canopy/config';
import { kafkaOptionsSchema } from '@canopy/kafka';
import { redisOptionsSchema } from '@canopy/redis';

/** What the scheduler needs locally; everything else is in canopy.config, which it owns. */
export const schedulerSettingsSchema = z.object({
  kafka: kafkaOptionsSchema,
  redis: redisOptionsSchema.default({ url: 'redis://127.0.0.1:6379', insecureSkipVerify: false, keyPrefix: 'canopy:' }),
  control: z.object({
    /** Bearer token the control API requires (CANOPY_CONTROL__TOKEN or CANOPY_CONTROL__TOKEN_FILE). */
    token: secret(),
  }),
  /** A forests.yaml applied at start when canopy.config holds no document yet. */
  initialConfig: z.string().optional(),
  instanceId: z.string().default(`scheduler-${hostname()}-${process.pid}`),
  /** Partition counts for a small machine (tests, demo); production uses libs/contracts defaults. */
  topicPartitions: z.coerce.number().int().positive().optional(),
});

export type SchedulerSettings = z.output<typeof schedulerSettingsSchema>;

export function loadSchedulerSettings(env = process.env): SchedulerSettings {
  return loadConfig(schedulerSettingsSchema, { env, service: 'scheduler' });
}
