import { spawnService, testNamespace, expectProbesThenCleanStop, waitFor } from '@canopy/test-kit';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forestDocument, readerEnv, runId, stack } from './support/harness.js';

describe('ad-reader process', () => {
  it('answers /healthz, /readyz and /metrics, and exits 0 on SIGTERM', async () => {
    const { corp } = stack();
    const forest = `adr-boot-${runId()}`;
    // Paused: this test is about the process (probes, SIGTERM), not about reading; an unpaused
    // reader would start a full read of the seeded forest, which a loaded machine makes slow.
    const doc = join(mkdtempSync(join(tmpdir(), 'adr-boot-')), 'forest.json');
    writeFileSync(doc, JSON.stringify({ ...forestDocument(forest, corp), paused: true }));
    const env = { ...readerEnv(forest, corp, testNamespace('ad-reader-boot')), CANOPY_FOREST_CONFIG_FILE: doc };
    const svc = await spawnService('ad-reader', env, { timeoutMs: 30_000 });
    await expectProbesThenCleanStop(svc, 'ad-reader');
  });

  it('refuses to start without its settings, naming what is missing', async () => {
    const { spawnSync } = await import('node:child_process');
    const { REPO_ROOT } = await import('@canopy/test-kit');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CANOPY_')));
    const res = spawnSync(process.execPath, ['apps/ad-reader/dist/main.js'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...env, CANOPY_HTTP_PORT: '0' }, timeout: 20_000 });
    expect(res.status).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/forest/);
    expect(res.stdout + res.stderr).toMatch(/CANOPY_LDAP/);
  });

  it('prints --help and exits 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const { REPO_ROOT } = await import('@canopy/test-kit');
    const res = spawnSync(process.execPath, ['apps/ad-reader/dist/main.js', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('CANOPY_HTTP_PORT');
    expect(res.stdout).toContain('CANOPY_LDAP__BIND_PASSWORD_FILE');
  });
});

describe('ad-reader shutdown during a full read', () => {
  it('SIGTERM in the middle of a full read stops cleanly within the budget; the next start reads it again in full', async () => {
    const { corp } = stack();
    const forest = `adr-stop-${runId()}`;
    const env = readerEnv(forest, corp, testNamespace('ad-reader-stop'));
    const first = await spawnService('ad-reader', { ...env, CANOPY_READER_ID: 'stop-1' }, { timeoutMs: 30_000 });
    await waitFor('full read started', () => first.lines.some((l) => l.includes('"full read started"')), { timeoutMs: 120_000, intervalMs: 20 }).catch((err: Error) => {
      throw new Error(`${err.message}; the reader said:\n${first.lines.slice(-30).join('\n')}`);
    });
    expect(first.lines.some((l) => l.includes('"full read complete"'))).toBe(false);
    const code = await first.stop('SIGTERM');
    expect(code, first.lines.slice(-30).join('\n')).toBe(0);
    expect(first.lines.join('\n')).toContain('stopped cleanly');
    // The interrupted read did not complete its checkpoint: the next reader starts it again and finishes.
    const second = await spawnService('ad-reader', { ...env, CANOPY_READER_ID: 'stop-2' }, { timeoutMs: 30_000 });
    try {
      await waitFor('full read complete', () => second.lines.find((l) => l.includes('"full read complete"')), { timeoutMs: 240_000, intervalMs: 200 });
      expect(second.lines.some((l) => l.includes('"full read started"'))).toBe(true);
    } finally {
      expect(await second.stop('SIGTERM')).toBe(0);
    }
  }, 360_000);
});

describe('ad-reader shutdown while the DC does not answer', () => {
  it('SIGTERM while its LDAP connection hangs (a DC that accepts and never answers) still exits 0 within the budget', async () => {
    const { corp } = stack();
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const forest = `adr-hang-${runId()}`;
      const doc = join(mkdtempSync(join(tmpdir(), 'adr-hang-')), 'forest.json');
      // A 60 s LDAP timeout: far beyond the 25 s shutdown budget, so only an interruptible stop passes.
      writeFileSync(doc, JSON.stringify({ ...forestDocument(forest, corp), connection: { url: `ldaps://127.0.0.1:${port}`, timeout: '60s', pageSize: 1000 } }));
      const env = { ...readerEnv(forest, corp, testNamespace('ad-reader-hang')), CANOPY_FOREST_CONFIG_FILE: doc };
      const svc = await spawnService('ad-reader', env, { timeoutMs: 30_000 });
      await waitFor('the active reader trying the silent DC', () => sockets.length > 0 && svc.lines.some((l) => l.includes('checkpoints loaded')), { timeoutMs: 60_000 });
      const code = await svc.stop('SIGTERM');
      expect(code, svc.lines.slice(-20).join('\n')).toBe(0);
      expect(svc.lines.join('\n')).toContain('stopped cleanly');
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => silent.close(() => r()));
    }
  }, 120_000);
});
