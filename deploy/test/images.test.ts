import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM script without type declarations
import { IMAGES } from '../scripts/gen-dockerfiles.mjs';
import { parseDockerfile } from './dockerfile-lint.js';
import { isIgnored, parseDockerignore } from './dockerignore.js';
import { REPO } from './tools.js';

/*
 * No Docker engine here, so this runs each Dockerfile's build stage by hand: the committed tree
 * (HEAD) less what .dockerignore excludes is extracted to a temporary /src, the stage's RUN commands run there
 * (/out moved into the temporary folder), and the runtime tree they assemble must start with
 * Node alone: `node apps/<app>/dist/main.js --help` loads every module of the app, so a package
 * that is missing at run time (a dev dependency, a lib's dist, a data file) fails it.
 * Set CANOPY_DEPLOY_IMAGES=ad-reader,scheduler to run fewer images, CANOPY_DEPLOY_KEEP=1 to keep
 * the trees.
 */

interface Image {
  app: string;
}
const wanted = process.env.CANOPY_DEPLOY_IMAGES?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const images = (IMAGES as Image[]).filter((i) => !wanted || wanted.includes(i.app));
const work = mkdtempSync(join(tmpdir(), 'canopy-images-'));
chmodSync(work, 0o755); // uid 10001 must reach the runtime trees below
const base = join(work, 'base');

function sh(script: string, cwd: string): void {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 15 * 60_000,
  });
  if (r.status !== 0)
    throw new Error(
      `in ${cwd}: ${script}\nexit ${r.status ?? r.signal}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`,
    );
}

/** The build stage's RUN commands, with BuildKit flags dropped and /out moved to `out`. */
function buildRuns(app: string, out: string): string[] {
  const { stages } = parseDockerfile(readFileSync(join(REPO, 'apps', app, 'Dockerfile'), 'utf8'));
  const build = stages.find((s) => s.name === 'build');
  if (!build) throw new Error(`apps/${app}/Dockerfile has no build stage`);
  const workdir = build.instructions.find((i) => i.keyword === 'WORKDIR')?.args;
  expect(workdir).toBe('/src');
  const copies = build.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
  expect(copies).toEqual(['. .']);
  return build.instructions
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args.replace(/--mount=\S+\s+/g, '').replace(/\/out\b/g, out));
}

beforeAll(() => {
  // The build context: the committed tree (HEAD, as CI's fresh clone has it; work in progress
  // in the working tree, tracked or not, stays out) minus what .dockerignore excludes.
  const rules = parseDockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  mkdirSync(base, { recursive: true });
  execFileSync('bash', ['-c', `git -C "${REPO}" archive --format=tar HEAD | tar -x -C "${base}"`]);
  const files = execFileSync('git', ['ls-tree', '-r', '-z', '--name-only', 'HEAD'], {
    cwd: REPO,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\0')
    .filter(Boolean);
  for (const f of files) if (isIgnored(f, rules)) rmSync(join(base, f), { force: true, recursive: true });
  expect(existsSync(join(base, 'package-lock.json'))).toBe(true);
  // Every Dockerfile starts with the same `npm ci`: run it once and copy the result per image.
  const first = buildRuns(images[0]!.app, '/unused')[0]!;
  expect(first).toMatch(/^npm ci\b/);
  for (const img of images) expect(buildRuns(img.app, '/unused')[0]).toBe(first);
  sh(first, base);
}, 20 * 60_000);

afterAll(() => {
  // CANOPY_DEPLOY_KEEP=1 keeps the runtime trees (out-<app>) for a look or a manual run.
  if (process.env.CANOPY_DEPLOY_KEEP) console.log(`runtime trees kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
});

describe.each(images.map((i) => i.app))('image %s (build stage run without Docker)', (app) => {
  const src = join(work, `src-${app}`);
  const out = join(work, `out-${app}`);

  beforeAll(() => {
    cpSync(base, src, { recursive: true, verbatimSymlinks: true });
    for (const run of buildRuns(app, out).slice(1)) sh(run, src);
  }, 15 * 60_000);

  it('the runtime tree starts as uid 10001: node apps/<app>/dist/main.js --help', () => {
    // As in the image: root owns the files, the app runs as 10001:10001 (setpriv, when we are root).
    const setpriv =
      process.getuid?.() === 0
        ? execFileSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).trim()
        : '';
    const asApp = setpriv
      ? [setpriv, '--reuid=10001', '--regid=10001', '--clear-groups', process.execPath]
      : [process.execPath];
    const r = spawnSync(
      asApp[0]!,
      [...asApp.slice(1), '--enable-source-maps', `apps/${app}/dist/main.js`, '--help'],
      {
        cwd: out,
        encoding: 'utf8',
        env: { PATH: dirname(process.execPath), NODE_ENV: 'production', HOME: out },
        timeout: 60_000,
      },
    );
    expect(r.error).toBeUndefined();
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/usage/i);
  });

  it('holds no dev dependency, no TypeScript source and only this app', () => {
    const root = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const dep of Object.keys(root.dependencies))
      expect(existsSync(join(out, 'node_modules', dep)), dep).toBe(true);
    for (const dev of Object.keys(root.devDependencies))
      expect(existsSync(join(out, 'node_modules', dev)), dev).toBe(false);
    expect(readdirSync(join(out, 'apps'))).toEqual([app]);
    expect(existsSync(join(out, 'apps', app, 'src'))).toBe(false);
    const tsFiles = execFileSync(
      'find',
      [join(out, 'apps'), join(out, 'libs'), '-name', '*.ts', '!', '-name', '*.d.ts'],
      { encoding: 'utf8' },
    ).trim();
    expect(tsFiles).toBe('');
    // Workspace links of other apps and tools are gone; the libs' links resolve.
    for (const name of readdirSync(join(out, 'node_modules/@canopy'))) {
      expect(existsSync(join(out, 'node_modules/@canopy', name)), `@canopy/${name}`).toBe(true);
    }
  });
});
