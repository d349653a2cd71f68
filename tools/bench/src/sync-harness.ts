import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeConfigDocument, publishConfigDocuments } from '@canopy/central-config';
import { adObjectsTopic, codecs, guidToString, TOPICS, type AdObjectEvent, type DnRef } from '@canopy/contracts';
import { ensureCanopyTopics, KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { readStackInfo } from '@canopy/stack';
import { REPO_ROOT, spawnService, stackEnv, type SpawnedService } from '@canopy/test-kit';

const log = createLogger({ name: 'bench', level: 'warn' });

export interface EmulatorCounters {
  requests: number;
  reads: number;
  writes: number;
  batches: number;
  throttled: { total: number; byScope: Record<string, number> };
  statuses: Record<string, number>;
}

/** Peak resident set (VmHWM) of a live process, in MiB; 0 when unreadable. */
export function peakRssMiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export interface SyncHarness {
  ns: string;
  forest: string;
  kafka: KafkaClient;
  adminUrl: string;
  emulatorPid: number | undefined;
  quota: string;
  counters(): Promise<EmulatorCounters>;
  health(): Promise<{ users: number; groups: number }>;
  startTransformer(extra?: Record<string, string>): Promise<SpawnedService>;
  startWriter(extra?: Record<string, string>): Promise<SpawnedService>;
  stop(): Promise<void>;
}

/**
 * The sync half of the pipeline for benchmarks: a Graph emulator process (quota multiplier and
 * time scale as given), a fresh Kafka namespace with Canopy's topics and config documents (quota
 * scaled the same way, so the writer paces to the emulator's windows), and spawners for the
 * transformer and the graph-writer. Snapshots are fed straight into canopy.ad.objects.<forest>.
 */
export async function startSyncHarness(o: { label: string; quotaMultiplier: number; timeScale: number; partitions?: number }): Promise<SyncHarness> {
  const info = readStackInfo();
  const ns = `bench-${o.label}-${randomUUID().slice(0, 8)}`;
  const forest = 'bench.example.test';
  const dir = mkdtempSync(join(tmpdir(), `canopy-bench-${o.label}-`));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ domains: [forest], throttle: { quotaMultiplier: o.quotaMultiplier, timeScale: o.timeScale }, batchOrder: 'shuffled' }),
  );
  const emulator: ChildProcess = spawn(
    process.execPath,
    [resolve(REPO_ROOT, 'apps/graph-emulator/dist/main.js'), '--state-dir', dir, '--graph-port', '0', '--admin-port', '0', '--config', join(dir, 'config.json')],
    { cwd: REPO_ROOT, env: { ...process.env, CANOPY_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const deadline = Date.now() + 60_000;
  while (!existsSync(join(dir, 'info.json'))) {
    if (Date.now() > deadline || emulator.exitCode !== null) throw new Error('graph emulator did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const em = JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8')) as {
    tenantId: string;
    initialDomain: string;
    graphBaseUrl: string;
    authorityHost: string;
    adminUrl: string;
    caCertPath: string;
    quota: string;
    apps: Array<{ displayName: string; credentialsPath: string }>;
  };
  const app = em.apps.find((a) => a.displayName === 'canopy-writer') ?? em.apps[0]!;
  const creds = JSON.parse(readFileSync(app.credentialsPath, 'utf8')) as { clientId: string; certificatePath: string; privateKeyPath: string };

  const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, namespace: ns, clientId: ns }), log);
  const p = o.partitions ?? 3;
  await ensureCanopyTopics(kafka.admin(), { forests: [forest], partitions: { adObjects: p, entraOps: p, syncResults: p } });
  const producer = await kafka.producer();
  await publishConfigDocuments(producer, [
    encodeConfigDocument(
      {
        kind: 'GLOBAL',
        body: {
          tenant: { id: em.tenantId, initialDomain: em.initialDomain, verifiedDomains: [forest] },
          graph: { clientId: creds.clientId, baseUrl: em.graphBaseUrl, authorityHost: em.authorityHost },
          quota: {
            writesPerWindow: 3000 * o.quotaMultiplier,
            window: Math.round(150_000 * o.timeScale),
            tenantWritesPerFiveMinutes: 18_000 * o.quotaMultiplier,
          },
          deletes: { threshold: 1_000_000 },
        },
      },
      1,
      'bench',
    ),
    encodeConfigDocument({ kind: 'FOREST', body: { name: forest, connection: { url: 'ldaps://127.0.0.1:636' }, domains: [{ dnsName: forest }] } }, 2, 'bench'),
  ]);
  await producer.disconnect();
  const procs: SpawnedService[] = [];
  const admin = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${em.adminUrl}${path}`);
    if (!res.ok) throw new Error(`emulator ${path}: ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    ns,
    forest,
    kafka,
    adminUrl: em.adminUrl,
    emulatorPid: emulator.pid,
    quota: em.quota,
    counters: () => admin<EmulatorCounters>('/counters'),
    health: () => admin<{ users: number; groups: number }>('/healthz'),
    async startTransformer(extra = {}) {
      const s = await spawnService('transformer', stackEnv({ CANOPY_TOPIC_REFRESH_MS: '1000', ...extra }, ns), { timeoutMs: 60_000 });
      procs.push(s);
      return s;
    },
    async startWriter(extra = {}) {
      const s = await spawnService(
        'graph-writer',
        stackEnv(
          {
            NODE_EXTRA_CA_CERTS: em.caCertPath,
            CANOPY_GRAPH__CLIENT_ID: creds.clientId,
            CANOPY_GRAPH__TENANT_ID: em.tenantId,
            CANOPY_GRAPH__CERTIFICATE_FILE: creds.certificatePath,
            CANOPY_GRAPH__PRIVATE_KEY_FILE: creds.privateKeyPath,
            ...extra,
          },
          ns,
        ),
        { timeoutMs: 60_000 },
      );
      procs.push(s);
      return s;
    },
    async stop() {
      await Promise.all(procs.map((s) => s.stop()));
      // Keep the apps' logs for a look afterwards (not the emulator's state).
      const logDir = join(tmpdir(), 'canopy-bench-logs');
      mkdirSync(logDir, { recursive: true });
      procs.forEach((s, i) => writeFileSync(join(logDir, `${ns}-${i}.log`), `${s.lines.join('\n')}\n`));
      emulator.kill('SIGTERM');
      await kafka.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Synthetic reader output: users and groups (members = users) as the reader would emit them. */
export function syntheticUser(forest: string, i: number, extra: Record<string, string[]> = {}): AdObjectEvent {
  const dc = forest.split('.').map((x) => `DC=${x}`).join(',');
  const sam = `su${String(i).padStart(7, '0')}`;
  return {
    forest,
    domain: forest,
    objectGuid: guidOf('u', i),
    objectClass: 'USER',
    kind: 'SNAPSHOT',
    dn: `CN=${sam},OU=Users,${dc}`,
    usnChanged: 1000 + i,
    readAt: new Date(),
    readerId: 'bench',
    attributes: {
      objectclass: ['top', 'person', 'organizationalPerson', 'user'],
      cn: [sam],
      givenname: ['Synthetic'],
      sn: [`User ${i}`],
      displayname: [`Synthetic User ${i}`],
      samaccountname: [sam],
      userprincipalname: [`${sam}@${forest}`],
      mail: [`${sam}@${forest}`],
      title: ['Engineer'],
      department: [`Dept ${i % 50}`],
      useraccountcontrol: ['512'],
      ...extra,
    },
    binaryAttributes: {},
    members: null,
    memberOf: [],
    lastKnownParent: null,
    origin: 'FULL',
    cycleId: 'bench',
  };
}

export function syntheticGroup(forest: string, g: number, memberIds: number[]): AdObjectEvent {
  const dc = forest.split('.').map((x) => `DC=${x}`).join(',');
  const cn = `sg${String(g).padStart(6, '0')}`;
  const members: DnRef[] = memberIds.map((i) => ({ guid: guidOf('u', i), dn: `CN=su${String(i).padStart(7, '0')},OU=Users,${dc}` }));
  return {
    forest,
    domain: forest,
    objectGuid: guidOf('g', g),
    objectClass: 'GROUP',
    kind: 'SNAPSHOT',
    dn: `CN=${cn},OU=Groups,${dc}`,
    usnChanged: 1000,
    readAt: new Date(),
    readerId: 'bench',
    attributes: { objectclass: ['top', 'group'], cn: [cn], samaccountname: [cn], displayname: [cn], grouptype: ['-2147483646'] },
    binaryAttributes: {},
    members,
    memberOf: [],
    lastKnownParent: null,
    origin: 'FULL',
    cycleId: 'bench',
  };
}

/**
 * Deterministic but random-looking GUIDs (a later snapshot of the same object updates it). Not
 * sequential: Entra compares onPremisesImmutableId (base64 of the GUID) case-insensitively, and
 * sequential GUIDs collide that way.
 */
function guidOf(kind: 'u' | 'g', i: number): Buffer {
  return createHash('sha256').update(`canopy-bench-${kind}-${i}`).digest().subarray(0, 16);
}

/** Produce events in batches of 1,000 (Avro, keyed like the reader does). */
export async function produceEvents(kafka: KafkaClient, forest: string, events: Iterable<AdObjectEvent>): Promise<number> {
  const producer = await kafka.producer();
  let batch: Array<{ key: string; value: Buffer }> = [];
  let n = 0;
  const flush = async () => {
    if (batch.length) await producer.send(adObjectsTopic(forest), batch);
    batch = [];
  };
  for (const e of events) {
    batch.push({ key: guidToString(e.objectGuid), value: codecs.adObjectEvent.encode(e) });
    n++;
    if (batch.length >= 1000) await flush();
  }
  await flush();
  await producer.disconnect();
  return n;
}

/** Sum of a topic's high watermarks (records written, for a non-compacted topic). */
export async function topicCount(kafka: KafkaClient, topic: string): Promise<number> {
  const marks = await kafka.admin().topicOffsets(topic).catch(() => []);
  return marks.reduce((s, m) => s + Number(m.high), 0);
}

export const SYNC_RESULTS = TOPICS.syncResults.name;
export const ENTRA_OPS = TOPICS.entraOps.name;
