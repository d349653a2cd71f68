/** Time source for everything time-dependent (tokens, throttling, replication lag, purge, delta). */
export interface Clock {
  now(): number;
}

/**
 * Wall clock plus an adjustable offset. Tests (and the admin API) move time forward with
 * `advance(ms)` instead of sleeping; `set(ms)` pins an absolute time.
 */
export class AdjustableClock implements Clock {
  private offset = 0;
  private pinned: number | undefined;

  constructor(start?: number) {
    if (start !== undefined) this.pinned = start;
  }

  now(): number {
    return this.pinned !== undefined ? this.pinned : Date.now() + this.offset;
  }

  /** Move time forward by `ms` (negative values are refused: time never goes back). */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`cannot advance the clock by ${ms} ms`);
    if (this.pinned !== undefined) this.pinned += ms;
    else this.offset += ms;
    return this.now();
  }

  /** Freeze time at `ms` since the epoch (a manual clock). */
  set(ms: number): void {
    this.pinned = ms;
  }
}

/** A frozen clock, starting at `start`, that only moves when advanced. */
export function manualClock(start = Date.parse('2026-01-01T00:00:00Z')): AdjustableClock {
  return new AdjustableClock(start);
}
