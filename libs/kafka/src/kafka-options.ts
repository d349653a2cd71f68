import { readFileSync } from 'node:fs';
import { duration, flag, secret, z } from '@canopy/config';

/**
 * How to reach Kafka: the only configuration an agent needs locally (everything else comes from
 * canopy.config). TLS verification is on whenever TLS is on; turning it off needs an explicit flag.
 */
export const kafkaOptionsSchema = z.object({
  brokers: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
    .refine((v) => v.length > 0, 'at least one broker address (host:port) is required'),
  clientId: z.string().min(1).default('canopy'),
  /**
   * Isolates this installation on a shared cluster: every topic and consumer group becomes
   * `<namespace>.<name>`. Empty (the default) uses the names of libs/contracts as they are.
   */
  namespace: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,40}$/, 'lower-case letters, digits and dashes')
    .optional(),
  tls: z
    .object({
      enabled: flag().default(false),
      /** PEM of the CA (CANOPY_KAFKA__TLS__CA_FILE=<path> fills it from a file). */
      ca: z.string().optional(),
      /** Path of the CA's PEM file (configuration files). */
      caFile: z.string().optional(),
      /** Only for labs: accepts any broker certificate. Logged as a warning. */
      insecureSkipVerify: flag().default(false),
    })
    .default({ enabled: false, insecureSkipVerify: false }),
  sasl: z
    .object({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: z.string().min(1),
      password: secret(),
    })
    .optional(),
  /**
   * Fetch sizes of every consumer of this process (CANOPY_KAFKA__CONSUMER__MAX_BYTES_PER_PARTITION
   * ...). What a fetch may bring at once is held in memory until its batches are handled, so
   * these bound a stage's Kafka buffers. Defaults: kafkajs's (10 MiB per fetch, 1 MiB per partition).
   */
  consumer: z
    .object({
      maxBytes: z.coerce.number().int().positive().optional(),
      maxBytesPerPartition: z.coerce.number().int().positive().optional(),
    })
    .default({}),
  connectionTimeout: duration().default(3_000),
  requestTimeout: duration().default(30_000),
});

export type KafkaOptionsInput = z.input<typeof kafkaOptionsSchema>;
export type KafkaOptions = z.output<typeof kafkaOptionsSchema>;

export function tlsOptions(options: KafkaOptions): { ca?: string[]; rejectUnauthorized: boolean } | undefined {
  if (!options.tls.enabled) return undefined;
  return {
    ...(options.tls.ca ? { ca: [options.tls.ca] } : options.tls.caFile ? { ca: [readFileSync(options.tls.caFile, 'utf8')] } : {}),
    rejectUnauthorized: !options.tls.insecureSkipVerify,
  };
}
