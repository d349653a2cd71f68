import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(REPO, 'deploy/helm/canopy');
export const THREE_FORESTS = join(REPO, 'deploy/test/three-forests.values.yaml');

export interface Tools {
  HELM: string;
  KUBECONFORM: string;
  K8S_VERSION: string;
  SCHEMA_DIR: string;
  SCHEMA_LOCATION: string;
  K8S_MIN_VERSION: string;
  SCHEMA_MIN_LOCATION: string;
  COMPOSE_SCHEMA: string;
}

let cached: Tools | undefined;

/**
 * Builds or fetches helm, kubeconform, the Kubernetes JSON schemas and compose-spec.json through
 * deploy/scripts/ensure-tools.sh (cached in ~/.cache/canopy; the first run on a fresh machine
 * takes a few minutes). Throws, with the script's output, when a tool cannot be obtained: the
 * tests then fail; they never skip.
 */
export function ensureTools(): Tools {
  if (cached) return cached;
  const res = spawnSync('bash', [join(REPO, 'deploy/scripts/ensure-tools.sh')], {
    encoding: 'utf8',
    timeout: 40 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) {
    throw new Error(
      `deploy/scripts/ensure-tools.sh failed (exit ${res.status ?? res.signal}):\n${res.stderr.slice(-8000)}`,
    );
  }
  const values = Object.fromEntries(
    res.stdout
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  for (const key of [
    'HELM',
    'KUBECONFORM',
    'K8S_VERSION',
    'SCHEMA_DIR',
    'SCHEMA_LOCATION',
    'K8S_MIN_VERSION',
    'SCHEMA_MIN_LOCATION',
    'COMPOSE_SCHEMA',
  ]) {
    if (!values[key]) throw new Error(`ensure-tools.sh did not print ${key}=...; stdout:\n${res.stdout}`);
  }
  cached = values as unknown as Tools;
  return cached;
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string): RunResult {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    input,
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 5 * 60_000,
  });
  if (res.error) throw res.error;
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** `helm template` of the chart; throws on failure. */
export function helmTemplate(tools: Tools, args: string[] = []): string {
  return execFileSync(
    tools.HELM,
    ['template', 'canopy', CHART, '--namespace', 'canopy', '--kube-version', tools.K8S_VERSION, ...args],
    { encoding: 'utf8', cwd: REPO, maxBuffer: 64 * 1024 * 1024 },
  );
}

/**
 * kubeconform, strict, offline, every kind must have a schema (no -ignore-missing-schemas);
 * against the current Kubernetes by default, or the oldest the chart supports (`min`).
 */
export function kubeconform(
  tools: Tools,
  manifests: string,
  which: 'current' | 'min' = 'current',
): RunResult {
  const [version, location] =
    which === 'min'
      ? [tools.K8S_MIN_VERSION, tools.SCHEMA_MIN_LOCATION]
      : [tools.K8S_VERSION, tools.SCHEMA_LOCATION];
  return run(
    tools.KUBECONFORM,
    [
      '-strict',
      '-summary',
      '-output',
      'text',
      '-kubernetes-version',
      version,
      '-schema-location',
      location,
      '-',
    ],
    manifests,
  );
}
