import { hostname } from 'node:os';
import { duration, loadConfig, secret, z } from '@canopy/config';
import { kafkaOptionsSchema } from '@canopy/kafka';
import { redisOptionsSchema } from '@canopy/redis';

const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

/**
 * The reader's local settings: how to reach Kafka, Redis and the DC's credentials. Everything
 * else (DC url, domains, schedule) comes from the forest's document in canopy.config, or, for a
 * lab, from a local file (forestConfigFile) holding a forest document.
 */
export const readerSettingsSchema = z.object({
  /** Forest name: the topic suffix and the forest document id (forest/<name>). */
  forest: z.string().min(1),
  readerId: z.string().min(1).default(`ad-reader-${hostname()}-${process.pid}`),
  kafka: kafkaOptionsSchema,
  redis: redisOptionsSchema.default({ url: 'redis://127.0.0.1:6379', keyPrefix: 'canopy:', insecureSkipVerify: false }),
  ldap: z.object({
    bindDn: z.string().min(1),
    bindPassword: secret(),
    /**
     * PEM text of the CA that signed the DC certificate. CANOPY_LDAP__CA_FILE=<path> fills it
     * (the *_FILE convention reads the file); `caFile` names the file in a config file.
     */
    ca: z.string().optional(),
    caFile: z.string().optional(),
    /** Local override of the document's connection.url (labs, or a site-local DC). */
    url: z.string().regex(/^ldaps?:\/\/[^/]+$/).optional(),
    tlsServerName: z.string().optional(),
  }),
  /** A forest document (JSON) to use instead of canopy.config's (labs). */
  forestConfigFile: z.string().optional(),
  lease: z
    .object({
      ttl: duration().default(8_000),
      renewInterval: duration().default(2_000),
      acquireInterval: duration().default(1_000),
    })
    .default({ ttl: 8_000, renewInterval: 2_000, acquireInterval: 1_000 }),
  notifications: z
    .object({
      /**
       * Notification connections held open (each with one search per naming context). Windows AD
       * needs one. Samba with several prefork LDAP workers announces a change at once only to
       * searches in the worker that made it (others up to 5 s later): a few connections land in
       * every worker.
       */
      connections: z.coerce.number().int().min(1).max(16).default(8),
    })
    .default({ connections: 8 }),
  read: z
    .object({
      batchSize: z.coerce.number().int().min(1).max(500).default(100),
      extraAttributes: list.default([]),
      excludeAttributes: list.default([]),
      maxEventBytes: z.coerce.number().int().min(10_000).default(900_000),
    })
    .default({ batchSize: 100, extraAttributes: [], excludeAttributes: [], maxEventBytes: 900_000 }),
});

export type ReaderSettings = z.output<typeof readerSettingsSchema>;

export function loadReaderSettings(env: NodeJS.ProcessEnv = process.env): ReaderSettings {
  const file = env.CANOPY_AD_READER_CONFIG;
  return loadConfig(readerSettingsSchema, { env, service: 'ad-reader', ...(file ? { file } : {}) });
}

export const SETTINGS_HELP = `
Environment (secrets from *_FILE variables; never logged):
  CANOPY_FOREST                      forest name (lower-case DNS-like), e.g. corp.example.test
  CANOPY_KAFKA__BROKERS              host:port[,host:port]
  CANOPY_REDIS__URL                  redis://host:port (leases)
  CANOPY_LDAP__BIND_DN               sync account (needs only "Replicating Directory Changes")
  CANOPY_LDAP__BIND_PASSWORD_FILE    file holding its password (or CANOPY_LDAP__BIND_PASSWORD)
  CANOPY_LDAP__CA_FILE               PEM of the CA that signed the DC certificate
  CANOPY_LDAP__URL                   override the forest document's connection.url (labs)
  CANOPY_FOREST_CONFIG_FILE          forest document JSON to use instead of canopy.config (labs)
  CANOPY_LEASE__TTL                  lease time-to-live (default 8s; failover <= ttl + 1s)
  CANOPY_NOTIFICATIONS__CONNECTIONS notification connections to hold (default 8)
  CANOPY_READ__EXTRA_ATTRIBUTES      attributes to read beyond '*' (comma list)
  CANOPY_READ__EXCLUDE_ATTRIBUTES    attributes never to emit (comma list)
  CANOPY_READER_ID                   instance id (default ad-reader-<host>-<pid>)
`;
