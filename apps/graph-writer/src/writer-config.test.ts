import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@canopy/logger';
import { redisConnectionOptions } from '@canopy/redis';
import { describe, expect, it } from 'vitest';
import { loadWriterConfig } from './writer-config.js';

describe('writer configuration', () => {
  it('takes the Redis password and CA like the other stages; rediss:// is verified unless told otherwise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'pw'), 'redis-secret-pw\n');
    const cfg = loadWriterConfig({
      CANOPY_KAFKA__BROKERS: '127.0.0.1:9092',
      CANOPY_REDIS__URL: 'rediss://redis.example.test:6380',
      CANOPY_REDIS__CA_FILE: join(dir, 'ca.pem'),
      CANOPY_REDIS__PASSWORD_FILE: join(dir, 'pw'),
    });
    expect(cfg.redis.insecureSkipVerify).toBe(false);
    expect(String(cfg.redis.password)).toBe('[redacted]');
    const conn = redisConnectionOptions(cfg.redis, createLogger({ name: 't', level: 'silent' }));
    expect(conn).toEqual({ password: 'redis-secret-pw', tls: { ca: [expect.stringContaining('BEGIN CERTIFICATE')], rejectUnauthorized: true } });
  });

  it('plain redis:// gets no TLS options', () => {
    const cfg = loadWriterConfig({ CANOPY_KAFKA__BROKERS: '127.0.0.1:9092', CANOPY_REDIS__URL: 'redis://127.0.0.1:6379' });
    expect(redisConnectionOptions(cfg.redis, createLogger({ name: 't', level: 'silent' }))).toEqual({});
  });
});
