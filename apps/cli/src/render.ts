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
  skipped?: Record<string, number>;
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
    .map((f) => {
      const line = `  ${f.forest}: ${Object.entries(f.outcomes).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ') || 'no results yet'}`;
      const skips = Object.entries(f.skipped ?? {}).slice(0, 5);
      return [line, ...skips.map(([why, n]) => `    skipped ${n} x ${why}`)].join('\n');
    })
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

export interface Journey {
  forest: string;
  target: string;
  dn?: string;
  snapshot?: { dn: string; objectClass: string; kind: string; usnChanged: number; readAt: string; attributes: Record<string, string[]>; memberOf: string[] };
  configVersion: number;
  scoping: { inScope: boolean; rule: string; detail: string } | null;
  decision: { kind: string; action?: string; sourceAnchor?: string; reason?: string | null; error?: { message?: string; attribute?: string | null; expression?: string | null } };
  mapped: Array<{ target: string; value: unknown; expression: string; apply: string; note?: string }>;
  members?: { kept: number; excluded: Array<{ dn: string; rule: string; detail: string }> };
  result?: { outcome: string; stage: string; at: string; entraId: string | null; reason: string | null; error: { message: string } | null; writes: number } | null;
}

/** The journey of one object, as `explain` (with snapshot and result) or `preview` prints it. */
export function renderJourney(j: Journey, full: boolean): string {
  const lines: string[] = [];
  const dn = j.snapshot?.dn ?? j.dn ?? j.target;
  lines.push(`${dn} (forest ${j.forest}, configuration v${j.configVersion})`);
  if (full && j.snapshot) {
    lines.push('', `1. AD snapshot: ${j.snapshot.kind.toLowerCase()} ${j.snapshot.objectClass.toLowerCase()}, uSNChanged ${j.snapshot.usnChanged}, read ${j.snapshot.readAt}`);
    for (const [k, v] of Object.entries(j.snapshot.attributes).sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`     ${k}: ${v.length > 3 ? `${v.slice(0, 3).join(' | ')} (+${v.length - 3})` : v.join(' | ')}`);
    }
  }
  const n = full ? 2 : 1;
  lines.push('', `${n}. scoping: ${j.scoping ? `${j.scoping.inScope ? 'IN scope' : 'OUT of scope'}, decided by rule "${j.scoping.rule}": ${j.scoping.detail}` : 'not evaluated'}`);
  const d = j.decision;
  lines.push(
    `${n + 1}. decision: ${d.kind === 'op' ? `${d.action} (anchor ${d.sourceAnchor})${d.reason ? `: ${d.reason}` : ''}` : d.kind === 'skipped' ? `skipped: ${d.reason}` : `failed: ${d.error?.message}${d.error?.attribute ? ` (attribute ${d.error.attribute}, expression ${d.error.expression})` : ''}`}`,
  );
  if (j.mapped.length) {
    lines.push(`${n + 2}. mapped attributes:`);
    for (const m of j.mapped) lines.push(`     ${m.target} = ${JSON.stringify(m.value)}    <- ${m.expression}${m.apply === 'create' ? ' (on create only)' : ''}${m.note ? `  [${m.note}]` : ''}`);
  }
  if (j.members) lines.push(`     members: ${j.members.kept} kept, ${j.members.excluded.length} out of scope`);
  if (full) {
    const r = j.result;
    lines.push(
      `${n + 3}. latest result: ${r ? `${r.outcome} at ${r.stage.toLowerCase()} (${r.at})${r.entraId ? `, Entra id ${r.entraId}` : ''}${r.reason ? `: ${r.reason}` : ''}${r.error ? `: ${r.error.message}` : ''}, ${r.writes} write(s)` : 'none recorded yet'}`,
    );
  }
  return lines.join('\n');
}
