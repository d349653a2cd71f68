import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getForest, readSecret, readStackInfo } from '@canopy/stack';
import { spawnService, stackEnv, testNamespace } from '@canopy/test-kit';
import { ensureBenchObjects } from '../ad.js';
import type { BenchResult } from '../report.js';

/** The reader's own in-scope filter (apps/ad-reader/src/read/scope.ts), given to ldapsearch too. */
const IN_SCOPE_FILTER = '(&(|(objectClass=user)(objectClass=group)(objectClass=contact))(!(objectClass=computer)))';

export function ldapsearchVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'ldap-utils'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Run ldapsearch, count the entries it prints; ms from spawn to exit. */
async function ldapsearchDump(args: string[], env: Record<string, string>): Promise<{ entries: number; ms: number }> {
  const t0 = process.hrtime.bigint();
  const child = spawn('ldapsearch', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let entries = 0;
  let tail = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const text = tail + d;
    const lines = text.split('\n');
    tail = lines.pop()!;
    for (const l of lines) if (l.startsWith('dn: ') || l.startsWith('dn:: ')) entries++;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number>((r) => child.on('close', (c) => r(c ?? 1)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (code !== 0) throw new Error(`ldapsearch exited ${code}: ${err.slice(0, 500)}`);
  return { entries, ms };
}

/**
 * The real ad-reader's first full read of the corp forest (>= 10,000 objects: OU=Bench is seeded
 * idempotently; run.ts removes it afterwards unless --keep-seed) vs OpenLDAP's ldapsearch paged dump of the same DC, same base, filter,
 * attributes ('*'), page size, LDAPS and account. Alternated `rounds` times; medians.
 */
export async function readerFullRead(options: { objects: number; rounds: number; pageSize: number; say: (m: string) => void }): Promise<BenchResult> {
  const info = readStackInfo();
  const corp = getForest(info, 'corp');
  const seed = await ensureBenchObjects(corp, { users: options.objects, groups: 20, membersPerGroup: 200 }, options.say);
  options.say(`OU=Bench: ${seed.users} users, ${seed.groups} groups (${seed.added} added in ${seed.seconds.toFixed(0)} s)`);

  const dir = mkdtempSync(join(tmpdir(), 'canopy-bench-reader-'));
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, readSecret(corp.syncAccount.passwordFile), { mode: 0o600 });
  const forestDoc = join(dir, 'forest.json');
  writeFileSync(
    forestDoc,
    JSON.stringify({
      name: corp.name,
      connection: { url: corp.ldapsUrl, pageSize: options.pageSize, timeout: '60s' },
      domains: [{ dnsName: corp.name }],
      schedule: { notifications: false, pollInterval: '1h' },
    }),
  );
  const ldapArgs = [
    '-LLL', '-x', '-H', corp.ldapsUrl, '-D', corp.syncAccount.dn, '-y', pwFile, '-b', corp.baseDn,
    '-E', `pr=${options.pageSize}/noprompt`, IN_SCOPE_FILTER, '*',
  ];
  const readerMs: number[] = [];
  const refMs: number[] = [];
  let readerObjects = 0;
  let refObjects = 0;
  try {
    for (let round = 0; round < options.rounds; round++) {
      const ref = await ldapsearchDump(ldapArgs, { LDAPTLS_CACERT: corp.caFile });
      refMs.push(ref.ms);
      refObjects = ref.entries;
      options.say(`  round ${round + 1}: ldapsearch ${ref.entries} entries in ${(ref.ms / 1000).toFixed(2)} s`);

      const ns = testNamespace('bench-reader');
      const reader = await spawnService(
        'ad-reader',
        stackEnv(
          {
            CANOPY_FOREST: corp.name,
            CANOPY_READER_ID: `bench-reader-${round}`,
            CANOPY_LDAP__BIND_DN: corp.syncAccount.dn,
            CANOPY_LDAP__BIND_PASSWORD_FILE: corp.syncAccount.passwordFile,
            CANOPY_LDAP__CA_FILE: corp.caFile,
            CANOPY_FOREST_CONFIG_FILE: forestDoc,
            CANOPY_LOG_LEVEL: 'info',
          },
          ns,
        ),
        { timeoutMs: 60_000 },
      );
      try {
        const deadline = Date.now() + 900_000;
        let done: { objects: number; seconds: number } | undefined;
        while (!done) {
          for (const l of reader.lines) {
            if (!l.includes('full read complete')) continue;
            const rec = JSON.parse(l) as { objects: number; seconds: number };
            done = rec;
          }
          if (reader.process.exitCode !== null) throw new Error(`ad-reader exited:\n${reader.lines.slice(-20).join('\n')}`);
          if (Date.now() > deadline) throw new Error(`ad-reader: no full read within 15 min:\n${reader.lines.slice(-20).join('\n')}`);
          if (!done) await new Promise((r) => setTimeout(r, 100));
        }
        readerMs.push(done.seconds * 1000);
        readerObjects = done.objects;
        options.say(`  round ${round + 1}: ad-reader ${done.objects} objects in ${done.seconds.toFixed(2)} s`);
      } finally {
        await reader.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const value = readerObjects / (med(readerMs) / 1000);
  const refValue = refObjects / (med(refMs) / 1000);
  return {
    name: 'reader-full-read',
    title: `ad-reader full read of one forest (${readerObjects.toLocaleString('en-US')} objects)`,
    unit: 'objects/s',
    value,
    reference: { what: `ldapsearch paged dump, same DC/filter/page size, objects/s`, value: refValue },
    ratio: value / refValue,
    target: '>= 0.80',
    details: {
      forest: corp.name,
      'objects read (ad-reader)': readerObjects,
      'entries dumped (ldapsearch)': refObjects,
      'page size': options.pageSize,
      rounds: options.rounds,
      'ad-reader median s': med(readerMs) / 1000,
      'ldapsearch median s': med(refMs) / 1000,
      'ad-reader s (all rounds)': readerMs.map((m) => (m / 1000).toFixed(2)).join(', '),
      'ldapsearch s (all rounds)': refMs.map((m) => (m / 1000).toFixed(2)).join(', '),
      'ldap-utils': ldapsearchVersion(),
      'seeded OU': `OU=Bench,${corp.baseDn}: ${seed.users} users, ${seed.groups} groups of 200 members`,
    },
    notes: [
      `Reference: LDAPTLS_CACERT=<corp CA> ldapsearch -LLL -x -H ${corp.ldapsUrl} -D <sync account> -y <pw file> -b ${corp.baseDn} -E pr=${options.pageSize}/noprompt '<reader scope filter>' '*' (output parsed, entries counted).`,
      'ad-reader: apps/ad-reader/dist/main.js on a fresh Kafka namespace (first start = full read), timed by its own "full read complete" log line: DirSync baseline cookie, every page read with the extended-DN control, range retrieval, snapshot building, Avro encoding and one Kafka transaction per page, checkpoints included; process start-up excluded.',
      'ldapsearch and the reader alternate per round on the same DC, so both see the same load.',
    ],
    command: `scripts/bench --only reader-full-read --objects ${options.objects}`,
  };
}
