import { ExpressionEvaluationError } from './errors.js';
import { formatDate, partsOfDate } from './datetime.js';

/**
 * Runtime values of the expression language. `null` is Microsoft's Null: an absent attribute
 * (AD never stores empty values, so a missing attribute and Null are the same thing).
 * A multi-valued attribute is an array; a single value of a multi-valued attribute is a plain
 * scalar (functions that take a multi-valued argument treat a scalar as a one-element list).
 * Binary attributes (objectGUID, objectSid, ms-DS-ConsistencyGuid) are Uint8Array.
 */
export type Scalar = string | number | boolean | Date | Uint8Array;
export type Value = null | Scalar | Scalar[] | UniqueCandidates | IgnoreFlow;

/** What IgnoreFlowIfNullOrEmpty returns for an empty value: the mapping layer leaves the property out. */
export class IgnoreFlow {
  static readonly instance = new IgnoreFlow();
  private constructor() {
    // a singleton: compare with instanceof
  }
}

/** What SelectUniqueValue returns: candidates in order; the Graph writer picks the first free one. */
export class UniqueCandidates {
  readonly values: string[];
  constructor(values: string[]) {
    this.values = values;
  }
}

export const isBinary = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

export function asList(v: Value): Scalar[] {
  if (v === null || v instanceof IgnoreFlow) return [];
  if (Array.isArray(v)) return v;
  if (v instanceof UniqueCandidates) return v.values;
  return [v];
}

/** .NET-style invariant rendering of a number (integers as digits, no exponent for common values). */
function numberToString(n: number): string {
  if (Number.isInteger(n)) return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
  return String(n);
}

/** CStr semantics for one scalar. Booleans are "True"/"False" as .NET prints them. */
export function scalarToString(v: Scalar): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return numberToString(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (v instanceof Date) return formatDate(partsOfDate(v), 'M/d/yyyy h:mm:ss tt');
  return Buffer.from(v).toString('base64');
}

/** A single string from a value; a multi-valued value gives its first element. */
export function toStr(v: Value): string | null {
  if (v === null || v instanceof IgnoreFlow) return null;
  if (Array.isArray(v) || v instanceof UniqueCandidates) {
    const list = asList(v);
    return list.length ? scalarToString(list[0]!) : null;
  }
  return scalarToString(v);
}

const NUMERIC = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;
const HEX = /^\s*&[hH]([0-9a-fA-F]+)\s*$/;

export function isNumericString(s: string): boolean {
  return NUMERIC.test(s) || HEX.test(s);
}

export function toNum(v: Value, what: string): number | null {
  const s = single(v);
  if (s === null) return null;
  if (typeof s === 'number') return s;
  if (typeof s === 'boolean') return s ? -1 : 0; // VB: CInt(True) = -1
  if (typeof s === 'string') {
    const hex = HEX.exec(s);
    if (hex) return parseInt(hex[1]!, 16);
    if (NUMERIC.test(s)) return Number(s);
  }
  throw new ExpressionEvaluationError(`${what}: "${toStr(v)}" is not a number`);
}

export function toBigInt(v: Value, what: string): bigint | null {
  const s = single(v);
  if (s === null) return null;
  if (typeof s === 'string') {
    const hex = HEX.exec(s);
    if (hex) return BigInt('0x' + hex[1]);
    if (/^\s*[-+]?\d+\s*$/.test(s)) return BigInt(s.trim());
  }
  const n = toNum(s, what)!;
  if (!Number.isInteger(n)) throw new ExpressionEvaluationError(`${what}: ${n} is not an integer`);
  return BigInt(n);
}

/** CBool semantics: booleans, "True"/"False" (any case), non-zero numbers. Null is False. */
export function toBool(v: Value, fn = 'CBool'): boolean {
  const s = single(v);
  if (s === null) return false;
  if (typeof s === 'boolean') return s;
  if (typeof s === 'number') return s !== 0;
  if (typeof s === 'string') {
    const t = s.trim().toLowerCase();
    if (t === 'true') return true;
    if (t === 'false' || t === '') return false;
    if (isNumericString(t)) return toNum(t, fn) !== 0;
    throw new ExpressionEvaluationError(`${fn}: "${s}" is not a Boolean`);
  }
  throw new ExpressionEvaluationError(`${fn}: a date or binary value is not a Boolean`);
}

function single(v: Value): Scalar | null {
  if (v === null || v instanceof IgnoreFlow) return null;
  if (Array.isArray(v) || v instanceof UniqueCandidates) {
    const list = asList(v);
    return list.length ? list[0]! : null;
  }
  return v;
}

export function isEmptyValue(v: Value): boolean {
  if (v === null || v instanceof IgnoreFlow) return true;
  if (Array.isArray(v)) return v.length === 0 || v.every((x) => x === '');
  if (v instanceof UniqueCandidates) return v.values.length === 0;
  return v === '';
}

/** Apply `one` to each value (a multi-valued value stays multi-valued); Null and IgnoreFlow give Null. */
export function mapScalars<T extends Scalar>(v: Value, one: (x: Scalar) => T): T | T[] | null {
  if (v === null || v instanceof IgnoreFlow) return null;
  if (Array.isArray(v)) return v.map(one);
  if (v instanceof UniqueCandidates) return v.values.map(one);
  return one(v);
}
