import { TOPICS, adObjectsTopic, type TopicSpec } from '@canopy/contracts';
import type { KafkaAdmin, TopicToCreate } from './kafka-client.js';

function toCreate(spec: TopicSpec, name = spec.name, partitions?: number): TopicToCreate {
  return { name, partitions: partitions ?? spec.partitions, config: spec.config };
}

/**
 * Create Canopy's shared topics (and each forest's object topic) when missing, with the
 * partition counts and configuration that libs/contracts defines. Partition counts can be
 * lowered for a small test machine.
 */
export async function ensureCanopyTopics(
  admin: KafkaAdmin,
  options: { forests?: string[]; partitions?: Partial<Record<keyof typeof TOPICS, number>> } = {},
): Promise<string[]> {
  const topics: TopicToCreate[] = [];
  for (const [key, spec] of Object.entries(TOPICS) as [keyof typeof TOPICS, TopicSpec][]) {
    if (key === 'adObjects') continue;
    topics.push(toCreate(spec, spec.name, options.partitions?.[key]));
  }
  for (const forest of options.forests ?? []) {
    topics.push(toCreate(TOPICS.adObjects, adObjectsTopic(forest), options.partitions?.adObjects));
  }
  return admin.ensureTopics(topics);
}
