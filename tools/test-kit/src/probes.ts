import { expect } from 'vitest';
import type { SpawnedService } from './spawn-service.js';

/**
 * What every app's boot test checks: /healthz, /readyz and Prometheus /metrics answer, then
 * SIGTERM makes the process stop cleanly with exit code 0.
 */
export async function expectProbesThenCleanStop(svc: SpawnedService, service: string): Promise<void> {
  try {
    const health = await fetch(`${svc.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', service });
    const ready = await fetch(`${svc.url}/readyz`);
    expect([200, 503]).toContain(ready.status);
    expect(await ready.json()).toHaveProperty('components');
    const metrics = await fetch(`${svc.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('canopy_process_cpu_seconds_total');
    expect(text).toContain(`service="${service}"`);
  } finally {
    const code = await svc.stop('SIGTERM');
    // On failure, show what the process said: CI prints only the assertion otherwise.
    expect(code, `${service} exit code after SIGTERM; its last lines:\n${svc.lines.slice(-40).join('\n')}`).toBe(0);
  }
  expect(svc.lines.join('\n')).toContain('stopped cleanly');
}
