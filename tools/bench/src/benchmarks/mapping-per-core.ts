import { rulesFromConfig, transform } from '@canopy/sync-rules';
import { userEvent } from '@canopy/transform-batch';
import type { BenchResult } from '../report.js';

/** Ops/s of `fn` over one slice of about `ms` milliseconds. */
function slice(fn: () => unknown, ms: number): number {
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The transformer's pure mapping path per core: one snapshot through scoping and Cloud Sync's
 * default mappings, single thread. Reference: JSON.parse(JSON.stringify()) of the same snapshot,
 * interleaved in slices so both see the same machine load.
 */
export async function mappingPerCore(options: { seconds: number }): Promise<BenchResult> {
  const forest = 'corp.example.test';
  const rules = rulesFromConfig(forest, { scoping: { ous: { exclude: ['OU=Quarantine,DC=corp,DC=example,DC=test'] } } }, {
    initialDomain: 'contoso.onmicrosoft.com',
    verifiedDomains: [forest],
  });
  const event = userEvent(forest, 'Zoë Ångström', {
    title: ['Ingénieure'],
    department: ['R&D'],
    company: ['Contoso'],
    employeeid: ['004711'],
    telephonenumber: ['+33 1 23 45 67 89'],
    mail: ['zoe.angstrom@corp.example.test'],
    proxyaddresses: ['SMTP:zoe.angstrom@corp.example.test', 'smtp:zoe@corp.example.test'],
    l: ['Paris'],
    co: ['France'],
  });
  const ctx = { configVersion: 1, now: new Date() };
  const check = transform(event, rules, ctx);
  if (check.kind !== 'op') throw new Error(`benchmark object is not mapped: ${JSON.stringify(check)}`);
  const sliceMs = 200;
  const rounds = Math.max(3, Math.round((options.seconds * 1000) / (2 * sliceMs)));
  const mapped: number[] = [];
  const reference: number[] = [];
  for (let i = 0; i < rounds; i++) {
    mapped.push(slice(() => transform(event, rules, ctx), sliceMs));
    reference.push(slice(() => JSON.parse(JSON.stringify(event)), sliceMs));
  }
  const value = median(mapped);
  const ref = median(reference);
  return {
    name: 'mapping-per-core',
    title: 'Transformer pure mapping path (default mappings, 1 core)',
    unit: 'objects/s',
    value,
    reference: { what: 'JSON copy of the same snapshot, objects/s', value: ref },
    ratio: value / ref,
    details: { rounds, 'slice ms': sliceMs, 'mapped properties': Object.keys(check.op.properties).length },
    notes: ['ratio = mapping throughput / JSON-copy throughput of the same object, interleaved slices, medians.'],
    command: 'scripts/bench --only mapping-per-core',
  };
}
