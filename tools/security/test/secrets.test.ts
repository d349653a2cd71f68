import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdAdmin } from '@canopy/acceptance';
import { sampleConfigYaml, startPipeline, type Pipeline } from '@canopy/demo';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { ensureStackUp, getForest, ldapsClient, readSecret, type ForestInfo, type StackInfo } from '@canopy/stack';
import { REPO_ROOT, testNamespace, waitFor } from '@canopy/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespace, dumpRedis, findLeaks, needlesOf, readAllTopics, type EmittedRecord, type SecretToFind } from '../src/index.js';

/**
 * No secret ever leaves the process that holds it: the whole pipeline (Graph emulator, scheduler,
 * transformer, two graph-writers (one with the certificate, one with the client secret), an
 * ad-reader) syncs a small OU of the corp forest with known secrets in play (LDAP bind password,
 * Graph client secret and private key, control API token, a Redis password); then error paths
 * run (a reader with a wrong bind password, a writer with a wrong client secret, API calls and
 * the CLI with a wrong token). Everything emitted is searched for every secret in every usual
 * encoding: each process's stdout/stderr, every record (key, headers, value) of every topic of
 * the namespace, every Redis key and value under its prefix, and the control API's answers.
 */
const ns = testNamespace('secrets');
const run = ns.slice(-8);
const log = createLogger({ name: 'secrets-test', level: 'silent' });
let stack: StackInfo;
let corp: ForestInfo;
let admin: AdAdmin;
let pipeline: Pipeline;
let stateDir: string;
const ou = () => `OU=Secrets-${run},${corp.baseDn}`;
const dns: string[] = [];
const apiAnswers: Array<{ source: string; data: string }> = [];
const redisPassword = `redis-pw-${randomBytes(12).toString('hex')}`;
const wrongBindPassword = `Wrong-Bind-${randomBytes(9).toString('base64url')}`;
const wrongClientSecret = `wrong~${randomBytes(18).toString('base64url')}`;
const wrongToken = `wrong-token-${randomBytes(12).toString('hex')}`;

async function call(method: 'GET' | 'POST', path: string, token: string | undefined, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${pipeline.scheduler.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  apiAnswers.push({ source: `api ${method} ${path} (${token === pipeline.token ? 'token' : token ? 'wrong token' : 'no token'})`, data: `${JSON.stringify([...res.headers])}\n${text}` });
  return { status: res.status, text };
}

function logText(name: string): string {
  try {
    return readFileSync(join(stateDir, 'logs', `${name}.log`), 'utf8');
  } catch {
    return '';
  }
}

beforeAll(async () => {
  stack = await ensureStackUp();
  corp = getForest(stack, 'corp');
  const client = ldapsClient(corp, 30_000);
  await client.bind(corp.admin.dn, readSecret(corp.admin.passwordFile));
  admin = new AdAdmin(client, corp.baseDn, corp.name);
  await admin.ensureOu(ou());
  for (let i = 1; i <= 4; i++) {
    dns.push(await admin.addUser(ou(), `Sec User ${i} ${run}`, { sAMAccountName: `sec${i}${run}`, userPrincipalName: `sec${i}.${run}@${corp.name}`, title: 'Auditor' }));
  }
  dns.push(await admin.addGroup(ou(), `GG-Sec-${run}`, dns.slice(0, 3)));

  stateDir = mkdtempSync(join(tmpdir(), 'canopy-secrets-'));
  // Every app of the pipeline gets the Redis password (the stack's Redis needs none: it is
  // accepted and must still never be shown).
  process.env.CANOPY_REDIS__PASSWORD = redisPassword;
  // Debug logs: the most a process ever says.
  process.env.CANOPY_LOG_LEVEL = 'debug';
  try {
    pipeline = await startPipeline({
      stack,
      stateDir,
      namespace: ns,
      quotaMultiplier: 20,
      readers: { corp: 1 },
      configYaml: (em, clientId) => sampleConfigYaml(stack, em, clientId, { pollInterval: '10s', extraOus: { corp: { include: [ou()] } } }),
    });
    // A second writer that signs in with the client secret (from a file, as in Kubernetes).
    const creds = JSON.parse(readFileSync(pipeline.emulator.apps.find((a) => a.displayName === 'canopy-writer')!.credentialsPath, 'utf8')) as { clientSecret: string };
    const secretFile = join(stateDir, 'client-secret');
    writeFileSync(secretFile, creds.clientSecret, { mode: 0o600 });
    await pipeline.procs.startApp('graph-writer-secret', 'graph-writer', {
      ...pipeline.env,
      NODE_EXTRA_CA_CERTS: pipeline.emulator.caCertPath,
      CANOPY_GRAPH__CLIENT_ID: pipeline.writerCredentials.clientId,
      CANOPY_GRAPH__TENANT_ID: pipeline.emulator.tenantId,
      CANOPY_GRAPH__CLIENT_SECRET_FILE: secretFile,
    });
  } finally {
    delete process.env.CANOPY_REDIS__PASSWORD;
    delete process.env.CANOPY_LOG_LEVEL;
  }
}, 240_000);

afterAll(async () => {
  const codes = await pipeline?.stop();
  if (admin) {
    await admin.deleteTree(ou());
    await admin.client.unbind();
  }
  const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: stack.kafka.brokers, clientId: `secrets-${run}`, namespace: ns }), log);
  const redis = new Redis(stack.redis.url);
  await deleteNamespace(kafka, redis, `${ns}:`).finally(async () => {
    redis.disconnect();
    await kafka.close();
  });
  // The error-path processes exit by themselves (or are stopped with the group); the others cleanly.
  expect(codes?.filter((c) => c.code !== 0 && !/wrong/.test(c.name)) ?? []).toEqual([]);
}, 120_000);

describe('secrets never appear in logs, records, Redis or API answers', () => {
  it('the OU syncs with every secret in use, then the error paths run and report clearly', async () => {
    // Every object of the OU has a result (written through one of the two writers).
    await waitFor(
      'a result for every object of the OU',
      async () => {
        for (const dn of dns) {
          const r = await call('GET', `/v1/objects?forest=${encodeURIComponent(corp.name)}&target=${encodeURIComponent(dn)}`, pipeline.token);
          if (r.status !== 200 || !/"outcome"/.test(r.text)) return false;
        }
        return true;
      },
      { timeoutMs: 150_000, intervalMs: 2000 },
    );
    const tenant = (await (await fetch(`${pipeline.emulator.adminUrl}/state`)).json()) as { directory: { users: Array<{ props: Record<string, unknown> }> } };
    expect(tenant.directory.users.filter((u) => String(u.props.userPrincipalName).endsWith(`.${run}@${corp.name}`))).toHaveLength(4);

    // The control API, as an operator uses it.
    for (const path of ['/v1/status', '/v1/config', '/v1/dlq?all=true', `/v1/failures?forest=${encodeURIComponent(corp.name)}`, `/v1/explain?forest=${encodeURIComponent(corp.name)}&target=${encodeURIComponent(dns[0]!)}`, `/v1/preview?forest=${encodeURIComponent(corp.name)}&target=${encodeURIComponent(dns[4]!)}`, `/v1/deletes?forest=${encodeURIComponent(corp.name)}`]) {
      expect((await call('GET', path, pipeline.token)).status, path).toBe(200);
    }
    const provision = await call('POST', '/v1/provision', pipeline.token, { forest: corp.name, target: dns[1], timeoutSeconds: 60 });
    expect(provision.status).toBeLessThan(300);

    // Error path 1: a reader with a wrong bind password (its own lab forest, same namespace).
    const forestDoc = join(stateDir, 'badpw-forest.json');
    const badForest = `sec-badpw-${run}`;
    writeFileSync(forestDoc, JSON.stringify({ name: badForest, connection: { url: corp.ldapsUrl, timeout: '15s', pageSize: 1000 }, domains: [{ dnsName: corp.name }], schedule: { pollInterval: '20s' } }));
    pipeline.procs.start('ad-reader-wrong-password', 'apps/ad-reader/dist/main.js', {
      ...pipeline.env,
      CANOPY_HTTP_PORT: '0',
      CANOPY_HTTP_HOST: '127.0.0.1',
      CANOPY_FOREST: badForest,
      CANOPY_READER_ID: `badpw-${run}`,
      CANOPY_FOREST_CONFIG_FILE: forestDoc,
      CANOPY_LDAP__BIND_DN: corp.syncAccount.dn,
      CANOPY_LDAP__BIND_PASSWORD: wrongBindPassword,
      CANOPY_LOG_LEVEL: 'debug',
      CANOPY_LDAP__CA_FILE: corp.caFile,
      CANOPY_REDIS__PASSWORD: redisPassword,
    });
    // Error path 2: a writer with a wrong client secret.
    pipeline.procs.start('graph-writer-wrong-secret', 'apps/graph-writer/dist/main.js', {
      ...pipeline.env,
      CANOPY_HTTP_PORT: '0',
      CANOPY_HTTP_HOST: '127.0.0.1',
      NODE_EXTRA_CA_CERTS: pipeline.emulator.caCertPath,
      CANOPY_GRAPH__CLIENT_ID: pipeline.writerCredentials.clientId,
      CANOPY_GRAPH__TENANT_ID: pipeline.emulator.tenantId,
      CANOPY_GRAPH__CLIENT_SECRET: wrongClientSecret,
      CANOPY_LOG_LEVEL: 'debug',
      CANOPY_WRITER__GROUP_ID: `wrong-secret-${run}`,
      CANOPY_REDIS__PASSWORD: redisPassword,
    });
    const badBind = await waitFor('the wrong bind password reported', () => /Ldap\.InvalidCredentials/.test(logText('ad-reader-wrong-password')) && logText('ad-reader-wrong-password'), { timeoutMs: 60_000, intervalMs: 500 });
    expect(badBind).toMatch(/bind to ldaps:\/\/[^ ]+ as CN=svc-canopy[^"]* failed/);
    const badSecret = await waitFor('the wrong client secret reported', () => /invalid client secret|AADSTS7000215|token request refused/i.test(logText('graph-writer-wrong-secret')) && logText('graph-writer-wrong-secret'), { timeoutMs: 90_000, intervalMs: 500 });
    expect(badSecret).toMatch(/token request refused \(invalid_client\)/);
    expect(badSecret).toMatch(/Graph refused the writer's credentials/);

    // Error path 3: the API and the CLI with a wrong token, and without one.
    expect((await call('GET', '/v1/status', wrongToken)).status).toBe(401);
    expect((await call('GET', '/v1/status', undefined)).status).toBe(401);
    const cli = spawnSync(process.execPath, ['apps/cli/bin/canopy.js', 'status'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CANOPY_API_URL: pipeline.scheduler.url, CANOPY_API_TOKEN: wrongToken },
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/401/);
    apiAnswers.push({ source: 'cli status (wrong token)', data: cli.stdout + cli.stderr });
  }, 300_000);

  it('every route of the control API but its OpenAPI document refuses a missing or wrong token', async () => {
    const spec = JSON.parse(readFileSync(join(REPO_ROOT, 'apps/scheduler/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    let checked = 0;
    for (const [path, methods] of Object.entries(spec.paths)) {
      if (path === '/v1/openapi.json') continue;
      const concrete = path.replace('{forest}', encodeURIComponent(corp.name)).replace('{decision}', 'approve').replace('{id}', 'x');
      for (const method of Object.keys(methods)) {
        const m = method.toUpperCase() as 'GET' | 'POST';
        for (const token of [undefined, wrongToken, `${pipeline.token}x`, pipeline.token.slice(0, -1)]) {
          const r = await call(m, concrete, token, m === 'POST' ? {} : undefined);
          expect(r.status, `${m} ${path}`).toBe(401);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20 * 4);
  });

  it('no secret, in any encoding, in anything emitted', async () => {
    const privateKeyPem = readFileSync(pipeline.writerCredentials.privateKeyPath, 'utf8');
    const creds = JSON.parse(readFileSync(pipeline.emulator.apps.find((a) => a.displayName === 'canopy-writer')!.credentialsPath, 'utf8')) as { clientSecret: string };
    const secrets: SecretToFind[] = [
      { label: 'LDAP bind password (corp sync account)', value: readSecret(corp.syncAccount.passwordFile) },
      { label: 'wrong LDAP bind password', value: wrongBindPassword },
      { label: 'Graph client secret', value: creds.clientSecret },
      { label: 'wrong Graph client secret', value: wrongClientSecret },
      { label: 'Graph certificate private key', value: privateKeyPem },
      { label: 'control API token', value: pipeline.token },
      { label: 'wrong control API token', value: wrongToken },
      { label: 'Redis password', value: redisPassword },
    ];
    const needles = needlesOf(secrets);
    // The search finds what it looks for (a planted copy of each form).
    for (const n of needles) expect(findLeaks([n], [{ source: 'planted', data: Buffer.concat([Buffer.from('{"msg":"x '), n.bytes, Buffer.from('"}')]) }])).toHaveLength(1);

    // 1. Every process's stdout/stderr (the Graph emulator is Graph's stand-in, not Canopy: its
    // log is searched too, but reported apart).
    const logs = readdirSync(join(stateDir, 'logs')).map((f) => ({ source: `log ${f}`, data: readFileSync(join(stateDir, 'logs', f)) }));
    const canopyLogs = logs.filter((l) => !l.source.includes('graph-emulator'));
    expect(canopyLogs.length).toBeGreaterThanOrEqual(6);
    const lines = canopyLogs.reduce((n, l) => n + l.data.toString('utf8').split('\n').length, 0);

    // 2. Every record of every topic of the namespace.
    const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: stack.kafka.brokers, clientId: `secrets-${run}`, namespace: ns }), log);
    const { topics, records } = await readAllTopics(kafka);
    await kafka.close();
    expect(Object.keys(topics)).toEqual(expect.arrayContaining(['canopy.sync.results', 'canopy.entra.ops', 'canopy.config', `canopy.ad.objects.${corp.name}`]));
    expect(topics['canopy.sync.results']).toBeGreaterThanOrEqual(dns.length);

    // 3. Every Redis key under the namespace's prefixes.
    const redis = new Redis(stack.redis.url);
    let redisRecords: EmittedRecord[];
    try {
      redisRecords = await dumpRedis(redis, `${ns}:`);
    } finally {
      redis.disconnect();
    }
    expect(redisRecords.length).toBeGreaterThan(0);

    const leaks = findLeaks(needles, [...canopyLogs, ...records, ...redisRecords, ...apiAnswers]);
    const emulatorLeaks = findLeaks(needles, logs.filter((l) => l.source.includes('graph-emulator')));
    process.stderr.write(
      `[secrets] searched ${secrets.length} secrets in ${needles.length} forms through ${canopyLogs.length} process logs (${lines} lines), ` +
        `${records.length} records of ${Object.keys(topics).length} topics, ${redisRecords.length} Redis keys, ${apiAnswers.length} API/CLI answers: ` +
        `${leaks.length} leaks (Graph emulator log: ${emulatorLeaks.length})\n`,
    );
    expect(leaks).toEqual([]);
  }, 120_000);
});
