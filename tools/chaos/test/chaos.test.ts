import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS, PROFILES, runChaos } from '../src/index.js';

/**
 * A shortened chaos run (scripts/chaos runs the full one): 1,000 users (5,141 AD objects with the
 * seeded contacts and groups) in the suite's private stack (own Kafka, Redis and DC on 127.0.0.5),
 * every fault kind at least once during the initial sync with AD changes flowing, then the
 * acceptance oracle. runChaos stops every process it started and the private stack, whatever happens.
 */
describe('chaos (shortened)', () => {
  it('nothing lost, no twins, every op with a result, after every kind of fault', async () => {
    const report = await runChaos({
      profile: PROFILES.test,
      users: 1000,
      durationMs: 80_000,
      timeoutMs: 480_000,
      quotaMultiplier: 20,
      killEveryMs: 8_000,
      faultEveryMs: 10_000,
      deltaEveryMs: 700,
      stateDir: mkdtempSync(join(tmpdir(), 'canopy-chaos-test-')),
      log: (line) => process.stderr.write(`[chaos] ${line}\n`),
    });
    const f = report.figures;
    process.stderr.write(`[chaos] figures ${JSON.stringify({ lost: f.lost, twins: f.twins, noResult: f.noResult, unexpected: f.unexpected, ops: f.ops, faults: f.faults })}\n${[...report.samples.lost, ...report.samples.twins, ...report.samples.noResult, ...report.samples.unexpected].join('\n')}\n`);
    for (const kind of FAULT_KINDS) expect(f.faults[kind], kind).toBeGreaterThan(0);
    expect(f.objects.expectedUsers).toBeGreaterThan(1000);
    expect(f.ops).toBeGreaterThan(1000);
    expect(report.settled).toBe(true);
    expect({ lost: f.lost, twins: f.twins, noResult: f.noResult, unexpected: f.unexpected }).toEqual({ lost: 0, twins: 0, noResult: 0, unexpected: 0 });
  }, 660_000);
});
