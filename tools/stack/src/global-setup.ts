/**
 * vitest globalSetup: brings the local stack up (Kafka, Redis, Samba forests) before integration
 * suites run, unless it is already healthy. Use it in a vitest config:
 *   test: { globalSetup: ['tools/stack/src/global-setup.ts'] }
 * The stack is left running afterwards (the next run reuses it); `scripts/stack down` stops it.
 * Set CANOPY_STACK_SKIP=1 to skip (unit tests only, no stack on this machine).
 */
import { ensureStackUp } from './index.js';

export default async function setup(): Promise<void> {
  if (process.env.CANOPY_STACK_SKIP === '1') return;
  const t0 = performance.now();
  const info = await ensureStackUp();
  process.env.CANOPY_STACK_DIR ??= info.stateDir;
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  process.stderr.write(
    `[stack] ready in ${s} s: kafka ${info.kafka.brokers.join(',')}, ${info.redis.url}, ${info.forests.map((f) => f.ldapsUrl).join(', ')}\n`,
  );
}
