#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '@canopy/config';
import { createLogger } from '@canopy/logger';
import { z } from 'zod';
import { appConfigSchema, runtimeConfigSchema, startEmulator, type Emulator, type EmulatorOptions } from './emulator.js';

export * from './emulator.js';
export { AdjustableClock, manualClock, type Clock } from './clock.js';
export { GraphError } from './graph-error.js';
export { trustCaInProcess } from './trust.js';
export { requestCost, RU_LIMITS, APP_WRITE_LIMIT, APP_WRITE_WINDOW_MS, TENANT_WRITE_LIMIT, TENANT_WRITE_WINDOW_MS, RU_WINDOW_MS, type ThrottleSettings } from './throttle.js';
export type { FaultSettings } from './faults.js';
export type { CounterSnapshot } from './counters.js';

const HELP = `canopy-graph-emulator: a strict emulator of the Microsoft Graph directory subset and the
Microsoft identity platform that Canopy uses. For demos, tests and benchmarks; never production.

Usage: node apps/graph-emulator/dist/main.js [options]

Options:
  --state-dir <dir>     CA, token signing key, app credentials and info.json (default .canopy/graph-emulator, git-ignored)
  --graph-port <port>   HTTPS port for Graph (/v1.0) and the identity platform (default 8443; 0 = any)
  --admin-port <port>   plain-HTTP admin port on loopback (default 8444; 0 = any)
  --host <ip>           listen address (default 127.0.0.1)
  --tenant-id <guid>    tenant id (default: generated once and kept in the state dir)
  --tenant-name <name>  initial domain <name>.onmicrosoft.com (default canopyemulator)
  --config <file>       JSON config: { apps, domains, replicationLagMs, throttle, faults, ... }
  -h, --help            this text

Every option can also come from the environment with the prefix CANOPY_GRAPH_EMULATOR
(e.g. CANOPY_GRAPH_EMULATOR_GRAPH_PORT=9443, CANOPY_GRAPH_EMULATOR_THROTTLE__QUOTA_MULTIPLIER=10);
flags win over the environment, the environment over the file.

Clients trust the emulator with NODE_EXTRA_CA_CERTS=<state-dir>/tls/ca.pem. The state dir's
info.json lists the URLs, the tenant and the app credential files.`;

const port = z.coerce.number().int().min(0).max(65535);
/** CLI/file/environment configuration: start options plus the runtime settings. */
export const cliConfigSchema = runtimeConfigSchema.extend({
  stateDir: z.string().min(1),
  graphPort: port,
  adminPort: port,
  host: z.string().optional(),
  tenantId: z.string().uuid().optional(),
  tenantName: z.string().regex(/^[a-z0-9]+$/i).optional(),
  resource: z.string().url().optional(),
  publicHost: z.string().optional(),
  /** comma list from the environment, or an array in the file */
  tlsHosts: z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : v), z.array(z.string())).optional(),
  apps: z.array(appConfigSchema).optional(),
});

export interface CliIo {
  stdout: { write(s: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Log destination (default stdout). */
  logDestination?: NodeJS.WritableStream;
}

/**
 * The CLI without the process around it: parse flags, load configuration (flags > env > file >
 * defaults), start the emulator and print where it listens. Returns undefined for --help.
 */
export async function runCli(argv: string[], io: CliIo = { stdout: process.stdout, env: process.env }): Promise<Emulator | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'state-dir': { type: 'string' },
      'graph-port': { type: 'string' },
      'admin-port': { type: 'string' },
      host: { type: 'string' },
      'tenant-id': { type: 'string' },
      'tenant-name': { type: 'string' },
      config: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout.write(`${HELP}\n`);
    return undefined;
  }
  const logger = createLogger({ name: 'graph-emulator', ...(io.logDestination ? { destination: io.logDestination } : {}) });
  const loaded = loadConfig(cliConfigSchema, {
    envPrefix: 'CANOPY_GRAPH_EMULATOR',
    env: io.env,
    file: values.config,
    service: 'graph-emulator',
    defaults: { stateDir: '.canopy/graph-emulator', graphPort: 8443, adminPort: 8444 },
  });
  const options: EmulatorOptions = {
    ...loaded,
    ...(values['state-dir'] !== undefined ? { stateDir: values['state-dir'] } : {}),
    ...(values['graph-port'] !== undefined ? { graphPort: Number(values['graph-port']) } : {}),
    ...(values['admin-port'] !== undefined ? { adminPort: Number(values['admin-port']) } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values['tenant-id'] !== undefined ? { tenantId: values['tenant-id'] } : {}),
    ...(values['tenant-name'] !== undefined ? { tenantName: values['tenant-name'] } : {}),
    logger,
  };
  const em = await startEmulator(options);
  io.stdout.write(
    [
      `Graph emulator (NOT Microsoft Graph; for tests and demos only)`,
      `  Graph:      ${em.graphBaseUrl}`,
      `  Authority:  ${em.authority}   (MSAL knownAuthorities: ['${em.knownAuthority}'])`,
      `  Admin:      ${em.adminUrl}   (GET /healthz, /info, /counters; PATCH /config; ...)`,
      `  CA:         ${em.caCertPath}   (NODE_EXTRA_CA_CERTS)`,
      `  Tenant:     ${em.tenantId} (${em.initialDomain})`,
      `  Quota:      ${em.quota}`,
      `  Info:       ${em.infoPath}`,
      ...em.apps.map((a) => `  App:        ${a.displayName} ${a.clientId} roles=${a.roles.join(',')} credentials=${a.credentialsPath}`),
      '',
    ].join('\n'),
  );
  return em;
}

async function main(argv: string[]): Promise<void> {
  const em = await runCli(argv);
  if (!em) return;
  const stop = (): void => {
    em.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const invokedDirectly = (() => {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const e = err as Error;
    process.stderr.write(`${e.name === 'ConfigError' ? e.message : `graph-emulator: ${e.stack ?? String(e)}`}\n`);
    process.exit(1);
  });
}
