import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Redis } from 'ioredis';
import { encodeConfigDocument } from '@canopy/central-config';
import { TOPICS, codecs, type CommandAck, type ControlCommand, type DeadLetter, type EntraOperation, type SyncResult } from '@canopy/contracts';
import { KafkaClient, kafkaOptionsSchema, type KafkaConsumer, type KafkaProducer } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { readStackInfo } from '@canopy/stack';
import { REPO_ROOT, spawnService, waitFor, type SpawnedService } from '@canopy/test-kit';

/**
 * Integration harness: a real Graph emulator process, the stack's real Kafka and Redis, and real
 * graph-writer processes. Each suite gets its own topic prefix, Redis prefix and consumer group,
 * so suites never see each other's messages.
 */
export const log = createLogger({ name: 'graph-writer-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });

let built = false;
export function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, [resolve(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'apps/graph-emulator/tsconfig.json', 'apps/graph-writer/tsconfig.json'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
  });
  built = true;
}

export interface EmulatorProcess {
  process: ChildProcess;
  info: { tenantId: string; initialDomain: string; graphBaseUrl: string; authorityHost: string; adminUrl: string; caCertPath: string; apps: Array<{ clientId: string; credentialsPath: string }> };
  app: { clientId: string; clientSecret: string; certificatePath: string; privateKeyPath: string };
  caPem: string;
  admin<T = any>(method: string, path: string, body?: unknown): Promise<T>;
  counters(): Promise<any>;
  exportState(): Promise<any>;
  stop(): Promise<void>;
}

export async function startEmulator(config: Record<string, unknown> = {}): Promise<EmulatorProcess> {
  buildOnce();
  const stateDir = mkdtempSync(join(tmpdir(), 'gw-emulator-'));
  const child = spawn(process.execPath, ['apps/graph-emulator/dist/main.js', '--state-dir', stateDir, '--graph-port', '0', '--admin-port', '0'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CANOPY_LOG_LEVEL: 'warn' },
  });
  const out: string[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => out.push(c.toString()));
  const infoPath = join(stateDir, 'info.json');
  await waitFor(`emulator info.json (${out.join('')})`, () => existsSync(infoPath) && out.join('').includes('Graph:'), { timeoutMs: 20_000 });
  const info = JSON.parse(readFileSync(infoPath, 'utf8')) as EmulatorProcess['info'];
  const app = JSON.parse(readFileSync(info.apps[0]!.credentialsPath, 'utf8')) as EmulatorProcess['app'];
  const caPem = readFileSync(info.caCertPath, 'utf8');
  const current = getCACertificates('default');
  if (!current.includes(caPem)) setDefaultCACertificates([...current, caPem]);
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${info.adminUrl}${path}`, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`admin ${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const em: EmulatorProcess = {
    process: child,
    info,
    app,
    caPem,
    admin,
    counters: () => admin('GET', '/counters'),
    exportState: () => admin('GET', '/state'),
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
  if (Object.keys(config).length) await admin('PATCH', '/config', config);
  return em;
}

/** A Graph caller for the test itself (seeding cloud-only objects, reading results). */
export async function graphCaller(em: EmulatorProcess) {
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: em.app.clientId,
      authority: `${em.info.authorityHost}/${em.info.tenantId}`,
      knownAuthorities: [new URL(em.info.authorityHost).host],
      clientSecret: em.app.clientSecret,
    },
  });
  const token = async () => (await msal.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }))!.accessToken;
  return async <T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${em.info.graphBaseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${await token()}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

export interface Env {
  prefix: string;
  redisPrefix: string;
  groupId: string;
  kafka: KafkaClient;
  producer: KafkaProducer;
  redis: Redis;
  brokers: string[];
  redisUrl: string;
  topics: { ops: string; results: string; dlq: string; control: string; acks: string; config: string; held: string };
  results: SyncResult[];
  deadLetters: DeadLetter[];
  acks: CommandAck[];
  close(): Promise<void>;
}

export async function kafkaEnv(options: { opsPartitions?: number } = {}): Promise<Env> {
  const stack = readStackInfo();
  // One Kafka namespace per suite (@canopy/kafka prefixes every topic and group with it).
  const prefix = `t-gw-${randomBytes(4).toString('hex')}`;
  const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: stack.kafka.brokers, clientId: 'graph-writer-test', namespace: prefix }), log);
  const topics = {
    ops: TOPICS.entraOps.name,
    results: TOPICS.syncResults.name,
    dlq: TOPICS.deadLetters.name,
    control: TOPICS.control.name,
    acks: TOPICS.controlAcks.name,
    config: TOPICS.config.name,
    held: TOPICS.heldDeletes.name,
  };
  await kafka.admin().ensureTopics([
    { name: topics.ops, partitions: options.opsPartitions ?? 4 },
    { name: topics.results, partitions: 2 },
    { name: topics.dlq, partitions: 1 },
    { name: topics.control, partitions: 1 },
    { name: topics.acks, partitions: 1 },
    { name: topics.config, partitions: 1, config: TOPICS.config.config },
    { name: topics.held, partitions: 1, config: TOPICS.heldDeletes.config },
  ]);
  const producer = await kafka.producer();
  const results: SyncResult[] = [];
  const deadLetters: DeadLetter[] = [];
  const acks: CommandAck[] = [];
  const consumers: KafkaConsumer[] = [];
  const follow = async (topic: string, onValue: (v: Buffer) => void) => {
    const c = kafka.consumer({ groupId: `test-${randomUUID()}` });
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        if (m.value) onValue(m.value);
        ctx.resolveOffset(m.offset);
      }
    });
    consumers.push(c);
  };
  await follow(topics.results, (v) => results.push(codecs.syncResult.decode(v)));
  await follow(topics.dlq, (v) => deadLetters.push(codecs.deadLetter.decode(v)));
  await follow(topics.acks, (v) => acks.push(codecs.commandAck.decode(v)));
  const redis = new Redis(stack.redis.url);
  redis.on("error", () => undefined);
  const redisPrefix = `${prefix}:canopy:gw`;
  return {
    prefix,
    redisPrefix,
    groupId: 'canopy-graph-writer',
    kafka,
    producer,
    redis,
    brokers: stack.kafka.brokers,
    redisUrl: stack.redis.url,
    topics,
    results,
    deadLetters,
    acks,
    close: async () => {
      for (const c of consumers) await c.stop();
      await wipeRedis(redis, redisPrefix);
      redis.disconnect();
      await kafka.close();
    },
  };
}

export async function wipeRedis(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (found.length) n += await redis.del(...found);
  } while (cursor !== '0');
  return n;
}

export async function publishGlobal(env: Env, em: EmulatorProcess, body: Record<string, unknown> = {}, version = 1): Promise<void> {
  const doc = encodeConfigDocument(
    {
      kind: 'GLOBAL',
      body: {
        tenant: { id: em.info.tenantId, initialDomain: em.info.initialDomain },
        graph: { baseUrl: em.info.graphBaseUrl, authorityHost: em.info.authorityHost, clientId: em.app.clientId },
        ...body,
      },
    },
    version,
    'graph-writer-test',
  );
  await env.producer.send(env.topics.config, [{ key: doc.key, value: doc.value }]);
}

export async function startWriter(env: Env, em: EmulatorProcess, extra: Record<string, string> = {}, credential: 'secret' | 'certificate' = 'certificate'): Promise<SpawnedService> {
  buildOnce();
  const svc = await spawnService('graph-writer', {
    NODE_EXTRA_CA_CERTS: em.info.caCertPath,
    CANOPY_KAFKA__BROKERS: env.brokers.join(','),
    CANOPY_REDIS__URL: env.redisUrl,
    CANOPY_KAFKA__NAMESPACE: env.prefix,
    CANOPY_WRITER__REDIS_PREFIX: env.redisPrefix,
    CANOPY_WRITER__SESSION_TIMEOUT: '10s',
    CANOPY_LOG_LEVEL: process.env.TEST_WRITER_LOG_LEVEL ?? 'info',
    ...(credential === 'certificate'
      ? { CANOPY_GRAPH__CERTIFICATE_FILE: em.app.certificatePath, CANOPY_GRAPH__PRIVATE_KEY_FILE: em.app.privateKeyPath }
      : { CANOPY_GRAPH__CLIENT_SECRET: em.app.clientSecret }),
    ...extra,
  });
  await waitFor('writer ready', async () => (await fetch(`${svc.url}/readyz`)).status === 200, { timeoutMs: 60_000, intervalMs: 200 }).catch((err: Error) => {
    throw new Error(`${err.message}\n${svc.lines.slice(-30).join('\n')}`);
  });
  return svc;
}

let seq = 0;
export function anchorOf(label: string): string {
  return Buffer.from(`${label}-${randomUUID()}`).subarray(0, 16).toString('base64');
}

export function userOp(em: EmulatorProcess, anchor: string, props: Record<string, any> = {}, extra: Partial<EntraOperation> = {}): EntraOperation {
  const nick = `u${randomBytes(5).toString('hex')}`;
  return {
    opId: randomUUID(),
    forest: 'corp.example.test',
    domain: 'corp.example.test',
    objectGuid: randomBytes(16),
    sourceAnchor: anchor,
    dn: `CN=${nick},OU=Users,DC=corp,DC=example,DC=test`,
    targetType: 'USER',
    action: 'UPSERT',
    properties: {
      userPrincipalName: `${nick}@${em.info.initialDomain}`,
      displayName: `User ${nick}`,
      mailNickname: nick,
      accountEnabled: true,
      onPremisesImmutableId: anchor,
      onPremisesSamAccountName: nick,
      ...props,
    },
    createOnly: [],
    members: null,
    uniqueCandidates: {},
    reason: null,
    configVersion: 1,
    sourceUsn: ++seq,
    cycleId: null,
    emittedAt: new Date(),
    ...extra,
  };
}

export function groupOp(anchor: string, members: string[] | null, props: Record<string, any> = {}, extra: Partial<EntraOperation> = {}): EntraOperation {
  const nick = `g${randomBytes(5).toString('hex')}`;
  return {
    opId: randomUUID(),
    forest: 'corp.example.test',
    domain: 'corp.example.test',
    objectGuid: randomBytes(16),
    sourceAnchor: anchor,
    dn: `CN=${nick},OU=Groups,DC=corp,DC=example,DC=test`,
    targetType: 'GROUP',
    action: 'UPSERT',
    properties: { displayName: `Group ${nick}`, mailNickname: nick, securityEnabled: true, mailEnabled: false, ...props },
    createOnly: [],
    members,
    uniqueCandidates: {},
    reason: null,
    configVersion: 1,
    sourceUsn: ++seq,
    cycleId: null,
    emittedAt: new Date(),
    ...extra,
  };
}

export function deleteOp(op: EntraOperation, extra: Partial<EntraOperation> = {}): EntraOperation {
  return { ...op, opId: randomUUID(), action: 'DELETE', properties: {}, members: null, reason: 'out of scope', sourceUsn: ++seq, ...extra };
}

export async function sendOps(env: Env, ops: EntraOperation[]): Promise<void> {
  for (let i = 0; i < ops.length; i += 500) {
    await env.producer.send(
      env.topics.ops,
      ops.slice(i, i + 500).map((op) => ({ key: op.sourceAnchor, value: codecs.entraOperation.encode(op) })),
    );
  }
}

export async function sendCommand(env: Env, cmd: Partial<ControlCommand> & Pick<ControlCommand, 'command'>): Promise<ControlCommand> {
  const full: ControlCommand = { commandId: randomUUID(), forest: null, target: null, args: {}, issuedBy: 'test-admin', issuedAt: new Date(), ...cmd };
  await env.producer.send(env.topics.control, [{ key: full.commandId, value: codecs.controlCommand.encode(full) }]);
  return full;
}

export function resultsOf(env: Env, opId: string): SyncResult[] {
  return env.results.filter((r) => r.opId === opId);
}

export async function resultFor(env: Env, op: EntraOperation, timeoutMs = 30_000): Promise<SyncResult> {
  return waitFor(`result of op ${op.opId} (${op.action} ${op.targetType})`, () => env.results.find((r) => r.opId === op.opId), { timeoutMs, intervalMs: 50 });
}

export async function allResults(env: Env, ops: EntraOperation[], timeoutMs = 60_000): Promise<Map<string, SyncResult[]>> {
  const ids = new Set(ops.map((o) => o.opId));
  await waitFor(`results of ${ops.length} ops`, () => new Set(env.results.filter((r) => ids.has(r.opId!)).map((r) => r.opId)).size === ids.size, { timeoutMs, intervalMs: 100 });
  const out = new Map<string, SyncResult[]>();
  for (const r of env.results) if (ids.has(r.opId!)) out.set(r.opId!, [...(out.get(r.opId!) ?? []), r]);
  return out;
}

export async function metric(svc: SpawnedService, name: string): Promise<number> {
  const text = await (await fetch(`${svc.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && !line.startsWith('#')) sum += Number(line.split(' ').pop());
  return sum;
}
