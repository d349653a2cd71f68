import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, adObjectsTopic, codecs, guidToString, type EntraOperation } from '@canopy/contracts';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { userEvent } from '@canopy/transform-batch';
import { REPO_ROOT, spawnService, stackEnv, testNamespace, waitFor, type SpawnedService } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Integration: scheduler and transformer as real processes on the real Kafka and Redis; the CLI
// as a real process. Snapshots are put on the forest's topic directly (the reader has its own suite).
const run = randomUUID().slice(0, 8);
const ns = testNamespace('control-plane');
const forest = `cp-${run}.example.test`;
const dc = forest.split('.').map((p) => `DC=${p}`).join(',');
const token = `token-${run}`;
const dir = mkdtempSync(join(tmpdir(), 'canopy-cp-'));
const log = createLogger({ name: 'cp-test', level: 'warn' });
let scheduler: SpawnedService;
let transformer: SpawnedService;
let kafka: KafkaClient;

function configFile(jobTitleExpression: string): string {
  const file = join(dir, `forests-${randomUUID().slice(0, 4)}.yaml`);
  writeFileSync(
    file,
    `global:
  tenant: { id: tenant-test, initialDomain: contoso.onmicrosoft.com, verifiedDomains: [corp.example.test, fabrikam.example.test, ${forest}] }
  graph: { clientId: test-app }
forests:
  - name: ${forest}
    connection: { url: 'ldaps://127.0.0.1:636' }
    domains: [{ dnsName: ${forest} }]
    rules:
      scoping:
        ous: { exclude: ['OU=Quarantine,${dc}'] }
      mappings:
        user:
          mappings:
            - { type: expression, target: jobTitle, expression: '${jobTitleExpression.replace(/'/g, "''")}' }
`,
  );
  return file;
}

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ['apps/cli/bin/canopy.js', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, CANOPY_API_URL: scheduler.url, CANOPY_API_TOKEN: token },
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

beforeAll(async () => {
  const env = stackEnv();
  kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: env.CANOPY_KAFKA__BROKERS, clientId: `cp-${run}`, namespace: ns }), log);
  scheduler = await spawnService('scheduler', stackEnv({ CANOPY_CONTROL__TOKEN: token, CANOPY_TOPIC_PARTITIONS: '2' }, ns), { timeoutMs: 60_000 });
  transformer = await spawnService('transformer', stackEnv({ CANOPY_TOPIC_REFRESH_MS: '1000' }, ns), { timeoutMs: 60_000 });
});

afterAll(async () => {
  expect(await transformer?.stop()).toBe(0);
  expect(await scheduler?.stop()).toBe(0);
  await kafka?.close();
});

describe('control API and canopy CLI', () => {
  it('refuses requests without a valid token', async () => {
    expect((await fetch(`${scheduler.url}/v1/status`)).status).toBe(401);
    expect((await fetch(`${scheduler.url}/v1/status`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${scheduler.url}/v1/openapi.json`)).status).toBe(200);
    const bad = spawnSync(process.execPath, ['apps/cli/bin/canopy.js', 'status'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CANOPY_API_URL: scheduler.url, CANOPY_API_TOKEN: 'wrong' },
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/401/);
  });

  it('config apply validates, applies and reports; diff names the changed mapping', () => {
    const invalid = join(dir, 'invalid.yaml');
    writeFileSync(invalid, `forests:\n  - name: ${forest}\n    connection: { url: 'ldap://x', startTls: false }\n    domains: []\n`);
    const refused = cli('config', 'apply', '-f', invalid);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/connection\.startTls/);
    expect(refused.stderr).toMatch(/domains/);

    const applied = cli('config', 'apply', '-f', configFile('[title]'), '--json');
    expect(applied.status).toBe(0);
    const res = JSON.parse(applied.stdout) as { toVersion: number; documents: Array<{ documentId: string; status: string }> };
    expect(res.documents.find((d) => d.documentId === `forest/${forest}`)!.status).not.toBe('unchanged');

    const got = cli('config', 'get', '--json');
    expect(got.status).toBe(0);
    const current = JSON.parse(got.stdout) as { version: number; documents: Record<string, { name?: string }> };
    expect(current.version).toBe(res.toVersion);
    expect(current.documents[`forest/${forest}`]?.name).toBe(forest);

    const diff = cli('config', 'diff', '-f', configFile('ToUpper([title])'));
    expect(diff.status).toBe(0);
    expect(diff.stdout).toMatch(new RegExp(`forest/${forest.replace(/\./g, '\\.')}: changed`));
    expect(diff.stdout).toMatch(/rules\.mappings\.user\.mappings\[0\]\.expression: "\[title\]" -> "ToUpper\(\[title\]\)"/);
    expect(diff.stdout).toContain('dry run');
  });

  it('explain names the scoping rule that excluded an object; preview shows mapped attributes; status counts', async () => {
    const inScope = userEvent(forest, 'Ana Silva', { title: ['Rep'] });
    const excluded = { ...userEvent(forest, 'Quinn Q'), dn: `CN=Quinn Q,OU=Quarantine,${dc}` };
    const producer = await kafka.producer();
    await waitFor('forest topic', async () => (await kafka.admin().listTopics()).includes(adObjectsTopic(forest)), { timeoutMs: 30_000 });
    await producer.send(
      adObjectsTopic(forest),
      [inScope, excluded].map((e) => ({ key: guidToString(e.objectGuid), value: codecs.adObjectEvent.encode(e) })),
    );
    const explained = await waitFor('explain', () => {
      const r = cli('explain', excluded.dn, '--forest', forest);
      return r.status === 0 ? r : null;
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    expect(explained.stdout).toMatch(/OUT of scope, decided by rule "ou-exclude"/);
    expect(explained.stdout).toContain('OU=Quarantine');
    expect(explained.stdout).toMatch(/decision: DELETE/);

    const preview = cli('preview', guidToString(inScope.objectGuid), '--forest', forest, '--json');
    expect(preview.status).toBe(0);
    const p = JSON.parse(preview.stdout) as { scoping: { inScope: boolean }; mapped: Array<{ target: string; value: unknown }> };
    expect(p.scoping.inScope).toBe(true);
    expect(p.mapped.find((m) => m.target === 'jobTitle')!.value).toBe('Rep');
    expect(p.mapped.find((m) => m.target === 'displayName')!.value).toBe('Ana Silva');

    const status = cli('status', '--json');
    expect(status.status).toBe(0);
    const s = JSON.parse(status.stdout) as { forests: Array<{ forest: string; configVersion: number }> };
    expect(s.forests.find((f) => f.forest === forest)?.configVersion).toBeGreaterThan(0);
  }, 120_000);

  it('a configuration change to one mapping updates exactly the affected objects on replay', async () => {
    expect(cli('config', 'apply', '-f', configFile('ToUpper([title])')).status).toBe(0);
    const ops: EntraOperation[] = [];
    const consumer = kafka.consumer({ groupId: `cp-ops-${run}` });
    await consumer.subscribe({ topics: [TOPICS.entraOps.name], fromBeginning: false });
    await consumer.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        const op = codecs.entraOperation.decode(m.value);
        if (op.forest === forest) ops.push(op);
        ctx.resolveOffset(m.offset);
      }
    });
    await new Promise((r) => setTimeout(r, 3000)); // let the group join before the replay produces
    const replay = cli('replay', '--forest', forest, '--from', '0');
    expect(replay.status).toBe(0);
    expect(replay.stderr).toMatch(/replay .* completed: 2 snapshots re-read, 2 ops re-sent/);
    await waitFor('replayed ops', () => ops.length >= 2, { timeoutMs: 30_000 });
    await consumer.stop();
    const upsert = ops.find((o) => o.action === 'UPSERT')!;
    expect(upsert.properties.jobTitle).toBe('REP');
    expect(ops.find((o) => o.action === 'DELETE')!.reason).toMatch(/ou-exclude/);
  }, 120_000);

  it('lists and retries dead letters', async () => {
    const producer = await kafka.producer();
    await producer.send(adObjectsTopic(forest), [{ key: `junk-${run}`, value: Buffer.from(`junk message ${run} that is not Avro`) }]);
    const listed = await waitFor('dead letter', () => {
      const r = cli('dlq', 'list', '--json');
      const rows = JSON.parse(r.stdout || '[]') as Array<{ deadLetterId: string; key: string }>;
      return rows.find((d) => d.key === `junk-${run}`);
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    const retried = cli('dlq', 'retry', listed.deadLetterId, '--json');
    expect(retried.status).toBe(0);
    expect(JSON.parse(retried.stdout).retried).toEqual([listed.deadLetterId]);
    const after = JSON.parse(cli('dlq', 'list', '--json').stdout) as Array<{ deadLetterId: string }>;
    expect(after.find((d) => d.deadLetterId === listed.deadLetterId)).toBeUndefined();
  }, 120_000);
});
