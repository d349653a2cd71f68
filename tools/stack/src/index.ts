/**
 * @canopy/stack: how code finds the local stack (Kafka, Redis, Samba forests) that
 * `scripts/stack up` runs, and the deterministic directory the seeder put in each forest.
 *
 *   const info = await ensureStackUp();          // brings the stack up when it is not healthy
 *   const corp = getForest(info, 'corp');
 *   const model = seededDirectory(corp);          // what the seeder wrote: compute expectations
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkAll, type ComponentHealth } from './health.js';
import { readStackInfo, type ForestInfo, type StackInfo } from './info.js';
import { buildDirectory, type DirectoryModel } from './seed/model.js';

export * from './info.js';
export {
  checkAll,
  checkForest,
  checkKafka,
  checkRedis,
  ldapsClient,
  type ComponentHealth,
} from './health.js';
export { kafkaMetadata, type KafkaMetadata } from './kafka-probe.js';
export * from './seed/model.js';

/** Repository root (tools/stack/src -> ../../..). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The directory the seeder wrote into this forest (throws when the forest is not seeded). */
export function seededDirectory(forest: ForestInfo): DirectoryModel {
  if (!forest.seed) throw new Error(`forest ${forest.key} is not seeded: run \`scripts/stack seed\``);
  return buildDirectory({
    forest: forest.key,
    realm: forest.name,
    baseDn: forest.baseDn,
    users: forest.seed.users,
    seed: forest.seed.seed,
  });
}

/** Health of every component; [] when stack.json does not exist yet. */
export async function stackHealth(): Promise<ComponentHealth[]> {
  let info: StackInfo;
  try {
    info = readStackInfo();
  } catch {
    return [];
  }
  return checkAll(info);
}

export interface EnsureStackUpOptions {
  /** Extra arguments for `scripts/stack up`, e.g. ['--users', '2000']. */
  args?: string[];
  /** Where the script's output goes (default: inherit stderr, so test runs show progress). */
  quiet?: boolean;
}

let pending: Promise<StackInfo> | undefined;

/**
 * Returns stack.json when every component answers its health check and every forest is seeded;
 * otherwise runs `scripts/stack up` (which installs what is missing, starts, seeds) and re-reads.
 * Concurrent callers in one process share one run; the script itself takes a lock across processes.
 */
export function ensureStackUp(options: EnsureStackUpOptions = {}): Promise<StackInfo> {
  return (pending ??= (async () => {
    try {
      const health = await stackHealth();
      if (health.length && health.every((h) => h.healthy)) {
        const info = readStackInfo();
        if (info.forests.every((f) => f.seed)) return info;
      }
      await runStackScript(['up', ...(options.args ?? [])], options.quiet ?? false);
      // A loaded machine can make a healthy DC miss one probe: look three times before giving up.
      let after = await stackHealth();
      for (let i = 0; i < 2 && after.some((h) => !h.healthy); i++) {
        await new Promise((r) => setTimeout(r, 5000));
        after = await stackHealth();
      }
      const down = after.filter((h) => !h.healthy);
      if (!after.length || down.length) {
        throw new Error(
          `stack still unhealthy after \`scripts/stack up\`: ${down.map((h) => `${h.name}: ${h.detail}`).join('; ')}`,
        );
      }
      return readStackInfo();
    } finally {
      pending = undefined;
    }
  })());
}

function runStackScript(args: string[], quiet: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(repoRoot, 'scripts', 'stack'), ...args], {
      stdio: ['ignore', quiet ? 'ignore' : process.stderr, quiet ? 'ignore' : process.stderr],
      env: process.env,
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`scripts/stack ${args.join(' ')} exited with ${code}`)),
    );
  });
}
