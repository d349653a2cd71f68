import { parseArgs } from 'node:util';
import { repoRoot } from '@canopy/stack';
import { runChaos, stopEverything } from './chaos.js';
import { PROFILES } from './private-stack.js';
import { writeReports } from './report.js';

const HELP = `scripts/chaos: the chaos suite (loopback only, bounded in time).

Starts a private stack (its own Kafka broker, Redis and Samba DC on 127.0.0.4, state in
~/.local/state/canopy-chaos; the seeded forest is cached), the Graph emulator and every Canopy
app with 2 replicas each of ad-reader (lease + standby), transformer and graph-writer. During
the initial sync, with AD changes flowing, it SIGKILLs random replicas of every stage, restarts
the Kafka broker, restarts Redis with its data wiped, restarts the Samba DC and switches on the
emulator's faults (429 storms, 5xx, timeouts, dropped connections, replication lag). Then it lets
the pipeline settle and compares the tenant with the acceptance oracle's expected state.

Prints progress; writes reports/chaos.json and CHAOS.md; exits 1 when anything was lost, twinned,
left without a result or unexpected, when a fault kind was not injected, or when it did not settle.

Options:
  --users <n>              users seeded in the private forest (default 20000; objects = n + 141)
  --duration <time>        how long faults are injected (default 6m; e.g. 300s, 5m)
  --timeout <time>         hard bound on the whole run after the stack is up (default 30m)
  --quota-multiplier <n>   emulator write quota x n (default 20)
  --kill-every <time>      mean gap between replica SIGKILLs (default 8s)
  --fault-every <time>     gap between infrastructure / Graph faults (default 25s)
  --delta-every <time>     gap between AD changes (default 700ms)
  --keep-stack             leave the private stack running (the next run starts faster)
  --no-markdown            write reports/chaos.json only, not CHAOS.md
  --out <dir>              where reports/ and CHAOS.md go (default: the repository)
  --profile full|test      which private stack: full (127.0.0.4) or the vitest suite's (127.0.0.5)
  -h, --help               this text`;

export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new Error(`not a duration: ${v} (e.g. 300s, 5m, 700ms)`);
  const n = Number(m[1]);
  return Math.round(n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '20000' },
      duration: { type: 'string', default: '6m' },
      timeout: { type: 'string', default: '30m' },
      'quota-multiplier': { type: 'string', default: '20' },
      'kill-every': { type: 'string', default: '8s' },
      'fault-every': { type: 'string', default: '25s' },
      'delta-every': { type: 'string', default: '700ms' },
      'keep-stack': { type: 'boolean', default: false },
      'no-markdown': { type: 'boolean', default: false },
      out: { type: 'string' },
      profile: { type: 'string', default: 'full' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const users = Number(values.users);
  if (!Number.isInteger(users) || users < 20) throw new Error('--users must be an integer >= 20');
  const command = `scripts/chaos ${process.argv.slice(2).join(' ')}`.trim();
  const report = await runChaos({
    profile: values.profile === 'test' ? PROFILES.test : PROFILES.full,
    users,
    durationMs: parseDuration(values.duration),
    timeoutMs: parseDuration(values.timeout),
    quotaMultiplier: Number(values['quota-multiplier']),
    killEveryMs: parseDuration(values['kill-every']),
    faultEveryMs: parseDuration(values['fault-every']),
    deltaEveryMs: parseDuration(values['delta-every']),
    keepStack: values['keep-stack'],
  });
  const out = writeReports(report, values.out ?? repoRoot, command, !values['no-markdown']);
  const f = report.figures;
  process.stdout.write(
    `\nchaos: ${f.objects.inAd} objects in AD, faults ${Object.entries(f.faults).map(([k, v]) => `${k}=${v}`).join(' ')}\n` +
      `chaos: lost ${f.lost}, twins ${f.twins}, ops without a result ${f.noResult} (of ${f.ops}), unexpected ${f.unexpected}; ${report.settled ? 'settled' : 'NOT settled'}\n` +
      `chaos: ${report.ok ? 'PASS' : 'FAIL'}; report ${out.json}${out.md ? ` and ${out.md}` : ''}; logs ${report.stateDir}/logs\n`,
  );
  return report.ok ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`chaos: ${sig}: stopping every process and the private stack ...\n`);
    void stopEverything().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
