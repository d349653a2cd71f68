import { parseConfig, z } from '@canopy/config';
import { isGuidString, guidFromString } from '@canopy/contracts';
import { ConfigError, InputError } from '@canopy/errors';
import { DEFAULT_GROUP_MAPPINGS, DEFAULT_USER_MAPPINGS } from './defaults.js';
import { normalizeDn } from './dn.js';
import { compileExpression } from './expr/compile.js';
import type { EvalEnv } from './expr/functions.js';
import type { Value } from './expr/values.js';
import { resolveTarget, type GraphEntity, type TargetInfo } from './graph-schema.js';
import {
  INTEGER_OPERATORS,
  SCOPING_OPERATORS,
  UNARY_OPERATORS,
  canonicalOperator,
  compileClause,
  type CompiledFilter,
  type CompiledScoping,
} from './scoping.js';

/* ------------------------------------------------------------------------------------------ */
/* The per-forest rules document (a FOREST document in canopy.config), as admins write it.     */
/* ------------------------------------------------------------------------------------------ */

const apply = z.enum(['always', 'create']).default('always').describe('"create": only when the object is created in Entra (Cloud Sync "Only during object creation")');
const target = z.string().min(1).describe('Graph v1.0 property of user/group; "parent.member" for a member of a complex property');
const constantValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]);

export const mappingSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('direct'),
    target,
    source: z.string().min(1).describe('AD attribute name, case-insensitive'),
    defaultValue: z.string().optional().describe('used when the attribute is absent'),
    apply,
  }),
  z.strictObject({ type: z.literal('constant'), target, value: constantValue, apply }),
  z.strictObject({
    type: z.literal('expression'),
    target,
    expression: z.string().min(1).describe("Microsoft provisioning expression, e.g. Join(\" \", [givenName], [sn])"),
    defaultValue: z.string().optional().describe('used when the expression gives Null'),
    apply,
  }),
]);
export type MappingConfig = z.input<typeof mappingSchema>;

const objectMappingsSchema = z.strictObject({
  useDefaults: z.boolean().default(true).describe("start from Cloud Sync's default mappings"),
  remove: z.array(z.string()).default([]).describe('default targets not to flow'),
  mappings: z.array(mappingSchema).default([]).describe('added mappings; one with the target of a default replaces it'),
});

const clauseSchema = z
  .strictObject({
    attribute: z.string().min(1),
    operator: z.string().min(1),
    value: z.union([z.string(), z.number()]).optional(),
  })
  .superRefine((c, ctx) => {
    const op = canonicalOperator(c.operator);
    if (!op) {
      ctx.addIssue({ code: 'custom', path: ['operator'], message: `unknown operator "${c.operator}" (one of ${SCOPING_OPERATORS.join(', ')})` });
      return;
    }
    if (!UNARY_OPERATORS.has(op) && c.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `operator ${op} needs a value` });
    if (INTEGER_OPERATORS.has(op) && !/^-?\d+$/.test(String(c.value ?? ''))) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `operator ${op} needs an integer value, got "${c.value}"` });
    }
  });

const filterSchema = z.strictObject({
  name: z.string().optional(),
  objectTypes: z.array(z.enum(['user', 'group', 'contact'])).min(1).optional().describe('default: all'),
  clauses: z.array(clauseSchema).min(1).describe('AND-ed'),
});

const includeExclude = z.strictObject({ include: z.array(z.string().min(1)).default([]), exclude: z.array(z.string().min(1)).default([]) });

export const forestRulesSchema = z
  .strictObject({
    forest: z.string().min(1).describe('forest DNS name, as the reader reports it'),
    scoping: z
      .strictObject({
        domains: includeExclude.prefault({}).describe('domain DNS names'),
        ous: includeExclude.prefault({}).describe('OU/container DNs; subtree; the deepest matching rule wins'),
        groups: z.array(z.string().min(1)).default([]).describe('group DNs or GUIDs: only their direct members (and the groups themselves) are in scope'),
        filters: z.array(filterSchema).default([]).describe('attribute scoping filters, OR-ed'),
      })
      .prefault({}),
    mappings: z.strictObject({ user: objectMappingsSchema.prefault({}), group: objectMappingsSchema.prefault({}) }).prefault({}),
    upnSuffix: z
      .strictObject({
        fallbackToInitialDomain: z.boolean().default(true),
        initialDomain: z.string().regex(/^[a-z0-9-]+\.onmicrosoft\.com$/i, 'must be <tenant>.onmicrosoft.com'),
        verifiedDomains: z.array(z.string().min(1)).default([]),
      })
      .optional()
      .describe("UPNs whose suffix is not a verified domain become <prefix>@<initialDomain>, as Entra Connect does"),
  });

/** The rules document after validation and defaults. */
export type ForestRulesConfig = z.output<typeof forestRulesSchema>;
/** The rules document as written (defaults optional). */
export type ForestRulesInput = z.input<typeof forestRulesSchema>;

/* ------------------------------------------------------------------------------------------ */
/* Compiled form: what transform() uses.                                                       */
/* ------------------------------------------------------------------------------------------ */

export interface CompiledMapping {
  target: TargetInfo;
  type: 'direct' | 'constant' | 'expression';
  apply: 'always' | 'create';
  /** The mapping as text, for results and explain: an expression, "[attr]" or a constant. */
  expression: string;
  fromDefaults: boolean;
  selectsUniqueValue: boolean;
  evaluate(env: EvalEnv): Value;
}

export interface ForestRules {
  forest: string;
  config: ForestRulesConfig;
  scoping: CompiledScoping;
  mappings: { user: CompiledMapping[]; group: CompiledMapping[] };
  upn: { fallback: boolean; initialDomain: string | null; verified: ReadonlySet<string> };
}

/**
 * Validate a per-forest rules document and precompile everything once: expressions (parsed and
 * turned into closures), regexes of scoping filters, DNs of OU rules, Graph targets. Throws a
 * ConfigError listing every problem with its field path ("mappings.user.mappings.2.expression:
 * expected ')' at column 17").
 */
export function compileRules(rawConfig: unknown): ForestRules {
  const config = parseConfig(forestRulesSchema, rawConfig, { service: 'sync-rules' });
  const problems: string[] = [];
  const scoping = compileScoping(config, problems);
  const user = compileMappings('user', config.mappings.user, DEFAULT_USER_MAPPINGS, 'mappings.user', problems);
  const group = compileMappings('group', config.mappings.group, DEFAULT_GROUP_MAPPINGS, 'mappings.group', problems);
  if (problems.length) {
    throw new ConfigError(`sync-rules: invalid configuration:\n  - ${problems.join('\n  - ')}`, { type: 'Config.Invalid', details: { problems } });
  }
  const up = config.upnSuffix;
  return {
    forest: config.forest,
    config,
    scoping,
    mappings: { user, group },
    upn: {
      fallback: up ? up.fallbackToInitialDomain : false,
      initialDomain: up ? up.initialDomain.toLowerCase() : null,
      verified: new Set((up?.verifiedDomains ?? []).map((d) => d.toLowerCase())),
    },
  };
}

function compileScoping(config: ForestRulesConfig, problems: string[]): CompiledScoping {
  const s = config.scoping;
  const ous: Array<{ dn: string; norm: ReturnType<typeof normalizeDn>; include: boolean }> = [];
  const addOu = (dn: string, include: boolean, path: string) => {
    const norm = normalizeDn(dn);
    if (!norm.length || norm.some((r) => !r.includes('='))) problems.push(`${path}: "${dn}" is not a distinguished name`);
    else ous.push({ dn, norm, include });
  };
  s.ous.include.forEach((dn, i) => addOu(dn, true, `scoping.ous.include.${i}`));
  s.ous.exclude.forEach((dn, i) => addOu(dn, false, `scoping.ous.exclude.${i}`));
  ous.sort((a, b) => b.norm.length - a.norm.length);
  const groups = s.groups.flatMap((g, i): CompiledScoping['groups'][number][] => {
    if (isGuidString(g)) return [{ label: g, norm: null, guid: guidFromString(g) }];
    const norm = normalizeDn(g);
    if (!norm.length || norm.some((r) => !r.includes('='))) {
      problems.push(`scoping.groups.${i}: "${g}" is neither a group DN nor a GUID`);
      return [];
    }
    return [{ label: g, norm, guid: null }];
  });
  const filters: CompiledFilter[] = s.filters.map((f, i) => ({
    name: f.name ?? `#${i + 1}`,
    objectTypes: new Set(f.objectTypes ?? ['user', 'group', 'contact']),
    clauses: f.clauses.flatMap((c, j) => {
      try {
        return [compileClause(c.attribute, canonicalOperator(c.operator)!, c.value === undefined ? null : String(c.value))];
      } catch (err) {
        problems.push(`scoping.filters.${i}.clauses.${j}.value: ${(err as Error).message}`);
        return [];
      }
    }),
  }));
  return {
    domainsInclude: new Set(s.domains.include.map((d) => d.toLowerCase())),
    domainsExclude: new Set(s.domains.exclude.map((d) => d.toLowerCase())),
    ous,
    hasOuIncludes: ous.some((o) => o.include),
    groups,
    filters,
  };
}

function compileMappings(
  entity: GraphEntity,
  section: ForestRulesConfig['mappings']['user'],
  defaults: readonly MappingConfig[],
  path: string,
  problems: string[],
): CompiledMapping[] {
  const out = new Map<string, CompiledMapping>();
  if (section.useDefaults) {
    const removed = new Set(section.remove.map((r) => r.toLowerCase()));
    section.remove.forEach((r, i) => {
      if (!defaults.some((d) => d.target.toLowerCase() === r.toLowerCase())) problems.push(`${path}.remove.${i}: "${r}" is not a default mapping target`);
    });
    for (const d of defaults) {
      if (removed.has(d.target.toLowerCase())) continue;
      const m = compileMapping(entity, mappingSchema.parse(d), `${path}.defaults(${d.target})`, problems, true);
      if (m) out.set(m.target.name, m);
    }
  }
  const seen = new Set<string>();
  section.mappings.forEach((spec, i) => {
    const m = compileMapping(entity, spec, `${path}.mappings.${i}`, problems, false);
    if (!m) return;
    if (seen.has(m.target.name)) problems.push(`${path}.mappings.${i}.target: "${spec.target}" is mapped twice`);
    seen.add(m.target.name);
    out.set(m.target.name, m);
  });
  return [...out.values()];
}

function compileMapping(
  entity: GraphEntity,
  spec: z.output<typeof mappingSchema>,
  path: string,
  problems: string[],
  fromDefaults: boolean,
): CompiledMapping | null {
  const info = resolveTarget(entity, spec.target);
  const typeName = `microsoft.graph.${entity}`;
  if (!info) {
    problems.push(`${path}.target: "${spec.target}" is not a property of ${typeName}`);
    return null;
  }
  if (info.complex) {
    problems.push(`${path}.target: "${spec.target}" is a complex property of ${typeName}; map its members ("${info.name}.<member>")`);
    return null;
  }
  if (info.access === 'readOnly') {
    problems.push(`${path}.target: "${info.name}" is read-only in ${typeName}`);
    return null;
  }
  const base = { target: info, type: spec.type, apply: spec.apply, fromDefaults };
  switch (spec.type) {
    case 'constant': {
      const value = spec.value as Value;
      return { ...base, expression: JSON.stringify(spec.value), selectsUniqueValue: false, evaluate: () => value };
    }
    case 'direct': {
      const name = spec.source.toLowerCase();
      const dflt = spec.defaultValue ?? null;
      return {
        ...base,
        expression: `[${spec.source}]`,
        selectsUniqueValue: false,
        evaluate: dflt === null ? (env) => env.attr(name) : (env) => env.attr(name) ?? dflt,
      };
    }
    case 'expression': {
      let compiled;
      try {
        compiled = compileExpression(spec.expression);
      } catch (err) {
        problems.push(`${path}.expression: ${err instanceof InputError ? err.message : String(err)}`);
        return null;
      }
      if (compiled.selectsUniqueValue && spec.apply !== 'create') {
        problems.push(`${path}.apply: SelectUniqueValue is only for object creation; set apply: create`);
        return null;
      }
      const dflt = spec.defaultValue ?? null;
      const evaluate = compiled.evaluate;
      return {
        ...base,
        expression: spec.expression,
        selectsUniqueValue: compiled.selectsUniqueValue,
        evaluate: dflt === null ? evaluate : (env) => evaluate(env) ?? dflt,
      };
    }
  }
}
