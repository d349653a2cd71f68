import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { createRedis, redisConnectionOptions, redisOptionsSchema, type RedisClient } from '@canopy/redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate, makeCa, startTlsKafka, startTlsRedis, type CertificateAuthority, type PrivateServer, type ServerCertificate } from '../src/index.js';

/**
 * TLS to Kafka and Redis is verified by default: a private TLS-only redis-server and a private
 * single-node Kafka with an SSL listener (own ports, own certificates; the shared stack is not
 * touched) are reached through libs/redis and libs/kafka with the right CA, and refused with a
 * CA that did not sign the server's certificate, with the system trust store, and with a
 * certificate for another host name.
 */
const dir = mkdtempSync(join(tmpdir(), 'canopy-tls-'));
const log = createLogger({ name: 'tls-test', level: 'silent' });
let good: CertificateAuthority;
let rogue: CertificateAuthority;
let serverCert: ServerCertificate;
let otherHostCert: ServerCertificate;
let redis: PrivateServer;
let redisOtherHost: PrivateServer;
let kafka: PrivateServer;
let kafkaOtherHost: PrivateServer;
const redisPassword = 'redis-pw-7f3a9c1e55';

beforeAll(async () => {
  good = makeCa(dir, 'good');
  rogue = makeCa(dir, 'rogue');
  serverCert = issueCertificate(good, dir, 'server', ['127.0.0.1', 'localhost']);
  otherHostCert = issueCertificate(good, dir, 'elsewhere', ['elsewhere.example.test']);
  [redis, redisOtherHost, kafka, kafkaOtherHost] = await Promise.all([
    startTlsRedis(join(dir, 'redis'), serverCert, good, redisPassword),
    startTlsRedis(join(dir, 'redis-elsewhere'), otherHostCert, good, redisPassword),
    startTlsKafka(join(dir, 'kafka'), serverCert, good),
    startTlsKafka(join(dir, 'kafka-elsewhere'), otherHostCert, good),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([redis?.stop(), redisOtherHost?.stop(), kafka?.stop(), kafkaOtherHost?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** Resolve when the client is ready, or reject with its first connection error. */
function firstOutcome(client: RedisClient): Promise<string> {
  return new Promise((resolve, reject) => {
    client.once('ready', () => resolve('ready'));
    client.once('error', (err: Error) => reject(err));
  });
}

async function redisOutcome(options: Record<string, unknown>): Promise<{ ok: boolean; error?: string }> {
  const client = createRedis(redisOptionsSchema.parse({ keyPrefix: 't:', password: redisPassword, ...options }), log, 'tls-test');
  try {
    await firstOutcome(client);
    return { ok: (await client.ping()) === 'PONG' };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    client.disconnect();
  }
}

describe('Redis over TLS (libs/redis)', () => {
  it('verification is on by default whenever rediss:// is used', () => {
    const o = redisOptionsSchema.parse({ url: 'rediss://127.0.0.1:6380' });
    expect(o.insecureSkipVerify).toBe(false);
  });

  it('connects with the CA that signed the server certificate', async () => {
    expect(await redisOutcome({ url: `rediss://127.0.0.1:${redis.port}`, caFile: good.certFile })).toEqual({ ok: true });
    expect(await redisOutcome({ url: `rediss://127.0.0.1:${redis.port}`, ca: good.certPem })).toEqual({ ok: true });
  });

  it('refuses a server certificate its CA did not sign, or the system store does not know', async () => {
    const rogueCa = await redisOutcome({ url: `rediss://127.0.0.1:${redis.port}`, caFile: rogue.certFile });
    expect(rogueCa.ok).toBe(false);
    expect(rogueCa.error).toMatch(/certificate/i);
    const systemStore = await redisOutcome({ url: `rediss://127.0.0.1:${redis.port}` });
    expect(systemStore.ok).toBe(false);
    expect(systemStore.error).toMatch(/certificate/i);
  });

  it('refuses a certificate issued for another host name, even from the right CA', async () => {
    const wrongHost = await redisOutcome({ url: `rediss://127.0.0.1:${redisOtherHost.port}`, caFile: good.certFile });
    expect(wrongHost.ok).toBe(false);
    expect(wrongHost.error).toMatch(/altnames|does not match|hostname/i);
  });

  it("the writer's client (its own key layout, same connection options) verifies the same way", async () => {
    const outcome = async (caFile: string) => {
      const o = redisOptionsSchema.omit({ keyPrefix: true }).parse({ url: `rediss://127.0.0.1:${redis.port}`, caFile, password: redisPassword });
      const client = new Redis(o.url, { ...redisConnectionOptions(o, log), maxRetriesPerRequest: 1 });
      try {
        await firstOutcome(client);
        return (await client.ping()) === 'PONG' ? 'PONG' : 'no';
      } catch (err) {
        return (err as Error).message;
      } finally {
        client.disconnect();
      }
    };
    expect(await outcome(good.certFile)).toBe('PONG');
    expect(await outcome(rogue.certFile)).toMatch(/certificate/i);
  });

  it('connects to anything only with the explicit insecureSkipVerify flag', async () => {
    expect(await redisOutcome({ url: `rediss://127.0.0.1:${redis.port}`, caFile: rogue.certFile, insecureSkipVerify: 'true' })).toEqual({ ok: true });
  });
});

async function kafkaOutcome(tls: Record<string, unknown>, broker = kafka): Promise<{ ok: boolean; error?: string }> {
  const client = new KafkaClient(
    kafkaOptionsSchema.parse({ brokers: `127.0.0.1:${broker.port}`, clientId: 'tls-test', tls, connectionTimeout: '2s' }),
    log,
  );
  try {
    await client.admin().ensureTopics([{ name: 'tls-probe', partitions: 1 }]);
    return { ok: (await client.admin().listTopics()).includes('tls-probe') };
  } catch (err) {
    return { ok: false, error: `${(err as Error).message} ${String((err as { cause?: Error }).cause?.message ?? '')}` };
  } finally {
    await client.close().catch(() => undefined);
  }
}

describe('Kafka over TLS (libs/kafka)', () => {
  it('verification is on by default whenever TLS is enabled', () => {
    const o = kafkaOptionsSchema.parse({ brokers: 'b:9093', tls: { enabled: 'true' } });
    expect(o.tls).toMatchObject({ enabled: true, insecureSkipVerify: false });
  });

  it('connects with the CA that signed the broker certificate', async () => {
    expect(await kafkaOutcome({ enabled: true, caFile: good.certFile })).toEqual({ ok: true });
  }, 90_000);

  it('refuses a broker certificate from another CA, the system store, or for another host name', async () => {
    const [rogueCa, systemStore, wrongHost] = await Promise.all([
      kafkaOutcome({ enabled: true, caFile: rogue.certFile }),
      kafkaOutcome({ enabled: true }),
      kafkaOutcome({ enabled: true, caFile: good.certFile }, kafkaOtherHost),
    ]);
    for (const r of [rogueCa, systemStore]) {
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/certificate/i);
    }
    expect(wrongHost.ok).toBe(false);
    expect(wrongHost.error).toMatch(/altnames|does not match|hostname/i);
  }, 150_000);

  it('connects to anything only with the explicit insecureSkipVerify flag', async () => {
    expect(await kafkaOutcome({ enabled: true, caFile: rogue.certFile, insecureSkipVerify: 'true' })).toEqual({ ok: true });
  }, 90_000);
});
