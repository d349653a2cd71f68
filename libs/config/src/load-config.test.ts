import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '@canopy/errors';
import { describe, expect, it } from 'vitest';
import { Secret, duration, fromEnv, loadConfig, parseDuration, secret, z } from './index.js';

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['7d', 604_800_000],
    ['1500', 1500],
  ])('%s is %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it('refuses nonsense with a hint', () => {
    expect(() => parseDuration('10 parsecs')).toThrow(/use e.g. 500ms/);
    expect(() => parseDuration('s')).toThrow(/not a duration/);
  });
});

describe('environment mapping', () => {
  it('nests on __ and camel-cases words', () => {
    expect(
      fromEnv('CANOPY', { CANOPY_KAFKA__CLIENT_ID: 'x', CANOPY_HTTP_PORT: '8080', OTHER: 'y' }),
    ).toEqual({ kafka: { clientId: 'x' }, httpPort: '8080' });
  });

  it('reads *_FILE variables from files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'pw'), 'hunter2\n');
    expect(fromEnv('CANOPY', { CANOPY_LDAP__BIND_PASSWORD_FILE: join(dir, 'pw') })).toEqual({
      ldap: { bindPassword: 'hunter2' },
    });
  });
});

describe('loadConfig', () => {
  const schema = z.object({
    httpPort: z.coerce.number().int().min(1).max(65535),
    pollInterval: duration().default(120_000),
    graph: z.object({ clientSecret: secret() }),
  });

  it('validates, applies defaults and keeps secrets out of output', () => {
    const cfg = loadConfig(schema, {
      env: { CANOPY_HTTP_PORT: '8081', CANOPY_GRAPH__CLIENT_SECRET: 's3cr3t' },
    });
    expect(cfg.httpPort).toBe(8081);
    expect(cfg.pollInterval).toBe(120_000);
    expect(cfg.graph.clientSecret).toBeInstanceOf(Secret);
    expect(cfg.graph.clientSecret.reveal()).toBe('s3cr3t');
    expect(JSON.stringify(cfg)).not.toContain('s3cr3t');
    expect(inspect(cfg, { depth: 5 })).not.toContain('s3cr3t');
    expect(String(cfg.graph.clientSecret)).toBe('[redacted]');
  });

  it('names every bad field in one error', () => {
    try {
      loadConfig(schema, { env: { CANOPY_HTTP_PORT: '99999', CANOPY_POLL_INTERVAL: 'soon' }, service: 'svc' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('svc: invalid configuration');
      expect(msg).toMatch(/httpPort.*: .*65535/);
      expect(msg).toMatch(/pollInterval.*not a duration/);
      expect(msg).toMatch(/graph/);
    }
  });
});

describe('flag', () => {
  it('reads "false" as false, unlike zod coercion', async () => {
    const { flag } = await import('./index.js');
    const f = flag();
    expect(f.parse('false')).toBe(false);
    expect(f.parse('FALSE')).toBe(false);
    expect(f.parse('0')).toBe(false);
    expect(f.parse('true')).toBe(true);
    expect(f.parse('yes')).toBe(true);
    expect(f.parse(true)).toBe(true);
    expect(() => f.parse('maybe')).toThrow(/not a boolean/);
  });
});
