import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getForest, type ForestInfo, type StackInfo } from '@canopy/stack';
import { ProcessGroup, type ManagedProcess } from './process-group.js';

export interface EmulatorInfo {
  tenantId: string;
  initialDomain: string;
  graphBaseUrl: string;
  authorityHost: string;
  adminUrl: string;
  caCertPath: string;
  apps: Array<{ displayName: string; clientId: string; credentialsPath: string }>;
  quota: string;
}

export interface AppCredentials {
  clientId: string;
  certificatePath: string;
  privateKeyPath: string;
}

export interface PipelineOptions {
  stack: StackInfo;
  stateDir: string;
  /** Kafka namespace and Redis key prefix (isolates a test run on the shared stack). */
  namespace?: string;
  quotaMultiplier?: number;
  /** Extra emulator configuration (replication lag, faults, ...). */
  emulatorConfig?: Record<string, unknown>;
  /** The forests.yaml to apply, given the emulator's tenant and the writer's client id. */
  configYaml: (em: EmulatorInfo, writerClientId: string) => string;
  /** Reader replicas per forest key (default 1 each for corp and fabrikam). */
  readers?: Record<string, number>;
  /** Transformer and graph-writer replicas (default 1 each). */
  transformers?: number;
  writers?: number;
  /** Extra environment per app (e.g. shorter session timeouts for the chaos suite). */
  appEnv?: Partial<Record<'scheduler' | 'transformer' | 'graph-writer' | 'ad-reader', Record<string, string>>>;
  log?: (msg: string) => void;
}

export interface Pipeline {
  procs: ProcessGroup;
  emulator: EmulatorInfo;
  writerCredentials: AppCredentials;
  scheduler: ManagedProcess;
  token: string;
  tokenFile: string;
  configFile: string;
  env: Record<string, string>;
  startReader(forest: ForestInfo, n: number): Promise<ManagedProcess>;
  startWriter(n: number): Promise<ManagedProcess>;
  startTransformer(n: number): Promise<ManagedProcess>;
  api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  stop(): Promise<Array<{ name: string; code: number | string }>>;
}

async function waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = check();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Start the Graph emulator and every Canopy app as separate processes against the local stack:
 * what the demo runs and what the acceptance suite tests.
 */
export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const say = o.log ?? (() => undefined);
  mkdirSync(o.stateDir, { recursive: true });
  const procs = new ProcessGroup(join(o.stateDir, 'logs'));
  const emDir = join(o.stateDir, 'emulator');
  mkdirSync(emDir, { recursive: true });
  rmSync(join(emDir, 'info.json'), { force: true });
  writeFileSync(
    join(emDir, 'config.json'),
    JSON.stringify({ domains: o.stack.forests.map((f) => f.name), throttle: { quotaMultiplier: o.quotaMultiplier ?? 1 }, ...(o.emulatorConfig ?? {}) }, null, 2),
  );
  try {
    return await startAll(o, procs, emDir, say);
  } catch (err) {
    await procs.stopAll(); // nothing left running when the start fails half-way
    throw err;
  }
}

async function startAll(o: PipelineOptions, procs: ProcessGroup, emDir: string, say: (msg: string) => void): Promise<Pipeline> {
  procs.start('graph-emulator', 'apps/graph-emulator/dist/main.js', {}, [
    '--state-dir', emDir, '--graph-port', '0', '--admin-port', '0', '--config', join(emDir, 'config.json'),
  ]);
  const emulator = await waitFor(
    'emulator info.json',
    () => existsSync(join(emDir, 'info.json')) && (JSON.parse(readFileSync(join(emDir, 'info.json'), 'utf8')) as EmulatorInfo),
    60_000,
  );
  const writerApp = emulator.apps.find((a) => a.displayName === 'canopy-writer') ?? emulator.apps[0]!;
  const writerCredentials = JSON.parse(readFileSync(writerApp.credentialsPath, 'utf8')) as AppCredentials;
  say(`Graph emulator ${emulator.graphBaseUrl}, tenant ${emulator.tenantId} (${emulator.initialDomain}), admin ${emulator.adminUrl}, quota ${emulator.quota}`);

  const token = randomBytes(24).toString('hex');
  const tokenFile = join(o.stateDir, 'control.token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const configFile = join(o.stateDir, 'forests.yaml');
  writeFileSync(configFile, o.configYaml(emulator, writerCredentials.clientId));
  const env: Record<string, string> = {
    CANOPY_KAFKA__BROKERS: o.stack.kafka.brokers.join(','),
    CANOPY_REDIS__URL: o.stack.redis.url,
    ...(o.namespace
      ? {
          CANOPY_KAFKA__NAMESPACE: o.namespace,
          CANOPY_REDIS__KEY_PREFIX: `${o.namespace}:canopy:`,
          CANOPY_WRITER__REDIS_PREFIX: `${o.namespace}:canopy:gw`,
        }
      : {}),
  };
  const scheduler = await procs.startApp('scheduler', 'scheduler', {
    ...env,
    CANOPY_CONTROL__TOKEN_FILE: tokenFile,
    CANOPY_INITIAL_CONFIG: configFile,
    CANOPY_TOPIC_PARTITIONS: '3',
    ...o.appEnv?.scheduler,
  });
  say(`scheduler: control API ${scheduler.url}`);
  // The first replica keeps the name "transformer" (its log file name is documented).
  const startTransformer = (n: number) =>
    procs.startApp(n === 1 ? 'transformer' : `transformer-${n}`, 'transformer', {
      ...env,
      CANOPY_TOPIC_REFRESH_MS: '2000',
      ...o.appEnv?.transformer,
    });
  for (let n = 1; n <= (o.transformers ?? 1); n++) await startTransformer(n);
  const startWriter = (n: number) =>
    procs.startApp(`graph-writer-${n}`, 'graph-writer', {
      ...env,
      NODE_EXTRA_CA_CERTS: emulator.caCertPath,
      CANOPY_GRAPH__CLIENT_ID: writerCredentials.clientId,
      CANOPY_GRAPH__TENANT_ID: emulator.tenantId,
      CANOPY_GRAPH__CERTIFICATE_FILE: writerCredentials.certificatePath,
      CANOPY_GRAPH__PRIVATE_KEY_FILE: writerCredentials.privateKeyPath,
      ...o.appEnv?.['graph-writer'],
    });
  for (let n = 1; n <= (o.writers ?? 1); n++) await startWriter(n);
  const startReader = (f: ForestInfo, n: number) =>
    procs.startApp(`ad-reader-${f.key}-${n}`, 'ad-reader', {
      ...env,
      CANOPY_FOREST: f.name,
      CANOPY_READER_ID: `ad-reader-${f.key}-${n}`,
      CANOPY_LDAP__BIND_DN: f.syncAccount.dn,
      CANOPY_LDAP__BIND_PASSWORD_FILE: f.syncAccount.passwordFile,
      CANOPY_LDAP__CA_FILE: f.caFile,
      ...o.appEnv?.['ad-reader'],
    });
  const readers = o.readers ?? { corp: 1, fabrikam: 1 };
  for (const [key, count] of Object.entries(readers)) {
    for (let n = 1; n <= count; n++) await startReader(getForest(o.stack, key), n);
  }
  say(`${o.transformers ?? 1} transformer(s), ${o.writers ?? 1} graph-writer(s) and ${Object.values(readers).reduce((a, b) => a + b, 0)} ad-reader(s) started`);
  const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${scheduler.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    procs,
    emulator,
    writerCredentials,
    scheduler,
    token,
    tokenFile,
    configFile,
    env,
    startReader,
    startWriter,
    startTransformer,
    api,
    stop: () => procs.stopAll(),
  };
}

export interface SampleConfigOptions {
  /** Scope each forest to its seeded tree (OU=Canopy) only, ignoring objects other suites add. */
  canopyTreeOnly?: boolean;
  /** Extra user mappings (YAML flow mappings), e.g. "{ type: expression, target: jobTitle, expression: 'ToUpper([title])' }". */
  userMappings?: string[];
  /** Accidental-delete threshold (default: Microsoft's 500). */
  deleteThreshold?: number;
  /** Quarantine settings (default: 50% of the last 100 writes failed). */
  quarantine?: { failureRate: number; minOps: number };
  /** DirSync poll fallback (default 2m, as Cloud Sync); notifications (deletions included) wake the reader before it. */
  pollInterval?: string;
  /** Extra OUs per forest key: included in scope, and excluded (a test's own tree outside OU=Canopy). */
  extraOus?: Record<string, { include?: string[]; exclude?: string[] }>;
}

/** The demo's sample configuration: default mappings, one OU and one group scoped out. */
export function sampleConfigYaml(stack: StackInfo, em: EmulatorInfo, writerClientId: string, options: SampleConfigOptions = {}): string {
  const corp = getForest(stack, 'corp');
  const fab = getForest(stack, 'fabrikam');
  const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');
  const ous = (f: ForestInfo) => {
    const extra = options.extraOus?.[f.key] ?? {};
    const include = [...(options.canopyTreeOnly ? [`OU=Canopy,${f.baseDn}`] : []), ...(extra.include ?? [])];
    const exclude = [`OU=Quarantine,OU=Canopy,${f.baseDn}`, ...(extra.exclude ?? [])];
    return `        ous: { ${include.length ? `include: [${list(include)}], ` : ''}exclude: [${list(exclude)}] }\n`;
  };
  const mappings = options.userMappings?.length
    ? `      mappings:\n        user:\n          mappings:\n${options.userMappings.map((m) => `            - ${m}\n`).join('')}`
    : '';
  const forest = (f: ForestInfo, extraScoping: string) => `  - name: ${f.name}
    connection: { url: '${f.ldapsUrl}' }
    domains: [{ dnsName: ${f.name} }]
    schedule: { pollInterval: ${options.pollInterval ?? '2m'}, fullSyncInterval: 7d, notifications: true }
    rules:
      scoping:
${ous(f)}${extraScoping}${mappings}`;
  return `# One OU (Quarantine) and one group (GG-Service-Accounts) are scoped out; default mappings.
global:
  tenant:
    id: ${em.tenantId}
    initialDomain: ${em.initialDomain}
    verifiedDomains: [${corp.name}, ${fab.name}]
  graph:
    clientId: ${writerClientId}
    baseUrl: ${em.graphBaseUrl}
    authorityHost: ${em.authorityHost}
${options.deleteThreshold === undefined ? '' : `  deletes: { threshold: ${options.deleteThreshold} }\n`}${
  options.quarantine ? `  quarantine: { failureRate: ${options.quarantine.failureRate}, minOps: ${options.quarantine.minOps} }\n` : ''
}forests:
${forest(
  corp,
  `        filters:
          - name: not-the-service-accounts-group
            objectTypes: [group]
            clauses: [{ attribute: cn, operator: NOT EQUALS, value: GG-Service-Accounts }]
`,
)}${forest(fab, '')}`;
}
