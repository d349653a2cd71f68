import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { FAULT_KINDS, type ChaosReport } from './chaos.js';

const FAULT_TEXT: Record<(typeof FAULT_KINDS)[number], string> = {
  'kill-reader': 'SIGKILL of an ad-reader replica (active or standby), restarted 1-4 s later',
  'kill-transformer': 'SIGKILL of a transformer replica, restarted 1-4 s later',
  'kill-writer': 'SIGKILL of a graph-writer replica, restarted 1-4 s later',
  'kafka-restart': 'Kafka broker stopped and started again (SIGTERM, then SIGKILL on alternate rounds)',
  'redis-wipe': 'Redis stopped, its data deleted, started again empty',
  'dc-restart': 'Samba AD DC stopped and started again',
  'graph-429-storm': 'Graph: 40% of requests answered 429 (Retry-After 2 s), regardless of quota',
  'graph-5xx': 'Graph: 20% of requests answered 500/502/503/504',
  'graph-timeouts': 'Graph: 5% of responses delayed 12 s (the writer gives up after 10 s: outcome unknown)',
  'graph-dropped-connections': 'Graph: 10% of connections dropped without an answer',
  'graph-replication-lag': 'Graph: 5 s replication lag (new objects invisible to reads and filters)',
};

export function renderMarkdown(r: ChaosReport, command: string): string {
  const f = r.figures;
  const verdict = r.ok ? 'PASS: nothing lost, no twins, every op has a result' : 'FAIL';
  const lines = [
    '# Chaos run',
    '',
    `\`${command}\` — ${r.at}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, shared machine.`,
    '',
    `**${verdict}.** ${r.settled ? `Settled ${r.seconds.settle} s after the faults stopped.` : 'The pipeline did NOT settle within the time limit.'}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| objects in AD (OU=Canopy of the private forest) | ${f.objects.inAd} |`,
    `| expected in the tenant (oracle): users / groups | ${f.objects.expectedUsers} / ${f.objects.expectedGroups} |`,
    `| not writable by Graph (contacts, distribution groups) | ${f.objects.notWritable} |`,
    `| live in the tenant at the end: users / groups | ${f.objects.tenantLiveUsers} / ${f.objects.tenantLiveGroups} |`,
    `| **lost** (expected but missing or different in the tenant) | **${f.lost}** |`,
    `| **twins** (two live tenant objects for one AD object) | **${f.twins}** |`,
    `| **ops without a terminal result** | **${f.noResult}** (of ${f.ops} distinct ops; ${f.results} results, ${f.deadLetters} dead letters) |`,
    `| unexpected (in the tenant but should not be) | ${f.unexpected} |`,
    `| processes that exited without being killed | ${f.unplannedExits} |`,
    '',
    '## Faults injected',
    '',
    '| fault | count | what |',
    '|---|---|---|',
    ...FAULT_KINDS.map((k) => `| ${k} | ${f.faults[k]} | ${FAULT_TEXT[k]} |`),
    '',
    `Requests the emulator actually spoiled: ${f.emulatorInjected.throttleStorm} storm 429s, ${f.emulatorInjected.errors} 5xx, ${f.emulatorInjected.slow} delayed, ${f.emulatorInjected.drops} dropped; ${f.emulatorInjected.throttled} 429s for the quota itself.`,
    '',
    `AD changes while it ran: ${f.deltas.create} creates, ${f.deltas.modify} attribute changes, ${f.deltas.disable} disables, ${f.deltas.memberAdd} member adds, ${f.deltas.memberRemove} member removes, ${f.deltas.delete} deletes (${f.deltas.failed} refused while the DC was down).`,
    '',
    '## Set-up',
    '',
    `- A private stack (own Kafka broker, Redis and Samba DC on another loopback address, launched by tools/stack's scripts), so restarting them disturbs no other suite; forest ${r.config.forest} seeded with ${r.config.users} users.`,
    `- Replicas: ${Object.entries(r.config.replicas).map(([k, v]) => `${k} x${v}`).join(', ')} (readers: one active with the Redis lease, one standby).`,
    `- Graph emulator with Microsoft's quota multiplied by ${r.config.quotaMultiplier} so the initial sync takes minutes; the configuration gives the writer the same quota. The private broker takes 8 MB records and the readers 4 MB events, so the 20,000-member group fits.`,
    `- Faults for ${Math.round(r.config.durationMs / 1000)} s from the start of the initial sync: a replica killed every ~${Math.round(r.config.killEveryMs / 1000)} s (stages in turn), an infrastructure or Graph fault every ${Math.round(r.config.faultEveryMs / 1000)} s, an AD change every ${r.config.deltaEveryMs} ms. Then faults off, every replica up, wait until no lag and no Graph traffic for 20 s.`,
    '- The acceptance oracle (tools/acceptance) computes the expected tenant from what AD holds at the end and the configuration; the tenant is the emulator\'s state. Ops are read from the namespace\'s canopy.entra.ops, results from canopy.sync.results (and canopy.sync.dlq).',
    `- Seconds: ${r.seconds.total} in all, ${r.seconds.faults} of faults, ${r.seconds.settle} to settle.`,
    '',
  ];
  const sample = (title: string, xs: string[]) => (xs.length ? [`### ${title}`, '', ...xs.map((x) => `- ${x}`), ''] : []);
  lines.push(...sample('Lost (first 20)', r.samples.lost), ...sample('Twins (first 20)', r.samples.twins), ...sample('Ops without a result (first 20)', r.samples.noResult), ...sample('Unexpected (first 20)', r.samples.unexpected), ...sample('Processes that exited by themselves', r.samples.unplannedExits));
  lines.push('## Figures (reports/chaos.json)', '', '```json', JSON.stringify({ ...r, stateDir: undefined }, null, 2), '```', '');
  return lines.join('\n');
}

export function writeReports(r: ChaosReport, dir: string, command: string, markdown = true): { json: string; md?: string } {
  mkdirSync(join(dir, 'reports'), { recursive: true });
  const json = join(dir, 'reports', 'chaos.json');
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  if (!markdown) return { json };
  const md = join(dir, 'CHAOS.md');
  writeFileSync(md, renderMarkdown(r, command));
  return { json, md };
}
