import { spawnService, stackEnv, testNamespace, expectProbesThenCleanStop } from '@canopy/test-kit';
import { describe, expect, it } from 'vitest';

describe('transformer process', () => {
  it('answers /healthz, /readyz and /metrics, and exits 0 on SIGTERM', async () => {
    const svc = await spawnService('transformer', stackEnv({ CANOPY_CONTROL__TOKEN: 'boot-test-token' }, testNamespace('boot')));
    await expectProbesThenCleanStop(svc, 'transformer');
  });

  it('prints --help and exits 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const { REPO_ROOT } = await import('@canopy/test-kit');
    const res = spawnSync(process.execPath, ['apps/transformer/dist/main.js', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('CANOPY_HTTP_PORT');
  });
});
