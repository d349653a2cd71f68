import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleConfigYaml, startPipeline, type Pipeline } from '@canopy/demo';
import { ensureStackUp, getForest, ldapsClient, readSecret, type ForestInfo, type StackInfo } from '@canopy/stack';
import { testNamespace, waitFor } from '@canopy/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdAdmin, compareTenant, computeExpectedTenant, readDirectory, type ExpectedTenant, type OracleForest, type TenantObject } from '../src/index.js';

/**
 * The acceptance suite: the whole pipeline (real Samba forests, Kafka, Redis, every app as its own
 * process, the Graph emulator) checked by an oracle that computes the expected tenant from AD and
 * the configuration independently of Canopy. The emulator's write quota is multiplied (x20, shown
 * in its headers) so the suite runs in minutes; the writer's behaviour does not change with it.
 */
const ns = testNamespace('acceptance');
const run = ns.slice(-8);
let stack: StackInfo;
let corp: ForestInfo;
let fab: ForestInfo;
let pipeline: Pipeline;
const admins: Record<string, AdAdmin> = {};
const testOu = (f: ForestInfo) => `OU=Acceptance-${run},OU=Canopy,${f.baseDn}`;

interface TenantState {
  directory: { users: TenantObject[]; groups: TenantObject[] };
}

async function tenant(): Promise<TenantState['directory']> {
  const res = await fetch(`${pipeline.emulator.adminUrl}/state`);
  return ((await res.json()) as TenantState).directory;
}

function anchorProperty(groups: TenantObject[]): string {
  for (const g of groups) for (const k of Object.keys(g.props)) if (/^extension_[0-9a-f]+_canopyAnchor$/i.test(k)) return k;
  return 'extension_canopyAnchor';
}

async function settled(timeoutMs = 600_000): Promise<void> {
  let last = -1;
  let stableSince = 0;
  await waitFor(
    'pipeline to settle',
    async () => {
      const s = await pipeline.api<{ forests: Array<{ outcomes: Record<string, number>; lag: { transformer: number | null } }>; lag: { graphWriter: number | null } }>('GET', '/v1/status');
      const done = s.forests.reduce((n, f) => n + Object.values(f.outcomes).reduce((a, b) => a + b, 0), 0);
      const lag = (s.lag.graphWriter ?? 0) + s.forests.reduce((n, f) => n + (f.lag.transformer ?? 0), 0);
      if (done === last && lag === 0 && done > 0) {
        stableSince ||= Date.now();
        return Date.now() - stableSince > 6000;
      }
      stableSince = 0;
      last = done;
      return false;
    },
    { timeoutMs, intervalMs: 1000 },
  );
}

async function expected(): Promise<ExpectedTenant> {
  const forests: OracleForest[] = [];
  for (const f of [corp, fab]) {
    const client = ldapsClient(f, 30_000);
    await client.bind(f.admin.dn, readSecret(f.admin.passwordFile));
    const entries = await readDirectory(client, `OU=Canopy,${f.baseDn}`);
    await client.unbind();
    forests.push({
      name: f.name,
      entries,
      includeOus: [`OU=Canopy,${f.baseDn}`],
      excludeOus: [`OU=Quarantine,OU=Canopy,${f.baseDn}`],
      excludeGroupCns: f === corp ? ['GG-Service-Accounts'] : [],
    });
  }
  return computeExpectedTenant(forests, { initialDomain: pipeline.emulator.initialDomain, verifiedDomains: [corp.name, fab.name] });
}

async function differences(): Promise<string[]> {
  const t = await tenant();
  const diffs = compareTenant(await expected(), t, anchorProperty(t.groups));
  return diffs.map((d) => `${d.kind} ${d.dn ?? d.anchor}: ${d.detail}`);
}

beforeAll(async () => {
  stack = await ensureStackUp();
  corp = getForest(stack, 'corp');
  fab = getForest(stack, 'fabrikam');
  for (const f of [corp, fab]) {
    const client = ldapsClient(f, 30_000);
    await client.bind(f.admin.dn, readSecret(f.admin.passwordFile));
    admins[f.key] = new AdAdmin(client, f.baseDn, f.name);
    await admins[f.key]!.ensureOu(testOu(f));
  }
  pipeline = await startPipeline({
    stack,
    stateDir: mkdtempSync(join(tmpdir(), 'canopy-acceptance-')),
    namespace: ns,
    quotaMultiplier: 20,
    configYaml: (em, clientId) => sampleConfigYaml(stack, em, clientId, { canopyTreeOnly: true }),
    readers: { corp: 1, fabrikam: 1 },
  });
  await settled();
}, 900_000);

afterAll(async () => {
  const codes = await pipeline?.stop();
  for (const f of [corp, fab]) {
    if (!f || !admins[f.key]) continue;
    await admins[f.key]!.deleteTree(testOu(f));
    await admins[f.key]!.client.unbind();
  }
  expect(codes?.filter((c) => c.code !== 0) ?? []).toEqual([]);
}, 300_000);

describe('acceptance: the whole pipeline against the oracle', () => {
  it('initial sync of both forests: zero differences from the oracle', async () => {
    const diffs = await differences();
    process.stderr.write(`[acceptance] initial sync: ${diffs.length} differences\n${diffs.slice(0, 20).join('\n')}\n`);
    expect(diffs).toEqual([]);
  }, 300_000);
});
