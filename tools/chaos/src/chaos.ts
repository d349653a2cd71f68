import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareTenant, computeExpectedTenant, readDirectory, type Difference, type TenantObject } from '@canopy/acceptance';
import { TOPICS, codecs } from '@canopy/contracts';
import { startPipeline, type ManagedProcess, type Pipeline } from '@canopy/demo';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { buildDirectory, getForest, ldapsClient, readSecret, type ForestInfo, type StackInfo } from '@canopy/stack';
import { DeltaWriter, type DeltaCounts } from './deltas.js';
import { CHAOS_READER_MAX_EVENT_BYTES, PrivateStack, type PrivateStackProfile } from './private-stack.js';

/** Every kind of fault the suite injects; each happens at least once in a run. */
export const FAULT_KINDS = [
  'kill-reader',
  'kill-transformer',
  'kill-writer',
  'kafka-restart',
  'redis-wipe',
  'dc-restart',
  'graph-429-storm',
  'graph-5xx',
  'graph-timeouts',
  'graph-dropped-connections',
  'graph-replication-lag',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface ChaosOptions {
  profile: PrivateStackProfile;
  /** Users seeded in the private forest (objects = users + 141 groups, contacts and OUs). */
  users: number;
  /** How long faults are injected (ms). */
  durationMs: number;
  /** Hard bound on the whole run after the stack is up (ms): then it stops and reports. */
  timeoutMs: number;
  /** Emulator write-quota multiplier. */
  quotaMultiplier: number;
  /** Mean gap between SIGKILLs of a replica (ms). */
  killEveryMs: number;
  /** Gap between infrastructure / Graph faults (ms). */
  faultEveryMs: number;
  /** Gap between AD changes (ms). */
  deltaEveryMs: number;
  stateDir?: string;
  /** Leave the private stack running at the end (faster next run). */
  keepStack?: boolean;
  log?: (line: string) => void;
}

export interface ChaosFigures {
  objects: { inAd: number; expectedUsers: number; expectedGroups: number; notWritable: number; tenantLiveUsers: number; tenantLiveGroups: number };
  faults: Record<FaultKind, number>;
  emulatorInjected: { errors: number; drops: number; slow: number; throttleStorm: number; throttled: number };
  deltas: DeltaCounts;
  lost: number;
  twins: number;
  noResult: number;
  unexpected: number;
  ops: number;
  results: number;
  deadLetters: number;
  unplannedExits: number;
}

export interface ChaosReport {
  at: string;
  settled: boolean;
  seconds: { total: number; faults: number; settle: number };
  config: Omit<ChaosOptions, 'profile' | 'log' | 'stateDir' | 'keepStack'> & { replicas: Record<string, number>; namespace: string; forest: string };
  figures: ChaosFigures;
  samples: { lost: string[]; twins: string[]; noResult: string[]; unexpected: string[]; unplannedExits: string[] };
  ok: boolean;
  stateDir: string;
}

/** What a running chaos run must stop if the process is interrupted (SIGINT, SIGTERM). */
const cleanups = new Set<() => Promise<void>>();
export async function stopEverything(): Promise<void> {
  await Promise.allSettled([...cleanups].map((c) => c()));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Slot {
  name: string;
  stage: 'reader' | 'transformer' | 'writer';
  start: () => Promise<ManagedProcess>;
  proc: ManagedProcess | undefined;
  killedByUs: boolean;
  restarting: boolean;
}

interface EmulatorState {
  directory: { users: TenantObject[]; groups: TenantObject[] };
}

function anchorProperty(groups: TenantObject[]): string {
  for (const g of groups) for (const k of Object.keys(g.props)) if (/^extension_[0-9a-f]+_canopyAnchor$/i.test(k)) return k;
  return 'extension_canopyAnchor';
}

/** The configuration of the chaos forest: default mappings, OU=Canopy in scope but its Quarantine OU. */
function chaosConfigYaml(forest: ForestInfo, em: { tenantId: string; initialDomain: string; graphBaseUrl: string; authorityHost: string }, clientId: string, quotaMultiplier: number): string {
  return `global:
  tenant:
    id: ${em.tenantId}
    initialDomain: ${em.initialDomain}
    verifiedDomains: [${forest.name}]
  graph:
    clientId: ${clientId}
    baseUrl: ${em.graphBaseUrl}
    authorityHost: ${em.authorityHost}
  # The emulator's quota is Microsoft's x${quotaMultiplier}; the writer is told the same tenant quota.
  quota: { writesPerWindow: ${3000 * quotaMultiplier}, window: 150s, tenantWritesPerFiveMinutes: ${18000 * quotaMultiplier} }
forests:
  - name: ${forest.name}
    connection: { url: '${forest.ldapsUrl}' }
    domains: [{ dnsName: ${forest.name} }]
    schedule: { pollInterval: 10s, fullSyncInterval: 7d, notifications: true }
    rules:
      scoping:
        ous: { include: ['OU=Canopy,${forest.baseDn}'], exclude: ['OU=Quarantine,OU=Canopy,${forest.baseDn}'] }
`;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const t0 = Date.now();
  const say = (msg: string) => (o.log ?? ((l: string) => process.stdout.write(`${l}\n`)))(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(7)}s] ${msg}`);
  const stateDir = o.stateDir ?? mkdtempSync(join(tmpdir(), 'canopy-chaos-'));
  mkdirSync(stateDir, { recursive: true });
  const stack = new PrivateStack(o.profile, join(stateDir, 'logs'));
  say(`private stack (Kafka :${o.profile.kafkaPort}, Redis :${o.profile.redisPort}, Samba DC ${o.profile.forestSpec.split('|')[3]}) with ${o.users} users; log ${stack.logFile}`);
  const info: StackInfo = await stack.up(o.users);
  const forest = getForest(info, stack.forestKey);
  say(`private stack up: ${forest.name} seeded with ${forest.seed?.objects ?? '?'} objects`);
  const model = buildDirectory({ forest: forest.key, realm: forest.name, baseDn: forest.baseDn, users: o.users, seed: 1 });
  const namespace = `chaos${Date.now().toString(36)}`;
  const quiet = createLogger({ name: 'chaos', level: 'error' });
  const kafkaOptions = (ns?: string) => kafkaOptionsSchema.parse({ brokers: info.kafka.brokers, clientId: 'canopy-chaos', ...(ns ? { namespace: ns } : {}) });

  // A clean private broker and Redis: earlier runs' topics and keys go (nothing else uses them).
  {
    const k = new KafkaClient(kafkaOptions(), quiet);
    const old = (await k.admin().listTopics()).filter((t) => !t.startsWith('__'));
    if (old.length) await k.admin().deleteTopics(old);
    await k.close();
    const { Redis } = await import('ioredis');
    const r = new Redis(info.redis.url);
    await r.flushall();
    r.disconnect();
    say(`clean private broker and Redis (${old.length} old topics deleted); namespace ${namespace}`);
  }

  const deltasOu = `OU=Deltas,OU=Canopy,${forest.baseDn}`;
  const deltas = new DeltaWriter(forest, model, deltasOu, namespace.slice(-6));
  await deltas.prepare();

  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  const unplanned: string[] = [];
  let pipeline: Pipeline | undefined;
  let settled = false;
  let tFaults = 0;
  let tSettle = 0;
  const deadline = t0 + o.timeoutMs;
  let stopFaults = false;
  let stopping = false;
  const slots: Slot[] = [];
  const background: Array<Promise<unknown>> = [];
  let pipelineStop: (() => Promise<unknown>) | undefined;
  const cleanup = async () => {
    stopFaults = true;
    stopping = true;
    await pipelineStop?.().catch(() => undefined);
    if (!o.keepStack) await stack.down().catch(() => undefined);
  };
  cleanups.add(cleanup);
  try {
    pipeline = await startPipeline({
      stack: info,
      stateDir,
      namespace,
      quotaMultiplier: o.quotaMultiplier,
      configYaml: (em, clientId) => chaosConfigYaml(forest, em, clientId, o.quotaMultiplier),
      readers: { [forest.key]: 2 },
      transformers: 2,
      writers: 2,
      appEnv: {
        // Replicas that die hand their partitions over within 10 s (30 s by default), and a
        // Graph request that hangs is given up after 10 s (its outcome is then unknown).
        'graph-writer': { CANOPY_WRITER__SESSION_TIMEOUT: '10s', CANOPY_GRAPH__REQUEST_TIMEOUT: '10s' },
        transformer: { CANOPY_KAFKA__SESSION_TIMEOUT: '10s' },
        'ad-reader': { CANOPY_READ__MAX_EVENT_BYTES: String(CHAOS_READER_MAX_EVENT_BYTES) },
      },
      log: say,
    });
    const p = pipeline;
    pipelineStop = () => p.stop();
    const readerNames = [1, 2].map((n) => `ad-reader-${forest.key}-${n}`);
    const initial = new Map<string, ManagedProcess>();
    for (const n of [1, 2]) {
      slots.push({ name: readerNames[n - 1]!, stage: 'reader', start: () => p.startReader(forest, n), proc: undefined, killedByUs: false, restarting: false });
      slots.push({ name: n === 1 ? 'transformer' : `transformer-${n}`, stage: 'transformer', start: () => p.startTransformer(n), proc: undefined, killedByUs: false, restarting: false });
      slots.push({ name: `graph-writer-${n}`, stage: 'writer', start: () => p.startWriter(n), proc: undefined, killedByUs: false, restarting: false });
    }
    for (const proc of p.procs.list()) if (proc.child.exitCode === null) initial.set(proc.name, proc);
    for (const s of slots) {
      s.proc = initial.get(s.name);
      if (s.proc) watch(s, s.proc);
    }

    function watch(s: Slot, proc: ManagedProcess): void {
      void proc.exited.then((code) => {
        if (s.proc !== proc) return;
        if (s.killedByUs) return;
        if (stopping) return;
        unplanned.push(`${s.name} exited by itself (${code}) at ${((Date.now() - t0) / 1000).toFixed(0)}s; log ${proc.logFile}`);
        say(`!! ${s.name} exited by itself (${code}); restarting`);
        void restart(s, 1000);
      });
    }

    async function restart(s: Slot, delayMs: number): Promise<void> {
      if (s.restarting || stopping) return;
      s.restarting = true;
      await sleep(delayMs);
      for (let attempt = 1; Date.now() < deadline && !stopping; attempt++) {
        try {
          const proc = await s.start();
          if (stopping) {
            proc.child.kill('SIGTERM');
            break;
          }
          s.proc = proc;
          s.killedByUs = false;
          watch(s, proc);
          break;
        } catch (err) {
          say(`   ${s.name} did not come back (attempt ${attempt}: ${(err as Error).message.slice(0, 120)}); retrying`);
          await sleep(2000);
        }
      }
      s.restarting = false;
    }

    const rnd = (() => {
      let a = 7;
      return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
    })();
    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${p.emulator.adminUrl}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
      if (!res.ok) throw new Error(`emulator ${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    const tenantState = async () => ((await admin('GET', '/state')) as unknown as EmulatorState).directory;

    // ---- the fault phase ------------------------------------------------------------------------
    const tFaultStart = Date.now();
    const faultEnd = tFaultStart + o.durationMs;
    say(`faults for ${(o.durationMs / 1000).toFixed(0)} s: a replica SIGKILLed every ~${(o.killEveryMs / 1000).toFixed(0)} s, an infrastructure or Graph fault every ${(o.faultEveryMs / 1000).toFixed(0)} s, an AD change every ${o.deltaEveryMs} ms`);

    const killer = (async () => {
      const stages: Array<Slot['stage']> = ['reader', 'transformer', 'writer'];
      let i = 0;
      while (Date.now() < faultEnd && !stopFaults) {
        await sleep(o.killEveryMs * (0.5 + rnd()));
        if (Date.now() >= faultEnd || stopFaults) break;
        // Stages in turn (each is hit equally often), a random replica of it.
        const stage = stages[i++ % stages.length]!;
        const live = slots.filter((s) => s.stage === stage && s.proc && s.proc.child.exitCode === null && s.proc.child.signalCode === null && !s.restarting);
        if (!live.length) continue;
        const s = live[Math.floor(rnd() * live.length)]!;
        s.killedByUs = true;
        s.proc!.child.kill('SIGKILL');
        faults[`kill-${stage}` as FaultKind]++;
        say(`SIGKILL ${s.name} (pid ${s.proc!.child.pid})`);
        background.push(restart(s, 1000 + rnd() * 3000));
      }
    })();

    const graphFault = async (kind: FaultKind, window: number) => {
      const on: Record<string, unknown> =
        kind === 'graph-429-storm' ? { faults: { throttleRate: 0.4, throttleRetryAfterSeconds: 2 } }
        : kind === 'graph-5xx' ? { faults: { errorRate: 0.2, errorStatuses: [500, 502, 503, 504] } }
        : kind === 'graph-timeouts' ? { faults: { slowRate: 0.05, slowMs: 12_000 } }
        : kind === 'graph-dropped-connections' ? { faults: { dropRate: 0.1 } }
        : { replicationLagMs: 5_000 };
      await admin('PATCH', '/config', on);
      faults[kind]++;
      say(`Graph: ${kind} on for ${(window / 1000).toFixed(0)} s (${JSON.stringify(on)})`);
      await sleep(window);
      await admin('PATCH', '/config', { faults: { throttleRate: 0, errorRate: 0, slowRate: 0, dropRate: 0 }, replicationLagMs: 0 });
    };
    const infra = (async () => {
      const kinds: FaultKind[] = ['graph-429-storm', 'kafka-restart', 'graph-5xx', 'redis-wipe', 'graph-timeouts', 'dc-restart', 'graph-dropped-connections', 'graph-replication-lag'];
      let i = 0;
      await sleep(Math.min(o.faultEveryMs, 5000));
      // Every kind at least once, even when that takes longer than the duration.
      while ((Date.now() < faultEnd || i < kinds.length) && !stopFaults) {
        const kind = kinds[i % kinds.length]!;
        const t = Date.now();
        try {
          if (kind === 'kafka-restart') {
            const unclean = Math.floor(i / kinds.length) % 2 === 1;
            say(`Kafka broker: ${unclean ? 'SIGKILL' : 'SIGTERM'} and start again ...`);
            await stack.restartKafka(unclean);
            faults[kind]++;
            say(`Kafka broker back after ${((Date.now() - t) / 1000).toFixed(1)} s`);
          } else if (kind === 'redis-wipe') {
            say('Redis: stop, wipe its data, start again ...');
            await stack.wipeRedis();
            faults[kind]++;
            say(`Redis back, empty, after ${((Date.now() - t) / 1000).toFixed(1)} s`);
          } else if (kind === 'dc-restart') {
            say(`Samba DC ${forest.ip}: stop and start again ...`);
            await stack.restartDc();
            faults[kind]++;
            say(`Samba DC back after ${((Date.now() - t) / 1000).toFixed(1)} s`);
          } else {
            await graphFault(kind, Math.min(20_000, Math.max(8_000, o.faultEveryMs - 2000)));
          }
        } catch (err) {
          say(`!! fault ${kind} failed: ${(err as Error).message}`);
        }
        i++;
        await sleep(Math.max(1000, o.faultEveryMs - (Date.now() - t)));
      }
    })();

    const writer = (async () => {
      while (Date.now() < faultEnd && !stopFaults) {
        await deltas.step();
        await sleep(o.deltaEveryMs);
      }
    })();

    const progress = (async () => {
      while (Date.now() < faultEnd && !stopFaults) {
        await sleep(10_000);
        try {
          const t = await tenantState();
          const live = t.users.filter((u) => u.state === 'live').length + t.groups.filter((g) => g.state === 'live').length;
          const d = deltas.counts;
          say(`   progress: ${live} live objects in the tenant; kills r/t/w ${faults['kill-reader']}/${faults['kill-transformer']}/${faults['kill-writer']}; AD changes ${d.create + d.modify + d.disable + d.memberAdd + d.memberRemove + d.delete} (${d.failed} refused while the DC was down)`);
        } catch {
          // the emulator is always up; a miss is not worth a line
        }
      }
    })();

    await Promise.all([killer, infra, writer, progress]);
    stopFaults = true;
    await admin('PATCH', '/config', { faults: { throttleRate: 0, errorRate: 0, slowRate: 0, dropRate: 0 }, replicationLagMs: 0 });
    await Promise.all(background);
    await deltas.close();
    tFaults = (Date.now() - tFaultStart) / 1000;
    const missingKinds = FAULT_KINDS.filter((k) => faults[k] === 0);
    say(`faults over after ${tFaults.toFixed(0)} s: ${FAULT_KINDS.map((k) => `${k} ${faults[k]}`).join(', ')}${missingKinds.length ? `; NOT injected: ${missingKinds.join(', ')}` : ''}`);

    // ---- heal and settle -----------------------------------------------------------------------
    for (const s of slots) if (!s.proc || s.proc.child.exitCode !== null || s.proc.child.signalCode !== null) await restart(s, 0);
    const tSettleStart = Date.now();
    say('every replica up, faults off: waiting for the pipeline to settle (no lag, no Graph traffic for 20 s) ...');
    let lastSig = '';
    let stableSince = 0;
    let lastSay = 0;
    while (Date.now() < deadline) {
      try {
        const st = await p.api<{ forests: Array<{ lag: { transformer: number | null }; quarantined: unknown; heldDeletes: number }>; lag: { graphWriter: number | null } }>('GET', '/v1/status');
        const counters = (await admin('GET', '/counters')) as { statuses: Record<string, number>; requests: number };
        const lag = (st.lag.graphWriter ?? -1) + st.forests.reduce((n, f) => n + (f.lag.transformer ?? -1), 0);
        const sig = JSON.stringify(counters.statuses);
        if (lag === 0 && sig === lastSig) {
          stableSince ||= Date.now();
          if (Date.now() - stableSince >= 20_000) {
            settled = true;
            break;
          }
        } else stableSince = 0;
        lastSig = sig;
        if (Date.now() - lastSay > 15_000) {
          lastSay = Date.now();
          say(`   settling: lag ${lag}, Graph requests ${counters.requests}${st.forests.some((f) => f.quarantined) ? ', QUARANTINED' : ''}${st.forests.some((f) => f.heldDeletes) ? `, held deletes ${st.forests.map((f) => f.heldDeletes).join('/')}` : ''}`);
        }
      } catch (err) {
        stableSince = 0;
        say(`   settling: status unavailable (${(err as Error).message.slice(0, 100)})`);
      }
      await sleep(2000);
    }
    tSettle = (Date.now() - tSettleStart) / 1000;
    say(settled ? `settled after ${tSettle.toFixed(0)} s` : `!! did not settle within the time limit (${tSettle.toFixed(0)} s)`);

    // ---- the figures ---------------------------------------------------------------------------
    const client = ldapsClient(forest, 60_000);
    await client.bind(forest.admin.dn, readSecret(forest.admin.passwordFile));
    const entries = await readDirectory(client, `OU=Canopy,${forest.baseDn}`);
    await client.unbind();
    const expected = computeExpectedTenant(
      [{ name: forest.name, entries, includeOus: [`OU=Canopy,${forest.baseDn}`], excludeOus: [`OU=Quarantine,OU=Canopy,${forest.baseDn}`], excludeGroupCns: [] }],
      { initialDomain: p.emulator.initialDomain, verifiedDomains: [forest.name] },
    );
    const raw = await tenantState();
    writeFileSync(join(stateDir, 'tenant.json'), JSON.stringify(raw));
    writeFileSync(join(stateDir, 'ad-changes.json'), JSON.stringify(deltas.journal, null, 1));
    // Graph lists only live members (a soft-deleted user leaves its groups until restored); the
    // emulator's export keeps the links for the restore, so they are dropped here.
    const liveIds = new Set([...raw.users, ...raw.groups].filter((x) => x.state === 'live').map((x) => x.id));
    const tenant = { users: raw.users, groups: raw.groups.map((g) => ({ ...g, members: (g.members ?? []).filter((id) => liveIds.has(id)) })) };
    const anchorProp = anchorProperty(tenant.groups);
    const diffs: Difference[] = compareTenant(expected, tenant, anchorProp);
    const lostDiffs = diffs.filter((d) => d.kind !== 'unexpected');
    writeFileSync(join(stateDir, 'differences.txt'), diffs.map((d) => `${d.kind} ${d.dn ?? d.anchor}: ${d.detail}`).join('\n'));
    const unexpectedDiffs = diffs.filter((d) => d.kind === 'unexpected');
    const twins: string[] = [];
    for (const [kind, objs, prop] of [['user', tenant.users, 'onPremisesImmutableId'], ['group', tenant.groups, anchorProp]] as const) {
      const byAnchor = new Map<string, TenantObject[]>();
      for (const x of objs) {
        if (x.state !== 'live') continue;
        const a = x.props[prop];
        if (typeof a !== 'string' || !a) continue;
        byAnchor.set(a, [...(byAnchor.get(a) ?? []), x]);
      }
      for (const [a, xs] of byAnchor) if (xs.length > 1) twins.push(`${kind} ${a}: ${xs.length} live objects (${xs.map((x) => x.id).join(', ')})`);
    }

    const kafka = new KafkaClient(kafkaOptions(namespace), quiet);
    const ops = new Map<string, string>();
    const resulted = new Set<string>();
    let resultCount = 0;
    let deadLetters = 0;
    const topics = new Set(await kafka.admin().listTopics());
    if (topics.has(TOPICS.entraOps.name)) {
      await kafka.readRange(TOPICS.entraOps.name, new Map(), (ms) => {
        for (const m of ms) {
          if (!m.value) continue;
          try {
            const op = codecs.entraOperation.decode(m.value);
            ops.set(op.opId, `${op.action} ${op.targetType} ${op.dn} (offset ${m.partition}/${m.offset})`);
          } catch {
            // not an op: the writer dead-letters it; it is not a change that needs a result
          }
        }
      });
    }
    if (topics.has(TOPICS.syncResults.name)) {
      await kafka.readRange(TOPICS.syncResults.name, new Map(), (ms) => {
        for (const m of ms) {
          if (!m.value) continue;
          resultCount++;
          try {
            const r = codecs.syncResult.decode(m.value);
            if (r.opId) resulted.add(r.opId);
          } catch {
            // counted as a result message, undecodable
          }
        }
      });
    }
    if (topics.has(TOPICS.deadLetters.name)) {
      await kafka.readRange(TOPICS.deadLetters.name, new Map(), (ms) => {
        for (const m of ms) {
          deadLetters++;
          try {
            const d = codecs.deadLetter.decode(m.value!);
            if (d.value) resulted.add(codecs.entraOperation.decode(d.value).opId);
          } catch {
            // a dead letter of something else
          }
        }
      });
    }
    await kafka.close();
    const noResult = [...ops].filter(([id]) => !resulted.has(id)).map(([id, what]) => `op ${id}: ${what}`);
    const counters = (await admin('GET', '/counters')) as { faults: ChaosFigures['emulatorInjected']; throttled: { total: number } };

    const figures: ChaosFigures = {
      objects: {
        inAd: entries.length,
        expectedUsers: expected.users.size,
        expectedGroups: expected.groups.size,
        notWritable: expected.notWritable.length,
        tenantLiveUsers: tenant.users.filter((u) => u.state === 'live').length,
        tenantLiveGroups: tenant.groups.filter((g) => g.state === 'live').length,
      },
      faults,
      emulatorInjected: { ...counters.faults, throttled: counters.throttled.total },
      deltas: { ...deltas.counts },
      lost: lostDiffs.length,
      twins: twins.length,
      noResult: noResult.length,
      unexpected: unexpectedDiffs.length,
      ops: ops.size,
      results: resultCount,
      deadLetters,
      unplannedExits: unplanned.length,
    };
    const fmt = (d: Difference) => `${d.kind} ${d.dn ?? d.anchor}: ${d.detail}`;
    const ok = settled && figures.lost === 0 && figures.twins === 0 && figures.noResult === 0 && figures.unexpected === 0 && missingKinds.length === 0;
    return {
      at: new Date().toISOString(),
      settled,
      seconds: { total: Math.round((Date.now() - t0) / 1000), faults: Math.round(tFaults), settle: Math.round(tSettle) },
      config: {
        users: o.users,
        durationMs: o.durationMs,
        timeoutMs: o.timeoutMs,
        quotaMultiplier: o.quotaMultiplier,
        killEveryMs: o.killEveryMs,
        faultEveryMs: o.faultEveryMs,
        deltaEveryMs: o.deltaEveryMs,
        replicas: { 'ad-reader': 2, transformer: 2, 'graph-writer': 2, scheduler: 1 },
        namespace,
        forest: forest.name,
      },
      figures,
      samples: {
        lost: lostDiffs.slice(0, 20).map(fmt),
        twins: twins.slice(0, 20),
        noResult: noResult.slice(0, 20),
        unexpected: unexpectedDiffs.slice(0, 20).map(fmt),
        unplannedExits: unplanned.slice(0, 20),
      },
      ok,
      stateDir,
    };
  } finally {
    cleanups.delete(cleanup);
    stopFaults = true;
    stopping = true;
    await deltas.close().catch(() => undefined);
    const codes = await pipeline?.stop().catch(() => []);
    const bad = (codes ?? []).filter((c) => c.code !== 0 && c.code !== 'SIGTERM');
    if (bad.length) say(`processes that did not stop cleanly on SIGTERM: ${bad.map((c) => `${c.name} (${c.code})`).join(', ')}`);
    if (!o.keepStack) await stack.down().catch((err: unknown) => say(`!! private stack did not stop: ${(err as Error).message}`));
  }
}
