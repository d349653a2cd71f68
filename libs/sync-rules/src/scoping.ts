import type { AdObjectEvent, DnRef } from '@canopy/contracts';
import { domainOfDn, isUnder, normalizeDn, type NormalizedDn } from './dn.js';
import type { EvalEnv } from './expr/functions.js';
import { compileDotNetRegex } from './expr/regex.js';
import { asList, scalarToString, type Value } from './expr/values.js';

/**
 * Operators of Entra provisioning scoping filters, spelled as Microsoft spells them ("Scoping
 * users or groups to be provisioned with scoping filters"), plus Less_Than,
 * Less_Than_OR_EQUALS and NOT INCLUDES which the synchronization API also accepts.
 */
export const SCOPING_OPERATORS = [
  'EQUALS',
  'NOT EQUALS',
  'IS TRUE',
  'IS FALSE',
  'IS NULL',
  'IS NOT NULL',
  'REGEX MATCH',
  'NOT REGEX MATCH',
  'Greater_Than',
  'Greater_Than_OR_EQUALS',
  'Less_Than',
  'Less_Than_OR_EQUALS',
  'Includes',
  'NOT INCLUDES',
  'ENDS_WITH',
  '&',
  '!&',
] as const;
export type ScopingOperator = (typeof SCOPING_OPERATORS)[number];

/** Operators that need no value. */
export const UNARY_OPERATORS: ReadonlySet<ScopingOperator> = new Set(['IS TRUE', 'IS FALSE', 'IS NULL', 'IS NOT NULL']);
/** Operators whose value must be an integer. */
export const INTEGER_OPERATORS: ReadonlySet<ScopingOperator> = new Set(['Greater_Than', 'Greater_Than_OR_EQUALS', 'Less_Than', 'Less_Than_OR_EQUALS']);
/** Negative operators: with a multi-valued attribute they hold when no value matches the positive form. */
const NEGATED: Partial<Record<ScopingOperator, ScopingOperator>> = {
  'NOT EQUALS': 'EQUALS',
  'NOT REGEX MATCH': 'REGEX MATCH',
  'NOT INCLUDES': 'Includes',
  '!&': '&',
};

/** Canonical operator from a spelling in configuration ("not_equals", "Greater Than", "greater_than_or_equals" ...). */
export function canonicalOperator(raw: string): ScopingOperator | null {
  const key = (s: string) => s.toLowerCase().replace(/[\s_]+/g, ' ').trim();
  const k = key(raw);
  return SCOPING_OPERATORS.find((op) => key(op) === k) ?? null;
}

export type ScopeRule =
  | 'deleted'
  | 'object-class'
  | 'critical-system-object'
  | 'system-object'
  | 'domain-exclude'
  | 'domain-include'
  | 'ou-exclude'
  | 'ou-include'
  | 'group'
  | 'attribute-filter'
  | 'in-scope';

/** Why an object is or is not in scope: what `canopy explain` prints. */
export interface ScopingDecision {
  inScope: boolean;
  rule: ScopeRule;
  detail: string;
}

export interface CompiledClause {
  attribute: string;
  operator: ScopingOperator;
  value: string | null;
  regex: RegExp | null;
  integer: bigint | null;
}

export interface CompiledFilter {
  name: string;
  objectTypes: ReadonlySet<'user' | 'group' | 'contact'>;
  clauses: CompiledClause[];
}

export interface CompiledScoping {
  domainsInclude: ReadonlySet<string>;
  domainsExclude: ReadonlySet<string>;
  /** OU rules, most specific (longest) first. */
  ous: ReadonlyArray<{ dn: string; norm: NormalizedDn; include: boolean }>;
  hasOuIncludes: boolean;
  groups: ReadonlyArray<{ label: string; norm: NormalizedDn | null; guid: Buffer | null }>;
  filters: CompiledFilter[];
}

export function compileClause(attribute: string, operator: ScopingOperator, value: string | null): CompiledClause {
  return {
    attribute: attribute.toLowerCase(),
    operator,
    value,
    regex: operator === 'REGEX MATCH' || operator === 'NOT REGEX MATCH' ? compileDotNetRegex(value ?? '') : null,
    integer: INTEGER_OPERATORS.has(operator) || ((operator === '&' || operator === '!&') && /^-?\d+$/.test(value ?? '')) ? BigInt(value!) : null,
  };
}

function valuesOf(v: Value): string[] {
  return asList(v)
    .map((x) => scalarToString(x))
    .filter((s) => s !== '');
}

function testOne(op: ScopingOperator, c: CompiledClause, s: string): boolean {
  const value = c.value ?? '';
  switch (op) {
    case 'EQUALS':
      return s === value;
    case 'REGEX MATCH':
      return c.regex!.test(s);
    case 'Includes':
      return s !== '' && s.includes(value);
    case 'ENDS_WITH':
      return s !== '' && s.endsWith(value);
    case 'IS TRUE':
      return s.trim().toLowerCase() === 'true';
    case 'IS FALSE': {
      const t = s.trim().toLowerCase();
      return t === 'false' || t === '';
    }
    case '&':
      if (s === '') return false;
      if (c.integer !== null && /^-?\d+$/.test(s.trim())) return (BigInt(s.trim()) & c.integer) !== 0n;
      return value.includes(s);
    case 'Greater_Than':
    case 'Greater_Than_OR_EQUALS':
    case 'Less_Than':
    case 'Less_Than_OR_EQUALS': {
      if (!/^-?\d+$/.test(s.trim())) return false;
      const n = BigInt(s.trim());
      const k = c.integer!;
      return op === 'Greater_Than' ? n > k : op === 'Greater_Than_OR_EQUALS' ? n >= k : op === 'Less_Than' ? n < k : n <= k;
    }
    default:
      return false;
  }
}

/**
 * One clause against one object.
 *
 * Absent attributes: Microsoft's app-provisioning page says every operator is false on a
 * null/empty value, but Cloud Sync's own default scope (AD2AADProvisioning schema:
 * `isCriticalSystemObject IS FALSE`, `mailNickname NOT REGEX MATCH "^CAS_([^{]*){"`,
 * `distinguishedName NOT REGEX MATCH ...\\0ACNF`) only works if an absent attribute is evaluated as
 * an empty value: otherwise no user without a mailNickname or isCriticalSystemObject would ever
 * sync. Canopy follows Cloud Sync: an absent attribute is "", so EQUALS/REGEX MATCH/Includes/
 * comparisons are false, NOT EQUALS/NOT REGEX MATCH/NOT INCLUDES/!& are true, IS FALSE is true,
 * IS TRUE is false. Microsoft does not support multi-valued attributes in filters; Canopy
 * evaluates a positive operator as "some value matches" and a negative one as "no value matches".
 */
export function evaluateClause(c: CompiledClause, attr: (name: string) => Value): boolean {
  const values = valuesOf(attr(c.attribute));
  if (c.operator === 'IS NULL') return values.length === 0;
  if (c.operator === 'IS NOT NULL') return values.length > 0;
  if (values.length === 0) values.push('');
  const positive = NEGATED[c.operator];
  if (positive) return !values.some((s) => testOne(positive, c, s));
  return values.some((s) => testOne(c.operator, c, s));
}

export function describeClause(c: CompiledClause): string {
  return UNARY_OPERATORS.has(c.operator) ? `${c.attribute} ${c.operator}` : `${c.attribute} ${c.operator} "${c.value ?? ''}"`;
}

const OBJECT_TYPE: Record<AdObjectEvent['objectClass'], 'user' | 'group' | 'contact' | null> = {
  USER: 'user',
  INET_ORG_PERSON: 'user',
  GROUP: 'group',
  CONTACT: 'contact',
  OTHER: null,
};

export function objectTypeOf(event: AdObjectEvent): 'user' | 'group' | 'contact' | null {
  const classes = (event.attributes['objectclass'] ?? []).map((c) => c.toLowerCase());
  if (classes.includes('computer')) return null;
  return OBJECT_TYPE[event.objectClass] ?? null;
}

function domainDecision(domain: string | null, s: CompiledScoping): ScopingDecision | null {
  const d = (domain ?? '').toLowerCase();
  if (s.domainsExclude.has(d)) return { inScope: false, rule: 'domain-exclude', detail: `domain ${d} is excluded` };
  if (s.domainsInclude.size && !s.domainsInclude.has(d)) {
    return { inScope: false, rule: 'domain-include', detail: `domain ${d || '(unknown)'} is not in the included domains (${[...s.domainsInclude].join(', ')})` };
  }
  return null;
}

/** OU rules: the most specific (deepest) include or exclude that contains the object wins. */
function ouDecision(norm: NormalizedDn, s: CompiledScoping): { out: ScopingDecision | null; note: string | null } {
  for (const ou of s.ous) {
    if (isUnder(norm, ou.norm)) {
      if (!ou.include) return { out: { inScope: false, rule: 'ou-exclude', detail: `${ou.dn} excluded` }, note: null };
      return { out: null, note: `under ${ou.dn} (included)` };
    }
  }
  if (s.hasOuIncludes) return { out: { inScope: false, rule: 'ou-include', detail: 'not under any included OU' }, note: null };
  return { out: null, note: null };
}

const FSP = 'cn=foreignsecurityprincipals';
/** Cloud Sync default scope: distinguishedName NOT REGEX MATCH "^CN\s*=\s*([^\,]*)\\0ACNF" (also a raw newline). */
const CONFLICT_DN = /^CN\s*=\s*([^,]*)(\\0ACNF|\nCNF)/i;
/** Cloud Sync default scope: mailNickname NOT REGEX MATCH "^CAS_([^{]*){". */
const CAS_MAILBOX = /^CAS_([^{]*)\{/;

/** Scoping of a whole snapshot, in Cloud Sync's order; the first rule that excludes decides. */
export function decideScope(event: AdObjectEvent, s: CompiledScoping, env: EvalEnv): ScopingDecision {
  const type = objectTypeOf(event);
  if (type === null) {
    const cls = event.objectClass === 'OTHER' ? (event.attributes['objectclass']?.slice(-1)[0] ?? 'other') : 'computer';
    return { inScope: false, rule: 'object-class', detail: `${cls} objects are not synchronized (users, groups and contacts are)` };
  }
  const critical = event.attributes['iscriticalsystemobject']?.[0];
  if (critical !== undefined && critical.toLowerCase() === 'true') {
    return { inScope: false, rule: 'critical-system-object', detail: 'isCriticalSystemObject is TRUE (built-in objects are never synchronized)' };
  }
  if (CONFLICT_DN.test(event.dn)) {
    return { inScope: false, rule: 'system-object', detail: 'replication conflict object (CNF: in its name), excluded as Cloud Sync does' };
  }
  const nick = event.attributes['mailnickname']?.[0];
  if (nick !== undefined && CAS_MAILBOX.test(nick)) {
    return { inScope: false, rule: 'system-object', detail: 'Exchange system mailbox (mailNickname CAS_{...}), excluded as Cloud Sync does' };
  }
  const dom = domainDecision(event.domain, s);
  if (dom) return dom;
  const norm = s.ous.length || s.groups.length ? normalizeDn(event.dn) : [];
  const ou = ouDecision(norm, s);
  if (ou.out) return ou.out;
  const notes: string[] = [];
  if (ou.note) notes.push(ou.note);
  if (s.groups.length) {
    const hit = s.groups.find((g) => isListedGroup(g, event.objectGuid, norm) || event.memberOf.some((m) => isListedGroup(g, m.guid, normalizeDn(m.dn))));
    if (!hit) {
      return { inScope: false, rule: 'group', detail: `not a direct member of any scoping group (${s.groups.map((g) => g.label).join('; ')})` };
    }
    notes.push(`member of ${hit.label}`);
  }
  const filters = s.filters.filter((f) => f.objectTypes.has(type));
  if (filters.length) {
    const failures: string[] = [];
    let matched: string | null = null;
    for (const f of filters) {
      const failed = f.clauses.find((c) => !evaluateClause(c, env.attr));
      if (!failed) {
        matched = f.name;
        break;
      }
      failures.push(`${f.name}: ${describeClause(failed)} is false`);
    }
    if (matched === null) return { inScope: false, rule: 'attribute-filter', detail: `no scoping filter matched (${failures.join('; ')})` };
    notes.push(`scoping filter ${matched} matched`);
  }
  return { inScope: true, rule: 'in-scope', detail: notes.length ? notes.join('; ') : 'no rule excludes it' };
}

function isListedGroup(g: CompiledScoping['groups'][number], guid: Buffer, norm: NormalizedDn): boolean {
  if (g.guid) return g.guid.equals(guid);
  return g.norm !== null && g.norm.length === norm.length && isUnder(norm, g.norm);
}

/** The raw DN of the container an object is in: everything after the first unescaped, unquoted ','. */
function parentDnText(dn: string): string {
  let quoted = false;
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    else if ((ch === ',' || ch === ';') && !quoted) return dn.slice(i + 1);
  }
  return '';
}

const memberCache = new WeakMap<CompiledScoping, Map<string, ScopingDecision>>();

/**
 * Scoping of a group member from what its DnRef tells (DN and GUID only: the transformer is
 * stateless). Domain and OU rules apply exactly, judged on the container the member is in
 * (so decisions are cached per container: groups of thousands of members cost little); foreign
 * security principals are out; attribute filters, group-based scoping and
 * isCriticalSystemObject cannot be checked here (see docs/sync-rules.md).
 */
export function decideMemberScope(member: DnRef, s: CompiledScoping): ScopingDecision {
  const parent = parentDnText(member.dn);
  let cache = memberCache.get(s);
  if (!cache) {
    cache = new Map();
    memberCache.set(s, cache);
  }
  const hit = cache.get(parent);
  if (hit) return hit;
  const decision = decideContainer(normalizeDn(parent), s);
  if (cache.size >= 50_000) cache.clear();
  cache.set(parent, decision);
  return decision;
}

function decideContainer(norm: NormalizedDn, s: CompiledScoping): ScopingDecision {
  if (norm.includes(FSP)) return { inScope: false, rule: 'object-class', detail: 'foreign security principal' };
  const dom = domainDecision(domainOfDn(norm), s);
  if (dom) return dom;
  const ou = ouDecision(norm, s);
  if (ou.out) return ou.out;
  return { inScope: true, rule: 'in-scope', detail: ou.note ?? 'no DN rule excludes it' };
}
