import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** One benchmark's figures: a measured value, its reference in the same run, and their ratio. */
export interface BenchResult {
  name: string;
  title: string;
  /** What was measured, e.g. "objects/s". */
  unit: string;
  value: number;
  reference?: { what: string; value: number };
  /** value / reference (or the benchmark's own definition, stated in `notes`). */
  ratio?: number;
  target?: string;
  details: Record<string, number | string>;
  notes: string[];
  command: string;
}

export function machine(): Record<string, string> {
  let kernel = '';
  try {
    kernel = execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {
    kernel = process.platform;
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: String(cpus().length),
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    os: kernel,
  };
}

/**
 * BENCHMARKS.md: the table, machine and versions, each result's details and notes, then the
 * hand-written analysis (what bounds each figure), kept in benchmarks/analysis.md.
 */
export function renderMarkdown(results: BenchResult[], meta: Record<string, string>, analysis = ''): string {
  const lines = [
    '# Benchmarks',
    '',
    'Every figure is measured against a reference run in the same process or run (this machine is',
    'shared and noisy; absolute times drift, ratios much less). Regenerate with `scripts/bench`',
    '(`scripts/bench --only <name>` for one).',
    '',
    '| benchmark | measured | reference (same run) | ratio | target |',
    '|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.title} | ${fmt(r.value)} ${r.unit} | ${r.reference ? `${r.reference.what}: ${fmt(r.reference.value)}` : '-'} | ${r.ratio === undefined ? '-' : r.ratio.toFixed(2)} | ${r.target ?? '-'} |`,
    ),
    '',
    '## Machine and versions (of the last run; each result lists its own below)',
    '',
    ...Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`),
    '',
  ];
  for (const r of results) {
    lines.push(`## ${r.title}`, '', `Command: \`${r.command}\``, '');
    for (const [k, v] of Object.entries(r.details)) lines.push(`- ${k}: ${typeof v === 'number' ? fmt(v) : v}`);
    if (r.notes.length) lines.push('', ...r.notes.map((n) => `> ${n}`));
    lines.push('');
  }
  if (analysis.trim()) lines.push(analysis.trim(), '');
  return lines.join('\n');
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}
