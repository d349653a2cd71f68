import { HEADERS, guidToString } from '@canopy/contracts';
import { testNamespace, type SpawnedService } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector, Directory, ensureDeletedObjectsReadable, fullReadLine, readerEnv, runId, spawnReader, stack } from './support/harness.js';

// Integration: several real reader processes of one forest; SIGKILL and SIGSTOP the active one.
const run = runId();
const forest = `adr-ha-${run}`;
const namespace = testNamespace('ad-reader-ha');
const { info, corp } = stack();
const env = readerEnv(forest, corp, namespace);
const readers: SpawnedService[] = [];
let events: Collector;
let dir: Directory;

async function role(r: SpawnedService): Promise<string> {
  try {
    const res = (await (await fetch(`${r.url}/readyz`)).json()) as { components: Record<string, { detail?: string }> };
    return res.components.role?.detail ?? '';
  } catch {
    return 'unreachable';
  }
}

beforeAll(async () => {
  ensureDeletedObjectsReadable(corp, info);
  events = await new Collector(info, forest, namespace).start();
  readers.push(await spawnReader(env, `ha-a-${run}`));
  await events.waitFor('A active and done with the full read', () => fullReadLine(readers[0]!.lines), 120_000);
  readers.push(await spawnReader(env, `ha-b-${run}`));
  await events.waitFor('B standby', async () => (await role(readers[1]!)).startsWith('standby'), 20_000);
  dir = await new Directory(corp, `OU=adr-ha-${run},${corp.baseDn}`).open();
}, 180_000);

afterAll(async () => {
  for (const r of readers) await r.stop('SIGKILL');
  const fs = await import('node:fs');
  readers.forEach((r, i) => fs.writeFileSync(`/tmp/${forest}-${i}.log`, r.lines.join('\n')));
  await dir?.cleanup();
  await events?.stop();
});

/** Create `n` users, each then modified once, one change every `gapMs`; returns DN -> final title. */
async function stream(prefix: string, n: number, gapMs: number, during: (i: number) => Promise<void>): Promise<Map<string, string>> {
  const finalTitle = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const dn = await dir.addUser(`${prefix} ${i}`, { title: 'created' });
    await new Promise((r) => setTimeout(r, gapMs));
    await dir.replace(dn, 'title', [`final-${i}`]);
    finalTitle.set(dn, `final-${i}`);
    await during(i);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return finalTitle;
}

async function expectAllArrived(finalTitle: Map<string, string>): Promise<{ events: number; duplicates: number }> {
  const guids = new Map<string, string>();
  for (const dn of finalTitle.keys()) guids.set(dn, await dir.guidOf(dn));
  await events.waitFor(
    'every change on Kafka',
    () => [...finalTitle].every(([dn, title]) => events.of(guids.get(dn)!).some((e) => e.attributes.title?.[0] === title)),
    60_000,
  );
  let total = 0;
  let duplicates = 0;
  for (const [dn, title] of finalTitle) {
    const seen = events.of(guids.get(dn)!);
    total += seen.length;
    // Never more events than changes (create + modify); each distinct state once.
    expect(seen.length).toBeLessThanOrEqual(2);
    const states = seen.map((e) => `${e.usnChanged}`);
    duplicates += states.length - new Set(states).size;
    expect(seen.at(-1)!.attributes.title).toEqual([title]);
  }
  return { events: total, duplicates };
}

describe('high availability', () => {
  it('SIGKILL of the active reader mid-stream: the standby takes over within 15 s from the last checkpoint, nothing lost, nothing duplicated', async () => {
    const [a, b] = readers as [SpawnedService, SpawnedService];
    expect(await role(a)).toMatch(/^active/);
    let killedAt = 0;
    const finalTitle = await stream('Failover User', 24, 120, async (i) => {
      if (i === 8) {
        killedAt = Date.now();
        a.process.kill('SIGKILL');
      }
    });
    await events.waitFor('B active', async () => (await role(b)).startsWith('active'), 20_000);
    const takeover = await events.waitFor('first event written by B', () =>
      events.events.find((e) => e.headers[HEADERS.readerId] === `ha-b-${run}` && e.receivedAt >= killedAt),
    );
    const failoverSeconds = (takeover.receivedAt - killedAt) / 1000;
    console.log(`[ad-reader] failover after SIGKILL: first event from the standby ${failoverSeconds.toFixed(1)} s after the kill`);
    expect(failoverSeconds).toBeLessThan(15);
    const res = await expectAllArrived(finalTitle);
    console.log(`[ad-reader] SIGKILL mid-stream: ${finalTitle.size * 2} changes, ${res.events} events, ${res.duplicates} duplicates`);
    expect(res.duplicates).toBe(0);
    // B's fencing token is larger than A's.
    const tokenA = Math.max(...events.events.filter((e) => e.headers[HEADERS.readerId] === `ha-a-${run}`).map((e) => Number(e.headers[HEADERS.fencingToken])));
    expect(Number(takeover.headers[HEADERS.fencingToken])).toBeGreaterThan(tokenA);
  }, 120_000);

  it('a stale active that wakes up (SIGSTOP, then SIGCONT) writes nothing after the new active took over', async () => {
    const b = readers[1]!;
    readers.push(await spawnReader(env, `ha-c-${run}`));
    const c = readers[2]!;
    await events.waitFor('C standby', async () => (await role(c)).startsWith('standby'), 20_000);
    let stoppedAt = 0;
    const finalTitle = await stream('Stale User', 16, 100, async (i) => {
      if (i === 4) {
        stoppedAt = Date.now();
        b.process.kill('SIGSTOP');
      }
    });
    await events.waitFor('C active', async () => (await role(c)).startsWith('active'), 20_000);
    const cFirst = await events.waitFor('first event written by C', () => events.events.find((e) => e.headers[HEADERS.readerId] === `ha-c-${run}`));
    console.log(`[ad-reader] failover after SIGSTOP: first event from the standby ${((cFirst.receivedAt - stoppedAt) / 1000).toFixed(1)} s after the stop`);
    b.process.kill('SIGCONT');
    const resumedAt = Date.now();
    await expectAllArrived(finalTitle);
    await events.waitFor('B back to standby', async () => (await role(b)).startsWith('standby'), 20_000);
    // Make one more change: only C may write it.
    const late = await dir.addUser('After Wakeup');
    const lateGuid = await dir.guidOf(late);
    await events.waitFor('late change', () => events.of(lateGuid).length > 0);
    const fromStale = events.events.filter((e) => e.headers[HEADERS.readerId] === `ha-b-${run}` && e.receivedAt > resumedAt);
    expect(fromStale).toHaveLength(0);
    expect(events.seenOf(lateGuid)[0]!.headers[HEADERS.readerId]).toBe(`ha-c-${run}`);
    expect(b.lines.join('\n')).toMatch(/no longer the active reader/);
    expect(guidToString(events.of(lateGuid)[0]!.objectGuid)).toBe(lateGuid);
  }, 120_000);
});
