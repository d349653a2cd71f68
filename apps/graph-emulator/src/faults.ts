import type { Counters } from './counters.js';

/**
 * Real-world trouble on demand: injected 5xx at a rate, slow responses, dropped connections and
 * 429 storms. Decisions come from a seeded generator so a run can be repeated.
 */
export interface FaultSettings {
  /** Probability (0-1) that a Graph request fails with one of `errorStatuses`. */
  errorRate: number;
  errorStatuses: number[];
  /** Probability that a response is delayed by `slowMs` (wall time). */
  slowRate: number;
  slowMs: number;
  /** Probability that the connection is destroyed without an answer. */
  dropRate: number;
  /** Probability that a request is answered 429 regardless of quota (a storm). */
  throttleRate: number;
  throttleRetryAfterSeconds: number;
  /** Only requests whose path matches this regular expression are affected (default: all). */
  pathPattern?: string;
  seed: number;
}

export const DEFAULT_FAULTS: FaultSettings = {
  errorRate: 0,
  errorStatuses: [500, 503, 504],
  slowRate: 0,
  slowMs: 0,
  dropRate: 0,
  throttleRate: 0,
  throttleRetryAfterSeconds: 1,
  seed: 1,
};

/** Small seeded PRNG (reproducible fault and ordering decisions). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  settings: FaultSettings;
  private rnd: () => number;
  private pattern: RegExp | undefined;

  constructor(
    private counters: Counters,
    settings: Partial<FaultSettings> = {},
  ) {
    this.settings = { ...DEFAULT_FAULTS, ...settings };
    this.rnd = mulberry32(this.settings.seed);
    this.pattern = this.settings.pathPattern ? new RegExp(this.settings.pathPattern) : undefined;
  }

  configure(settings: Partial<FaultSettings>): void {
    const reseed = settings.seed !== undefined && settings.seed !== this.settings.seed;
    this.settings = { ...this.settings, ...settings };
    if (reseed) this.rnd = mulberry32(this.settings.seed);
    this.pattern = this.settings.pathPattern ? new RegExp(this.settings.pathPattern) : undefined;
  }

  applies(path: string): boolean {
    return !this.pattern || this.pattern.test(path);
  }

  /** Connection-level fault for a top-level request: drop, or delay in ms, or nothing. */
  connectionFault(path: string): { drop: boolean; delayMs: number } {
    const s = this.settings;
    if (!this.applies(path)) return { drop: false, delayMs: 0 };
    if (s.dropRate > 0 && this.rnd() < s.dropRate) {
      this.counters.fault('drops');
      return { drop: true, delayMs: 0 };
    }
    if (s.slowRate > 0 && s.slowMs > 0 && this.rnd() < s.slowRate) {
      this.counters.fault('slow');
      return { drop: false, delayMs: s.slowMs };
    }
    return { drop: false, delayMs: 0 };
  }

  /** Per request (batch items included): an injected 429, an injected status, or undefined. */
  graphFault(path?: string): 'throttle' | number | undefined {
    const s = this.settings;
    if (path !== undefined && !this.applies(path)) return undefined;
    if (s.throttleRate > 0 && this.rnd() < s.throttleRate) {
      this.counters.fault('throttleStorm');
      return 'throttle';
    }
    if (s.errorRate > 0 && s.errorStatuses.length && this.rnd() < s.errorRate) {
      this.counters.fault('errors');
      return s.errorStatuses[Math.floor(this.rnd() * s.errorStatuses.length)]!;
    }
    return undefined;
  }
}
