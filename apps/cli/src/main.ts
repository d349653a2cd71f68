import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiClient, ApiError, apiOptionsFromEnv } from './api-client.js';
import { ProgressBar } from './progress.js';
import { renderJourney, renderStatus, table, type ForestStatusView, type Journey } from './render.js';

interface ReplayJob {
  id: string;
  status: 'running' | 'completed' | 'failed';
  total: number;
  done: number;
  ops: number;
  quotaWritesPerSecond: number;
  error: string | null;
}

const HELP = `canopy: administer a Canopy installation through its control API

Usage: canopy <command> [options]

Commands:
  status                              per forest: readers, cookie age, lag, objects, writes, failures, held deletes
  config apply -f <file> [--dry-run]  validate and apply forests.yaml (prints what changed)
  config diff -f <file>               show what applying <file> would change
  config get                          print the current configuration
  sync --full --forest <f>            restart a forest with a full read
  pause --forest <f>                  pause a forest's reader
  resume --forest <f>                 resume a forest's reader
  quarantine clear --forest <f>       clear a forest's quarantine and resume it
  provision <dn|guid> --forest <f>    sync one object now and print its result
  preview <dn|guid> --forest <f>      what would be written under the current configuration (nothing written)
  explain <dn|guid> --forest <f>      the object's journey: AD snapshot, scoping rule, mapped attributes, Graph result
  deletes list --forest <f>           deletes held by accidental-delete protection
  deletes approve|reject --forest <f> release (execute) or drop the held deletes
  replay --forest <f> --from <when>   re-drive a forest from the log; <when>: ISO time, 2h/3d ago, or an offset
  dlq list [--stage s]                dead letters not yet retried
  dlq retry <id...>|all               re-send dead letters' original messages after a fix
  failures --forest <f>               recent failures with their errors

Options:
  --api <url>       control API (env CANOPY_API_URL, default http://127.0.0.1:8080)
  --token <token>   API token (env CANOPY_API_TOKEN or CANOPY_API_TOKEN_FILE)
  --json            machine-readable output
  -h, --help        this help

Exit status: 0 on success, 1 on failure, 2 on bad usage.`;

class UsageError extends Error {}

interface Flags {
  api?: string;
  token?: string;
  json?: boolean;
  forest?: string;
  file?: string;
  full?: boolean;
  'dry-run'?: boolean;
  timeout?: string;
  from?: string;
  stage?: string;
  wait?: boolean;
  help?: boolean;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined || value === '') throw new UsageError(`missing ${what}`);
  return value;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      api: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      forest: { type: 'string' },
      file: { type: 'string', short: 'f' },
      full: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      timeout: { type: 'string' },
      from: { type: 'string' },
      stage: { type: 'string' },
      wait: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const flags = values as Flags;
  const [command, sub, ...rest] = positionals;
  if (flags.help || !command) {
    process.stdout.write(`${HELP}\n`);
    return command || flags.help ? 0 : 2;
  }
  const api = new ApiClient(apiOptionsFromEnv(flags));
  const print = (value: unknown, human: () => string) =>
    process.stdout.write(`${flags.json ? JSON.stringify(value, null, 2) : human()}\n`);

  switch (command) {
    case 'status': {
      const s = await api.get<Parameters<typeof renderStatus>[0]>('/v1/status');
      print(s, () => renderStatus(s));
      return 0;
    }
    case 'config': {
      if (sub === 'get') {
        const c = await api.get<{ version: number; documents: unknown }>('/v1/config');
        print(c, () => `version ${c.version}\n${JSON.stringify(c.documents, null, 2)}`);
        return 0;
      }
      if (sub === 'apply' || sub === 'diff') {
        const text = readFileSync(need(flags.file, '-f <file>'), 'utf8');
        const dryRun = sub === 'diff' || flags['dry-run'] === true;
        const res = await api.post<{
          fromVersion: number;
          toVersion: number;
          documents: Array<{ documentId: string; status: string; changes: Array<{ path: string; kind: string; before?: unknown; after?: unknown }> }>;
        }>(sub === 'diff' ? '/v1/config/diff' : '/v1/config/apply', { text, dryRun });
        print(res, () =>
          [
            ...res.documents.map(
              (d) =>
                `${d.documentId}: ${d.status}${d.changes.length && d.status !== 'new' ? `\n${d.changes.map((c) => `    ${c.kind} ${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`).join('\n')}` : ''}`,
            ),
            dryRun ? '(dry run: nothing applied)' : `applied: version ${res.fromVersion} -> ${res.toVersion}`,
          ].join('\n'),
        );
        return 0;
      }
      throw new UsageError('config needs apply, diff or get');
    }
    case 'sync': {
      if (!flags.full) throw new UsageError('sync needs --full (deltas run continuously)');
      const forest = need(flags.forest, '--forest <name>');
      return fullSync(api, forest, flags, print);
    }
    case 'pause':
    case 'resume': {
      const forest = need(flags.forest, '--forest <name>');
      const path = command;
      const res = await api.post<{ timedOut: boolean; acks: Array<{ stage: string; status: string; message: string }> }>(
        `/v1/forests/${encodeURIComponent(forest)}/${path}`,
      );
      print(res, () => ackSummary(command, forest, res));
      return res.timedOut || res.acks.some((a) => a.status === 'FAILED' || a.status === 'REJECTED') ? 1 : 0;
    }
    case 'quarantine': {
      if (sub !== 'clear') throw new UsageError('quarantine needs clear');
      const forest = need(flags.forest, '--forest <name>');
      const res = await api.post<{ timedOut: boolean; acks: Array<{ stage: string; status: string; message: string }> }>(
        `/v1/forests/${encodeURIComponent(forest)}/clear-quarantine`,
      );
      print(res, () => ackSummary('quarantine clear', forest, res));
      return res.timedOut ? 1 : 0;
    }
    case 'provision': {
      const target = need(sub, '<dn|guid>');
      const forest = need(flags.forest, '--forest <name>');
      process.stderr.write(`provisioning ${target} ...\n`);
      const res = await api.post<{
        timedOut: boolean;
        acks: Array<{ stage: string; status: string; message: string }>;
        result: { outcome: string; reason: string | null; error: { message: string } | null; entraId: string | null } | null;
      }>('/v1/provision', { forest, target, timeoutSeconds: Number(flags.timeout ?? 60) });
      print(res, () =>
        res.result
          ? `${res.result.outcome}${res.result.entraId ? ` (Entra id ${res.result.entraId})` : ''}${res.result.reason ? `: ${res.result.reason}` : ''}${res.result.error ? `: ${res.result.error.message}` : ''}`
          : `no result: ${res.timedOut ? 'timed out' : ''} ${res.acks.map((a) => `${a.stage} ${a.status}: ${a.message}`).join('; ')}`,
      );
      return res.result && res.result.outcome !== 'FAILED' ? 0 : 1;
    }
    case 'preview':
    case 'explain': {
      const target = need(sub, '<dn|guid>');
      const forest = need(flags.forest, '--forest <name>');
      const j = await api.get<Journey>(`/v1/${command}?forest=${encodeURIComponent(forest)}&target=${encodeURIComponent(target)}`);
      print(j, () => renderJourney(j, command === 'explain'));
      return 0;
    }
    case 'deletes': {
      const forest = need(flags.forest, '--forest <name>');
      if (sub === 'list') {
        const rows = await api.get<Array<Record<string, unknown>>>(`/v1/deletes?forest=${encodeURIComponent(forest)}`);
        print(rows, () => (rows.length ? `${rows.length} held deletes\n${table(rows.map((r) => ({ dn: r.dn, anchor: r.sourceAnchor, since: r.at, reason: r.reason })), ['dn', 'anchor', 'since', 'reason'])}` : 'no held deletes'));
        return 0;
      }
      if (sub === 'approve' || sub === 'reject') {
        const res = await api.post<{ timedOut: boolean; acks: Array<{ stage: string; status: string; message: string }> }>(`/v1/deletes/${sub}`, {
          forest,
          timeoutSeconds: Number(flags.timeout ?? 60),
        });
        print(res, () => ackSummary(`deletes ${sub}`, forest, res));
        return res.timedOut || res.acks.some((a) => a.status === 'FAILED' || a.status === 'REJECTED') ? 1 : 0;
      }
      throw new UsageError('deletes needs list, approve or reject');
    }
    case 'replay': {
      const forest = need(flags.forest, '--forest <name>');
      const from = need(flags.from, '--from <time|offset>');
      let job = await api.post<ReplayJob>('/v1/replay', { forest, from });
      const bar = new ProgressBar(`replay ${forest}`);
      while (job.status === 'running') {
        // The ETA is bounded by Graph's write quota, not by Kafka.
        const eta = (job.total - job.done) / Math.max(1, job.quotaWritesPerSecond);
        bar.update(job.done, job.total, `ops ${job.ops}`, eta);
        await new Promise((r) => setTimeout(r, 500));
        job = await api.get<ReplayJob>(`/v1/replay/${job.id}`);
      }
      bar.done(`replay ${forest} ${job.status}: ${job.done} snapshots re-read, ${job.ops} ops re-sent${job.error ? `: ${job.error}` : ''}`);
      if (flags.json) process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
      return job.status === 'completed' ? 0 : 1;
    }
    case 'dlq': {
      if (sub === 'list') {
        const rows = await api.get<Array<Record<string, unknown>>>(`/v1/dlq${flags.stage ? `?stage=${encodeURIComponent(flags.stage)}` : ''}`);
        print(rows, () => (rows.length ? table(rows, ['deadLetterId', 'stage', 'source', 'errorType', 'reason', 'at']) : 'no dead letters'));
        return 0;
      }
      if (sub === 'retry') {
        const ids = rest.length === 1 && rest[0] === 'all' ? 'all' : rest;
        if (ids !== 'all' && !ids.length) throw new UsageError('dlq retry needs dead letter ids or all');
        const res = await api.post<{ retried: string[]; unknown: string[] }>('/v1/dlq/retry', { ids });
        print(res, () => `retried ${res.retried.length}${res.unknown.length ? `; unknown: ${res.unknown.join(', ')}` : ''}`);
        return res.unknown.length ? 1 : 0;
      }
      throw new UsageError('dlq needs list or retry');
    }
    case 'failures': {
      const forest = need(flags.forest, '--forest <name>');
      const rows = await api.get<Array<Record<string, unknown>>>(`/v1/failures?forest=${encodeURIComponent(forest)}`);
      print(rows, () =>
        rows.length
          ? table(
              rows.map((r) => ({ at: r.at, dn: r.dn, stage: r.stage, error: (r.error as { message?: string } | null)?.message ?? r.reason })),
              ['at', 'dn', 'stage', 'error'],
            )
          : 'no failures',
      );
      return 0;
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

interface Ack {
  stage: string;
  status: string;
  message: string;
  details: Record<string, string>;
}

/**
 * `sync --full`: restart the forest with a full read, then follow it: the reader's count of
 * objects read is the total, results recorded since the command are the progress, and the ETA is
 * bounded by Graph's write quota (unchanged objects cost no write, so it is an upper bound).
 */
async function fullSync(api: ApiClient, forest: string, flags: Flags, print: (v: unknown, human: () => string) => void): Promise<number> {
  const outcomesOf = (s: { forests: ForestStatusView[] }) =>
    Object.values(s.forests.find((f) => f.forest === forest)?.outcomes ?? {}).reduce((a, b) => a + b, 0);
  const config = await api.get<{ documents: { global?: { quota?: { writesPerWindow?: number; window?: string | number } } } }>('/v1/config');
  const quota = config.documents.global?.quota;
  const windowSeconds = typeof quota?.window === 'number' ? quota.window / 1000 : Number(String(quota?.window ?? '150s').replace(/s$/, '')) || 150;
  const writesPerSecond = (quota?.writesPerWindow ?? 3000) / windowSeconds;
  const before = outcomesOf(await api.get<{ forests: ForestStatusView[] }>('/v1/status'));
  const res = await api.post<{ command: { commandId: string }; timedOut: boolean; acks: Ack[] }>(`/v1/forests/${encodeURIComponent(forest)}/full-sync`);
  let acks = res.acks;
  const bar = new ProgressBar(`full sync ${forest}`);
  const deadline = Date.now() + Number(flags.timeout ?? 3600) * 1000;
  let total = 0;
  let stable = 0;
  let last = -1;
  while (Date.now() < deadline) {
    const final = acks.find((a) => a.stage === 'ad-reader' && a.status !== 'ACCEPTED');
    if (final && final.status !== 'COMPLETED') {
      bar.done(`full sync ${forest}: ${final.status}: ${final.message}`);
      return 1;
    }
    if (final) total = Number(final.details.objects ?? 0);
    const s = await api.get<{ forests: ForestStatusView[]; lag: { graphWriter: number | null } }>('/v1/status');
    const done = outcomesOf(s) - before;
    const f = s.forests.find((x) => x.forest === forest);
    const lag = (f?.lag.transformer ?? 0) + (s.lag.graphWriter ?? 0);
    bar.update(done, Math.max(total, done), final ? `read ${total}, lag ${lag}` : 'reading AD...', final ? Math.max(0, total - done) / writesPerSecond : undefined);
    if (final && lag === 0) {
      stable = done === last ? stable + 1 : 0;
      if (done >= total || stable >= 5) {
        bar.done(`full sync ${forest}: ${total} objects read, ${done} results recorded`);
        print({ command: res.command, acks, total, done }, () => '');
        return 0;
      }
    }
    last = done;
    await new Promise((r) => setTimeout(r, 1000));
    if (!final) acks = (await api.get<{ acks: Ack[] }>(`/v1/commands/${res.command.commandId}`)).acks;
  }
  bar.done(`full sync ${forest}: still running after ${flags.timeout ?? 3600} s (see canopy status)`);
  return 1;
}

function ackSummary(what: string, forest: string, res: { timedOut: boolean; acks: Array<{ stage: string; status: string; message: string }> }): string {
  const lines = res.acks.map((a) => `  ${a.stage}: ${a.status} ${a.message}`);
  return `${what} ${forest}: ${res.timedOut ? 'no final acknowledgement in time' : 'acknowledged'}\n${lines.join('\n')}`;
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`canopy: ${(err as Error).message}\nRun canopy --help for usage.\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`canopy: ${err instanceof ApiError ? err.message : (err as Error).message}\n`);
    process.exitCode = 1;
  }
}
