/** Plain-text rendering of API answers for humans; --json prints the answer as it is. */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const cells = rows.map((r) => columns.map((c) => fmt(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export interface ForestStatusView {
  forest: string;
  configVersion: number | null;
  paused: boolean;
  quarantined: { since: string; reason: string } | null;
  reader: { active: string | null; standbys: string[]; cookieAgeSeconds: number | null };
  lag: { transformer: number | null };
  objectsInTenant: number;
  outcomes: Record<string, number>;
  writes: number;
  failures: number;
  heldDeletes: number;
}

export function renderStatus(s: { configVersion: number; forests: ForestStatusView[]; lag: { graphWriter: number | null } }): string {
  const rows = s.forests.map((f) => ({
    forest: f.forest,
    state: f.quarantined ? `QUARANTINED (${f.quarantined.reason})` : f.paused ? 'paused' : 'running',
    reader: f.reader.active ? `${f.reader.active}${f.reader.standbys.length ? ` +${f.reader.standbys.length} standby` : ''}` : 'no active reader',
    'cookie age': f.reader.cookieAgeSeconds === null ? '-' : `${f.reader.cookieAgeSeconds}s`,
    'transformer lag': f.lag.transformer,
    'in tenant': f.objectsInTenant,
    writes: f.writes,
    failures: f.failures,
    'held deletes': f.heldDeletes,
  }));
  const outcomes = s.forests
    .map((f) => `  ${f.forest}: ${Object.entries(f.outcomes).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ') || 'no results yet'}`)
    .join('\n');
  return [
    `configuration version ${s.configVersion}; graph-writer lag ${s.lag.graphWriter ?? '-'}`,
    '',
    table(rows, Object.keys(rows[0] ?? { forest: '' })),
    '',
    'results by outcome:',
    outcomes,
  ].join('\n');
}
