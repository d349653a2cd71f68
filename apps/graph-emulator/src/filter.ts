import { GraphError, badRequest, unsupportedFilter } from './graph-error.js';

/**
 * A small OData v4 `$filter` parser and evaluator for the directory subset a sync writer needs:
 * eq/ne/gt/ge/lt/le, `in`, startswith/endswith, `any` lambdas on string collections, and/or/not,
 * parentheses; string, boolean, null, number, GUID and DateTimeOffset literals.
 */
export type Literal = string | number | boolean | null;
export type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
export type FilterNode =
  | { t: 'cmp'; op: Op; prop: string; value: Literal }
  | { t: 'in'; prop: string; values: Literal[] }
  | { t: 'fn'; fn: 'startswith' | 'endswith'; prop: string; value: string }
  | { t: 'any'; prop: string; inner: { op: Op | 'startswith' | 'endswith'; value: Literal } }
  | { t: 'and' | 'or'; l: FilterNode; r: FilterNode }
  | { t: 'not'; e: FilterNode };

export interface ParsedFilter {
  ast: FilterNode;
  /** Uses an operator that Graph only allows as an advanced query (ConsistencyLevel + $count). */
  advanced: boolean;
  props: Set<string>;
}

type Tok = { k: 'id' | 'str' | 'num' | 'punct' | 'bare'; v: string; pos: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === "'") {
      let s = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw syntax(src, i, 'unterminated string literal');
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += src[j];
        j++;
      }
      out.push({ k: 'str', v: s, pos: i });
      i = j + 1;
      continue;
    }
    if ('(),:/'.includes(c)) {
      out.push({ k: 'punct', v: c, pos: i });
      i++;
      continue;
    }
    const m = /^[A-Za-z0-9_.+\-:]+/.exec(src.slice(i));
    if (!m) throw syntax(src, i, `unexpected character '${c}'`);
    let word = m[0];
    // identifiers never contain ':' (lambda variables are followed by one); GUIDs and dates may.
    if (/^[A-Za-z_]/.test(word) && word.includes(':')) word = word.slice(0, word.indexOf(':'));
    const k = /^-?\d+(\.\d+)?$/.test(word) ? 'num' : /^[A-Za-z_][A-Za-z0-9_]*$/.test(word) ? 'id' : 'bare';
    out.push({ k, v: word, pos: i });
    i += word.length;
  }
  return out;
}

function syntax(src: string, pos: number, what: string): GraphError {
  return badRequest(`Invalid filter clause: syntax error at position ${pos} in '${src}' (${what}).`, 'BadRequest');
}

const OPS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

export function parseFilter(src: string): ParsedFilter {
  const toks = tokenize(src);
  let p = 0;
  let advanced = false;
  const props = new Set<string>();
  const peek = (): Tok | undefined => toks[p];
  const next = (): Tok => {
    const t = toks[p++];
    if (!t) throw syntax(src, src.length, 'unexpected end of expression');
    return t;
  };
  const expect = (v: string): void => {
    const t = next();
    if (t.v !== v) throw syntax(src, t.pos, `expected '${v}'`);
  };
  const isWord = (t: Tok | undefined, w: string): boolean => !!t && t.k === 'id' && t.v.toLowerCase() === w;

  const literal = (): Literal => {
    const t = next();
    if (t.k === 'str') return t.v;
    if (t.k === 'num') return Number(t.v);
    if (t.k === 'id' && (t.v === 'true' || t.v === 'false')) return t.v === 'true';
    if (t.k === 'id' && t.v === 'null') return null;
    if (t.k === 'bare' || t.k === 'id') return t.v; // GUID or DateTimeOffset literal
    throw syntax(src, t.pos, 'expected a literal');
  };

  const path = (): string => {
    const t = next();
    if (t.k !== 'id') throw syntax(src, t.pos, 'expected a property name');
    props.add(t.v);
    return t.v;
  };

  const primary = (): FilterNode => {
    const t = peek();
    if (!t) throw syntax(src, src.length, 'unexpected end of expression');
    if (t.v === '(') {
      next();
      const e = orExpr();
      expect(')');
      return e;
    }
    if (isWord(t, 'not')) {
      next();
      advanced = true;
      return { t: 'not', e: primary() };
    }
    if ((isWord(t, 'startswith') || isWord(t, 'endswith')) && toks[p + 1]?.v === '(') {
      const fn = next().v.toLowerCase() as 'startswith' | 'endswith';
      if (fn === 'endswith') advanced = true;
      expect('(');
      const prop = path();
      expect(',');
      const v = literal();
      expect(')');
      if (typeof v !== 'string') throw syntax(src, t.pos, `${fn} needs a string`);
      return { t: 'fn', fn, prop, value: v };
    }
    const prop = path();
    const after = peek();
    if (after?.v === '/') {
      next();
      const kw = next();
      if (kw.k !== 'id' || (kw.v.toLowerCase() !== 'any' && kw.v.toLowerCase() !== 'all')) throw syntax(src, kw.pos, 'expected any(...)');
      if (kw.v.toLowerCase() === 'all') throw unsupportedFilter(prop, 'lambda all');
      expect('(');
      const variable = next().v;
      expect(':');
      let inner: { op: Op | 'startswith' | 'endswith'; value: Literal };
      const n = peek();
      if ((isWord(n, 'startswith') || isWord(n, 'endswith')) && toks[p + 1]?.v === '(') {
        const fn = next().v.toLowerCase() as 'startswith' | 'endswith';
        if (fn === 'endswith') advanced = true;
        expect('(');
        const v = next();
        if (v.v !== variable) throw syntax(src, v.pos, `expected '${variable}'`);
        expect(',');
        inner = { op: fn, value: literal() };
        expect(')');
      } else {
        const v = next();
        if (v.v !== variable) throw syntax(src, v.pos, `expected '${variable}'`);
        const op = next();
        if (!OPS.has(op.v)) throw syntax(src, op.pos, 'expected a comparison operator');
        if (op.v !== 'eq') advanced = true;
        inner = { op: op.v as Op, value: literal() };
      }
      expect(')');
      return { t: 'any', prop, inner };
    }
    const op = next();
    if (op.k === 'id' && op.v === 'in') {
      expect('(');
      const values: Literal[] = [];
      for (;;) {
        values.push(literal());
        const sep = next();
        if (sep.v === ')') break;
        if (sep.v !== ',') throw syntax(src, sep.pos, "expected ',' or ')'");
      }
      return { t: 'in', prop, values };
    }
    if (!OPS.has(op.v)) throw syntax(src, op.pos, 'expected a comparison operator');
    const value = literal();
    if (op.v === 'ne' || (op.v === 'eq' && value === null)) advanced = true;
    return { t: 'cmp', op: op.v as Op, prop, value };
  };

  const andExpr = (): FilterNode => {
    let l = primary();
    while (isWord(peek(), 'and')) {
      next();
      l = { t: 'and', l, r: primary() };
    }
    return l;
  };
  const orExpr = (): FilterNode => {
    let l = andExpr();
    while (isWord(peek(), 'or')) {
      next();
      l = { t: 'or', l, r: andExpr() };
    }
    return l;
  };
  if (!src.trim()) throw syntax(src, 0, 'empty filter');
  const ast = orExpr();
  if (p < toks.length) throw syntax(src, toks[p]!.pos, `unexpected '${toks[p]!.v}'`);
  return { ast, advanced, props };
}

const norm = (v: unknown): unknown => (typeof v === 'string' ? v.toLowerCase() : v);

function compare(op: Op | 'startswith' | 'endswith', actual: unknown, expected: Literal): boolean {
  if (op === 'startswith') return typeof actual === 'string' && actual.toLowerCase().startsWith(String(expected).toLowerCase());
  if (op === 'endswith') return typeof actual === 'string' && actual.toLowerCase().endsWith(String(expected).toLowerCase());
  const a = norm(actual ?? null);
  const e = norm(expected);
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    default: {
      if (a === null || e === null) return false;
      const x = a as string | number;
      const y = e as string | number;
      return op === 'gt' ? x > y : op === 'ge' ? x >= y : op === 'lt' ? x < y : x <= y;
    }
  }
}

/** Evaluate a filter against a property getter. */
export function evaluate(node: FilterNode, get: (prop: string) => unknown): boolean {
  switch (node.t) {
    case 'and':
      return evaluate(node.l, get) && evaluate(node.r, get);
    case 'or':
      return evaluate(node.l, get) || evaluate(node.r, get);
    case 'not':
      return !evaluate(node.e, get);
    case 'cmp':
      return compare(node.op, get(node.prop), node.value);
    case 'in': {
      const a = norm(get(node.prop) ?? null);
      return node.values.some((v) => norm(v) === a);
    }
    case 'fn':
      return compare(node.fn, get(node.prop), node.value);
    case 'any': {
      const arr = get(node.prop);
      return Array.isArray(arr) && arr.some((item) => compare(node.inner.op, item, node.inner.value));
    }
  }
}

/** Walk every property reference with how it is used, so the caller can refuse unsupported ones. */
export function forEachUse(node: FilterNode, visit: (prop: string, usage: 'scalar' | 'collection') => void): void {
  switch (node.t) {
    case 'and':
    case 'or':
      forEachUse(node.l, visit);
      forEachUse(node.r, visit);
      return;
    case 'not':
      forEachUse(node.e, visit);
      return;
    case 'any':
      visit(node.prop, 'collection');
      return;
    default:
      visit(node.prop, 'scalar');
  }
}

/**
 * Ids worth testing, from the equality indexes, or undefined when the filter needs a scan.
 * `lookup(prop, value)` returns the ids with that (case-insensitive) value, or undefined when the
 * property has no index.
 */
export function candidates(node: FilterNode, lookup: (prop: string, value: string) => Iterable<string> | undefined): Set<string> | undefined {
  switch (node.t) {
    case 'cmp': {
      if (node.op !== 'eq' || typeof node.value !== 'string') return undefined;
      const hit = lookup(node.prop, node.value.toLowerCase());
      return hit === undefined ? undefined : new Set(hit);
    }
    case 'any': {
      if (node.inner.op !== 'eq' || typeof node.inner.value !== 'string') return undefined;
      const hit = lookup(node.prop, node.inner.value.toLowerCase());
      return hit === undefined ? undefined : new Set(hit);
    }
    case 'in': {
      const out = new Set<string>();
      for (const v of node.values) {
        if (typeof v !== 'string') return undefined;
        const hit = lookup(node.prop, v.toLowerCase());
        if (hit === undefined) return undefined;
        for (const id of hit) out.add(id);
      }
      return out;
    }
    case 'and': {
      const l = candidates(node.l, lookup);
      const r = candidates(node.r, lookup);
      if (!l) return r;
      if (!r) return l;
      return l.size <= r.size ? l : r;
    }
    case 'or': {
      const l = candidates(node.l, lookup);
      if (!l) return undefined;
      const r = candidates(node.r, lookup);
      if (!r) return undefined;
      for (const id of r) l.add(id);
      return l;
    }
    default:
      return undefined;
  }
}
