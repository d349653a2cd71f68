import { ExpressionSyntaxError } from './errors.js';
import { compileDotNetRegex } from './regex.js';
import { FUNCTIONS, type EvalEnv, type Thunk } from './functions.js';
import { parseExpression, type BinaryOp, type Node } from './parser.js';
import { isNumericString, scalarToString, toNum, toStr, type Value } from './values.js';

/**
 * A parsed, checked expression turned into closures once (at configuration load), so evaluating
 * it per object does no parsing, no name lookups and no regex compilation of literal patterns.
 */
export interface CompiledExpression {
  readonly source: string;
  readonly ast: Node;
  /** Lower-cased names of the attributes the expression reads. */
  readonly attributes: readonly string[];
  /** True when the top-level function is SelectUniqueValue (the result is a candidate list). */
  readonly selectsUniqueValue: boolean;
  evaluate(env: EvalEnv): Value;
}

export function compileExpression(source: string): CompiledExpression {
  const ast = parseExpression(source);
  const attributes = new Set<string>();
  const thunk = compileNode(ast, source, attributes, 0);
  return {
    source,
    ast,
    attributes: [...attributes],
    selectsUniqueValue: ast.kind === 'call' && ast.name.toLowerCase() === 'selectuniquevalue',
    evaluate: thunk,
  };
}

function compileNode(node: Node, source: string, attributes: Set<string>, depth: number): Thunk {
  switch (node.kind) {
    case 'string': {
      const v = node.value;
      return () => v;
    }
    case 'number': {
      const v = node.value;
      return () => v;
    }
    case 'missing':
      return () => null;
    case 'name': {
      const lower = node.name.toLowerCase();
      const v: Value = lower === 'true' ? true : lower === 'false' ? false : node.name;
      return () => v;
    }
    case 'attribute': {
      const name = node.name.toLowerCase();
      attributes.add(name);
      return (env) => env.attr(name);
    }
    case 'binary': {
      const l = compileNode(node.left, source, attributes, depth + 1);
      const r = compileNode(node.right, source, attributes, depth + 1);
      const op = node.op;
      if (op === '&') return (env) => (toStr(l(env)) ?? '') + (toStr(r(env)) ?? '');
      return (env) => compare(op, l(env), r(env));
    }
    case 'call': {
      const def = FUNCTIONS.get(node.name.toLowerCase());
      if (!def) throw new ExpressionSyntaxError(`unknown function '${node.name}'`, source, node.column);
      const argc = node.args.length;
      if (argc < def.min || argc > def.max) {
        const want = def.min === def.max ? `${def.min}` : def.max === Number.POSITIVE_INFINITY ? `at least ${def.min}` : `${def.min} to ${def.max}`;
        throw new ExpressionSyntaxError(`${def.name} takes ${want} argument(s), got ${argc}`, source, node.column);
      }
      const extra = def.check?.(argc);
      if (extra) throw new ExpressionSyntaxError(extra, source, node.column);
      if (def.name === 'SelectUniqueValue' && depth > 0) {
        throw new ExpressionSyntaxError('SelectUniqueValue must be the top-level function (it cannot be nested)', source, node.column);
      }
      if (def.name === 'Replace') precompileRegex(node, source);
      const args = node.args.map((a) => compileNode(a, source, attributes, depth + 1));
      const present = node.args.map((a) => a.kind !== 'missing');
      const call = def.call;
      return (env) => call(args, env, present);
    }
  }
}

/** A literal regexPattern of Replace is compiled now (and cached), so a bad pattern fails at configuration load. */
function precompileRegex(node: Extract<Node, { kind: 'call' }>, source: string): void {
  const pattern = node.args[2];
  if (node.args.length === 3 || !pattern || pattern.kind !== 'string') return;
  try {
    compileDotNetRegex(pattern.value);
    compileDotNetRegex(pattern.value, 'g');
    compileDotNetRegex(pattern.value, 'gd');
  } catch (err) {
    throw new ExpressionSyntaxError((err as Error).message, source, pattern.column);
  }
}

/**
 * Comparison operators of IIF conditions. Numbers compare numerically when both sides are
 * numbers or numeric text with at least one real number; everything else compares as text,
 * ordinal and case-sensitive (as Switch does). Null compares as the empty string, so that
 * IIF([country]="", ...) works; Microsoft documents such conditions as unsupported (they fail),
 * which Canopy treats as a defect not worth copying.
 */
function compare(op: Exclude<BinaryOp, '&'>, a: Value, b: Value): boolean {
  let c: number;
  const numeric = (typeof a === 'number' || typeof b === 'number') && isNum(a) && isNum(b);
  if (numeric) {
    const x = toNum(a, 'comparison')!;
    const y = toNum(b, 'comparison')!;
    c = x < y ? -1 : x > y ? 1 : 0;
  } else {
    const x = a === null ? '' : toStr(a) ?? '';
    const y = b === null ? '' : toStr(b) ?? '';
    c = x < y ? -1 : x > y ? 1 : 0;
  }
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
  }
}

function isNum(v: Value): boolean {
  if (typeof v === 'number') return true;
  if (typeof v === 'string') return isNumericString(v);
  if (Array.isArray(v) && v.length === 1) return isNum(v[0]!);
  return false;
}

/** Evaluate an expression text against plain attribute values (tests, CLI `explain`). */
export function evaluateExpression(
  source: string,
  attributes: Record<string, Value> = {},
  options: { newGuid?: () => string } = {},
): Value {
  const lower = new Map(Object.entries(attributes).map(([k, v]) => [k.toLowerCase(), v]));
  return compileExpression(source).evaluate({ attr: (n) => lower.get(n) ?? null, newGuid: options.newGuid });
}

export { scalarToString };
