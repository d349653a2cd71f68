import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@canopy/logger';
import { z } from 'zod';
import { ensureSigningKey, ensureTls, makeClientCertificate } from './certs.js';
import { AdjustableClock, type Clock } from './clock.js';
import { Counters } from './counters.js';
import { Directory, type DirectoryState, type StateRecord } from './directory.js';
import { DEFAULT_FAULTS, FaultInjector, type FaultSettings } from './faults.js';
import { GraphService, type GraphResponse } from './graph.js';
import { IdentityPlatform, TokenError, describeCertificate, type AppRegistration } from './identity.js';
import { DEFAULT_THROTTLE, Throttler, type ThrottleSettings } from './throttle.js';

// ---- configuration --------------------------------------------------------------------------

export const appConfigSchema = z.object({
  displayName: z.string().min(1),
  clientId: z.string().uuid().optional(),
  /** A fixed secret, or true to generate one (persisted in the state dir). */
  secret: z.union([z.string().min(1), z.boolean()]).optional(),
  /** true to generate a certificate credential, or a PEM certificate to register. */
  certificate: z.union([z.boolean(), z.string()]).optional(),
  roles: z.array(z.string()).default([]),
});
export type AppConfig = z.input<typeof appConfigSchema>;

/** Numbers and booleans may arrive as strings from the environment (CANOPY_GRAPH_EMULATOR_*). */
const num = () => z.coerce.number();
const bool = () => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());

export const runtimeConfigSchema = z
  .object({
    replicationLagMs: num().int().min(0),
    /** Delay before a newly registered directory extension property can be used. */
    extensionPropagationMs: num().int().min(0),
    /** After a PATCH, reads keep returning the previous values for this long. */
    updateLagMs: num().int().min(0),
    throttle: z.object({
      quotaMultiplier: num().positive(),
      timeScale: num().positive(),
      tenantSize: z.enum(['auto', 'small', 'medium', 'large']),
      enabled: bool(),
    }).partial(),
    faults: z.object({
      errorRate: num().min(0).max(1),
      errorStatuses: z.array(num().int().min(400).max(599)),
      slowRate: num().min(0).max(1),
      slowMs: num().int().min(0),
      dropRate: num().min(0).max(1),
      throttleRate: num().min(0).max(1),
      throttleRetryAfterSeconds: num().int().min(0),
      pathPattern: z.string().optional(),
      seed: num().int(),
    }).partial(),
    /** Verified custom domains besides the initial <tenant>.onmicrosoft.com. */
    domains: z.array(z.string().min(3)),
    tokenLifetimeSeconds: num().int().min(60),
    /** $batch items without dependsOn: 'shuffled' (default, as Graph promises no order) or 'sequential'. */
    batchOrder: z.enum(['shuffled', 'sequential']),
    enforceMailNicknameUniqueness: bool(),
  })
  .partial()
  .strict();
export type RuntimeConfig = z.output<typeof runtimeConfigSchema>;

export interface EmulatorOptions extends RuntimeConfig {
  /** Where the CA, signing key, app credentials and info.json live. Default: a new temp dir. */
  stateDir?: string;
  host?: string;
  /** HTTPS port of Graph and the identity platform; 0 (default) = ephemeral. */
  graphPort?: number;
  /** Plain-HTTP admin port on loopback; 0 (default) = ephemeral. */
  adminPort?: number;
  /** Tenant id (GUID). Default: persisted in the state dir, random the first time. */
  tenantId?: string;
  /** Initial domain prefix: <tenantName>.onmicrosoft.com. Default 'canopyemulator'. */
  tenantName?: string;
  /** Apps to register. Default: one app 'canopy-writer' with a secret and a certificate. */
  apps?: AppConfig[];
  /** Token audience. Default https://graph.microsoft.com. */
  resource?: string;
  /**
   * Host name clients use (info.json URLs, MSAL authority). Default: `host`, or 127.0.0.1 when
   * listening on all interfaces. Links in responses follow each request's own Host header.
   */
  publicHost?: string;
  /** Extra names and IPs for the server certificate (always 127.0.0.1 and localhost), e.g. a compose service name. */
  tlsHosts?: string[];
  /** Time source; defaults to an AdjustableClock on wall time (advance with clock.advance). */
  clock?: Clock;
  logger?: Logger;
}

export interface EmulatorApp {
  displayName: string;
  clientId: string;
  objectId: string;
  roles: string[];
  clientSecret?: string;
  certificatePem?: string;
  privateKeyPem?: string;
  certificatePath?: string;
  privateKeyPath?: string;
  thumbprintSha1?: string;
  thumbprintSha256?: string;
  /** JSON file in the state dir holding these credentials. */
  credentialsPath: string;
}

export interface EmulatorInfo {
  tenantId: string;
  initialDomain: string;
  domains: string[];
  graphUrl: string;
  graphBaseUrl: string;
  authorityHost: string;
  authority: string;
  knownAuthority: string;
  tokenEndpoint: string;
  adminUrl: string;
  caCertPath: string;
  stateDir: string;
  resource: string;
  apps: Array<{ displayName: string; clientId: string; roles: string[]; credentialsPath: string }>;
  quota: string;
}

export interface EmulatorStateFile {
  version: 1;
  tenantId: string;
  domains: string[];
  apps: AppRegistration[];
  directory: DirectoryState;
}

export interface Emulator extends EmulatorInfo {
  caCertPem: string;
  infoPath: string;
  apps: EmulatorApp[] & EmulatorInfo['apps'];
  clock: Clock;
  directory: Directory;
  throttler: Throttler;
  faults: FaultInjector;
  counters: Counters;
  identity: IdentityPlatform;
  graph: GraphService;
  /** MSAL `authorityMetadata` JSON for this tenant (skips discovery). */
  authorityMetadata(): string;
  configure(patch: RuntimeConfig): void;
  config(): Required<Pick<RuntimeConfig, 'replicationLagMs' | 'updateLagMs' | 'extensionPropagationMs' | 'batchOrder' | 'domains' | 'tokenLifetimeSeconds' | 'enforceMailNicknameUniqueness'>> & { throttle: ThrottleSettings; faults: FaultSettings };
  registerApp(cfg: AppConfig): EmulatorApp;
  removeApp(clientId: string): boolean;
  exportState(): EmulatorStateFile;
  importState(state: EmulatorStateFile): void;
  /** Stream the tenant to NDJSON (first line `{type:'meta',…}`, then one object per line). */
  saveState(path: string): Promise<{ users: number; groups: number }>;
  /** Replace the tenant from an NDJSON file written by saveState (or GET /state?format=ndjson). */
  loadState(path: string): Promise<{ users: number; groups: number }>;
  /** Empty the directory, counters and throttle windows (apps, domains and config stay). */
  reset(): void;
  close(): Promise<void>;
}

// ---- helpers --------------------------------------------------------------------------------

const MAX_BODY = 4 * 1024 * 1024;
class BodyTooLargeError extends Error {}
const MAX_ADMIN_BODY = 256 * 1024 * 1024;

function readBody(req: IncomingMessage, max = MAX_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new BodyTooLargeError(`request body larger than ${max} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: unknown, raw = false): void {
  const payload = body === undefined ? undefined : Buffer.from(raw ? String(body) : JSON.stringify(body));
  const h: Record<string, string | number> = { ...headers };
  if (payload) {
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['Content-Type'] = 'application/json; charset=utf-8';
    h['Content-Length'] = payload.length;
  } else h['Content-Length'] = 0;
  res.writeHead(status, h);
  res.end(payload);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Write JSON so a reader polling for the file never sees half of it. */
function writeJsonAtomic(path: string, value: unknown, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2), { mode });
  renameSync(tmp, path);
}

function loadOrCreateJson<T>(path: string, make: () => T): T {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as T;
  const v = make();
  writeFileSync(path, JSON.stringify(v, null, 2), { mode: 0o600 });
  return v;
}

const DEFAULT_APPS: AppConfig[] = [
  { displayName: 'canopy-writer', secret: true, certificate: true, roles: ['User.ReadWrite.All', 'Group.ReadWrite.All', 'GroupMember.ReadWrite.All', 'Application.ReadWrite.OwnedBy'] },
];

// ---- start ----------------------------------------------------------------------------------

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'canopy-graph-emulator-'));
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(stateDir, 'apps'), { recursive: true, mode: 0o700 });
  // info.json appears only once this instance listens (a waiting test never reads a stale one)
  rmSync(join(stateDir, 'info.json'), { force: true });
  const host = options.host ?? '127.0.0.1';
  const log = options.logger;
  const clock = options.clock ?? new AdjustableClock();
  const tenant = loadOrCreateJson(join(stateDir, 'tenant.json'), () => ({ tenantId: options.tenantId ?? randomUUID(), tenantName: options.tenantName ?? 'canopyemulator' }));
  const tenantId = (options.tenantId ?? tenant.tenantId).toLowerCase();
  const initialDomain = `${options.tenantName ?? tenant.tenantName}.onmicrosoft.com`.toLowerCase();
  const resource = options.resource ?? 'https://graph.microsoft.com';

  const cfg = {
    replicationLagMs: options.replicationLagMs ?? 0,
    extensionPropagationMs: options.extensionPropagationMs ?? 0,
    updateLagMs: options.updateLagMs ?? 0,
    domains: [...(options.domains ?? [])],
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    enforceMailNicknameUniqueness: options.enforceMailNicknameUniqueness ?? false,
    batchOrder: options.batchOrder ?? ('shuffled' as 'shuffled' | 'sequential'),
  };
  const verifiedDomains = (): string[] => [initialDomain, ...cfg.domains.map((d) => d.toLowerCase())];

  const publicHost = options.publicHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const tls = ensureTls(stateDir, [...new Set(['127.0.0.1', 'localhost', publicHost, ...(options.tlsHosts ?? [])])]);
  const signingKeyPem = ensureSigningKey(stateDir);
  const counters = new Counters();
  const faults = new FaultInjector(counters, { ...DEFAULT_FAULTS, ...options.faults });
  const directory = new Directory({ clock, replicationLagMs: cfg.replicationLagMs, extensionPropagationMs: cfg.extensionPropagationMs, updateLagMs: cfg.updateLagMs, enforceMailNicknameUniqueness: cfg.enforceMailNicknameUniqueness });
  const throttler = new Throttler(clock, { ...DEFAULT_THROTTLE, ...options.throttle }, tenantId, () => directory.users.liveCount);
  const registrations = new Map<string, AppRegistration>();
  const emulatorApps: EmulatorApp[] = [];
  let graphBase = '';

  const identity = new IdentityPlatform({
    clock,
    tenantId,
    tenantAliases: verifiedDomains,
    authorityBase: () => graphBase,
    resource,
    signingKeyPem,
    apps: () => registrations.values(),
    get tokenLifetimeSeconds() {
      return cfg.tokenLifetimeSeconds;
    },
  } as ConstructorParameters<typeof IdentityPlatform>[0]);

  const graph = new GraphService({
    clock,
    tenantId,
    directory,
    identity,
    throttler,
    faults,
    counters,
    baseUrl: () => graphBase,
    verifiedDomains,
    initialDomain: () => initialDomain,
    apps: () => [...registrations.values()],
    batchOrder: () => cfg.batchOrder,
  });

  const registerApp = (input: AppConfig): EmulatorApp => {
    const c = appConfigSchema.parse(input);
    const file = join(stateDir, 'apps', `${c.displayName.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<EmulatorApp>) : {};
    const clientId = (c.clientId ?? saved.clientId ?? randomUUID()).toLowerCase();
    const objectId = saved.objectId ?? randomUUID();
    const app: EmulatorApp = { displayName: c.displayName, clientId, objectId, roles: c.roles, credentialsPath: file };
    if (c.secret === true) app.clientSecret = saved.clientSecret ?? `cnp~${randomBytes(24).toString('base64url')}`;
    else if (typeof c.secret === 'string') app.clientSecret = c.secret;
    let certPem: string | undefined;
    if (c.certificate === true) {
      const made = makeClientCertificate(join(stateDir, 'apps'), c.displayName.replace(/[^A-Za-z0-9_.-]/g, '_'));
      certPem = made.certPem;
      app.certificatePem = made.certPem;
      app.privateKeyPem = made.keyPem;
      app.certificatePath = made.certPath;
      app.privateKeyPath = made.keyPath;
    } else if (typeof c.certificate === 'string') {
      certPem = c.certificate;
      app.certificatePem = c.certificate;
    }
    const reg: AppRegistration = {
      clientId,
      objectId,
      servicePrincipalId: randomUUID(),
      displayName: c.displayName,
      secrets: app.clientSecret ? [app.clientSecret] : [],
      certificates: certPem ? [describeCertificate(certPem)] : [],
      roles: c.roles,
    };
    if (reg.certificates[0]) {
      app.thumbprintSha1 = reg.certificates[0].thumbprintSha1;
      app.thumbprintSha256 = reg.certificates[0].thumbprintSha256;
    }
    for (const [id, r] of registrations) if (r.displayName === c.displayName && id !== clientId) registrations.delete(id);
    registrations.set(clientId, reg);
    const idx = emulatorApps.findIndex((a) => a.clientId === clientId || a.displayName === c.displayName);
    if (idx >= 0) emulatorApps.splice(idx, 1);
    emulatorApps.push(app);
    writeJsonAtomic(
      file,
      { ...app, privateKeyPem: undefined, certificatePem: undefined, tenantId, authority: `${graphBase}/${tenantId}`, knownAuthority: graphBase ? new URL(graphBase).host : undefined, graphBaseUrl: `${graphBase}/v1.0`, caCertPath: tls.caCertPath },
      0o600,
    );
    return app;
  };

  // ---- Graph + identity HTTPS server --------------------------------------------------------
  const onGraph = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://x');
    const path = url.pathname;
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    const raw = await readBody(req);

    if (path === '/v1.0' || path.startsWith('/v1.0/') || path.startsWith('/beta')) {
      if (path.startsWith('/beta')) {
        send(res, 400, { 'Content-Type': 'application/json' }, { error: { code: 'Emulator_NotSupported', message: 'The emulator serves only /v1.0.' } });
        return;
      }
      const cf = faults.connectionFault(path.slice(5));
      if (cf.drop) {
        req.socket.destroy();
        return;
      }
      let body: unknown;
      let badJson = false;
      if (raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          badJson = true;
        }
      }
      const out: GraphResponse = await graph.handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body, badJson });
      if (cf.delayMs) await new Promise((r) => setTimeout(r, cf.delayMs));
      send(res, out.status, out.headers, out.body, out.raw);
      return;
    }

    const m = /^\/([^/]+)\/(oauth2\/v2\.0\/token|v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys)$/.exec(path);
    const requestBase = headers.host ? `https://${headers.host}` : graphBase;
    if (m) {
      const tenantSeg = decodeURIComponent(m[1]!);
      const noStore = { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache', 'x-ms-request-id': randomUUID() };
      if (m[2] === 'oauth2/v2.0/token') {
        if (req.method !== 'POST') {
          send(res, 405, noStore, { error: 'invalid_request', error_description: 'AADSTS900561: The endpoint only accepts POST requests.' });
          return;
        }
        let basic: { id: string; secret: string } | undefined;
        const auth = headers.authorization;
        if (auth?.toLowerCase().startsWith('basic ')) {
          const [id, secret] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
          basic = { id: decodeURIComponent(id ?? ''), secret: decodeURIComponent(secret ?? '') };
        }
        try {
          const out = identity.issue(tenantSeg, new URLSearchParams(raw.toString('utf8')), basic, requestBase);
          counters.token(true);
          send(res, 200, noStore, out);
        } catch (err) {
          if (!(err instanceof TokenError)) throw err;
          counters.token(false);
          send(res, err.status, noStore, err.body(clock.now()));
        }
        return;
      }
      if (!identity.knowsTenant(tenantSeg)) {
        send(res, 400, noStore, new TokenError(400, 'invalid_tenant', 90002, `Tenant '${tenantSeg}' not found.`).body(clock.now()));
        return;
      }
      if (m[2] === 'discovery/v2.0/keys') send(res, 200, {}, identity.jwks(requestBase));
      else send(res, 200, {}, identity.openidConfiguration(tenantSeg, requestBase));
      return;
    }
    send(res, 404, {}, { error: { code: 'NotFound', message: `No route for ${path} (the emulator serves /v1.0 and /{tenant}/oauth2/v2.0/token).` } });
  };

  const graphServer = createHttpsServer({ key: tls.serverKeyPem, cert: tls.serverCertPem, keepAliveTimeout: 65_000 }, (req, res) => {
    onGraph(req, res).catch((err: unknown) => {
      if (err instanceof BodyTooLargeError) {
        if (!res.headersSent) send(res, 413, { Connection: 'close' }, { error: { code: 'RequestEntityTooLarge', message: err.message } });
        return;
      }
      log?.error({ err }, 'graph emulator request failed');
      if (!res.headersSent) send(res, 500, {}, { error: { code: 'UnknownError', message: `Emulator bug: ${(err as Error).message}` } });
      else res.destroy();
    });
  });
  const graphPort = await listen(graphServer, options.graphPort ?? 0, host);
  graphBase = `https://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${graphPort}`;

  // ---- configuration and state --------------------------------------------------------------
  const configure = (patch: RuntimeConfig): void => {
    const p = runtimeConfigSchema.parse(patch);
    if (p.replicationLagMs !== undefined) {
      cfg.replicationLagMs = p.replicationLagMs;
      directory.options.replicationLagMs = p.replicationLagMs;
    }
    if (p.updateLagMs !== undefined) {
      cfg.updateLagMs = p.updateLagMs;
      directory.options.updateLagMs = p.updateLagMs;
    }
    if (p.extensionPropagationMs !== undefined) {
      cfg.extensionPropagationMs = p.extensionPropagationMs;
      directory.options.extensionPropagationMs = p.extensionPropagationMs;
    }
    if (p.domains) cfg.domains = [...p.domains];
    if (p.batchOrder) cfg.batchOrder = p.batchOrder;
    if (p.tokenLifetimeSeconds !== undefined) cfg.tokenLifetimeSeconds = p.tokenLifetimeSeconds;
    if (p.enforceMailNicknameUniqueness !== undefined) {
      cfg.enforceMailNicknameUniqueness = p.enforceMailNicknameUniqueness;
      directory.options.enforceMailNicknameUniqueness = p.enforceMailNicknameUniqueness;
    }
    if (p.throttle) throttler.settings = { ...throttler.settings, ...p.throttle };
    if (p.faults) faults.configure(p.faults);
  };
  const currentConfig = () => ({ ...cfg, domains: [...cfg.domains], throttle: { ...throttler.settings }, faults: { ...faults.settings } });

  const reset = (): void => {
    directory.clear();
    counters.reset();
    throttler.reset();
  };
  const exportState = (): EmulatorStateFile => ({ version: 1, tenantId, domains: [...cfg.domains], apps: [...registrations.values()], directory: directory.exportState() });
  const importState = (state: EmulatorStateFile): void => {
    if (state.version !== 1) throw new Error(`unsupported state version ${String(state.version)}`);
    directory.clear();
    directory.importState(state.directory);
    cfg.domains = [...(state.domains ?? [])];
    if (state.apps?.length) importApps(state.apps);
    throttler.reset();
  };
  const importApps = (apps: AppRegistration[]): void => {
    registrations.clear();
      emulatorApps.splice(0, emulatorApps.length);
      for (const a of apps) {
        registrations.set(a.clientId, a);
        emulatorApps.push({
          displayName: a.displayName,
          clientId: a.clientId,
          objectId: a.objectId,
          roles: a.roles,
          clientSecret: a.secrets[0],
          certificatePem: a.certificates[0]?.pem,
          thumbprintSha1: a.certificates[0]?.thumbprintSha1,
          thumbprintSha256: a.certificates[0]?.thumbprintSha256,
          credentialsPath: join(stateDir, 'apps', `${a.displayName.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`),
        });
      }
  };

  /** Write NDJSON records to a stream, yielding to the event loop now and then. */
  const writeNdjson = async (out: Writable): Promise<{ users: number; groups: number }> => {
    const counts = { users: 0, groups: 0 };
    const meta = { type: 'meta', version: 1, tenantId, domains: [...cfg.domains], apps: [...registrations.values()] };
    let buf = `${JSON.stringify(meta)}\n`;
    const flush = async (): Promise<void> => {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    };
    for (const r of directory.exportRecords()) {
      if (r.type === 'user') counts.users++;
      if (r.type === 'group') counts.groups++;
      buf += `${JSON.stringify(r)}\n`;
      if (buf.length > 1 << 20) await flush();
    }
    await flush();
    return counts;
  };
  const readNdjson = async (input: Readable): Promise<{ users: number; groups: number }> => {
    directory.clear();
    throttler.reset();
    const imp = directory.importer();
    const rl = createInterface({ input, crlfDelay: Infinity });
    let first = true;
    for await (const line of rl) {
      if (!line.trim()) continue;
      const rec = JSON.parse(line) as StateRecord | { type: 'meta'; version: number; domains?: string[]; apps?: AppRegistration[] };
      if (rec.type === 'meta') {
        if (!first || rec.version !== 1) throw new Error('the meta record must come first, with version 1');
        cfg.domains = [...(rec.domains ?? cfg.domains)];
        if (rec.apps?.length) importApps(rec.apps);
      } else imp.add(rec);
      first = false;
    }
    return imp.finish();
  };
  const saveState = async (path: string): Promise<{ users: number; groups: number }> => {
    const out = createWriteStream(path, { mode: 0o600 });
    const counts = await writeNdjson(out);
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return counts;
  };
  const loadState = (path: string): Promise<{ users: number; groups: number }> => readNdjson(createReadStream(path));

  for (const a of options.apps ?? DEFAULT_APPS) registerApp(a);

  const authorityMetadata = (): string =>
    JSON.stringify({
      token_endpoint: identity.tokenEndpoint(tenantId),
      issuer: `${graphBase}/${tenantId}/v2.0`,
      authorization_endpoint: `${graphBase}/${tenantId}/oauth2/v2.0/authorize`,
      jwks_uri: `${graphBase}/${tenantId}/discovery/v2.0/keys`,
      end_session_endpoint: `${graphBase}/${tenantId}/oauth2/v2.0/logout`,
    });

  // ---- admin server -------------------------------------------------------------------------
  let info!: EmulatorInfo;
  const adminServer = createHttpServer((req, res) => {
    onAdmin(req, res).catch((err: unknown) => {
      const status = err instanceof z.ZodError || err instanceof SyntaxError ? 400 : 500;
      send(res, status, {}, { error: status === 400 ? 'bad_request' : 'internal', message: err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message });
    });
  });
  const onAdmin = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const ndjson = url.searchParams.get('format') === 'ndjson';
    if (url.pathname === '/state' && ndjson) {
      if (req.method === 'GET') {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
        await writeNdjson(res);
        res.end();
        return;
      }
      if (req.method === 'PUT') return send(res, 200, {}, await readNdjson(req));
    }
    const raw = await readBody(req, MAX_ADMIN_BODY);
    const json = (): unknown => (raw.length ? JSON.parse(raw.toString('utf8')) : {});
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    switch (route) {
      case 'GET /healthz':
        return send(res, 200, {}, { status: 'ok', users: directory.users.liveCount, groups: directory.groups.liveCount });
      case 'GET /info':
        return send(res, 200, {}, info);
      case 'GET /config':
        return send(res, 200, {}, currentConfig());
      case 'PATCH /config':
        configure(json() as RuntimeConfig);
        return send(res, 200, {}, currentConfig());
      case 'GET /apps':
        return send(res, 200, {}, emulatorApps);
      case 'POST /apps':
        return send(res, 201, {}, registerApp(json() as AppConfig));
      case 'GET /counters':
        return send(res, 200, {}, counters.snapshot());
      case 'POST /counters/reset':
        counters.reset();
        return send(res, 204, {});
      case 'GET /state':
        return send(res, 200, {}, exportState());
      case 'GET /users': {
        // One user by UPN, as the tenant holds it now (for watchers that cannot afford /state).
        const upn = url.searchParams.get('upn');
        if (!upn) return send(res, 400, {}, { error: 'bad_request', message: 'upn: required' });
        const u = directory.userByUpn(upn);
        return u ? send(res, 200, {}, { id: u.id, state: u.state, props: directory.readProps(u) }) : send(res, 404, {}, { error: 'not_found', message: `no live user ${upn}` });
      }
      case 'PUT /state':
        importState(json() as EmulatorStateFile);
        return send(res, 204, {});
      case 'POST /reset':
        reset();
        return send(res, 204, {});
      case 'GET /clock':
        return send(res, 200, {}, { now: clock.now(), iso: new Date(clock.now()).toISOString() });
      case 'POST /clock/advance': {
        const { ms } = z.object({ ms: z.number().min(0) }).parse(json());
        if (!(clock instanceof AdjustableClock)) return send(res, 409, {}, { error: 'conflict', message: 'the clock given to startEmulator cannot be advanced here' });
        clock.advance(ms);
        return send(res, 200, {}, { now: clock.now(), iso: new Date(clock.now()).toISOString() });
      }
      case 'POST /purge':
        return send(res, 200, {}, { purged: directory.purgeExpired() });
    }
    const del = /^DELETE \/apps\/([^/]+)$/.exec(route);
    if (del) return send(res, removeApp(del[1]!) ? 204 : 404, {});
    return send(res, 404, {}, { error: 'not_found', message: `no admin route ${route}` });
  };
  const removeApp = (clientId: string): boolean => {
    const id = clientId.toLowerCase();
    const idx = emulatorApps.findIndex((a) => a.clientId === id);
    if (idx >= 0) emulatorApps.splice(idx, 1);
    return registrations.delete(id);
  };
  const adminPort = await listen(adminServer, options.adminPort ?? 0, host);
  const adminUrl = `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${adminPort}`;

  // app credential files were written before the port was known: rewrite them
  for (const a of [...emulatorApps]) {
    const c = (options.apps ?? DEFAULT_APPS).find((x) => x.displayName === a.displayName);
    if (c) registerApp({ ...c, clientId: a.clientId, secret: a.clientSecret ?? c.secret });
  }

  const infoPath = join(stateDir, 'info.json');
  const makeInfo = (): EmulatorInfo => ({
    tenantId,
    initialDomain,
    domains: verifiedDomains(),
    graphUrl: graphBase,
    graphBaseUrl: `${graphBase}/v1.0`,
    authorityHost: graphBase,
    authority: `${graphBase}/${tenantId}`,
    knownAuthority: new URL(graphBase).host,
    tokenEndpoint: identity.tokenEndpoint(tenantId),
    adminUrl,
    caCertPath: tls.caCertPath,
    stateDir,
    resource,
    apps: emulatorApps.map((a) => ({ displayName: a.displayName, clientId: a.clientId, roles: a.roles, credentialsPath: a.credentialsPath })),
    quota: throttler.quotaHeader(),
  });
  info = makeInfo();
  writeJsonAtomic(infoPath, info);
  log?.info({ graphUrl: info.graphUrl, adminUrl, caCertPath: tls.caCertPath, tenantId }, 'graph emulator listening');

  const emulator: Emulator = {
    ...info,
    get domains() {
      return verifiedDomains();
    },
    get quota() {
      return throttler.quotaHeader();
    },
    apps: emulatorApps as Emulator['apps'],
    caCertPem: tls.caCertPem,
    infoPath,
    clock,
    directory,
    throttler,
    faults,
    counters,
    identity,
    graph,
    authorityMetadata,
    configure: (p) => {
      configure(p);
      info = makeInfo();
      writeJsonAtomic(infoPath, info);
    },
    config: currentConfig,
    registerApp: (c) => {
      const a = registerApp(c);
      info = makeInfo();
      writeJsonAtomic(infoPath, info);
      return a;
    },
    removeApp,
    exportState,
    importState,
    saveState,
    loadState,
    reset,
    close: async () => {
      await Promise.all(
        [graphServer, adminServer].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
  return emulator;
}
