/** Nearest-rank percentile (p in 0..100) of a non-empty list; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** What a sync needs at least, in Graph writes (issue 11's definition). */
export interface MinimalWork {
  creates: number;
  /** Updates that change at least one property. */
  changedUpdates: number;
  /** Member additions per group: each group's adds go 20 per PATCH (members@odata.bind). */
  memberAddsPerGroup: readonly number[];
  removes: number;
}

/** Minimal writes = creates + changed updates + sum over groups of ceil(member adds / 20) + removes. */
export function minimalWrites(w: MinimalWork): number {
  return w.creates + w.changedUpdates + w.memberAddsPerGroup.reduce((s, n) => s + Math.ceil(n / 20), 0) + w.removes;
}

/** Write amplification: writes issued / minimal writes (1.0 = nothing wasted). */
export function writeAmplification(writesIssued: number, w: MinimalWork): number {
  const min = minimalWrites(w);
  return min === 0 ? Number.NaN : writesIssued / min;
}
