import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, adObjectsTopic, codecs, guidFromString, guidToString, keys, type DeadLetter, type SyncResult } from '@canopy/contracts';
import { dropNamespace, sampleConfigYaml, startPipeline, type Pipeline } from '@canopy/demo';
import { KafkaClient, kafkaOptionsSchema, type KafkaProducer } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { ensureStackUp, getForest, ldapsClient, readSecret, type ForestInfo, type StackInfo } from '@canopy/stack';
import { testNamespace, waitFor } from '@canopy/test-kit';
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteSubtree, fixedCases, generatedCases, syntheticCases, writeCases, type CreatedCase, type SyntheticCase } from '../src/index.js';

/**
 * Hostile AD objects end to end: fast-check generated and hand-written extremes are written into
 * a fresh OU of the real corp DC (what the DC refuses is counted with the DC's error), snapshots a
 * DC cannot hold are published onto the reader's topic directly, and the real reader (scoped to
 * that OU), transformer and graph-writer sync them into the Graph emulator. Every object that
 * entered the pipeline must end with exactly one terminal result (written, or skipped / failed
 * with a readable reason), no stage may crash, and none may stall (bounded wait).
 */
const SEED = 20261206;
const USERS = 120;
const GROUPS = 30;
const ns = testNamespace('hostile-objects');
const run = ns.slice(-8);
const log = createLogger({ name: 'hostile-test', level: 'silent' });
let stack: StackInfo;
let corp: ForestInfo;
let admin: Client;
let pipeline: Pipeline | undefined;
let kafka: KafkaClient;
let producer: KafkaProducer;
const ou = () => `OU=Hostile-${run},${corp.baseDn}`;
let written: { created: CreatedCase[]; refused: Array<{ label: string; reason: string }> };
let generatedCount = { users: 0, groups: 0 };
let fixedCount = 0;
let ouDeleted: boolean | undefined;
const started = Date.now();

const WRITTEN = new Set(['CREATED', 'UPDATED']);

/** Why a reason is not readable by an admin (null: it is). */
function unreadable(text: string | null | undefined): string | null {
  if (!text || !text.trim()) return 'empty';
  if (text.length > 4000) return `${text.length} characters long`;
  if (text.includes('\u0000')) return 'contains NUL';
  if (!/[a-z]{3}/i.test(text)) return 'no words';
  return null;
}

/** What is wrong with a result as a terminal outcome (null: nothing). */
function resultProblem(r: SyncResult): string | null {
  if (WRITTEN.has(r.outcome)) return null;
  if (r.outcome === 'FAILED') {
    if (!r.error) return 'FAILED without an error';
    const why = unreadable(r.error.message);
    return why ? `FAILED with an unreadable error message (${why})` : null;
  }
  const why = unreadable(r.reason ?? r.error?.message);
  return why ? `${r.outcome} with an unreadable reason (${why})` : null;
}

/** Reasons grouped so the histogram is short: the error type, else the reason without names and numbers. */
function reasonKey(r: SyncResult): string {
  const text = r.error?.type ?? r.reason ?? '(none)';
  return `${r.stage} ${r.outcome}: ${text.replace(/'[^']*'|"[^"]*"/g, '…').replace(/\d+/g, '#').slice(0, 90)}`;
}

function table(title: string, rows: Array<[string, string | number]>): string {
  const w = Math.max(...rows.map(([k]) => k.length), title.length);
  return [`${title}`, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)].join('\n');
}

function histogram(keysOf: string[]): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const k of keysOf) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

beforeAll(async () => {
  stack = await ensureStackUp();
  corp = getForest(stack, 'corp');
  admin = ldapsClient(corp, 120_000);
  await admin.bind(corp.admin.dn, readSecret(corp.admin.passwordFile));
  await admin.add(ou(), { objectClass: ['top', 'organizationalUnit'], ou: `Hostile-${run}` });
  const generated = generatedCases(run, SEED, USERS, GROUPS);
  generatedCount = { users: generated.filter((c) => c.kind === 'user').length, groups: generated.filter((c) => c.kind === 'group').length };
  const fixed = fixedCases(run);
  fixedCount = fixed.length;
  written = await writeCases(admin, ou(), corp.name, run, [...generated, ...fixed]);
  process.stderr.write(`[hostile] fast-check seed ${SEED}, run ${run}: ${written.created.length} objects written to ${ou()}, ${written.refused.length} refused by the DC (${Math.round((Date.now() - started) / 1000)} s)\n`);

  pipeline = await startPipeline({
    stack,
    stateDir: mkdtempSync(join(tmpdir(), 'canopy-hostile-')),
    namespace: ns,
    quotaMultiplier: 20,
    // Only the test's OU is in scope in corp; no fabrikam reader.
    configYaml: (em, clientId) => sampleConfigYaml(stack, em, clientId, { pollInterval: '10s', extraOus: { corp: { include: [ou()] } } }),
    readers: { corp: 1 },
  });
  kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: stack.kafka.brokers, clientId: `hostile-${run}`, namespace: ns }), log);
  await kafka.admin().ensureTopics([{ name: adObjectsTopic(corp.name), partitions: 3, config: TOPICS.adObjects.config }]);
  producer = await kafka.producer();
}, 400_000);

afterAll(async () => {
  const codes = await pipeline?.stop();
  await producer?.disconnect().catch(() => undefined);
  await kafka?.close().catch(() => undefined);
  if (admin) {
    ouDeleted = await deleteSubtree(admin, ou());
    await admin.unbind().catch(() => undefined);
  }
  if (stack) await dropNamespace(stack, ns);
  process.stderr.write(`[hostile] clean-up: OU deleted ${ouDeleted}, namespace ${ns} dropped; exit codes ${JSON.stringify(codes)}; ${Math.round((Date.now() - started) / 1000)} s in all\n`);
  expect(ouDeleted).toBe(true);
  // Every stage was running at the end and stopped cleanly (a crashed one is not in the list).
  expect(codes?.map((c) => c.name).sort()).toEqual(['ad-reader-corp-1', 'graph-emulator', 'graph-writer-1', 'scheduler', 'transformer']);
  expect(codes?.filter((c) => c.code !== 0)).toEqual([]);
}, 180_000);

describe('hostile AD objects through the real pipeline', () => {
  it('every object that entered the pipeline has exactly one terminal outcome with a readable reason; no stage crashes or stalls', async () => {
    const p = pipeline!;
    // Synthetic snapshots, as the reader would publish them, onto its topic.
    const synthetic = syntheticCases(corp.name, ou(), run);
    const published: SyntheticCase[] = [];
    const refusedByKafka: Array<{ label: string; reason: string }> = [];
    for (const c of synthetic) {
      const value = codecs.adObjectEvent.encode(c.event);
      try {
        await producer.send(adObjectsTopic(corp.name), [{ key: keys.adObject(c.event.objectGuid), value, headers: { 'canopy-usn-changed': '1', 'canopy-reader-id': c.event.readerId } }]);
        published.push(c);
      } catch (err) {
        refusedByKafka.push({ label: `${c.label} (${value.length} bytes)`, reason: (err as Error).message.slice(0, 160) });
      }
    }

    // Tracked: what the DC stored (the reader reads it) and what Kafka took.
    const tracked = new Map<string, { label: string; source: 'dc' | 'synthetic' }>();
    for (const c of written.created) tracked.set(c.guid, { label: c.label, source: 'dc' });
    for (const c of published) tracked.set(guidToString(c.event.objectGuid), { label: c.label, source: 'synthetic' });
    // The writer keys a dead letter by the source anchor (base64 of the objectGUID's bytes).
    const byAnchor = new Map([...written.created.map((c) => [Buffer.from(guidFromString(c.guid)).toString('base64'), c.guid] as const), ...published.map((c) => [c.event.objectGuid.toString('base64'), guidToString(c.event.objectGuid)] as const)]);

    const results = new Map<string, SyncResult[]>();
    const dead = new Map<string, DeadLetter[]>();
    let allResults: SyncResult[] = [];
    const collect = async () => {
      results.clear();
      dead.clear();
      const all: SyncResult[] = [];
      await kafka.readToEnd(TOPICS.syncResults.name, (m) => {
        const r = codecs.syncResult.decode(m.value!);
        all.push(r);
        const g = r.objectGuid && r.objectGuid.length === 16 ? guidToString(r.objectGuid) : undefined;
        if (g && tracked.has(g)) results.set(g, [...(results.get(g) ?? []), r]);
      });
      await kafka.readToEnd(TOPICS.deadLetters.name, (m) => {
        const d = codecs.deadLetter.decode(m.value!);
        // The transformer keys a dead letter by the object GUID, the writer by the source anchor.
        const k = d.key?.toString('utf8') ?? '';
        const g = tracked.has(k) ? k : byAnchor.get(k);
        if (g) dead.set(g, [...(dead.get(g) ?? []), d]);
      });
      allResults = all;
    };
    const exitedStages = () => p.procs.list().filter((x) => x.child.exitCode !== null || x.child.signalCode !== null).map((x) => `${x.name} exited (${x.child.exitCode ?? x.child.signalCode})`);

    // Bounded wait: every tracked object has a terminal result (or a dead letter); a crash ends it early.
    const waitStarted = Date.now();
    const early = await waitFor(
      'a terminal outcome for every tracked object',
      async () => {
        const exited = exitedStages();
        if (exited.length) return { crashed: exited };
        await collect();
        const missing = [...tracked.keys()].filter((g) => !results.get(g)?.length && !dead.get(g)?.length);
        if (missing.length) throw new Error(`${missing.length} of ${tracked.size} without an outcome yet, e.g. ${missing.slice(0, 5).map((g) => tracked.get(g)!.label).join('; ')}`);
        return { crashed: [] as string[] };
      },
      { timeoutMs: 300_000, intervalMs: 3000 },
    );
    expect(early.crashed, 'a stage crashed while the cases were processed').toEqual([]);
    // Then the lag drains and nothing more arrives for a while (a second result would show here).
    await waitFor(
      'lag drained',
      async () => {
        const s = await p.api<{ forests: Array<{ lag: { transformer: number | null } }>; lag: { graphWriter: number | null } }>('GET', '/v1/status');
        return (s.lag.graphWriter ?? 0) === 0 && s.forests.every((f) => (f.lag.transformer ?? 0) === 0);
      },
      { timeoutMs: 120_000, intervalMs: 1000 },
    );
    await new Promise((r) => setTimeout(r, 8000));
    await collect();
    const waited = Math.round((Date.now() - waitStarted) / 1000);
    const crashed = exitedStages();

    // Per tracked object: exactly one terminal outcome, readable when not written.
    const problems: string[] = [];
    const outcomes: string[] = [];
    const trackedResults: SyncResult[] = [];
    for (const [g, t] of tracked) {
      const rs = results.get(g) ?? [];
      const ds = dead.get(g) ?? [];
      trackedResults.push(...rs);
      if (rs.length !== 1) problems.push(`${t.label} [${t.source} ${g}]: ${rs.length} results (${rs.map((r) => `${r.stage} ${r.outcome}`).join(', ')}), ${ds.length} dead letters`);
      for (const r of rs) {
        const why = resultProblem(r);
        if (why) problems.push(`${t.label} [${g}]: ${why}`);
        outcomes.push(`${r.stage} ${r.outcome}`);
      }
      for (const d of ds) {
        const why = unreadable(d.reason);
        if (why) problems.push(`${t.label} [${g}]: dead letter with an unreadable reason (${why})`);
      }
      if (ds.length && !rs.some((r) => r.outcome === 'FAILED')) problems.push(`${t.label} [${g}]: dead-lettered without a FAILED result`);
    }
    // And no result of the whole run (the out-of-scope objects' too) lacks a readable reason.
    const withoutReason = allResults.filter((r) => resultProblem(r) !== null);

    // What was written is in the emulator's tenant: every CREATED/UPDATED result names a live object there.
    type TenantObject = { id: string; state: string; props: Record<string, unknown> };
    const state = (await (await fetch(`${p.emulator.adminUrl}/state`)).json()) as { directory: { users: TenantObject[]; groups: TenantObject[] } };
    const live = new Map([...state.directory.users, ...state.directory.groups].filter((o) => o.state === 'live').map((o) => [o.id, o]));
    const writtenResults = trackedResults.filter((r) => WRITTEN.has(r.outcome));
    const notInTenant = writtenResults.filter((r) => !r.entraId || !live.has(r.entraId));
    // C0 controls (NUL, ESC, ...) that reached Graph property values (informative: the emulator accepts them).
    const controlChars = writtenResults.filter((r) => JSON.stringify(live.get(r.entraId ?? '')?.props ?? {}).match(/\\u00[01][0-9a-f]/i));
    const brief = (r: SyncResult) => JSON.stringify(r.error?.message ?? r.reason ?? '').slice(0, 110);
    const examples: Array<[string, string]> = [];
    for (const r of trackedResults) if (!WRITTEN.has(r.outcome) && !examples.some(([k]) => k === reasonKey(r))) examples.push([reasonKey(r), brief(r)]);
    const refusedByDc = histogram(written.refused.map((r) => r.reason));
    console.log(
      [
        `[hostile] fast-check seed ${SEED}, run ${run}, OU ${ou()}`,
        table('inputs', [
          ['generated users', generatedCount.users],
          ['generated groups', generatedCount.groups],
          ['fixed cases', fixedCount],
          ['synthetic cases', synthetic.length],
          ['written to the DC', written.created.length],
          ['refused by the DC', written.refused.length],
          ['published (synthetic)', published.length],
          ['refused by Kafka (synthetic)', refusedByKafka.length],
          ['tracked', tracked.size],
        ]),
        table('refused by the DC, by reason', refusedByDc.map(([k, v]) => [k, v])),
        table('refused by Kafka', refusedByKafka.map((r) => [r.label, r.reason])),
        table('tracked results by outcome', histogram(outcomes)),
        table('tracked reasons', histogram(trackedResults.filter((r) => !WRITTEN.has(r.outcome) || r.reason).map(reasonKey))),
        table(
          'fixed and synthetic cases: outcome',
          [...tracked.entries()]
            .filter(([, t]) => t.source === 'synthetic' || !t.label.startsWith('generated'))
            .map(([g, t]) => [`${t.source === 'synthetic' ? 'synthetic' : 'fixed'}: ${t.label}`.slice(0, 96), (results.get(g) ?? []).map((r) => `${r.stage} ${r.outcome} ${brief(r)}`).join(' | ')] as [string, string]),
        ),
        table('one example per reason (JSON-escaped)', examples),
        table('run', [
          ['all results in the namespace', allResults.length],
          ['results without a readable reason', withoutReason.length],
          ['dead letters of tracked objects', [...dead.values()].reduce((n, d) => n + d.length, 0)],
          ['written objects live in the emulator', `${writtenResults.length - notInTenant.length} of ${writtenResults.length}`],
          ['written objects holding C0 control characters', controlChars.length],
          ['crashes', crashed.length],
          ['problems', problems.length],
          ['wait for outcomes (s)', waited],
          ['elapsed (s)', Math.round((Date.now() - started) / 1000)],
        ]),
      ].join('\n'),
    );
    for (const r of written.refused) expect(unreadable(r.reason), `DC refusal of ${r.label}`).toBeNull();
    expect(crashed).toEqual([]);
    expect(problems).toEqual([]);
    expect(notInTenant.map((r) => `${tracked.get(guidToString(r.objectGuid!))?.label}: ${r.outcome} ${r.entraId}`)).toEqual([]);
    expect(withoutReason.map((r) => `${r.stage} ${r.outcome} ${r.dn?.slice(0, 80)}: ${resultProblem(r)}`)).toEqual([]);
    // Most generated objects reach the DC (unique UPNs), and the DC-held and synthetic cases entered.
    expect(written.created.length).toBeGreaterThan(0.8 * (generatedCount.users + generatedCount.groups));
    expect(published.length).toBeGreaterThan(synthetic.length / 2);
  }, 600_000);
});
