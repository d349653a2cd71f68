import { readFileSync } from 'node:fs';
import { flag, secret, z } from '@canopy/config';
import { RetriableError } from '@canopy/errors';
import type { Logger } from '@canopy/logger';
import { Redis } from 'ioredis';

/**
 * Redis options. Redis holds nothing Canopy cannot rebuild (leases, rate buckets, caches,
 * idempotency hashes), so losing it costs time, never correctness. TLS (rediss://) verifies the
 * server certificate unless explicitly told not to.
 */
export const redisOptionsSchema = z.object({
  url: z.string().regex(/^rediss?:\/\//, 'must be redis://host:port[/db] or rediss://host:port[/db]').default('redis://127.0.0.1:6379'),
  password: secret().optional(),
  /** PEM of the CA (CANOPY_REDIS__CA_FILE=<path> fills it from a file). */
  ca: z.string().optional(),
  /** Path of the CA's PEM file (configuration files). */
  caFile: z.string().optional(),
  insecureSkipVerify: flag().default(false),
  /** Prefix of every key, so several Canopy installations can share one Redis. */
  keyPrefix: z.string().default('canopy:'),
});

export type RedisOptionsInput = z.input<typeof redisOptionsSchema>;
export type RedisOptions = z.output<typeof redisOptionsSchema>;

export type RedisClient = Redis;

/**
 * The connection part of the options for a client built elsewhere (the writer keeps its own key
 * layout): the password, and TLS for rediss:// with the server certificate verified unless
 * insecureSkipVerify (logged as a warning).
 */
export function redisConnectionOptions(
  options: Omit<RedisOptions, 'keyPrefix'>,
  log: Logger,
): { password?: string; tls?: { ca?: string[]; rejectUnauthorized: boolean } } {
  const tls = options.url.startsWith('rediss://')
    ? {
        ...(options.ca ? { ca: [options.ca] } : options.caFile ? { ca: [readFileSync(options.caFile, 'utf8')] } : {}),
        rejectUnauthorized: !options.insecureSkipVerify,
      }
    : undefined;
  if (tls && options.insecureSkipVerify) log.warn('Redis TLS certificate verification is OFF: never use this in production');
  return { ...(options.password ? { password: options.password.reveal() } : {}), ...(tls ? { tls } : {}) };
}

export function createRedis(options: RedisOptions, log: Logger, name = 'canopy'): Redis {
  const client = new Redis(options.url, {
    connectionName: name,
    keyPrefix: options.keyPrefix,
    ...redisConnectionOptions(options, log),
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    lazyConnect: false,
  });
  let lastError = '';
  client.on('error', (err: Error) => {
    if (err.message !== lastError) log.warn({ err: err.message }, 'redis connection error');
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) log.info('redis connection restored');
    lastError = '';
  });
  return client;
}

/** Redis errors are transport errors: retriable. */
export function classifyRedisError(err: unknown, what: string): RetriableError {
  return new RetriableError(`${what}: ${(err as Error)?.message ?? String(err)}`, { type: 'Redis.Unavailable', cause: err });
}
