import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeConfigDocument } from '@canopy/central-config';
import { TOPICS } from '@canopy/contracts';
import { ProcessGroup, type ManagedProcess } from '@canopy/demo';
import { KafkaClient, kafkaOptionsSchema, type KafkaProducer } from '@canopy/kafka';
import { createLogger } from '@canopy/logger';
import { ensureStackUp, getForest, readSecret, type ForestInfo, type StackInfo } from '@canopy/stack';
import { stackEnv, testNamespace, waitFor } from '@canopy/test-kit';
import { Redis } from 'ioredis';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteNamespace, makeCa, type CertificateAuthority } from '../src/index.js';

/**
 * TLS to the domain controllers and to Graph is always verified: the real ad-reader and
 * graph-writer processes refuse the Samba DC and the Graph emulator when the configured CA did
 * not sign their certificates, when no CA is configured (system store), or when the certificate
 * names another host; with the right CA they connect (the positive control). LDAP is also checked
 * at the client level (LDAPS and StartTLS).
 */
const ns = testNamespace('tls-ldap-graph');
const run = ns.slice(-8);
const log = createLogger({ name: 'tls-test', level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'canopy-tls-lg-'));
let stack: StackInfo;
let corp: ForestInfo;
let rogue: CertificateAuthority;
let procs: ProcessGroup;
let kafka: KafkaClient;
let producer: KafkaProducer;
let emulator: { tenantId: string; initialDomain: string; graphBaseUrl: string; authorityHost: string; caCertPath: string; apps: Array<{ displayName: string; credentialsPath: string }> };
let creds: { clientId: string; clientSecret: string; certificatePath: string; privateKeyPath: string };
let proxy: Server;

const text = (p: ManagedProcess) => {
  try {
    return readFileSync(p.logFile, 'utf8');
  } catch {
    return '';
  }
};

beforeAll(async () => {
  stack = await ensureStackUp();
  corp = getForest(stack, 'corp');
  rogue = makeCa(dir, 'rogue');
  procs = new ProcessGroup(join(dir, 'logs'));
  const emDir = join(dir, 'emulator');
  procs.start('graph-emulator', 'apps/graph-emulator/dist/main.js', {}, ['--state-dir', emDir, '--graph-port', '0', '--admin-port', '0']);
  emulator = await waitFor('emulator info.json', () => JSON.parse(readFileSync(join(emDir, 'info.json'), 'utf8')) as typeof emulator, { timeoutMs: 60_000, intervalMs: 200 });
  creds = JSON.parse(readFileSync(emulator.apps.find((a) => a.displayName === 'canopy-writer')!.credentialsPath, 'utf8')) as typeof creds;
  kafka = new KafkaClient(kafkaOptionsSchema.parse({ brokers: stack.kafka.brokers, clientId: `tls-${run}`, namespace: ns }), log);
  await kafka.admin().ensureTopics([{ name: TOPICS.config.name, partitions: TOPICS.config.partitions, config: TOPICS.config.config }]);
  producer = await kafka.producer();
  // A plain TCP relay on another loopback address: the emulator's own certificate (for 127.0.0.1
  // and localhost) reached under a name it does not carry.
  const target = new URL(emulator.graphBaseUrl);
  proxy = createServer((c) => {
    const up = connect(Number(target.port), target.hostname);
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.5', r));
}, 120_000);

afterAll(async () => {
  await procs?.stopAll();
  proxy?.close();
  await producer?.disconnect();
  const redis = new Redis(stack.redis.url);
  await deleteNamespace(kafka, redis, `${ns}:`).finally(async () => {
    redis.disconnect();
    await kafka.close();
  });
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function ldapOutcome(options: { url: string; ca?: string; servername?: string; startTls?: boolean }): Promise<string> {
  // StartTLS needs the host to check the name against (ldapts would check "localhost").
  const tls = { host: new URL(options.url).hostname, ...(options.ca ? { ca: [options.ca] } : {}), ...(options.servername ? { servername: options.servername } : {}) };
  const client = new Client({ url: options.url, timeout: 10_000, connectTimeout: 10_000, ...(options.startTls ? {} : { tlsOptions: tls }) });
  try {
    if (options.startTls) await client.startTLS(tls);
    await client.bind(corp.syncAccount.dn, readSecret(corp.syncAccount.passwordFile));
    return 'bound';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

describe('LDAP: the DC certificate is verified', () => {
  it('ldapts with the right CA binds; another CA, the system store or another host name is refused (LDAPS and StartTLS)', async () => {
    const ca = readFileSync(corp.caFile, 'utf8');
    expect(await ldapOutcome({ url: corp.ldapsUrl, ca })).toBe('bound');
    expect(await ldapOutcome({ url: corp.ldapUrl, ca, startTls: true })).toBe('bound');
    expect(await ldapOutcome({ url: corp.ldapsUrl, ca: rogue.certPem })).toMatch(/certificate/i);
    expect(await ldapOutcome({ url: corp.ldapUrl, ca: rogue.certPem, startTls: true })).toMatch(/certificate/i);
    expect(await ldapOutcome({ url: corp.ldapsUrl })).toMatch(/certificate/i);
    expect(await ldapOutcome({ url: corp.ldapsUrl, ca, servername: 'elsewhere.example.test' })).toMatch(/altnames|does not match/i);
  });

  it('the ad-reader process refuses a DC whose certificate its CA did not sign, or that names another host', async () => {
    const forestDoc = (name: string) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify({ name, connection: { url: corp.ldapsUrl, timeout: '10s', pageSize: 1000 }, domains: [{ dnsName: corp.name }], schedule: { pollInterval: '1h' } }));
      return file;
    };
    const reader = (name: string, extra: Record<string, string>) =>
      procs.start(name, 'apps/ad-reader/dist/main.js', {
        ...stackEnv({}, ns),
        CANOPY_HTTP_PORT: '0',
        CANOPY_HTTP_HOST: '127.0.0.1',
        CANOPY_FOREST: `${name}-${run}`,
        CANOPY_READER_ID: name,
        CANOPY_FOREST_CONFIG_FILE: forestDoc(`${name}-${run}`),
        CANOPY_LDAP__BIND_DN: corp.syncAccount.dn,
        CANOPY_LDAP__BIND_PASSWORD_FILE: corp.syncAccount.passwordFile,
        CANOPY_NOTIFICATIONS__CONNECTIONS: '1',
        ...extra,
      });
    const wrongCa = reader('tls-rogue-ca', { CANOPY_LDAP__CA_FILE: rogue.certFile });
    const noCa = reader('tls-no-ca', {});
    const wrongName = reader('tls-wrong-name', { CANOPY_LDAP__CA_FILE: corp.caFile, CANOPY_LDAP__TLS_SERVER_NAME: 'elsewhere.example.test' });
    const right = reader('tls-right-ca', { CANOPY_LDAP__CA_FILE: corp.caFile });
    await waitFor('the right CA connects', () => /"LDAP connected"/.test(text(right)), { timeoutMs: 120_000, intervalMs: 300 });
    right.child.kill('SIGTERM');
    // All three are watched at once (a loaded machine may start them slowly); a timeout shows
    // what each log said so far.
    const refusals = await Promise.all(
      ([
        [wrongCa, /certificate/i],
        [noCa, /certificate/i],
        [wrongName, /altnames|does not match/i],
      ] as const).map(async ([p, why]) => {
        const refused = await waitFor(
          `${p.name} refused`,
          () => {
            const t = text(p);
            if (/"level":"(error|warn)".*LDAP connect\/bind to ldaps/.test(t)) return t;
            const exit = p.child.exitCode ?? p.child.signalCode;
            throw new Error(`${exit !== null ? `exited (${exit}); ` : ''}log so far: ${t.trimEnd().split('\n').slice(-5).join(' | ').slice(-1500) || '(empty)'}`);
          },
          { timeoutMs: 120_000, intervalMs: 300 },
        );
        p.child.kill('SIGTERM');
        return { name: p.name, refused, why };
      }),
    );
    for (const { name, refused, why } of refusals) {
      expect(refused, name).toMatch(why);
      expect(refused, name).not.toMatch(/"LDAP connected"/);
    }
  }, 280_000);
});

describe('Graph: the service certificate is verified', () => {
  const publishGlobal = async (baseHost: string) => {
    const origin = (u: string) => u.replace(new URL(u).host, baseHost);
    const doc = encodeConfigDocument(
      {
        kind: 'GLOBAL',
        body: {
          tenant: { id: emulator.tenantId, initialDomain: emulator.initialDomain },
          graph: { baseUrl: origin(emulator.graphBaseUrl), authorityHost: origin(emulator.authorityHost), clientId: creds.clientId },
        },
      },
      1,
      'tls-test',
    );
    await producer.send(TOPICS.config.name, [{ key: doc.key, value: doc.value }]);
  };

  const writer = (name: string, namespace: string, extra: Record<string, string>) =>
    procs.start(name, 'apps/graph-writer/dist/main.js', {
      ...stackEnv({}, namespace),
      CANOPY_HTTP_PORT: '0',
      CANOPY_HTTP_HOST: '127.0.0.1',
      CANOPY_GRAPH__CERTIFICATE_FILE: creds.certificatePath,
      CANOPY_GRAPH__PRIVATE_KEY_FILE: creds.privateKeyPath,
      CANOPY_WRITER__GROUP_ID: `${name}-${run}`,
      ...extra,
    });

  it('the graph-writer process refuses Graph with another CA or none, and connects with the right one', async () => {
    await publishGlobal(new URL(emulator.graphBaseUrl).host);
    const wrongCa = writer('gw-rogue-ca', ns, { NODE_EXTRA_CA_CERTS: rogue.certFile });
    const noCa = writer('gw-no-ca', ns, {});
    const right = writer('gw-right-ca', ns, { NODE_EXTRA_CA_CERTS: emulator.caCertPath });
    await waitFor('the right CA connects', () => /"graph-writer consuming"/.test(text(right)), { timeoutMs: 90_000, intervalMs: 300 });
    for (const p of [wrongCa, noCa]) {
      const refused = await waitFor(`${p.name} refused`, () => /Graph not reachable yet/.test(text(p)) && text(p), { timeoutMs: 60_000, intervalMs: 300 });
      expect(refused, p.name).toMatch(/certificate/i);
      expect(refused, p.name).not.toMatch(/"graph-writer consuming"/);
    }
  }, 150_000);

  it('the graph-writer process refuses Graph reached under a name its certificate does not carry', async () => {
    // Its own namespace: a global document pointing at the relay on 127.0.0.5.
    const ns2 = `${ns}-b`;
    const k2 = new KafkaClient(kafkaOptionsSchema.parse({ brokers: stack.kafka.brokers, clientId: `tls-${run}-b`, namespace: ns2 }), log);
    await k2.admin().ensureTopics([{ name: TOPICS.config.name, partitions: TOPICS.config.partitions, config: TOPICS.config.config }]);
    const p2 = await k2.producer();
    const proxyHost = `127.0.0.5:${(proxy.address() as { port: number }).port}`;
    const origin = (u: string) => u.replace(new URL(u).host, proxyHost);
    const doc = encodeConfigDocument(
      { kind: 'GLOBAL', body: { tenant: { id: emulator.tenantId, initialDomain: emulator.initialDomain }, graph: { baseUrl: origin(emulator.graphBaseUrl), authorityHost: origin(emulator.authorityHost), clientId: creds.clientId } } },
      1,
      'tls-test',
    );
    await p2.send(TOPICS.config.name, [{ key: doc.key, value: doc.value }]);
    await p2.disconnect();
    try {
      const wrongName = writer('gw-wrong-name', ns2, { NODE_EXTRA_CA_CERTS: emulator.caCertPath });
      const refused = await waitFor('wrong host name refused', () => /Graph not reachable yet/.test(text(wrongName)) && text(wrongName), { timeoutMs: 60_000, intervalMs: 300 });
      expect(refused).toMatch(/altnames|does not match/i);
      expect(refused).not.toMatch(/"graph-writer consuming"/);
      wrongName.child.kill('SIGTERM');
    } finally {
      const redis = new Redis(stack.redis.url);
      await deleteNamespace(k2, redis, `${ns2}:`).finally(async () => {
        redis.disconnect();
        await k2.close();
      });
    }
  }, 120_000);
});
