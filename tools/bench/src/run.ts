import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureStackUp, readStackInfo } from '@canopy/stack';
import { REPO_ROOT } from '@canopy/test-kit';
import { deltaLatency } from './benchmarks/delta-latency.js';
import { mappingPerCore } from './benchmarks/mapping-per-core.js';
import { readerFullRead } from './benchmarks/reader-full-read.js';
import { removeSeed } from './remove-seed.js';
import { scale } from './benchmarks/scale.js';
import { transformerThroughput } from './benchmarks/transformer-throughput.js';
import { writerQuota } from './benchmarks/writer-quota.js';
import { machine, renderMarkdown, type BenchResult } from './report.js';

const HELP = `scripts/bench: Canopy's benchmarks, each printed as a ratio against a reference run in the same run.

Usage: scripts/bench [--only <name>[,<name>]] [--objects N] [--seconds S] [--rounds R] [--page-size P]
                    [--time-scale T] [--node-options O] [--malloc-arena-max N] [--render]

Benchmarks (run one after another; heavy ones are best run alone with --only):
  mapping-per-core         the transformer's pure mapping path vs a JSON copy of the same object
                           (--seconds: measuring time, default 6)
  transformer-throughput   transformer through Kafka (Avro in/out) vs a pass-through process
                           (--objects: user snapshots, default 20000)
  reader-full-read         the real ad-reader's first full read of corp (OU=Bench seeded with
                           --objects users, default 10000, plus 20 groups of 200; only what is
                           missing is added; removed afterwards unless --keep-seed)
                           vs OpenLDAP ldapsearch -E pr=<page>/noprompt over LDAPS as the sync
                           account; same base, filter, attributes, page size (--page-size, default
                           1000), alternated --rounds times (default 3), medians. Installs
                           ldap-utils (apt-get) when ldapsearch is missing.
  delta-latency            LDAP modify on corp -> Graph write acknowledged by the emulator, p50/p95/
                           p99 over --objects changes (default 200), through the whole pipeline
                           (tools/demo startPipeline, scoped to OU=BenchDelta, 40 users kept), three
                           runs: change notifications one change at a time (each meets an idle
                           pipeline), change notifications with a change every 150 ms (pipelined;
                           reference of both: the bare LDAP modify round trip), and poll-only every
                           --seconds (default 5; reference: that interval)
  writer-quota             graph-writer vs the emulator's throttling at Microsoft's default quota,
                           windows x --time-scale (default 1: Microsoft's real windows, 3,000 writes
                           per 150 s per app): over one (scaled) 5-minute window, accepted writes/s /
                           quota and the 429 share; over the whole sync, write amplification
                           (writes issued / minimal writes) and Graph reads per write. --objects
                           users (default 5400, about one window's worth of writes) plus
                           one group of 100 members per 150 users, fed as snapshots.
  scale                    initial sync at scale: --objects synthetic snapshots (default 100000; 99%
                           users, 1% groups of 50 members) fed into Kafka, then the transformer and
                           the graph-writer (emulator quota x100) one after another: wall time and
                           peak RSS (VmHWM) per stage. The writer stops after --seconds (default
                           600) and its time for all ops is projected. Run again with --objects
                           1000000 to see memory per stage stay flat (recorded as scale-1m).
                           With --node-options / --malloc-arena-max / --transformer-env the run is
                           recorded beside the uncapped one (scale[-1m]-capped[-fetch]).

Options:
  --only a,b        run only these benchmarks (others keep their earlier results)
  --objects N       size of the data set (meaning per benchmark, see above)
  --seconds S       measuring time of time-boxed benchmarks
  --rounds R        alternated rounds of measured vs reference
  --page-size P     LDAP page size (reader-full-read)
  --time-scale T    emulator window scale (writer-quota); 1 = Microsoft's real windows
  --node-options O  scale: NODE_OPTIONS of the spawned stages, e.g.
                    "--max-old-space-size=128 --max-semi-space-size=8" (default: Node's defaults)
  --malloc-arena-max N
                    scale: MALLOC_ARENA_MAX of the spawned stages (default: glibc's, 8 x cores)
  --transformer-env K=V
                    scale: extra environment of the transformer only (repeatable), e.g.
                    CANOPY_KAFKA__CONSUMER__MAX_BYTES_PER_PARTITION=262144
  --keep-seed       reader-full-read: keep OU=Bench on corp afterwards (default: remove it; on a
                    shared DC 10,000 extra objects make every suite's full read of corp 3x dearer)
  --remove-seed     run nothing: remove OU=Bench and OU=BenchDelta from corp (as many as the DC
                    allows; run again to finish)
  --render          run nothing: rewrite BENCHMARKS.md from benchmarks/results.json and
                    benchmarks/analysis.md (the hand-written analysis appended to it)
  -h, --help        this text

Writes BENCHMARKS.md and benchmarks/results.json (merged with earlier results of other benchmarks).`;

interface Options {
  objects: number | undefined;
  seconds: number | undefined;
  rounds: number | undefined;
  pageSize: number | undefined;
  timeScale: number | undefined;
  nodeOptions: string | undefined;
  mallocArenaMax: number | undefined;
  transformerEnv: Record<string, string>;
  say: (m: string) => void;
}

const BENCHMARKS: Record<string, (o: Options) => Promise<BenchResult | BenchResult[]>> = {
  'mapping-per-core': (o) => mappingPerCore({ seconds: o.seconds ?? 6 }),
  'transformer-throughput': (o) => transformerThroughput({ objects: o.objects ?? 20_000 }),
  'reader-full-read': async (o) => {
    try {
      return await readerFullRead({ objects: o.objects ?? 10_000, rounds: o.rounds ?? 3, pageSize: o.pageSize ?? 1000, say: o.say });
    } finally {
      if (!values['keep-seed']) await removeSeed(o.say);
    }
  },
  'delta-latency': (o) => deltaLatency({ changes: o.objects ?? 200, pollSeconds: o.seconds ?? 5, say: o.say }),
  scale: (o) =>
    scale({
      objects: o.objects ?? 100_000,
      writerSeconds: o.seconds ?? 600,
      quotaMultiplier: 100,
      nodeOptions: o.nodeOptions,
      mallocArenaMax: o.mallocArenaMax,
      transformerEnv: o.transformerEnv,
      say: o.say,
    }),
  'writer-quota': (o) => writerQuota({ users: o.objects ?? 5_400, timeScale: o.timeScale ?? 1, say: o.say }),
};

// Option values that start with a dash (--node-options "--max-old-space-size=128") are taken as
// values: parseArgs alone would call them ambiguous unless written --node-options=...
const DASHED_VALUES = new Set(['--node-options']);
const argv = process.argv.slice(2).flatMap((a, i, all) => (DASHED_VALUES.has(all[i - 1] ?? '') ? [] : DASHED_VALUES.has(a) && all[i + 1] !== undefined ? [`${a}=${all[i + 1]}`] : [a]));
const { values } = parseArgs({
  args: argv,
  options: {
    only: { type: 'string' },
    objects: { type: 'string' },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    'page-size': { type: 'string' },
    'time-scale': { type: 'string' },
    'node-options': { type: 'string' },
    'malloc-arena-max': { type: 'string' },
    'transformer-env': { type: 'string', multiple: true },
    render: { type: 'boolean' },
    'keep-seed': { type: 'boolean' },
    'remove-seed': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`not a positive number: ${v}\n`);
    process.exit(2);
  }
  return n;
}
const transformerEnv: Record<string, string> = {};
for (const kv of values['transformer-env'] ?? []) {
  const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(kv);
  if (!m) {
    process.stderr.write(`--transformer-env wants NAME=value, got: ${kv}\n`);
    process.exit(2);
  }
  transformerEnv[m[1]!] = m[2]!;
}
if (values['remove-seed']) {
  await removeSeed((m) => process.stderr.write(`${m}\n`));
  process.exit(0);
}
const names = values.render ? [] : values.only ? values.only.split(',') : Object.keys(BENCHMARKS);
const unknown = names.filter((n) => !BENCHMARKS[n]);
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}\n${HELP}\n`);
  process.exit(2);
}
if (names.length) {
  try {
    await ensureStackUp();
  } catch (err) {
    // A busy shared DC can miss one health check; benchmarks that need it fail on their own.
    process.stderr.write(`warning: ${(err as Error).message.split('\n')[0]}; running anyway\n`);
  }
}
const info = readStackInfo();
const resultsFile = join(REPO_ROOT, 'benchmarks', 'results.json');
mkdirSync(join(REPO_ROOT, 'benchmarks'), { recursive: true });
let previous: BenchResult[] = [];
try {
  previous = (JSON.parse(readFileSync(resultsFile, 'utf8')) as { results: BenchResult[] }).results;
} catch {
  previous = [];
}
const m = machine();
const fresh: BenchResult[] = [];
let failed = 0;
for (const name of names) {
  process.stderr.write(`== ${name} ...\n`);
  const t0 = Date.now();
  try {
    const out = await BENCHMARKS[name]!({
      objects: num(values.objects),
      seconds: num(values.seconds),
      rounds: num(values.rounds),
      pageSize: num(values['page-size']),
      timeScale: num(values['time-scale']),
      nodeOptions: values['node-options'],
      mallocArenaMax: num(values['malloc-arena-max']),
      transformerEnv,
      say: (m) => process.stderr.write(`   ${m}\n`),
    });
    for (const r of Array.isArray(out) ? out : [out]) {
      // Results of other runs are kept: each carries when, where and with what it was measured.
      r.details = { ...r.details, 'measured at': new Date().toISOString(), machine: `${m.cpu}, ${m.cores} cores, ${m.memory}`, node: m.node, kafka: info.kafka.version };
      fresh.push(r);
      process.stderr.write(
      `   ${r.title}: ${Math.round(r.value).toLocaleString('en-US')} ${r.unit}${r.ratio === undefined ? '' : `, ratio ${r.ratio.toFixed(2)} vs ${r.reference?.what}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
      );
    }
  } catch (err) {
    failed++;
    process.stderr.write(`   FAILED: ${(err as Error).stack ?? String(err)}\n`);
  }
}
const results = [...previous.filter((p) => !fresh.some((f) => f.name === p.name)), ...fresh].sort((a, b) => a.name.localeCompare(b.name));
let previousMeta: Record<string, string> | undefined;
try {
  previousMeta = (JSON.parse(readFileSync(resultsFile, 'utf8')) as { meta: Record<string, string> }).meta;
} catch {
  previousMeta = undefined;
}
const meta = !fresh.length && previousMeta ? previousMeta : { ...m, kafka: info.kafka.version, 'measured at': new Date().toISOString() };
writeFileSync(resultsFile, `${JSON.stringify({ meta, results }, null, 2)}\n`);
let analysis = '';
try {
  analysis = readFileSync(join(REPO_ROOT, 'benchmarks', 'analysis.md'), 'utf8');
} catch {
  analysis = '';
}
writeFileSync(join(REPO_ROOT, 'BENCHMARKS.md'), renderMarkdown(results, meta, analysis));
process.stderr.write(`wrote BENCHMARKS.md and benchmarks/results.json\n`);
process.exit(failed ? 1 : 0);
