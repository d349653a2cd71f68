#!/usr/bin/env node
// Writes apps/<app>/Dockerfile for every deployable app from deploy/docker/Dockerfile.template.
// `--check` writes nothing and exits 1 when a Dockerfile differs from what the template gives.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Memory caps of the stages that take a whole initial sync's backlog: a capped V8 heap and two
 * malloc arenas keep peak RSS near 256 MiB at 1,000,000 objects (BENCHMARKS.md, "Initial sync at
 * scale"); without them V8 grows its heap up to a limit derived from the host's memory. The Helm
 * chart sets NODE_OPTIONS from values (transformer.nodeOptions, writer.nodeOptions) alike.
 */
const MEMORY_CAPS = { NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=8', MALLOC_ARENA_MAX: '2' };

/**
 * The images: app folder, the port of /healthz (CANOPY_HTTP_PORT, the runtime's default per app),
 * extra Debian packages, extra environment and ports, a writable state directory.
 */
export const IMAGES = [
  { app: 'scheduler', port: 8080, description: 'schedules, commands, central configuration, control API' },
  { app: 'ad-reader', port: 8081, description: 'one per forest: DirSync deltas to Kafka' },
  { app: 'transformer', port: 8082, description: 'scoping and attribute mapping', env: MEMORY_CAPS },
  { app: 'graph-writer', port: 8083, description: 'rate-limited, idempotent writes to Microsoft Graph', env: MEMORY_CAPS },
  // The emulator makes its CA and certificates with the openssl CLI (apps/graph-emulator/src/certs.ts);
  // Graph and the identity platform on HTTPS 8443, the admin API (with /healthz) on HTTP 8444.
  {
    app: 'graph-emulator',
    description: 'Microsoft Graph emulator for demos and tests, never production',
    packages: ['openssl'],
    env: {
      CANOPY_GRAPH_EMULATOR_HOST: '0.0.0.0',
      CANOPY_GRAPH_EMULATOR_GRAPH_PORT: '8443',
      CANOPY_GRAPH_EMULATOR_ADMIN_PORT: '8444',
      CANOPY_GRAPH_EMULATOR_STATE_DIR: '/var/lib/graph-emulator',
    },
    expose: [8443, 8444],
    health: 'http://127.0.0.1:8444/healthz',
    stateDir: '/var/lib/graph-emulator',
  },
  // The admin CLI: a command, not a service (no port, no health check). Point it at the
  // scheduler with CANOPY_API_URL and CANOPY_API_TOKEN(_FILE).
  { app: 'cli', description: 'the canopy admin CLI, for jobs and debugging pods', service: false },
];

export function render(image) {
  const template = readFileSync(join(root, 'deploy/docker/Dockerfile.template'), 'utf8');
  const packages = image.packages?.length
    ? `RUN apt-get update \\\n && apt-get install --yes --no-install-recommends ${image.packages.join(' ')} \\\n && rm -rf /var/lib/apt/lists/*\n`
    : '';
  const env = {
    NODE_ENV: 'production',
    ...(image.port ? { CANOPY_HTTP_PORT: String(image.port) } : {}),
    ...image.env,
  };
  const health = image.health ?? "http://127.0.0.1:'+process.env.CANOPY_HTTP_PORT+'/healthz";
  const stateDir = image.stateDir
    ? `RUN mkdir -p ${image.stateDir} && chown 10001:10001 ${image.stateDir}\nVOLUME ${image.stateDir}\n`
    : '';
  return template
    .replaceAll('@APP@', image.app)
    .replaceAll('@DESCRIPTION@', image.description)
    .replaceAll('@RUNTIME_PACKAGES@', packages)
    .replaceAll(
      '@ENV@',
      Object.entries(env)
        // A value with spaces is quoted (Dockerfile ENV takes key="value with spaces").
        .map(([k, v]) => (/[\s"]/.test(v) ? `${k}=${JSON.stringify(v)}` : `${k}=${v}`))
        .join(' '),
    )
    .replaceAll('@STATE_DIR@', stateDir)
    .replaceAll(
      '@SERVICE@',
      image.service === false
        ? ''
        : `EXPOSE ${(image.expose ?? [image.port]).join(' ')}\nHEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \\\n  CMD ["node", "-e", "fetch('${health}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]\n`,
    );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const image of IMAGES) {
    const file = join(root, 'apps', image.app, 'Dockerfile');
    const want = render(image);
    const have = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (have === want) continue;
    if (check) {
      console.error(`stale: apps/${image.app}/Dockerfile (run node deploy/scripts/gen-dockerfiles.mjs)`);
      stale++;
    } else {
      writeFileSync(file, want);
      console.log(`wrote apps/${image.app}/Dockerfile`);
    }
  }
  process.exit(stale ? 1 : 0);
}
