import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adObjectsTopic, codecs, guidToString, TOPICS } from '@canopy/contracts';
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
  /** Per acknowledged change whose stages were seen: modify -> read by the reader (readAt), -> op emitted by the transformer (emittedAt), -> writer result. */
  stages: Array<{ reader: number; transformer: number; writer: number }>;
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
type Mode = 'notifications' | 'notifications-pipelined' | 'poll';

/**
 * `sequential`: one change at a time, the next sent 100-300 ms after the previous one was
 * acknowledged, so each change meets an idle pipeline (the latency of a lone change). Otherwise
 * pipelined: a change every `gap` ms over 40 users (several in flight); the reader's debounce is a
 * fixed window opened by the first notification, so a change made while one is open is pulled at
 * its end, sooner than alone: pipelined latencies are lower and say little about a lone change.
 */
async function runMode(o: { mode: Mode; changes: number; users: number; pollSeconds: number; sequential: boolean; say: (m: string) => void }): Promise<ModeFigures> {
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
    // Stage times of each change, found by its unique title: the reader's readAt (ad.objects)
    // and the transformer's emittedAt (entra.ops, jobTitle).
    const readAt = new Map<string, number>();
    const emittedAt = new Map<string, number>();
    const stageConsumer = kafka.consumer({ groupId: `${ns}-bench-stages` });
    await stageConsumer.subscribe({ topics: [adObjectsTopic(corp.name), TOPICS.entraOps.name], fromBeginning: true });
    await stageConsumer.run(async (batch, ctx) => {
      for (const m of batch.messages) {
        if (!m.value) continue;
        try {
          if (batch.topic === TOPICS.entraOps.name || batch.topic.endsWith(TOPICS.entraOps.name)) {
            const op = codecs.entraOperation.decode(m.value);
            const t = op.properties.jobTitle;
            if (typeof t === 'string' && t.startsWith('delta ') && !emittedAt.has(t)) emittedAt.set(t, op.emittedAt.getTime());
          } else {
            const e = codecs.adObjectEvent.decode(m.value);
            const t = e.attributes.title?.[0];
            if (t?.startsWith('delta ') && !readAt.has(t)) readAt.set(t, e.readAt.getTime());
          }
        } catch {
          // not ours to judge: the stage figures are a breakdown only
        }
      }
      ctx.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
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
    const pending = new Map<string, { sentAt: number; seen: number; title: string }>();
    const done: Array<{ sentAt: number; title: string; at: number }> = [];
    let timedOut = 0;
    const collect = () => {
      for (const [key, p] of pending) {
        const list = arrived.get(key) ?? [];
        if (list.length > p.seen) {
          const r = list.slice(p.seen).find((x) => x.outcome === 'UPDATED' || x.outcome === 'NOOP');
          if (r) {
            latencies.push(r.at - p.sentAt);
            done.push({ sentAt: p.sentAt, title: p.title, at: r.at });
            pending.delete(key);
          }
        } else if (Date.now() - p.sentAt > 60_000) {
          timedOut++;
          pending.delete(key);
        }
      }
    };
    const t0 = Date.now();
    // Poll-only: random gaps (100-300 ms), so changes land at random points of the poll cycle;
    // a fixed short gap fills every user's slot, and then sends bunch right after each poll.
    const nextGap = () => (o.mode === 'poll' ? 100 + Math.random() * 200 : 150);
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
      const title = `delta ${o.mode} ${i} ${sentAt}`;
      const s = process.hrtime.bigint();
      await admin.modify(user.dn, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) }));
      modifyMs.push(Number(process.hrtime.bigint() - s) / 1e6);
      pending.set(user.key, { sentAt, seen, title });
      if ((i + 1) % 50 === 0) o.say(`  ${i + 1}/${o.changes} changes sent, ${latencies.length} acknowledged`);
      if (o.sequential) {
        while (pending.size) {
          collect();
          await sleep(5);
        }
        await sleep(100 + Math.random() * 200);
      } else {
        await sleep(nextGap());
      }
    }
    while (pending.size) {
      collect();
      await sleep(20);
    }
    const seconds = (Date.now() - t0) / 1000;
    await sleep(1_000);
    await consumer.stop();
    await stageConsumer.stop();
    const stages = done.flatMap((d) => {
      const r = readAt.get(d.title);
      const e = emittedAt.get(d.title);
      return r === undefined || e === undefined ? [] : [{ reader: r - d.sentAt, transformer: e - r, writer: d.at - e }];
    });
    return { latencies, stages, modifyMs, seconds, timedOut };
  } finally {
    await admin.unbind().catch(() => undefined);
    await kafka.close();
    await pipeline.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Median of each stage's share: reader (modify -> readAt), transformer (readAt -> op emittedAt), writer (-> result). */
function stageFigures(stages: ModeFigures['stages']): Record<string, number | string> {
  if (!stages.length) return { 'stage breakdown': 'not seen' };
  return {
    'stage breakdown: changes seen at every stage': stages.length,
    'reader p50 ms (modify -> read from the DC: debounce or poll wait + DirSync pull)': percentile(stages.map((x) => x.reader), 50),
    'reader -> transformer p50 ms (Kafka transaction commit + transform + op produced)': percentile(stages.map((x) => x.transformer), 50),
    'writer p50 ms (op emitted -> Graph write acknowledged)': percentile(stages.map((x) => x.writer), 50),
  };
}

/** Delta latency LDAP modify -> Graph write acknowledged, with change notifications and poll-only. */
export async function deltaLatency(o: { changes: number; pollSeconds: number; say: (m: string) => void }): Promise<BenchResult[]> {
  const users = 40;
  const out: BenchResult[] = [];
  for (const mode of ['notifications', 'notifications-pipelined', 'poll'] as const) {
    const sequential = mode === 'notifications';
    const f = await runMode({ mode, changes: o.changes, users, pollSeconds: o.pollSeconds, sequential, say: o.say });
    const p = (q: number) => percentile(f.latencies, q);
    const modifyP50 = percentile(f.modifyMs, 50);
    out.push({
      name: `delta-latency-${mode}`,
      title: `Delta latency, LDAP modify -> Graph write acknowledged (${
        mode === 'notifications'
          ? 'change notifications, one change at a time'
          : mode === 'notifications-pipelined'
            ? 'change notifications, a change every 150 ms'
            : `poll only, every ${o.pollSeconds} s`
      })`,
      unit: 'ms p99',
      value: p(99),
      reference: mode !== 'poll'
        ? { what: 'bare LDAP modify round trip on the same DC, ms p50', value: modifyP50 }
        : { what: 'poll interval, ms', value: o.pollSeconds * 1000 },
      ratio: mode !== 'poll' ? p(99) / modifyP50 : p(50) / (o.pollSeconds * 1000),
      target: mode !== 'poll' ? 'p99 <= 2,000 ms' : '-',
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
        ...stageFigures(f.stages),
        'users changed (one change in flight each)': users,
        'changes sent': sequential
          ? 'one at a time: the next 100-300 ms after the previous was acknowledged'
          : mode === 'poll'
            ? 'every 100-300 ms, at random (several in flight)'
            : 'every 150 ms (several in flight)',
      },
      notes: [
        mode !== 'poll'
          ? 'ratio = latency p99 / bare LDAP modify round trip p50 (how many DC round trips the whole pipeline costs). Reader debounce 150 ms (default), 8 notification connections.'
          : 'ratio = latency p50 / poll interval (0.5 expected when only the poll finds changes).',
        'Each change: replace title of a user in OU=BenchDelta (corp), timed from just before the LDAP modify to the writer result\'s `at` (set once the emulator answered the PATCH). Pipeline: tools/demo startPipeline (emulator quota x10, scheduler, transformer, graph-writer, one corp ad-reader) scoped to OU=BenchDelta.',
        ...(mode === 'notifications-pipelined'
          ? [
              "Pipelined: the reader's debounce is a fixed 150 ms window opened by the first notification; a change made while one is open is pulled at its end, so these latencies are lower than a lone change's (see the one-at-a-time row).",
            ]
          : []),
      ],
      command: `scripts/bench --only delta-latency --objects ${o.changes}${o.pollSeconds !== 5 ? ` --seconds ${o.pollSeconds}` : ''}`,
    });
    o.say(`${mode}: p50 ${p(50).toFixed(0)} ms, p95 ${p(95).toFixed(0)} ms, p99 ${p(99).toFixed(0)} ms over ${f.latencies.length} changes`);
  }
  return out;
}
