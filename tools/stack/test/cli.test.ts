import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, type ComponentHealth } from '../src/index.js';
import { STACK_TIMEOUT_MS, stack } from './helpers.js';

const script = join(repoRoot, 'scripts', 'stack');
const run = (...args: string[]) =>
  spawnSync('bash', [script, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('scripts/stack', () => {
  beforeAll(async () => {
    await stack();
  }, STACK_TIMEOUT_MS);

  it('prints help and rejects unknown commands and options', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/up .*down .*status .*reset .*seed/s);
    expect(run('bogus').status).not.toBe(0);
    const badOption = run('seed', '--users', 'many');
    expect(badOption.status).not.toBe(0);
    expect(badOption.stderr).toContain('--users must be a number');
  });

  it('status --json reports every component healthy', () => {
    const r = run('status', '--json');
    expect(r.status).toBe(0);
    const health = JSON.parse(r.stdout) as ComponentHealth[];
    expect(health.map((h) => h.name)).toEqual(['kafka', 'redis', 'samba corp', 'samba fabrikam']);
    expect(health.every((h) => h.healthy)).toBe(true);
  });

  it('up on a healthy stack is a no-op', () => {
    const t0 = performance.now();
    const r = run('up');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('already up and healthy');
    expect(r.stdout).not.toMatch(/provisioning|seeded in/);
    expect(performance.now() - t0).toBeLessThan(30_000);
  }, 60_000);
});
