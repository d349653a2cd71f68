import { duration, loadConfig, secret, z } from '@canopy/config';
import { kafkaOptionsSchema } from '@canopy/kafka';
import { redisOptionsSchema } from '@canopy/redis';

/**
 * The writer's local configuration: how to reach Kafka and Redis, and its own Graph credentials.
 * Everything else (tenant, Graph endpoints, quota, delete threshold, matching) comes from the
 * GLOBAL document of canopy.config and is hot-reloaded.
 *
 *   CANOPY_KAFKA__BROKERS              127.0.0.1:19092
 *   CANOPY_REDIS__URL                  redis://127.0.0.1:16379 (rediss:// verified: CANOPY_REDIS__CA_FILE, CANOPY_REDIS__PASSWORD_FILE)
 *   CANOPY_GRAPH__TENANT_ID            overrides global.tenant.id when set
 *   CANOPY_GRAPH__CLIENT_ID            overrides global.graph.clientId when set
 *   CANOPY_GRAPH__CLIENT_SECRET_FILE   a client secret, or
 *   CANOPY_GRAPH__CERTIFICATE_FILE     PEM certificate (+ CANOPY_GRAPH__PRIVATE_KEY_FILE) - recommended
 */
export const writerConfigSchema = z.object({
  kafka: kafkaOptionsSchema,
  /** Keys are laid out under writer.redisPrefix (CANOPY_REDIS__KEY_PREFIX is not used here). */
  redis: redisOptionsSchema.omit({ keyPrefix: true }).prefault({}),
  graph: z
    .object({
      tenantId: z.string().min(1).optional(),
      clientId: z.string().min(1).optional(),
      clientSecret: secret().optional(),
      certificate: z.string().min(1).optional(),
      privateKey: secret().optional(),
      /** Token scope; default: the national cloud's Graph for its hosts, else https://graph.microsoft.com/.default. */
      scope: z.string().min(1).optional(),
      /** Per-request timeout; a write that times out has an unknown outcome. */
      requestTimeout: duration().default(30_000),
    })
    .prefault({}),
  writer: z
    .object({
      groupId: z.string().min(1).default('canopy-graph-writer'),
      /** Kafka session timeout: how soon a crashed replica's partitions move to the others. */
      sessionTimeout: duration().default(30_000),
      /** Ops of different anchors applied at once per partition batch. */
      concurrency: z.coerce.number().int().min(1).max(500).default(64),
      /** How long the $batch packer waits for more requests before sending a partial batch. */
      batchLinger: duration().default(15),
      /** Members whose object is not in Entra yet: attempts and first backoff before reporting. */
      memberRetries: z.coerce.number().int().min(0).max(20).default(4),
      memberBackoff: duration().default(1_000),
      /** Retriable failures (5xx, timeouts) of one op: give up after this long (then FAILED + DLQ). */
      maxRetryTime: duration().default(300_000),
      /** After a create with an uncertain outcome, wait this long for Graph's replication before creating again. */
      replicationWait: duration().default(5_000),
      /** Share of the documented quota the shared write quota grants in every window (margin for other writers of the app). */
      quotaSafety: z.coerce.number().min(0.1).max(1).default(0.97),
      /** Redis key prefix. */
      redisPrefix: z.string().default('canopy:gw'),
      instanceId: z.string().optional(),
    })
    .prefault({}),
});

export type WriterConfig = z.output<typeof writerConfigSchema>;

export function loadWriterConfig(env: NodeJS.ProcessEnv = process.env): WriterConfig {
  return loadConfig(writerConfigSchema, { env, service: 'graph-writer' });
}
