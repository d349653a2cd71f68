import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureStackUp, getForest, ldapsClient, readSecret, type ForestInfo, type StackInfo } from '@canopy/stack';
import { sampleConfigYaml, startPipeline } from './pipeline.js';
import { dropNamespace } from './namespace.js';
import { Attribute, Change } from 'ldapts';

const HELP = `scripts/demo: the Canopy demo, from nothing to a synchronised tenant.

Brings up the local stack (Kafka, Redis, two Samba AD forests, seeded), starts the Graph
emulator and every Canopy app as its own process, applies a sample configuration (one OU and
one group scoped out, default mappings), runs the initial sync with live progress, makes a
change in AD and shows it arriving in Entra, then prints a summary.

Options:
  --keep-running            leave everything running at the end (Ctrl-C stops it)
  --quota-multiplier <n>    multiply the emulator's Graph write quota (default 1 = Microsoft's)
  --state-dir <dir>         demo state (default ~/.local/state/canopy-demo)
  -h, --help                this text

The demo runs in its own namespace on the local stack (Kafka topics demo.canopy.*, Redis keys
demo:*) and starts from a clean state: it deletes that namespace's topics and keys first (never
anything in AD, never other namespaces). Logs of every process: <state-dir>/logs/.`;

const NAMESPACE = 'demo';

const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (msg: string) => process.stdout.write(`[${elapsed().padStart(7)}] ${msg}\n`);

async function getJson<T>(url: string, token?: string): Promise<T> {
  const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

interface ForestStatus {
  forest: string;
  reader: { active: string | null };
  lag: { transformer: number | null };
  objectsInTenant: number;
  outcomes: Record<string, number>;
  skipped?: Record<string, number>;
  writes: number;
  failures: number;
  heldDeletes: number;
}
interface Status {
  forests: ForestStatus[];
  lag: { graphWriter: number | null };
}

async function resetCanopyState(info: StackInfo): Promise<void> {
  const { topics, keys } = await dropNamespace(info, NAMESPACE);
  say(`clean state in namespace ${NAMESPACE}: ${topics} topics and ${keys} Redis keys removed`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'keep-running': { type: 'boolean' },
      'quota-multiplier': { type: 'string' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const stateDir = values['state-dir'] ?? join(process.env.HOME ?? '/root', '.local', 'state', 'canopy-demo');
  const multiplier = Number(values['quota-multiplier'] ?? 1);
  mkdirSync(stateDir, { recursive: true });
  rmSync(join(stateDir, 'logs'), { recursive: true, force: true });
  let stopPipeline: () => Promise<Array<{ name: string; code: number | string }>> = async () => [];
  const stop = async () => {
    say('stopping every process (SIGTERM)');
    const codes = await stopPipeline();
    const unclean = codes.filter((c) => c.code !== 0);
    say(unclean.length ? `stopped; not clean: ${unclean.map((c) => `${c.name}=${c.code}`).join(', ')}` : 'all processes stopped cleanly');
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));

  try {
    say('1/5 local stack: Kafka, Redis, two Samba AD forests (installs and seeds on first run)');
    const info = await ensureStackUp();
    const corp = getForest(info, 'corp');
    say(`    ${info.forests.map((f) => `${f.name} (${f.seed?.objects ?? '?'} objects)`).join(', ')}; Kafka ${info.kafka.brokers.join(',')}`);
    await resetCanopyState(info);

    say(`2/5 Graph emulator (write quota x${multiplier}${multiplier === 1 ? ", Microsoft's numbers" : ''}), scheduler with the sample configuration, transformer, graph-writer, readers`);
    const pipeline = await startPipeline({
      stack: info,
      stateDir,
      quotaMultiplier: multiplier,
      namespace: NAMESPACE,
      configYaml: (em, clientId) => sampleConfigYaml(info, em, clientId),
      readers: { corp: 2, fabrikam: 1 },
      log: (m) => say(`    ${m}`),
    });
    stopPipeline = () => pipeline.stop();
    const { emulator: em, scheduler, token, tokenFile } = pipeline;
    say(`    config in ${pipeline.configFile}; two corp readers (one active, one standby), one fabrikam reader`);

    say('3/5 initial sync (progress = Graph results / ops; Graph quota bounds the pace)');
    const status = () => getJson<Status>(`${scheduler.url}/v1/status`, token);
    let stableSince = 0;
    let lastDone = -1;
    const syncStart = Date.now();
    for (;;) {
      const s = await status().catch(() => null);
      if (s) {
        const done = s.forests.reduce((n, f) => n + Object.entries(f.outcomes).reduce((a, [, v]) => a + v, 0), 0);
        const inTenant = s.forests.reduce((n, f) => n + f.objectsInTenant, 0);
        const lag = (s.lag.graphWriter ?? 0) + s.forests.reduce((n, f) => n + (f.lag.transformer ?? 0), 0);
        const writes = s.forests.reduce((n, f) => n + f.writes, 0);
        process.stdout.write(
          `\r[${elapsed().padStart(7)}]     results ${done}, objects in tenant ${inTenant}, Graph writes ${writes}, pipeline lag ${lag}      `,
        );
        if (done === lastDone && lag === 0 && done > 0) {
          stableSince ||= Date.now();
          if (Date.now() - stableSince > 8000) break;
        } else stableSince = 0;
        lastDone = done;
      }
      if (Date.now() - syncStart > 30 * 60_000) throw new Error('initial sync did not settle within 30 minutes');
      await new Promise((r) => setTimeout(r, 1000));
    }
    process.stdout.write('\n');
    say(`    initial sync settled in ${((Date.now() - syncStart) / 1000).toFixed(1)} s`);

    say('4/5 a change in AD: set a user\'s title, watch it arrive in Entra');
    const target = await findSampleUser(corp);
    const newTitle = `Demo Title ${new Date().toISOString().slice(11, 19)}`;
    const client = ldapsClient(corp);
    await client.bind(corp.admin.dn, readSecret(corp.admin.passwordFile));
    const changedAt = Date.now();
    await client.modify(target.dn, [new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [newTitle] }) })]);
    await client.unbind();
    say(`    ${target.dn}: title := "${newTitle}"`);
    const arrived = await waitFor(
      'the change in the tenant',
      async () => {
        const res = await fetch(`${em.adminUrl}/users?upn=${encodeURIComponent(target.upn)}`);
        if (!res.ok) return undefined;
        const u = (await res.json()) as { state: string; props: Record<string, unknown> };
        return u.state === 'live' && u.props.jobTitle === newTitle ? u : undefined;
      },
      // Notifications bring it in about a second; if the DC drops them, the DirSync poll (2 min) still does.
      180_000,
      100,
    );
    say(`    arrived in Entra ${((Date.now() - changedAt) / 1000).toFixed(2)} s after the LDAP modify (${arrived ? 'jobTitle matches' : ''})`);

    say('5/5 summary');
    const s = await status();
    const state = await getJson<{ directory: { users: unknown[]; groups: unknown[] } }>(`${em.adminUrl}/state`);
    const counters = await getJson<{ writes: number; requests: number; throttled: { total: number } }>(`${em.adminUrl}/counters`);
    for (const f of s.forests) {
      say(`    ${f.forest}: ${f.objectsInTenant} objects in scope and in the tenant, ${f.failures} failed, ${f.heldDeletes} deletes held; Graph writes ${f.writes}`);
      say(`      results: ${Object.entries(f.outcomes).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ')}`);
      const skips = Object.entries(f.skipped ?? {});
      if (skips.length) {
        say(`      skipped, why (top ${Math.min(5, skips.length)} of ${skips.length} reasons):`);
        for (const [why, n] of skips.slice(0, 5)) say(`        ${String(n).padStart(6)} x ${why}`);
      }
    }
    say(`    tenant: ${state.directory.users.length} users, ${state.directory.groups.length} groups; emulator saw ${counters.requests} requests, ${counters.writes} writes, ${counters.throttled.total} answered 429`);
    for (const f of s.forests) {
      if (!f.failures) continue;
      const failures = await getJson<Array<{ dn: string; reason: string | null; error: { message: string } | null }>>(
        `${scheduler.url}/v1/failures?forest=${encodeURIComponent(f.forest)}&limit=200`,
        token,
      );
      const byReason = new Map<string, number>();
      for (const x of failures) {
        const why = (x.error?.message ?? x.reason ?? 'unknown').replace(/[0-9a-f-]{36}/g, '<id>').slice(0, 140);
        byReason.set(why, (byReason.get(why) ?? 0) + 1);
      }
      say(`    ${f.forest}: ${f.failures} failed (latest ${failures.length} by reason):`);
      for (const [why, n] of [...byReason].sort((a, b) => b[1] - a[1]).slice(0, 8)) say(`      ${n} x ${why}`);
    }
    say(`    try: CANOPY_API_URL=${scheduler.url} CANOPY_API_TOKEN_FILE=${tokenFile} scripts/canopy status`);
    if (values['keep-running']) {
      say('everything keeps running (--keep-running); Ctrl-C stops it');
      await new Promise(() => undefined);
    }
    await stop();
    return 0;
  } catch (err) {
    process.stdout.write('\n');
    say(`demo failed: ${(err as Error).message}`);
    await stop();
    return 1;
  }
}

async function findSampleUser(forest: ForestInfo): Promise<{ dn: string; upn: string }> {
  const client = ldapsClient(forest);
  await client.bind(forest.syncAccount.dn, readSecret(forest.syncAccount.passwordFile));
  const { searchEntries } = await client.search(`OU=Sales,OU=Departments,OU=Canopy,${forest.baseDn}`, {
    scope: 'sub',
    filter: '(&(objectClass=user)(userPrincipalName=*))',
    attributes: ['userPrincipalName'],
    sizeLimit: 1,
  });
  await client.unbind();
  const e = searchEntries[0];
  if (!e) throw new Error(`no user found in OU=Sales of ${forest.name}`);
  return { dn: e.dn, upn: String(e.userPrincipalName) };
}

process.exitCode = await main();
