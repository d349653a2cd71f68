import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, ensureTools } from './tools.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
// The Compose Specification's own JSON schema (schema/compose-spec.json of the Go module
// github.com/compose-spec/compose-go/v2, fetched by ensure-tools.sh), validated with ajv.
let validate: ((data: unknown) => boolean) & { errors?: unknown };
let compose: any;

beforeAll(() => {
  const tools = ensureTools();
  const schema = JSON.parse(readFileSync(tools.COMPOSE_SCHEMA, 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  validate = ajv.compile(schema) as typeof validate;
  // Compose resolves YAML merge keys (<<), as our x-app / x-env anchors use.
  compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true });
}, 45 * 60_000);

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the validator rejects what the specification rejects (the check can fail)', () => {
    const bad = structuredClone(compose);
    bad.services.scheduler.replicaz = 2;
    expect(validate(bad)).toBe(false);
    const badType = structuredClone(compose);
    badType.services.redis.read_only = ['yes'];
    expect(validate(badType)).toBe(false);
    const badRestart = structuredClone(compose);
    badRestart.services.kafka.healthcheck.test = 42;
    expect(validate(badRestart)).toBe(false);
  });

  it('runs Kafka (KRaft), Redis, the Graph emulator and every app', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual([
      'ad-reader-lab',
      'graph-emulator',
      'graph-writer',
      'kafka',
      'redis',
      'scheduler',
      'transformer',
    ]);
    expect(s.kafka.image).toMatch(/^apache\/kafka:\d+\.\d+\.\d+$/);
    expect(s.kafka.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(s.kafka.environment.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka:9093');
    expect(s.redis.image).toMatch(/^redis:\d/);
    for (const [name, svc] of Object.entries<any>(s)) {
      if (svc.image) expect(svc.image, name).not.toMatch(/:latest$|^[^:]+$/);
    }
  });

  it('builds each app from its Dockerfile with the repository root as context, non-root and read-only', () => {
    const apps: Record<string, string> = {
      scheduler: 'scheduler',
      transformer: 'transformer',
      'graph-writer': 'graph-writer',
      'ad-reader-lab': 'ad-reader',
      'graph-emulator': 'graph-emulator',
    };
    for (const [svc, app] of Object.entries(apps)) {
      const def = compose.services[svc];
      expect(def.build, svc).toEqual({ context: '.', dockerfile: `apps/${app}/Dockerfile` });
      expect(existsSync(join(REPO, def.build.dockerfile)), svc).toBe(true);
      expect(def.user, svc).toBe('10001:10001');
      expect(def.read_only, svc).toBe(true);
      expect(def.cap_drop, svc).toEqual(['ALL']);
    }
    for (const svc of ['scheduler', 'transformer', 'graph-writer', 'ad-reader-lab']) {
      const env = compose.services[svc].environment;
      expect(env.CANOPY_KAFKA__BROKERS, svc).toBe('kafka:9092');
      expect(env.CANOPY_REDIS__URL, svc).toBe('redis://redis:6379');
      expect(compose.services[svc].depends_on.kafka.condition, svc).toBe('service_healthy');
    }
    expect(compose.services['ad-reader-lab'].profiles).toEqual(['reader']);
    expect(compose.services['ad-reader-lab'].environment.CANOPY_FOREST).toBe('lab');
  });

  it('the scheduler mounts an initial configuration that names the forests of the readers', () => {
    const vol: string = compose.services.scheduler.volumes[0];
    const [src, dst] = vol.split(':');
    expect(dst).toBe(compose.services.scheduler.environment.CANOPY_INITIAL_CONFIG);
    const cfg = parse(readFileSync(join(REPO, src!), 'utf8'));
    expect(cfg.forests.map((f: any) => f.name)).toEqual(['lab']);
    expect(cfg.global.tenant.id).toBe(compose.services['graph-writer'].environment.CANOPY_GRAPH__TENANT_ID);
    expect(cfg.global.graph.clientId).toBe(
      compose.services['graph-writer'].environment.CANOPY_GRAPH__CLIENT_ID,
    );
  });
});
