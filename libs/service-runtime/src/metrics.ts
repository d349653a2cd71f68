import { Registry, collectDefaultMetrics, Counter, Gauge, Histogram } from 'prom-client';

/**
 * Every app's Prometheus registry. Names follow one scheme: `canopy_<stage>_<what>_<unit>`,
 * with a `service` default label; process metrics come with the `canopy_` prefix.
 */
export class ServiceMetrics {
  readonly registry = new Registry();

  constructor(readonly stage: string) {
    this.registry.setDefaultLabels({ service: stage });
    collectDefaultMetrics({ register: this.registry, prefix: 'canopy_' });
  }

  #name(name: string): string {
    return `canopy_${this.stage.replace(/-/g, '_')}_${name}`;
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name: this.#name(name), help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name: this.#name(name), help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  ): Histogram<L> {
    return new Histogram({ name: this.#name(name), help, labelNames, buckets, registers: [this.registry] });
  }
}

/** Set a consumer-lag gauge from a consumer's per-partition lag, summed per topic. */
export function setLag(gauge: Gauge<'topic'>, partitions: ReadonlyArray<{ topic: string; lag: number }>): void {
  gauge.reset();
  const sums = new Map<string, number>();
  for (const p of partitions) sums.set(p.topic, (sums.get(p.topic) ?? 0) + p.lag);
  for (const [topic, lag] of sums) gauge.set({ topic }, lag);
}
