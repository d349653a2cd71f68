#!/usr/bin/env node
// Writes apps/<app>/Dockerfile for every deployable app from deploy/docker/Dockerfile.template.
// `--check` writes nothing and exits 1 when a Dockerfile differs from what the template gives.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The images: app folder, HTTP port (CANOPY_HTTP_PORT default), extra Debian packages. */
export const IMAGES = [
  { app: 'scheduler', port: 8080, description: 'schedules, commands, central configuration, control API' },
  { app: 'ad-reader', port: 8081, description: 'one per forest: DirSync deltas to Kafka' },
  { app: 'transformer', port: 8082, description: 'scoping and attribute mapping' },
  { app: 'graph-writer', port: 8083, description: 'rate-limited, idempotent writes to Microsoft Graph' },
  // The emulator makes its CA and certificates with the openssl CLI (apps/graph-emulator/src/certs.ts).
  { app: 'graph-emulator', port: 8090, description: 'Microsoft Graph emulator for demos and tests, never production', packages: ['openssl'] },
];

export function render(image) {
  const template = readFileSync(join(root, 'deploy/docker/Dockerfile.template'), 'utf8');
  const packages = image.packages?.length
    ? `RUN apt-get update \\\n && apt-get install --yes --no-install-recommends ${image.packages.join(' ')} \\\n && rm -rf /var/lib/apt/lists/*\n`
    : '';
  return template
    .replaceAll('@APP@', image.app)
    .replaceAll('@PORT@', String(image.port))
    .replaceAll('@DESCRIPTION@', image.description)
    .replaceAll('@RUNTIME_PACKAGES@', packages);
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
