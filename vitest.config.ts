import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * One vitest project per Nx project (apps/*, libs/*, tools/*), named like the Nx project, so
 * `vitest run --project contracts` and `nx test contracts` run the same tests. Unit tests sit next
 * to code (src/**\/*.test.ts); integration suites live in each project's test/ folder and talk to
 * the real stack (Kafka, Redis, Samba), which the global setup brings up when they run.
 */
const roots = ['libs', 'apps', 'tools'].flatMap((dir) =>
  existsSync(dir) ? readdirSync(dir).map((name) => ({ dir: `${dir}/${name}`, name })) : [],
);
// deploy/ (Dockerfiles, Helm chart, compose) is one project at the top level.
roots.push({ dir: 'deploy', name: 'deploy' });

/** Projects whose integration tests need none of Kafka, Redis or Samba. */
const NO_STACK = new Set(['graph-emulator', 'deploy', 'architecture']);

export default defineConfig({
  resolve: { conditions: ['@canopy/source'] },
  ssr: { resolve: { conditions: ['@canopy/source'] } },
  test: {
    projects: roots
      .filter(({ dir }) => existsSync(`${dir}/package.json`))
      .map(({ dir, name }) => ({
        extends: true,
        test: {
          name,
          root: dir,
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          environment: 'node',
          // Projects with integration suites get the real stack (Kafka, Redis, Samba) brought up.
          // (deploy/test needs no stack: it validates the chart, compose file and images offline.)
          // Then finished test namespaces (topics, Redis keys) of earlier runs are removed, and again at the end.
          globalSetup:
            existsSync(`${dir}/test`) && dir !== 'deploy' ? [resolve('tools/stack/src/global-setup.ts'), resolve('tools/demo/src/test-namespace-gc.ts')] : [],
          // Integration suites talk to real services on a shared 2-core machine.
          testTimeout: 60_000,
          hookTimeout: 180_000,
        },
      })),
  },
});
