import { readFileSync } from 'node:fs';
import { ConfigError } from '@canopy/errors';
import { z } from 'zod';

/**
 * Build a nested object from environment variables with a prefix. `__` nests, `_` joins words
 * in camelCase: CANOPY_KAFKA__CLIENT_ID=x -> { kafka: { clientId: 'x' } }. A variable ending in
 * `_FILE` is read from that file (for secrets mounted by Kubernetes), trailing newline trimmed.
 * Values that look like JSON arrays or objects are parsed; comma lists stay strings (the schema
 * decides).
 */
export function fromEnv(prefix: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const head = `${prefix}_`;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(head) || raw === undefined) continue;
    let key = name.slice(head.length);
    let value: unknown = raw;
    if (key.endsWith('_FILE')) {
      key = key.slice(0, -'_FILE'.length);
      value = readFileSync(raw, 'utf8').replace(/\r?\n$/, '');
    } else if (/^\s*[[{]/.test(raw)) {
      try {
        value = JSON.parse(raw);
      } catch {
        value = raw;
      }
    }
    const path = key.split('__').map(camel);
    let node = out;
    for (const part of path.slice(0, -1)) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  return out;
}

function camel(word: string): string {
  return word.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Deep-merge plain objects; later sources win. Arrays and other values are replaced. */
export function mergeSources(...sources: Array<Record<string, unknown> | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const source of sources) {
    if (!source) continue;
    for (const [k, v] of Object.entries(source)) {
      const prev = out[k];
      out[k] = isPlain(prev) && isPlain(v) ? mergeSources(prev, v) : v;
    }
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Render zod issues as one sentence per problem, naming the field. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], envPrefix?: string): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    const envHint = envPrefix && issue.path.length ? ` (env ${envName(envPrefix, issue.path.map(String))})` : '';
    return `${path}${envHint}: ${issue.message}`;
  });
}

function envName(prefix: string, path: string[]): string {
  return `${prefix}_${path.map((p) => p.replace(/([A-Z])/g, '_$1').toUpperCase()).join('__')}`;
}

export interface LoadConfigOptions {
  /** Environment prefix, default CANOPY. */
  envPrefix?: string;
  env?: NodeJS.ProcessEnv;
  /** Optional YAML/JSON file of defaults below the environment. */
  file?: string;
  /** Values given in code (lowest precedence). */
  defaults?: Record<string, unknown>;
  /** Name of the service, used in error messages. */
  service?: string;
}

/**
 * Load typed configuration: defaults < file < environment, validated by `schema`. Throws a
 * ConfigError whose message lists every problem on its own line, so start-up fails with a
 * sentence a human understands.
 */
export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions = {}): z.output<S> {
  const envPrefix = options.envPrefix ?? 'CANOPY';
  let fileValues: Record<string, unknown> | undefined;
  if (options.file) {
    try {
      fileValues = JSON.parse(readFileSync(options.file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`cannot read configuration file ${options.file}: ${(err as Error).message}`);
    }
  }
  const input = mergeSources(options.defaults, fileValues, fromEnv(envPrefix, options.env ?? process.env));
  return parseConfig(schema, input, { service: options.service, envPrefix });
}

/** Validate an already assembled object against `schema`, with the same error format. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  input: unknown,
  context: { service?: string; envPrefix?: string } = {},
): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const lines = describeIssues(result.error.issues, context.envPrefix);
    const who = context.service ? `${context.service}: ` : '';
    throw new ConfigError(`${who}invalid configuration:\n  - ${lines.join('\n  - ')}`, {
      type: 'Config.Invalid',
      details: { problems: lines },
    });
  }
  return result.data;
}
