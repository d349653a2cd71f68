import { hostname } from 'node:os';
import { loadConfig, z } from '@canopy/config';
import { kafkaOptionsSchema } from '@canopy/kafka';

export const transformerSettingsSchema = z.object({
  kafka: kafkaOptionsSchema,
  instanceId: z.string().default(`transformer-${hostname()}-${process.pid}`),
  /** How often to look for new forest topics (a new forest is picked up without a restart). */
  topicRefreshMs: z.coerce.number().int().positive().default(10_000),
});

export type TransformerSettings = z.output<typeof transformerSettingsSchema>;

export function loadTransformerSettings(env = process.env): TransformerSettings {
  return loadConfig(transformerSettingsSchema, { env, service: 'transformer' });
}
