/** Request counters for tests and benchmarks (admin API: GET /counters, POST /counters/reset). */
export interface AppCounters {
  requests: number;
  reads: number;
  writes: number;
  batches: number;
  resourceUnits: number;
  throttled: number;
  throttledByScope: Record<string, number>;
  statuses: Record<string, number>;
}

export interface CounterSnapshot {
  requests: number;
  reads: number;
  writes: number;
  batches: number;
  resourceUnits: number;
  throttled: { total: number; byScope: Record<string, number>; byInformation: Record<string, number> };
  statuses: Record<string, number>;
  faults: { errors: number; drops: number; slow: number; throttleStorm: number };
  tokenRequests: { issued: number; refused: number };
  perApp: Record<string, AppCounters>;
}

export class Counters {
  private s!: CounterSnapshot;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.s = {
      requests: 0,
      reads: 0,
      writes: 0,
      batches: 0,
      resourceUnits: 0,
      throttled: { total: 0, byScope: {}, byInformation: {} },
      statuses: {},
      faults: { errors: 0, drops: 0, slow: 0, throttleStorm: 0 },
      tokenRequests: { issued: 0, refused: 0 },
      perApp: {},
    };
  }

  private app(appId: string): AppCounters {
    let a = this.s.perApp[appId];
    if (!a) this.s.perApp[appId] = a = { requests: 0, reads: 0, writes: 0, batches: 0, resourceUnits: 0, throttled: 0, throttledByScope: {}, statuses: {} };
    return a;
  }

  /** One answered Graph request (batch items count one each; the batch envelope as 'batch'). */
  record(appId: string, type: 'read' | 'write' | 'batch', status: number, resourceUnits = 0): void {
    const a = this.app(appId);
    const st = String(status);
    if (type === 'batch') {
      this.s.batches++;
      a.batches++;
      return;
    }
    this.s.requests++;
    a.requests++;
    if (type === 'read') {
      this.s.reads++;
      a.reads++;
    } else {
      this.s.writes++;
      a.writes++;
    }
    this.s.resourceUnits += resourceUnits;
    a.resourceUnits += resourceUnits;
    this.s.statuses[st] = (this.s.statuses[st] ?? 0) + 1;
    a.statuses[st] = (a.statuses[st] ?? 0) + 1;
  }

  throttled(appId: string, scope: string, information: string): void {
    const a = this.app(appId);
    const kind = scope.split('/').slice(0, 2).join('/');
    this.s.throttled.total++;
    this.s.throttled.byScope[kind] = (this.s.throttled.byScope[kind] ?? 0) + 1;
    this.s.throttled.byInformation[information] = (this.s.throttled.byInformation[information] ?? 0) + 1;
    a.throttled++;
    a.throttledByScope[kind] = (a.throttledByScope[kind] ?? 0) + 1;
  }

  fault(kind: keyof CounterSnapshot['faults']): void {
    this.s.faults[kind]++;
  }

  token(ok: boolean): void {
    if (ok) this.s.tokenRequests.issued++;
    else this.s.tokenRequests.refused++;
  }

  snapshot(): CounterSnapshot {
    return structuredClone(this.s);
  }
}
