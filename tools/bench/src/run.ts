import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureStackUp, readStackInfo } from '@canopy/stack';
import { REPO_ROOT } from '@canopy/test-kit';
import { mappingPerCore } from './benchmarks/mapping-per-core.js';
import { transformerThroughput } from './benchmarks/transformer-throughput.js';
import { machine, renderMarkdown, type BenchResult } from './report.js';

const HELP = `scripts/bench: Canopy's benchmarks, each printed as a ratio against a reference run in the same run.

Usage: scripts/bench [--only <name>[,<name>]] [--objects N] [--seconds S]

Benchmarks:
  mapping-per-core         the transformer's pure mapping path vs a JSON copy of the same object
  transformer-throughput   transformer through Kafka (Avro in/out) vs a pass-through process

Writes BENCHMARKS.md and benchmarks/results.json (merged with earlier results of other benchmarks).`;

const BENCHMARKS: Record<string, (o: { objects: number; seconds: number }) => Promise<BenchResult>> = {
  'mapping-per-core': (o) => mappingPerCore({ seconds: o.seconds }),
  'transformer-throughput': (o) => transformerThroughput({ objects: o.objects }),
};

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    objects: { type: 'string' },
    seconds: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const names = values.only ? values.only.split(',') : Object.keys(BENCHMARKS);
const unknown = names.filter((n) => !BENCHMARKS[n]);
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}\n${HELP}\n`);
  process.exit(2);
}
await ensureStackUp();
const info = readStackInfo();
const resultsFile = join(REPO_ROOT, 'benchmarks', 'results.json');
mkdirSync(join(REPO_ROOT, 'benchmarks'), { recursive: true });
let previous: BenchResult[] = [];
try {
  previous = (JSON.parse(readFileSync(resultsFile, 'utf8')) as { results: BenchResult[] }).results;
} catch {
  previous = [];
}
const fresh: BenchResult[] = [];
let failed = 0;
for (const name of names) {
  process.stderr.write(`== ${name} ...\n`);
  const t0 = Date.now();
  try {
    const r = await BENCHMARKS[name]!({ objects: Number(values.objects ?? 20_000), seconds: Number(values.seconds ?? 6) });
    fresh.push(r);
    process.stderr.write(
      `   ${r.title}: ${Math.round(r.value).toLocaleString('en-US')} ${r.unit}${r.ratio === undefined ? '' : `, ratio ${r.ratio.toFixed(2)} vs ${r.reference?.what}`} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
    );
  } catch (err) {
    failed++;
    process.stderr.write(`   FAILED: ${(err as Error).stack ?? String(err)}\n`);
  }
}
const results = [...previous.filter((p) => !fresh.some((f) => f.name === p.name)), ...fresh].sort((a, b) => a.name.localeCompare(b.name));
const meta = { ...machine(), kafka: info.kafka.version, 'measured at': new Date().toISOString() };
writeFileSync(resultsFile, `${JSON.stringify({ meta, results }, null, 2)}\n`);
writeFileSync(join(REPO_ROOT, 'BENCHMARKS.md'), renderMarkdown(results, meta));
process.stderr.write(`wrote BENCHMARKS.md and benchmarks/results.json\n`);
process.exit(failed ? 1 : 0);
