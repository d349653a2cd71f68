import { createHash } from 'node:crypto';
import { sourceAnchorOf, type AdObjectEvent, type EntraOperation, type EntraTargetType, type GraphValue } from '@canopy/contracts';
import { CanopyError } from '@canopy/errors';
import type { CompiledMapping, ForestRules } from './config.js';
import { ExpressionEvaluationError } from './expr/errors.js';
import type { EvalEnv } from './expr/functions.js';
import { IgnoreFlow, UniqueCandidates, asList, isBinary, scalarToString, toNum, type Scalar, type Value } from './expr/values.js';
import type { TargetInfo } from './graph-schema.js';
import { decideMemberScope, decideScope, objectTypeOf, type ScopingDecision } from './scoping.js';

export interface TransformContext {
  /** Version of the FOREST config document the rules came from; recorded on every op. */
  configVersion: number;
  /** Emission time of the op (the caller's clock; transform itself reads no clock). */
  now: Date;
  /** Source of Guid() values; default random. */
  newGuid?: () => string;
}

/** One mapped attribute, for `preview` / `explain`. */
export interface MappedAttribute {
  target: string;
  value: GraphValue;
  /** Mapping as text: an expression, "[attribute]" or a JSON constant. */
  expression: string;
  type: 'direct' | 'constant' | 'expression';
  apply: 'always' | 'create';
  fromDefaults: boolean;
  /** SelectUniqueValue candidates, in order, when the mapping produced them. */
  candidates?: string[];
  /** What post-processing changed (e.g. the UPN suffix fallback). */
  note?: string;
}

export interface MemberScoping {
  kept: number;
  excluded: Array<{ dn: string; rule: ScopingDecision['rule']; detail: string }>;
}

export interface TransformFailure {
  /** Graph target whose mapping failed, or null when the failure is not tied to one. */
  attribute: string | null;
  expression: string | null;
  message: string;
  type: string;
}

export type TransformOutcome =
  | { kind: 'op'; op: EntraOperation; scoping: ScopingDecision; mapped: MappedAttribute[]; members?: MemberScoping }
  | { kind: 'skipped'; reason: string; scoping: ScopingDecision }
  | { kind: 'failed'; error: TransformFailure; scoping?: ScopingDecision };

/** AD groupType bits. */
export const GROUP_TYPE = { SECURITY: 0x80000000, GLOBAL: 0x2, DOMAIN_LOCAL: 0x4, UNIVERSAL: 0x8 } as const;

const DELETED: ScopingDecision = { inScope: false, rule: 'deleted', detail: 'deleted in AD' };

/**
 * The pure core of the transformer and of the CLI's preview/explain: one AD object event in,
 * one outcome out. Never throws: anything unexpected becomes a failed outcome.
 *
 * - tombstone -> DELETE op ("deleted in AD"); the writer deletes only what it owns.
 * - snapshot out of scope -> DELETE op with the scoping rule as reason (the writer reports
 *   "skipped: not in Entra" when nothing exists).
 * - snapshot in scope -> UPSERT op with the mapped properties.
 * - contacts, distribution groups, mail-enabled security groups and objects of other classes
 *   -> skipped with the reason (Graph v1.0 cannot create them), so nothing is silently dropped.
 * - a mapping that fails on this object -> failed, naming the attribute and the expression.
 */
export function transform(event: AdObjectEvent, rules: ForestRules, ctx: TransformContext): TransformOutcome {
  try {
    return transformUnsafe(event, rules, ctx);
  } catch (err) {
    return {
      kind: 'failed',
      error: {
        attribute: null,
        expression: null,
        message: err instanceof Error ? err.message : String(err),
        type: err instanceof CanopyError ? err.type : 'Transform.Unexpected',
      },
    };
  }
}

function transformUnsafe(event: AdObjectEvent, rules: ForestRules, ctx: TransformContext): TransformOutcome {
  const type = objectTypeOf(event);
  const binary = event.binaryAttributes ?? {};
  const consistency = own(binary, 'ms-ds-consistencyguid')?.[0] ?? null;
  const anchor = sourceAnchorOf(event.objectGuid, consistency);
  const env = buildEnv(event, anchor, ctx.newGuid, ctx.now);

  if (event.kind === 'TOMBSTONE') {
    if (type === 'contact') return { kind: 'skipped', reason: CONTACT_REASON, scoping: DELETED };
    if (type === null) return { kind: 'skipped', reason: 'deleted in AD; objects of this class are not synchronized', scoping: DELETED };
    return { kind: 'op', op: makeOp(event, anchor, targetOf(type), 'DELETE', {}, [], null, {}, 'deleted in AD', ctx), scoping: DELETED, mapped: [] };
  }

  const scoping = decideScope(event, rules.scoping, env);
  if (type === null) return { kind: 'skipped', reason: `not synchronized: ${scoping.detail}`, scoping };
  if (type === 'contact') return { kind: 'skipped', reason: CONTACT_REASON, scoping };
  if (type === 'group') {
    const unsupported = unsupportedGroup(event);
    if (unsupported) return { kind: 'skipped', reason: unsupported, scoping };
  }
  if (!scoping.inScope) {
    const reason = `out of scope (${scoping.rule}): ${scoping.detail}`;
    return { kind: 'op', op: makeOp(event, anchor, targetOf(type), 'DELETE', {}, [], null, {}, reason, ctx), scoping, mapped: [] };
  }

  const mappings = type === 'user' ? rules.mappings.user : rules.mappings.group;
  const properties: Record<string, GraphValue> = {};
  const createOnly: string[] = [];
  const uniqueCandidates: Record<string, string[]> = {};
  const mapped: MappedAttribute[] = [];
  for (const m of mappings) {
    let value: GraphValue;
    let candidates: string[] | undefined;
    try {
      const raw = m.evaluate(env);
      if (raw instanceof IgnoreFlow) {
        mapped.push({ target: m.target.name, value: null, expression: m.expression, type: m.type, apply: m.apply, fromDefaults: m.fromDefaults, note: 'not flowed (IgnoreFlowIfNullOrEmpty)' });
        continue;
      }
      if (raw instanceof UniqueCandidates) {
        candidates = raw.values;
        value = candidates.length ? coerce(candidates[0]!, m.target) : null;
      } else {
        value = coerce(raw, m.target);
      }
    } catch (err) {
      return failed(m, err, scoping);
    }
    let note: string | undefined;
    if (type === 'user' && m.target.name === 'userPrincipalName') {
      const fixed = fixUpn(value, rules);
      if (fixed.note) {
        value = fixed.value;
        note = fixed.note;
      }
      if (candidates) candidates = candidates.map((c) => (fixUpn(c, rules).value as string) ?? c);
    }
    properties[m.target.name] = value;
    if (m.apply === 'create') createOnly.push(m.target.name);
    if (candidates) uniqueCandidates[m.target.name] = candidates;
    mapped.push({
      target: m.target.name,
      value,
      expression: m.expression,
      type: m.type,
      apply: m.apply,
      fromDefaults: m.fromDefaults,
      ...(candidates ? { candidates } : {}),
      ...(note ? { note } : {}),
    });
  }

  const missing = (type === 'user' ? ['userPrincipalName', 'displayName', 'mailNickname'] : ['displayName', 'mailNickname']).find(
    (p) => p in properties && (properties[p] === null || properties[p] === ''),
  );
  if (missing) {
    const m = mappings.find((x) => x.target.name === missing)!;
    return {
      kind: 'failed',
      error: { attribute: missing, expression: m.expression, message: `${missing} is empty for this object; Microsoft Graph requires it`, type: 'Mapping.RequiredEmpty' },
      scoping,
    };
  }

  let members: string[] | null = null;
  let memberScoping: MemberScoping | undefined;
  if (type === 'group' && event.members) {
    memberScoping = { kept: 0, excluded: [] };
    const seen = new Set<string>();
    for (const ref of event.members) {
      const d = decideMemberScope(ref, rules.scoping);
      if (!d.inScope) {
        memberScoping.excluded.push({ dn: ref.dn, rule: d.rule, detail: d.detail });
        continue;
      }
      const a = sourceAnchorOf(ref.guid);
      if (!seen.has(a)) seen.add(a);
    }
    members = [...seen];
    memberScoping.kept = members.length;
  }

  const op = makeOp(event, anchor, targetOf(type), 'UPSERT', properties, createOnly, members, uniqueCandidates, null, ctx);
  return { kind: 'op', op, scoping, mapped, ...(memberScoping ? { members: memberScoping } : {}) };
}

const CONTACT_REASON = 'Microsoft Graph v1.0 cannot create or update contacts (orgContact is read-only); contacts are managed by Exchange Online';

function unsupportedGroup(event: AdObjectEvent): string | null {
  const raw = event.attributes['grouptype']?.[0];
  const groupType = raw !== undefined && /^-?\d+$/.test(raw) ? Number(BigInt.asUintN(32, BigInt(raw))) : GROUP_TYPE.SECURITY | GROUP_TYPE.GLOBAL;
  const security = (groupType & GROUP_TYPE.SECURITY) !== 0;
  if (!security) return 'Graph cannot create distribution groups; mail-enabled groups are managed in Exchange Online';
  const mailEnabled = (event.attributes['mail']?.length ?? 0) > 0 || (event.attributes['proxyaddresses']?.length ?? 0) > 0;
  if (mailEnabled) return 'Graph cannot create mail-enabled security groups; mail-enabled groups are managed in Exchange Online';
  return null;
}

function targetOf(type: 'user' | 'group' | 'contact'): EntraTargetType {
  return type === 'user' ? 'USER' : type === 'group' ? 'GROUP' : 'CONTACT';
}

function failed(m: CompiledMapping, err: unknown, scoping: ScopingDecision): TransformOutcome {
  return {
    kind: 'failed',
    error: {
      attribute: m.target.name,
      expression: m.expression,
      message: err instanceof Error ? err.message : String(err),
      type: err instanceof CanopyError ? err.type : 'Expression.Evaluation',
    },
    scoping,
  };
}

function own<T>(obj: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Attribute lookup for expressions: AD attributes by lower-cased name, then Canopy's virtual attributes. */
export function buildEnv(event: AdObjectEvent, sourceAnchor: string, newGuid?: () => string, now?: Date): EvalEnv {
  const attrs = event.attributes ?? {};
  const bins = event.binaryAttributes ?? {};
  return {
    newGuid,
    now: now ? () => now : undefined,
    attr(name: string): Value {
      switch (name) {
        case 'dn':
        case 'distinguishedname':
          return event.dn;
        case 'sourceanchor':
          return sourceAnchor;
        case 'domain':
          return event.domain;
        case 'forest':
          return event.forest;
        case 'objectguid':
          return event.objectGuid;
      }
      const v = own(attrs, name);
      if (v !== undefined && v.length) return v.length === 1 ? v[0]! : v;
      const b = own(bins, name);
      if (b !== undefined && b.length) return b.length === 1 ? b[0]! : b;
      return null;
    },
  };
}

/**
 * A value of the expression language to the Graph property type. Strings: the first value of a
 * multi-valued source, "" becomes null (Graph rejects empty strings for most properties and AD
 * has no empty values). Collections: every value, absent = []. Booleans accept True/False text.
 */
const collectionOf = new Map<string, string | null>();

export function coerce(v: Value, t: TargetInfo): GraphValue {
  let inner = collectionOf.get(t.type);
  if (inner === undefined) {
    inner = /^Collection\((.+)\)$/.exec(t.type)?.[1] ?? null;
    collectionOf.set(t.type, inner);
  }
  if (inner !== null) {
    const out: string[] = [];
    for (const x of asList(v)) {
      const s = scalarGraph(x, inner);
      if (s !== null && s !== '') out.push(String(s));
    }
    return out;
  }
  if (v === null) return null;
  const list = asList(v);
  if (!list.length) return null;
  const r = scalarGraph(list[0]!, t.type);
  return r === '' ? null : r;
}

function scalarGraph(x: Scalar, type: string): string | number | boolean | null {
  switch (type) {
    case 'Edm.Boolean': {
      if (typeof x === 'boolean') return x;
      if (typeof x === 'number') return x !== 0;
      const s = scalarToString(x).trim().toLowerCase();
      if (s === 'true') return true;
      if (s === 'false') return false;
      throw new ExpressionEvaluationError(`cannot convert "${scalarToString(x)}" to Edm.Boolean`);
    }
    case 'Edm.Int32':
    case 'Edm.Int64':
    case 'Edm.Double': {
      const n = toNum(x, type);
      if (n === null) return null;
      if (type !== 'Edm.Double' && !Number.isInteger(n)) throw new ExpressionEvaluationError(`cannot convert ${n} to ${type}`);
      return n;
    }
    case 'Edm.DateTimeOffset':
      if (x instanceof Date) return x.toISOString();
      return scalarToString(x);
    case 'Edm.Binary':
      return isBinary(x) ? Buffer.from(x).toString('base64') : scalarToString(x);
    default:
      return scalarToString(x);
  }
}

/** Entra Connect's rule: a UPN whose suffix is not a verified domain becomes <prefix>@<initial domain>. */
function fixUpn(value: GraphValue, rules: ForestRules): { value: GraphValue; note?: string } {
  if (!rules.upn.fallback || !rules.upn.initialDomain || typeof value !== 'string') return { value };
  const at = value.lastIndexOf('@');
  const prefix = at < 0 ? value : value.slice(0, at);
  const suffix = at < 0 ? '' : value.slice(at + 1).toLowerCase();
  if (suffix === rules.upn.initialDomain || rules.upn.verified.has(suffix)) return { value };
  const fixed = `${prefix}@${rules.upn.initialDomain}`;
  return { value: fixed, note: `UPN suffix "${suffix || '(none)'}" is not a verified domain of the tenant; using ${rules.upn.initialDomain}` };
}

function makeOp(
  event: AdObjectEvent,
  anchor: string,
  targetType: EntraTargetType,
  action: 'UPSERT' | 'DELETE',
  properties: Record<string, GraphValue>,
  createOnly: string[],
  members: string[] | null,
  uniqueCandidates: Record<string, string[]>,
  reason: string | null,
  ctx: TransformContext,
): EntraOperation {
  const opId = createHash('sha256')
    .update(`${event.forest}\u0000${Buffer.from(event.objectGuid).toString('hex')}\u0000${event.usnChanged}\u0000${event.kind}\u0000${ctx.configVersion}\u0000${action}`)
    .digest('hex')
    .slice(0, 32);
  return {
    opId,
    forest: event.forest,
    domain: event.domain,
    objectGuid: event.objectGuid,
    sourceAnchor: anchor,
    dn: event.dn,
    targetType,
    action,
    properties,
    createOnly,
    members,
    uniqueCandidates,
    reason,
    configVersion: ctx.configVersion,
    sourceUsn: event.usnChanged,
    cycleId: event.cycleId,
    cycleDeletes: event.cycleDeletes ?? 0,
    emittedAt: ctx.now,
  };
}
