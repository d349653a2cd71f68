import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli, trustCaInProcess } from '../src/main.js';

const capture = () => {
  let text = '';
  return { stdout: { write: (s: string) => (text += s) }, text: () => text };
};

describe('CLI', () => {
  it('--help names the options', async () => {
    const out = capture();
    expect(await runCli(['--help'], { stdout: out.stdout, env: {} })).toBeUndefined();
    for (const flag of ['--state-dir', '--graph-port', '--admin-port', '--tenant-id', '--config', 'NODE_EXTRA_CA_CERTS']) expect(out.text()).toContain(flag);
  });

  it('starts from flags, environment and a config file, prints where it listens and writes info.json', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'graph-emulator-cli-'));
    const configFile = join(stateDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ domains: ['contoso.example'], apps: [{ displayName: 'demo-writer', secret: true, roles: ['User.ReadWrite.All'] }], throttle: { quotaMultiplier: 2 } }));
    const out = capture();
    const em = await runCli(['--state-dir', stateDir, '--graph-port', '0', '--admin-port', '0', '--config', configFile], {
      stdout: out.stdout,
      env: { CANOPY_GRAPH_EMULATOR_THROTTLE__TIME_SCALE: '0.5', CANOPY_GRAPH_EMULATOR_REPLICATION_LAG_MS: '250' },
      logDestination: new PassThrough(),
    });
    try {
      expect(em).toBeDefined();
      trustCaInProcess(em!.caCertPem);
      expect(out.text()).toContain(em!.graphBaseUrl);
      expect(out.text()).toContain(em!.caCertPath);
      const info = JSON.parse(readFileSync(join(stateDir, 'info.json'), 'utf8'));
      expect(info).toMatchObject({ graphBaseUrl: em!.graphBaseUrl, adminUrl: em!.adminUrl, caCertPath: join(stateDir, 'tls', 'ca.pem'), quota: 'multiplier=2;timescale=0.5' });
      expect(info.domains).toContain('contoso.example');
      const creds = JSON.parse(readFileSync(info.apps[0].credentialsPath, 'utf8'));
      expect(creds).toMatchObject({ displayName: 'demo-writer', tenantId: em!.tenantId, authority: em!.authority });
      expect(em!.config().replicationLagMs).toBe(250);
      const res = await fetch(`${em!.graphBaseUrl}/users`);
      expect(res.headers.get('x-canopy-emulator-quota')).toBe('multiplier=2;timescale=0.5');
    } finally {
      await em?.close();
    }
  });

  it('refuses invalid configuration with a sentence naming the variable', async () => {
    await expect(runCli(['--graph-port', '0', '--admin-port', '0'], { stdout: capture().stdout, env: { CANOPY_GRAPH_EMULATOR_THROTTLE__QUOTA_MULTIPLIER: '-1' }, logDestination: new PassThrough() })).rejects.toThrow(
      /CANOPY_GRAPH_EMULATOR_THROTTLE__QUOTA_MULTIPLIER/,
    );
  });
});
