import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readStackInfo } from '@canopy/stack';

/** Where test namespaces are recorded (with the pid that uses them) for the clean-up after a run. */
export function testNamespaceDir(stateDir: string): string {
  return join(stateDir, 'test-namespaces');
}

/**
 * A fresh namespace for one test suite: its own topics, consumer groups and Redis keys. It is
 * recorded with this process's id; once the process is gone, the test run's global set-up or
 * tear-down removes the namespace's topics and keys from the shared stack.
 */
export function testNamespace(label: string): string {
  const ns = `t-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 20)}-${randomUUID().slice(0, 8)}`;
  try {
    const dir = testNamespaceDir(process.env.CANOPY_STACK_DIR ?? readStackInfo().stateDir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, ns), String(process.pid));
  } catch {
    // No stack on this machine (unit tests only): nothing will need cleaning.
  }
  return ns;
}

/**
 * Environment that points an app at the local stack's Kafka and Redis. With a namespace, the app
 * sees only that namespace's topics, groups and Redis keys, so suites running at the same time on
 * the shared stack cannot disturb each other.
 */
export function stackEnv(extra: Record<string, string> = {}, namespace?: string): Record<string, string> {
  const info = readStackInfo();
  return {
    CANOPY_KAFKA__BROKERS: info.kafka.brokers.join(','),
    CANOPY_REDIS__URL: info.redis.url,
    ...(namespace
      ? {
          CANOPY_KAFKA__NAMESPACE: namespace,
          CANOPY_REDIS__KEY_PREFIX: `${namespace}:canopy:`,
          CANOPY_WRITER__REDIS_PREFIX: `${namespace}:canopy:gw`,
        }
      : {}),
    ...extra,
  };
}
