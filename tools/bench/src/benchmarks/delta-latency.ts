import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codecs, guidToString, TOPICS } from '@canopy/contracts';
import { sampleConfigYaml, startPipeline } from '@canopy/demo';
import { KafkaClient, kafkaOptionsSchema } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { getForest, readStackInfo } from '@canopy/stack';
import { testNamespace } from '@canopy/test-kit';
import { Attribute, Change } from 'ldapts';
import { adminClient, ensureUsers } from '../ad.js';
import type { BenchResult } from '../report.js';
import { percentile } from '../stats.js';

const log = createLogger({ name: 'bench', level: 'warn' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ModeFigures {
  latencies: number[];
  modifyMs: number[];
  seconds: number;
  timedOut: number;
}

/**
 * One pipeline (emulator + scheduler + transformer + writer + corp reader) scoped to OU=BenchDelta;
 * `changes` LDAP modifies of user titles, at most one in flight per user, each timed from just
 * before the modify to the writer's result (`at`, written once the emulator acknowledged the
 * PATCH). Also times every bare LDAP modify round trip.
 */
async function runMode(o: { mode: 'notifications' | 'poll'; changes: number; users: number; pollSeconds: number; say: (m: string) => void }): Promise<ModeFigures> {
  const stack = readStackInfo();
  const corp = getForest(stack, 'corp');
  const ou = `OU=BenchDelta,${corp.baseDn}`;
  const guids = await ensureUsers(corp, ou, 'bench-delta', o.users);
  const ns = testNamespace(`bench-delta-${o.mode}`);
  const stateDir = mkdtempSync(join(tmpdir(), 'canopy-bench-delta-'));
  const pipeline = await startPipeline({
    stack,
    stateDir,
    namespace: ns,
    quotaMultiplier: 10,
    readers: { corp: 1 },
    configYaml: (em, clientId) => {
      // A generous LDAP timeout: the reader's first full read of corp (~15,000 objects with OU=Bench)
      // must not time out on a DC shared with other suites.
      const yaml = sampleConfigYaml(stack, em, clientId, { extraOus: { corp: { include: [ou] } }, pollInterval: `${o.pollSeconds}s` }).replace(
        `connection: { url: '${corp.ldapsUrl}' }`,
        `connection: { url: '${corp.ldapsUrl}', timeout: 120s }`,
      );
      return o.mode === 'poll' ? yaml.replaceAll('notifications: true', 'notifications: false') : yaml;
    },
  });
  const kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: stack.kafka.brokers, namespace: ns, clientId: `${ns}-bench` }), log);
  const admin = await adminClient(corp);
  try {
    // Writer results, by objectGUID.
    const arrived = new Map<string, Array<{ at: number; outcome: string }>>();
    const waiters = new Set<() => void>();
    const consumer = kafka.consumer({ groupId: `${ns}-bench-results` });
    const deadline = Date.now() + 120_000;
    while (!(await kafka.admin().listTopics()).includes(TOPICS.syncResults.name)) {
      if (Date.now() > deadline) throw new Error('no sync-results topic');
      await sleep(500);
    }
    await consumer.subscribe({ topics: [TOPICS.syncResults.name], fromBeginning: true });
    await consumer.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        if (!m.value) continue;
        const r = codecs.syncResult.decode(m.value);
        if (r.stage !== 'WRITER' || !r.objectGuid) continue;
        const k = guidToString(r.objectGuid);
        const list = arrived.get(k) ?? [];
        list.push({ at: r.at.getTime(), outcome: r.outcome });
        arrived.set(k, list);
      }
      ctx.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
      for (const w of waiters) w();
    });
    // The initial sync: every bench user created.
    const keys = [...guids.entries()].map(([dn, g]) => ({ dn, key: guidToString(g) }));
    const initialDeadline = Date.now() + 900_000;
    while (!keys.every((k) => arrived.get(k.key)?.some((r) => r.outcome === 'CREATED' || r.outcome === 'UPDATED' || r.outcome === 'NOOP'))) {
      if (Date.now() > initialDeadline) throw new Error(`initial sync of ${ou} did not finish (${keys.filter((k) => arrived.has(k.key)).length}/${keys.length})`);
      await sleep(500);
    }
    o.say(`${o.mode}: initial sync of ${keys.length} users done; ${o.changes} changes ...`);
    await sleep(2_000);

    const latencies: number[] = [];
    const modifyMs: number[] = [];
    const pending = new Map<string, { sentAt: number; seen: number }>();
    let timedOut = 0;
    const collect = () => {
      for (const [key, p] of pending) {
        const list = arrived.get(key) ?? [];
        if (list.length > p.seen) {
          const r = list.slice(p.seen).find((x) => x.outcome === 'UPDATED' || x.outcome === 'NOOP');
          if (r) {
            latencies.push(r.at - p.sentAt);
            pending.delete(key);
          }
        } else if (Date.now() - p.sentAt > 60_000) {
          timedOut++;
          pending.delete(key);
        }
      }
    };
    const t0 = Date.now();
    const gap = o.mode === 'notifications' ? 150 : 50;
    for (let i = 0; i < o.changes; i++) {
      let user = keys[i % keys.length]!;
      // At most one change in flight per user (so a result answers exactly one change).
      for (;;) {
        collect();
        const free = keys.find((k) => !pending.has(k.key));
        if (!pending.has(user.key)) break;
        if (free) {
          user = free;
          break;
        }
        await sleep(20);
      }
      const seen = arrived.get(user.key)?.length ?? 0;
      const sentAt = Date.now();
      const s = process.hrtime.bigint();
      await admin.modify(user.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [`delta ${o.mode} ${i} ${sentAt}`] }) }));
      modifyMs.push(Number(process.hrtime.bigint() - s) / 1e6);
      pending.set(user.key, { sentAt, seen });
      if ((i + 1) % 50 === 0) o.say(`  ${i + 1}/${o.changes} changes sent, ${latencies.length} acknowledged`);
      await sleep(gap);
    }
    while (pending.size) {
      collect();
      await sleep(20);
    }
    await consumer.stop();
    return { latencies, modifyMs, seconds: (Date.now() - t0) / 1000, timedOut };
  } finally {
    await admin.unbind().catch(() => undefined);
    await kafka.close();
    await pipeline.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Delta latency LDAP modify -> Graph write acknowledged, with change notifications and poll-only. */
export async function deltaLatency(o: { changes: number; pollSeconds: number; say: (m: string) => void }): Promise<BenchResult[]> {
  const users = 40;
  const out: BenchResult[] = [];
  for (const mode of ['notifications', 'poll'] as const) {
    const f = await runMode({ mode, changes: o.changes, users, pollSeconds: o.pollSeconds, say: o.say });
    const p = (q: number) => percentile(f.latencies, q);
    const modifyP50 = percentile(f.modifyMs, 50);
    out.push({
      name: `delta-latency-${mode}`,
      title: `Delta latency, LDAP modify -> Graph write acknowledged (${mode === 'notifications' ? 'change notifications' : `poll only, every ${o.pollSeconds} s`})`,
      unit: 'ms p99',
      value: p(99),
      reference: mode === 'notifications'
        ? { what: 'bare LDAP modify round trip on the same DC, ms p50', value: modifyP50 }
        : { what: 'poll interval, ms', value: o.pollSeconds * 1000 },
      ratio: mode === 'notifications' ? p(99) / modifyP50 : p(50) / (o.pollSeconds * 1000),
      target: mode === 'notifications' ? 'p99 <= 2,000 ms' : '-',
      details: {
        changes: f.latencies.length,
        'lost (no result within 60 s)': f.timedOut,
        'p50 ms': p(50),
        'p95 ms': p(95),
        'p99 ms': p(99),
        'max ms': Math.max(...f.latencies),
        'LDAP modify round trip p50 ms': modifyP50,
        'LDAP modify round trip p99 ms': percentile(f.modifyMs, 99),
        'changes/s sent': f.latencies.length / f.seconds,
        'users changed (one change in flight each)': users,
      },
      notes: [
        mode === 'notifications'
          ? 'ratio = latency p99 / bare LDAP modify round trip p50 (how many DC round trips the whole pipeline costs). Reader debounce 150 ms (default), 8 notification connections.'
          : 'ratio = latency p50 / poll interval (0.5 expected when only the poll finds changes).',
        'Each change: replace title of a user in OU=BenchDelta (corp), timed from just before the LDAP modify to the writer result\'s `at` (set once the emulator answered the PATCH). Pipeline: tools/demo startPipeline (emulator quota x10, scheduler, transformer, graph-writer, one corp ad-reader) scoped to OU=BenchDelta.',
      ],
      command: `scripts/bench --only delta-latency --objects ${o.changes}`,
    });
    o.say(`${mode}: p50 ${p(50).toFixed(0)} ms, p95 ${p(95).toFixed(0)} ms, p99 ${p(99).toFixed(0)} ms over ${f.latencies.length} changes`);
  }
  return out;
}
