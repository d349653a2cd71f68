import { ConfigError } from '@canopy/errors';
import { parseConfig } from '@canopy/config';
import { codecs } from '@canopy/contracts';
import { createLogger } from '@canopy/logger';
import { describe, expect, it } from 'vitest';
import { ConfigStore, encodeConfigDocument, forestDocumentSchema, globalDocumentSchema } from './index.js';

const forest = {
  name: 'corp.example.test',
  connection: { url: 'ldaps://127.0.0.2:636' },
  domains: [{ dnsName: 'corp.example.test' }],
};
const global = { tenant: { id: 't1', initialDomain: 'contoso.onmicrosoft.com' }, graph: { clientId: 'app-1' } };

describe('configuration documents', () => {
  it('fills defaults as Cloud Sync and Microsoft document them', () => {
    const f = parseConfig(forestDocumentSchema, forest);
    expect(f.schedule.pollInterval).toBe(120_000);
    expect(f.domains[0]!.namingContext).toBe('DC=corp,DC=example,DC=test');
    const g = parseConfig(globalDocumentSchema, global);
    expect(g.quota).toEqual({ writesPerWindow: 3000, window: 150_000, tenantWritesPerFiveMinutes: 18000 });
    expect(g.deletes.threshold).toBe(500);
  });

  it('refuses plain LDAP without StartTLS unless explicitly insecure, naming the field', () => {
    const bad = { ...forest, connection: { url: 'ldap://127.0.0.2', startTls: false } };
    expect(() => parseConfig(forestDocumentSchema, bad)).toThrow(ConfigError);
    expect(() => parseConfig(forestDocumentSchema, bad)).toThrow(/connection\.startTls: plain ldap/);
    expect(() =>
      parseConfig(forestDocumentSchema, { ...bad, connection: { ...bad.connection, allowInsecure: true } }),
    ).not.toThrow();
  });

  it('refuses forest names that cannot be topic suffixes', () => {
    expect(() => parseConfig(forestDocumentSchema, { ...forest, name: 'Corp Forest' })).toThrow(/name: invalid forest name/);
  });

  it('a store applies documents in order and tracks the highest version', () => {
    const store = new ConfigStore({} as never, createLogger({ name: 't', level: 'silent' }));
    const g = encodeConfigDocument({ kind: 'GLOBAL', body: global }, 1, 'test');
    const f = encodeConfigDocument({ kind: 'FOREST', body: forest }, 2, 'test');
    expect(store.ingest(g.value, g.key)).toBe('global');
    expect(store.ingest(f.value, f.key)).toBe('forest/corp.example.test');
    expect(store.version).toBe(2);
    expect(store.forest('corp.example.test')?.version).toBe(2);
    expect(store.global()?.tenant.id).toBe('t1');
    // an undecodable or invalid document is reported and skipped, never applied
    expect(store.ingest(Buffer.from('junk'), 'forest/x')).toBeUndefined();
    const invalid = codecs.configDocument.encode({ ...f.document, version: 3, body: '{"name":"x"}' });
    expect(store.ingest(invalid, f.key)).toBeUndefined();
    expect(store.version).toBe(2);
  });
});
