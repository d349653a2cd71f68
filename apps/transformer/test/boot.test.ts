import { spawnService, stackEnv, testNamespace } from '@canopy/test-kit';
import { describe, expect, it } from 'vitest';

describe('transformer process', () => {
  it('answers /healthz, /readyz and /metrics, and exits 0 on SIGTERM', async () => {
    const svc = await spawnService('transformer', stackEnv({ CANOPY_CONTROL__TOKEN: 'boot-test-token' }, testNamespace('boot')));
    try {
      const health = await fetch(`${svc.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', service: 'transformer' });
      const ready = await fetch(`${svc.url}/readyz`);
      expect([200, 503]).toContain(ready.status);
      expect(await ready.json()).toHaveProperty('components');
      const metrics = await fetch(`${svc.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('canopy_process_cpu_seconds_total');
      expect(text).toContain('service="transformer"');
    } finally {
      expect(await svc.stop('SIGTERM')).toBe(0);
    }
    expect(svc.lines.join('\n')).toContain('stopped cleanly');
  });

  it('prints --help and exits 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const { REPO_ROOT } = await import('@canopy/test-kit');
    const res = spawnSync(process.execPath, ['apps/transformer/dist/main.js', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('CANOPY_HTTP_PORT');
  });
});
