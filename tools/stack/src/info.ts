/**
 * stack.json: what `scripts/stack up` started and how clients reach it. Written by the stack
 * script into the state dir (${CANOPY_STACK_DIR:-~/.local/state/canopy-stack}); read by tests,
 * benchmarks and the demo. Secrets are never in it, only the paths of files (mode 600) holding them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface AccountInfo {
  dn: string;
  upn: string;
  sAMAccountName: string;
  /** File holding the password (mode 600). Never log its content. */
  passwordFile: string;
}

export interface SeedInfo {
  users: number;
  seed: number;
  modelVersion: number;
  objects: number;
  seconds: number;
  method: 'offline' | 'ldap';
}

export interface ForestInfo {
  /** Short key used by the scripts: "corp", "fabrikam". */
  key: string;
  /** DNS name of the forest root domain, e.g. corp.example.test. */
  name: string;
  /** Kerberos realm, e.g. CORP.EXAMPLE.TEST. */
  realm: string;
  netbios: string;
  baseDn: string;
  ip: string;
  dcHostName: string;
  ldapUrl: string;
  ldapsUrl: string;
  globalCatalogUrl: string;
  /** PEM of the CA that signed the DC's LDAPS certificate (SANs: the IP and DNS names). */
  caFile: string;
  syncAccount: AccountInfo;
  admin: AccountInfo;
  /** What the seeder put in; null when not seeded. */
  seed: SeedInfo | null;
  /** Samba cannot host child domains (see docs/local-stack.md): always empty. */
  childDomains: string[];
}

export interface StackInfo {
  schemaVersion: 1;
  stateDir: string;
  generatedAt: string;
  kafka: { brokers: string[]; controller: string; version: string; clusterId: string | null };
  redis: { url: string; host: string; port: number };
  forests: ForestInfo[];
}

export function stackStateDir(): string {
  return process.env.CANOPY_STACK_DIR || join(homedir(), '.local', 'state', 'canopy-stack');
}

export function stackInfoPath(): string {
  return join(stackStateDir(), 'stack.json');
}

/** Reads stack.json; throws with a hint when the stack was never brought up. */
export function readStackInfo(path: string = stackInfoPath()): StackInfo {
  if (!existsSync(path)) {
    throw new Error(`${path} not found: run \`scripts/stack up\` first`);
  }
  const info = JSON.parse(readFileSync(path, 'utf8')) as StackInfo;
  if (info.schemaVersion !== 1)
    throw new Error(`${path}: unsupported schemaVersion ${String(info.schemaVersion)}`);
  return info;
}

export function getForest(info: StackInfo, keyOrName: string): ForestInfo {
  const f = info.forests.find((x) => x.key === keyOrName || x.name === keyOrName);
  if (!f)
    throw new Error(
      `no forest "${keyOrName}" in stack.json (have: ${info.forests.map((x) => x.key).join(', ')})`,
    );
  return f;
}

export function readSecret(file: string): string {
  return readFileSync(file, 'utf8').trim();
}
