import type { BenchResult } from '../report.js';
import { ENTRA_OPS, peakRssMiB, produceEvents, startSyncHarness, SYNC_RESULTS, syntheticGroup, syntheticUser, topicCount } from '../sync-harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function* snapshots(forest: string, users: number, groups: number, membersPerGroup: number) {
  for (let i = 0; i < users; i++) yield syntheticUser(forest, i);
  for (let g = 0; g < groups; g++) yield syntheticGroup(forest, g, Array.from({ length: membersPerGroup }, (_, j) => (g * membersPerGroup + j) % users));
}

/**
 * Initial sync at scale: `objects` synthetic snapshots (99% users, 1% groups of 50 members) fed
 * into canopy.ad.objects.<forest>, then the stages one after another so each has its own wall
 * time: the transformer until every op is out, then the graph-writer against the emulator (quota
 * multiplied) until every op has a result or `writerSeconds` have passed. Peak RSS (VmHWM) of
 * each process. The reference for the ratio is the feed itself (Avro encode + Kafka produce of
 * the same snapshots by the bench process): transformer objects/s / feed objects/s.
 */
export async function scale(o: {
  objects: number;
  writerSeconds: number;
  quotaMultiplier: number;
  /** NODE_OPTIONS of the spawned stages (e.g. heap caps); unset: Node's defaults. */
  nodeOptions?: string;
  /** MALLOC_ARENA_MAX of the spawned stages; unset: glibc's default (8 x cores). */
  mallocArenaMax?: number;
  /** Extra environment of the transformer only (e.g. its Kafka fetch sizes). */
  transformerEnv?: Record<string, string>;
  say: (m: string) => void;
}): Promise<BenchResult> {
  const groups = Math.max(1, Math.round(o.objects / 100));
  const users = o.objects - groups;
  const membersPerGroup = 50;
  // Caps run under their own result name, so the uncapped figures stay in the report beside them.
  const stageEnv: Record<string, string> = {
    ...(o.nodeOptions ? { NODE_OPTIONS: o.nodeOptions } : {}),
    ...(o.mallocArenaMax ? { MALLOC_ARENA_MAX: String(o.mallocArenaMax) } : {}),
  };
  const txEnv = o.transformerEnv ?? {};
  const capped = Object.keys(stageEnv).length > 0 || Object.keys(txEnv).length > 0;
  const capsText = [
    o.nodeOptions ? `NODE_OPTIONS="${o.nodeOptions}"` : '',
    o.mallocArenaMax ? `MALLOC_ARENA_MAX=${o.mallocArenaMax}` : '',
    ...Object.entries(txEnv).map(([k, v]) => `transformer ${k}=${v}`),
  ].filter(Boolean).join(', ');
  const h = await startSyncHarness({ label: 'scale', quotaMultiplier: o.quotaMultiplier, timeScale: 1, partitions: 6 });
  try {
    o.say(`emulator quota: ${h.quota}; namespace ${h.ns}`);
    const t0 = Date.now();
    const fed = await produceEvents(h.kafka, h.forest, snapshots(h.forest, users, groups, membersPerGroup));
    const feedMs = Date.now() - t0;
    o.say(`fed ${fed} snapshots in ${(feedMs / 1000).toFixed(1)} s`);

    const transformer = await h.startTransformer({ ...stageEnv, ...txEnv });
    const t1 = Date.now();
    let ops = 0;
    let lastLog = Date.now();
    while (ops < fed) {
      await sleep(250);
      ops = await topicCount(h.kafka, ENTRA_OPS);
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        o.say(`  transformer: ${ops}/${fed} ops, RSS peak ${peakRssMiB(transformer.process.pid).toFixed(0)} MiB`);
      }
      if (transformer.process.exitCode !== null) throw new Error('transformer exited');
    }
    const transformerMs = Date.now() - t1;
    const transformerRss = peakRssMiB(transformer.process.pid);
    o.say(`transformer: ${ops} ops in ${(transformerMs / 1000).toFixed(1)} s, peak RSS ${transformerRss.toFixed(0)} MiB`);

    const writer = await h.startWriter(stageEnv);
    const t2 = Date.now();
    let results = 0;
    lastLog = Date.now();
    while (results < ops && Date.now() - t2 < o.writerSeconds * 1000) {
      await sleep(1000);
      results = await topicCount(h.kafka, SYNC_RESULTS);
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        o.say(`  writer: ${results}/${ops} results, RSS peak ${peakRssMiB(writer.process.pid).toFixed(0)} MiB`);
      }
      if (writer.process.exitCode !== null) throw new Error('graph-writer exited');
    }
    const writerMs = Date.now() - t2;
    const writerRss = peakRssMiB(writer.process.pid);
    const emulatorRss = peakRssMiB(h.emulatorPid);
    const counters = await h.counters();
    const finished = results >= ops;
    const writerRate = results / (writerMs / 1000);
    o.say(`writer: ${results}/${ops} results in ${(writerMs / 1000).toFixed(0)} s (${writerRate.toFixed(1)}/s), peak RSS ${writerRss.toFixed(0)} MiB; emulator ${emulatorRss.toFixed(0)} MiB`);
    const feedRate = fed / (feedMs / 1000);
    const txRate = ops / (transformerMs / 1000);
    const maxStageRss = Math.max(transformerRss, writerRss);
    return {
      name: `${o.objects >= 1_000_000 ? 'scale-1m' : 'scale'}${capped ? `-capped${Object.keys(txEnv).length ? '-fetch' : ''}` : ''}`,
      title: `Initial sync at scale: ${o.objects.toLocaleString('en-US')} objects, per stage${capped ? ` (capped: ${capsText})` : " (Node's defaults)"}`,
      unit: 'MiB peak RSS (largest Canopy stage)',
      value: maxStageRss,
      reference: { what: 'feed of the same snapshots (Avro encode + Kafka produce), objects/s; ratio = transformer objects/s / feed objects/s', value: feedRate },
      ratio: txRate / feedRate,
      target: 'each stage <= 256 MB peak RSS at 1,000,000 objects',
      details: {
        objects: fed,
        'stage memory settings': capped ? capsText : "none (Node's and glibc's defaults)",
        'users / groups / memberships': `${users} / ${groups} / ${groups * membersPerGroup}`,
        'feed s': feedMs / 1000,
        'transformer wall s': transformerMs / 1000,
        'transformer objects/s': txRate,
        'transformer peak RSS MiB': transformerRss,
        'writer wall s': writerMs / 1000,
        'writer results': `${results} of ${ops}${finished ? '' : ` (stopped after ${o.writerSeconds} s)`}`,
        'writer ops/s': writerRate,
        'writer peak RSS MiB': writerRss,
        'writer projected s for all ops': finished ? writerMs / 1000 : ops / Math.max(writerRate, 0.001),
        'Graph writes / reads / 429s': `${counters.writes} / ${counters.reads} / ${counters.throttled.total}`,
        'emulator peak RSS MiB (not a Canopy stage; holds the whole tenant)': emulatorRss,
        'emulator quota': h.quota,
      },
      notes: [
        `Emulator quota multiplied x${o.quotaMultiplier} (real windows), so Graph's quota is not what bounds the writer here; the writer's own GLOBAL quota document is scaled alike.`,
        'Stages run one after another on a backlog (transformer first, then writer), so wall times are per stage; RSS is /proc/<pid>/status VmHWM of each spawned process.',
        finished ? 'The writer finished every op.' : `The writer was stopped after ${o.writerSeconds} s: its wall time for all ops is projected from the rate reached.`,
      ],
      command: `scripts/bench --only scale --objects ${o.objects}${o.writerSeconds !== 600 ? ` --seconds ${o.writerSeconds}` : ''}${
        o.nodeOptions ? ` --node-options "${o.nodeOptions}"` : ''
      }${o.mallocArenaMax ? ` --malloc-arena-max ${o.mallocArenaMax}` : ''}${Object.entries(txEnv)
        .map(([k, v]) => ` --transformer-env ${k}=${v}`)
        .join('')}`,
    };
  } finally {
    await h.stop();
  }
}
