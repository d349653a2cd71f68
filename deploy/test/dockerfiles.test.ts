import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM script without type declarations
import { IMAGES } from '../scripts/gen-dockerfiles.mjs';
import { lintDockerfile, parseDockerfile } from './dockerfile-lint.js';
import { isIgnored, parseDockerignore } from './dockerignore.js';
import { REPO } from './tools.js';

/*
 * Static checks only: this machine has the docker CLI but no Docker engine, so `docker build`
 * cannot run here. images.test.ts runs the build stage's commands on a copy of the context to
 * show the runtime tree starts; a real `docker build` belongs in a CI job with an engine.
 */

interface Image {
  app: string;
  port?: number;
  expose?: number[];
  service?: boolean;
}
const images = IMAGES as Image[];
const dockerfile = (app: string) => readFileSync(join(REPO, 'apps', app, 'Dockerfile'), 'utf8');

describe('Dockerfiles', () => {
  it('one per deployable app', () => {
    expect(images.map((i) => i.app).sort()).toEqual([
      'ad-reader',
      'cli',
      'graph-emulator',
      'graph-writer',
      'scheduler',
      'transformer',
    ]);
  });

  it('are current with deploy/docker/Dockerfile.template', () => {
    expect(() =>
      execFileSync(process.execPath, [join(REPO, 'deploy/scripts/gen-dockerfiles.mjs'), '--check'], {
        stdio: 'pipe',
      }),
    ).not.toThrow();
  });

  for (const image of images) {
    it(`apps/${image.app}/Dockerfile passes the static rules`, () => {
      const text = dockerfile(image.app);
      expect(
        lintDockerfile(text, {
          app: image.app,
          expose: image.service === false ? [] : (image.expose ?? [image.port!]),
          service: image.service !== false,
        }),
      ).toEqual([]);
      const { stages } = parseDockerfile(text);
      expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
      expect(text).toContain('USER 10001:10001');
    });
  }

  it('the transformer and graph-writer images cap their memory (NODE_OPTIONS, MALLOC_ARENA_MAX)', () => {
    for (const app of ['transformer', 'graph-writer']) {
      const runtime = parseDockerfile(dockerfile(app)).stages.find((s) => s.name === 'runtime')!;
      const env = runtime.instructions
        .filter((i) => i.keyword === 'ENV')
        .map((i) => i.args)
        .join(' ');
      expect(env, app).toContain('NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8"');
      expect(env, app).toMatch(/(^| )MALLOC_ARENA_MAX=2( |$)/);
    }
  });

  it('the checker catches what it promises to catch', () => {
    const bad = [
      'FROM node:latest',
      'ADD https://example.com/x.tgz /x',
      'RUN apt-get install curl',
      'COPY . .',
      'RUN npm install',
      'USER root',
      'CMD node apps/ad-reader/dist/main.js',
    ].join('\n');
    const errors = lintDockerfile(bad, { app: 'ad-reader', expose: [8081] }).join('\n');
    for (const want of ['multi-stage', 'latest', 'ADD', '--no-install-recommends'])
      expect(errors).toContain(want);

    const good = dockerfile('ad-reader');
    const rules = (text: string) => lintDockerfile(text, { app: 'ad-reader', expose: [8081] }).join('\n');
    expect(rules(good.replace('USER 10001:10001', 'USER canopy'))).toMatch(/numeric/);
    expect(rules(good.replace('USER 10001:10001', 'USER 1000:1000'))).toMatch(/>= 10000/);
    expect(rules(good.replace(/^USER .*$/m, ''))).toMatch(/no USER/);
    expect(rules(good.replace(/^HEALTHCHECK[\s\S]*?\n(?=ENTRYPOINT)/m, ''))).toMatch(/no HEALTHCHECK/);
    expect(
      rules(good.replace('ARG NODE_IMAGE=node:24.21.0-bookworm-slim', 'ARG NODE_IMAGE=node:24')),
    ).toMatch(/slim/);
    expect(rules(good.replace('ARG NODE_IMAGE=node:24.21.0-bookworm-slim', 'ARG NODE_IMAGE=node'))).toMatch(
      /no tag/,
    );
    expect(rules(good.replace(/npm prune --omit=dev[^\\]*/, 'true '))).toMatch(/prune/);
    expect(rules(good.replace('COPY --from=build --chown=0:0 /out/ /app/', 'COPY . /app/'))).toMatch(
      /copies only from the build stage/,
    );
    expect(rules(good.replace(/^ENTRYPOINT .*$/m, 'ENTRYPOINT node apps/ad-reader/dist/main.js'))).toMatch(
      /exec form/,
    );
  });
});

describe('.dockerignore', () => {
  const rules = parseDockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  it('keeps node_modules, build output, git and secrets out of the context', () => {
    for (const p of [
      'node_modules/x/index.js',
      'libs/config/node_modules/a',
      'apps/ad-reader/dist/main.js',
      'libs/errors/dist/index.js',
      '.git/HEAD',
      'apps/x/tsconfig.tsbuildinfo',
      'docs/deployment.md',
      'deploy/helm/canopy/values.yaml',
      'secrets/graph.pem',
      'apps/ad-reader/Dockerfile',
    ]) {
      expect(isIgnored(p, rules), p).toBe(true);
    }
  });
  it('keeps what npm ci and tsc -b need', () => {
    for (const p of [
      'package.json',
      'package-lock.json',
      'tsconfig.base.json',
      'libs/contracts/schemas/x/v1.avsc',
      'libs/errors/src/index.ts',
      'apps/ad-reader/src/main.ts',
      'apps/ad-reader/package.json',
      'tools/stack/package.json',
      'deploy/package.json',
      'scripts/build',
    ]) {
      expect(isIgnored(p, rules), p).toBe(false);
    }
  });
  it('every npm workspace has its package.json in the context (npm ci fails otherwise)', () => {
    const root = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] };
    const files = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*package.json'],
      { cwd: REPO, encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);
    const workspaceManifests = files.filter((f) =>
      root.workspaces.some((w) => new RegExp(`^${w.replace('*', '[^/]+')}/package\\.json$`).test(f)),
    );
    expect(workspaceManifests.length).toBeGreaterThan(5);
    for (const f of workspaceManifests) expect(isIgnored(f, rules), f).toBe(false);
  });
});

describe('metric names', () => {
  const doc = readFileSync(join(REPO, 'docs/deployment.md'), 'utf8');
  const table = doc.slice(doc.indexOf('<!-- metrics:start -->'), doc.indexOf('<!-- metrics:end -->'));
  const documented = [...table.matchAll(/^\|\s*`(canopy_[a-z0-9_]+)`\s*\|/gm)].map((m) => m[1]!);
  const dashboard = readFileSync(join(REPO, 'deploy/helm/canopy/files/dashboard.json'), 'utf8');
  const used = [
    ...new Set(
      [...dashboard.matchAll(/canopy_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
    ),
  ];

  it('docs/deployment.md lists metrics named canopy_<stage>_<what>[_<unit>]', () => {
    expect(documented.length).toBeGreaterThan(10);
    for (const m of documented)
      expect(m).toMatch(/^canopy_(ad_reader|transformer|graph_writer|scheduler)_[a-z0-9_]+$/);
  });
  it('the dashboard uses only documented metrics, and is current with its generator', () => {
    expect(used.filter((m) => !documented.includes(m))).toEqual([]);
    for (const m of [
      'canopy_graph_writer_writes_total',
      'canopy_graph_writer_throttled_total',
      'canopy_graph_writer_held_deletes',
      'canopy_graph_writer_results_total',
      'canopy_transformer_ops_total',
      'canopy_ad_reader_events_produced_total',
      'canopy_ad_reader_cookie_age_seconds',
      'canopy_transformer_consumer_lag',
      'canopy_graph_writer_consumer_lag',
    ]) {
      expect(used, m).toContain(m);
    }
    expect(() =>
      execFileSync(process.execPath, [join(REPO, 'deploy/scripts/gen-dashboard.mjs'), '--check'], {
        stdio: 'pipe',
      }),
    ).not.toThrow();
  });
});
