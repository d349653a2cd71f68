/**
 * Node side of scripts/stack (the bash script owns processes; this owns data and protocols):
 *   write-info                       write stack.json from the state dir (env from the script)
 *   health [--json]                  check every component; exit 1 when one is unhealthy
 *   seed-status --forest K --users N --seed S    print current | other | none
 *   seed --forest K --users N --seed S [--method offline|ldap] [--concurrency C]
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAll } from './health.js';
import type { ForestInfo, SeedInfo, StackInfo } from './info.js';
import { getForest, readSecret, readStackInfo, stackStateDir } from './info.js';
import { loadLdap, loadOffline } from './seed/load.js';
import { buildDirectory, MODEL_VERSION } from './seed/model.js';

const here = dirname(fileURLToPath(import.meta.url));

function args(argv: string[]): { cmd: string; flags: Map<string, string> } {
  const [cmd = 'help', ...rest] = argv;
  const flags = new Map<string, string>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) flags.set(a.slice(2), rest[++i]!);
    else flags.set(a.slice(2), 'true');
  }
  return { cmd, flags };
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} not set (run through scripts/stack)`);
  return v;
}

function readJson<T>(file: string): T | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : null;
}
function readText(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}

function forestInfo(
  dir: string,
  key: string,
  name: string,
  netbios: string,
  ip: string,
  host: string,
): ForestInfo {
  const baseDn = name
    .split('.')
    .map((p) => `DC=${p}`)
    .join(',');
  return {
    key,
    name,
    realm: name.toUpperCase(),
    netbios,
    baseDn,
    ip,
    dcHostName: `${host}.${name}`,
    ldapUrl: `ldap://${ip}:389`,
    ldapsUrl: `ldaps://${ip}:636`,
    globalCatalogUrl: `ldaps://${ip}:3269`,
    caFile: join(dir, 'ca.pem'),
    syncAccount: {
      dn: `CN=svc-canopy,CN=Users,${baseDn}`,
      upn: `svc-canopy@${name}`,
      sAMAccountName: 'svc-canopy',
      passwordFile: join(dir, 'sync.password'),
    },
    admin: {
      dn: `CN=Administrator,CN=Users,${baseDn}`,
      upn: `Administrator@${name}`,
      sAMAccountName: 'Administrator',
      passwordFile: join(dir, 'admin.password'),
    },
    seed: readJson<SeedInfo>(join(dir, 'seed.json')),
    childDomains: [],
  };
}

/** "key|realm|NETBIOS|ip|host" as the bash side passes it. */
function forestFromSpec(spec: string, dir?: string): ForestInfo {
  const [key, name, netbios, ip, host] = spec.split('|') as [string, string, string, string, string];
  return forestInfo(dir ?? join(stackStateDir(), 'forests', key), key, name, netbios, ip, host);
}

function writeInfo(): void {
  const stateDir = stackStateDir();
  const forests: ForestInfo[] = env('CANOPY_STACK_FORESTS')
    .split(';')
    .filter(Boolean)
    .map((line) => forestFromSpec(line));
  const kafkaHost = env('CANOPY_KAFKA_HOST');
  const info: StackInfo = {
    schemaVersion: 1,
    stateDir,
    generatedAt: new Date().toISOString(),
    kafka: {
      brokers: [`${kafkaHost}:${env('CANOPY_KAFKA_PORT')}`],
      controller: `${kafkaHost}:${env('CANOPY_KAFKA_CONTROLLER_PORT')}`,
      version: readText(join(stateDir, 'kafka', 'version')) ?? 'unknown',
      clusterId: readText(join(stateDir, 'kafka', 'cluster-id')),
    },
    redis: {
      url: `redis://${env('CANOPY_REDIS_HOST')}:${env('CANOPY_REDIS_PORT')}`,
      host: env('CANOPY_REDIS_HOST'),
      port: Number(env('CANOPY_REDIS_PORT')),
    },
    forests,
  };
  const file = join(stateDir, 'stack.json');
  const tmp = `${file}.${process.pid}.tmp`; // forests may be written by two processes at once
  writeFileSync(tmp, `${JSON.stringify(info, null, 2)}\n`);
  renameSync(tmp, file);
}

async function health(json: boolean): Promise<number> {
  const info = readStackInfo();
  const results = await checkAll(info);
  if (json) console.log(JSON.stringify(results, null, 2));
  else {
    const w = Math.max(...results.map((r) => r.name.length));
    const a = Math.max(...results.map((r) => r.address.length));
    for (const r of results) {
      const mark = r.healthy ? '\u001b[32mhealthy\u001b[0m  ' : '\u001b[31mDOWN\u001b[0m     ';
      const plain = process.stdout.isTTY ? mark : r.healthy ? 'healthy  ' : 'DOWN     ';
      console.log(`  ${r.name.padEnd(w)}  ${r.address.padEnd(a)}  ${plain}${r.detail} (${r.ms} ms)`);
    }
  }
  return results.every((r) => r.healthy) ? 0 : 1;
}

function seedParams(flags: Map<string, string>) {
  const users = Number(flags.get('users') ?? 1000);
  const seed = Number(flags.get('seed') ?? 1);
  if (!Number.isInteger(users) || users < 20 || users > 200_000)
    throw new Error(`--users must be 20..200000 (got ${flags.get('users')})`);
  return { users, seed };
}

function seedStatus(flags: Map<string, string>): void {
  const forest = getForest(readStackInfo(), flags.get('forest') ?? '');
  const { users, seed } = seedParams(flags);
  const cur = readJson<SeedInfo>(join(stackStateDir(), 'forests', forest.key, 'seed.json'));
  if (!cur) console.log('none');
  else if (cur.users === users && cur.seed === seed && cur.modelVersion === MODEL_VERSION)
    console.log('current');
  else console.log('other');
}

async function seedForest(flags: Map<string, string>): Promise<void> {
  // --spec/--dir: a forest outside stack.json (scripts/stack bench-seed uses a throwaway one).
  const spec = flags.get('spec');
  const forest = spec
    ? forestFromSpec(spec, flags.get('dir'))
    : getForest(readStackInfo(), flags.get('forest') ?? '');
  const dir = flags.get('dir') ?? join(stackStateDir(), 'forests', forest.key);
  const { users, seed } = seedParams(flags);
  const method = (flags.get('method') ?? 'offline') as SeedInfo['method'];
  const tModel = performance.now();
  const model = buildDirectory({
    forest: forest.key,
    realm: forest.name,
    baseDn: forest.baseDn,
    users,
    seed,
  });
  const modelMs = Math.round(performance.now() - tModel);
  const label = forest.key;
  process.stderr.write(
    `[seed] ${label}: ${model.users.length} users, ${model.contacts.length} contacts, ${model.groups.length} groups, ` +
      `${model.ous.length} OUs = ${model.entries.length} objects (model built in ${modelMs} ms), method ${method}\n`,
  );
  const result =
    method === 'ldap'
      ? await loadLdap(model, {
          url: forest.ldapUrl,
          bindDn: forest.admin.upn,
          password: readSecret(forest.admin.passwordFile),
          concurrency: Number(flags.get('concurrency') ?? 4),
          label,
        })
      : await loadOffline(model, {
          smbConf: join(dir, 'dc', 'etc', 'smb.conf'),
          samLdb: join(dir, 'dc', 'private', 'sam.ldb'),
          loader: join(here, '..', 'lib', 'ldb_load.py'),
          label,
        });
  const info: SeedInfo = {
    users,
    seed,
    modelVersion: MODEL_VERSION,
    objects: result.objects,
    seconds: Math.round(result.seconds * 100) / 100,
    method,
  };
  writeFileSync(join(dir, 'seed.json'), `${JSON.stringify(info, null, 2)}\n`);
  console.log(
    `[seed] ${label}: ${users} users (${result.objects} objects with contacts, groups, OUs) in ${result.seconds.toFixed(1)} s ` +
      `= ${Math.round(result.objects / result.seconds)} objects/s (${method})`,
  );
}

async function main(): Promise<number> {
  const { cmd, flags } = args(process.argv.slice(2));
  switch (cmd) {
    case 'write-info':
      writeInfo();
      return 0;
    case 'health':
      return health(flags.has('json'));
    case 'seed-status':
      seedStatus(flags);
      return 0;
    case 'seed':
      await seedForest(flags);
      return 0;
    default:
      console.error(
        'usage: cli.ts write-info | health [--json] | seed-status ... | seed --forest K --users N --seed S [--method offline|ldap]',
      );
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
