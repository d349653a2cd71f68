import { ExpressionEvaluationError } from './errors.js';
import type { EvalEnv, FunctionDef, Thunk } from './functions.js';
import { IgnoreFlow, UniqueCandidates, asList, isEmptyValue, mapScalars, scalarToString, toNum, toStr, type Scalar, type Value } from './values.js';

/**
 * Functions of Microsoft's app-provisioning expression reference that the (older) Cloud Sync
 * page does not list but the same provisioning engine runs: CDate, DateAdd, DateDiff, Now,
 * NumFromDate, PCase, IgnoreFlowIfNullOrEmpty, Redact. Dates are UTC instants (JS Date); CStr
 * prints them as Microsoft does, "M/d/yyyy h:mm:ss tt".
 */

function eager(fn: (v: Value[], present: boolean[], env: EvalEnv) => Value): FunctionDef['call'] {
  return (args: Thunk[], env, present) => fn(args.map((a) => a(env)), present, env);
}

const ISO_LIKE = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/i;
const US_LIKE = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$/;

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, offsetMin: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi - offsetMin, s, ms);
  return date;
}

function offsetOf(z: string | undefined): number {
  if (!z || z.toUpperCase() === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(z)!;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** CDate: a date/time string to a UTC instant. ISO 8601 (with or without time and offset), M/d/yyyy h:mm:ss tt, or what Date.parse reads; no offset means UTC. */
export function parseDateTime(text: string): Date {
  let m = ISO_LIKE.exec(text);
  if (m) {
    return check(utc(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), Math.round(Number(m[7] ?? 0) * 1000), offsetOf(m[8])), text);
  }
  m = US_LIKE.exec(text);
  if (m) {
    let h = +(m[4] ?? 0);
    if (m[7]) h = (h % 12) + (m[7].toUpperCase() === 'PM' ? 12 : 0);
    return check(utc(+m[3]!, +m[1]!, +m[2]!, h, +(m[5] ?? 0), +(m[6] ?? 0), 0, offsetOf(m[8])), text);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new ExpressionEvaluationError(`CDate: "${text}" is not a date`);
  return new Date(ms);
}

function check(d: Date, text: string): Date {
  if (Number.isNaN(d.getTime())) throw new ExpressionEvaluationError(`"${text}" is not a valid date`);
  return d;
}

function toDate(v: Value, fn: string): Date | null {
  if (v === null) return null;
  const x = Array.isArray(v) || v instanceof UniqueCandidates ? asList(v)[0] : v;
  if (x === undefined) return null;
  if (x instanceof Date) return x;
  if (typeof x === 'string') return parseDateTime(x);
  throw new ExpressionEvaluationError(`${fn}: "${scalarToString(x as Scalar)}" is not a date`);
}

type Interval = 'yyyy' | 'm' | 'd' | 'ww' | 'h' | 'n' | 's';
function interval(v: Value, fn: string): Interval {
  const s = (toStr(v) ?? '').toLowerCase();
  if (s === 'yyyy' || s === 'm' || s === 'd' || s === 'ww' || s === 'h' || s === 'n' || s === 's') return s;
  throw new ExpressionEvaluationError(`${fn}: interval must be one of yyyy, m, d, ww, h, n, s; got "${s}"`);
}

const DAY = 86_400_000;
const dayNumber = (d: Date) => Math.floor(d.getTime() / DAY);

const FILETIME_EPOCH_MS = 11_644_473_600_000n;

/** PCase: the first letter of each word upper case, the rest lower case. */
function pcase(s: string, separators: string | null): string {
  const isSep = separators === null ? (ch: string) => !/[\p{L}\p{N}\p{M}'’]/u.test(ch) : (ch: string) => separators.includes(ch);
  let out = '';
  let start = true;
  for (const ch of s) {
    if (isSep(ch)) {
      out += ch;
      start = true;
      continue;
    }
    out += start ? ch.toUpperCase() : ch.toLowerCase();
    start = false;
  }
  return out;
}

export const PROVISIONING_FUNCTIONS: FunctionDef[] = [
  {
    name: 'CDate',
    min: 1,
    max: 1,
    call: eager(([v]) => toDate(v!, 'CDate')),
  },
  {
    name: 'Now',
    min: 0,
    max: 0,
    call: (_a, env) => (env.now ? env.now() : new Date()),
  },
  {
    name: 'DateAdd',
    min: 3,
    max: 3,
    call: eager(([iv, num, dt]) => {
      const unit = interval(iv!, 'DateAdd');
      const n = toNum(num!, 'DateAdd(value)');
      const d = toDate(dt!, 'DateAdd');
      if (n === null || d === null) return null;
      const k = Math.trunc(n);
      const out = new Date(d.getTime());
      switch (unit) {
        case 'yyyy':
          out.setUTCFullYear(out.getUTCFullYear() + k);
          break;
        case 'm': {
          const day = out.getUTCDate();
          out.setUTCDate(1);
          out.setUTCMonth(out.getUTCMonth() + k);
          const last = new Date(Date.UTC(2000, 0, 1));
          last.setUTCFullYear(out.getUTCFullYear(), out.getUTCMonth() + 1, 0);
          out.setUTCDate(Math.min(day, last.getUTCDate()));
          break;
        }
        case 'd':
          out.setTime(out.getTime() + k * DAY);
          break;
        case 'ww':
          out.setTime(out.getTime() + k * 7 * DAY);
          break;
        case 'h':
          out.setTime(out.getTime() + k * 3_600_000);
          break;
        case 'n':
          out.setTime(out.getTime() + k * 60_000);
          break;
        case 's':
          out.setTime(out.getTime() + k * 1000);
          break;
      }
      return out;
    }),
  },
  {
    // VB DateDiff: counts interval boundaries crossed from date1 to date2 (UTC); weeks start on Sunday.
    name: 'DateDiff',
    min: 3,
    max: 3,
    call: eager(([iv, a, b]) => {
      const unit = interval(iv!, 'DateDiff');
      const d1 = toDate(a!, 'DateDiff');
      const d2 = toDate(b!, 'DateDiff');
      if (d1 === null || d2 === null) return null;
      switch (unit) {
        case 'yyyy':
          return d2.getUTCFullYear() - d1.getUTCFullYear();
        case 'm':
          return d2.getUTCFullYear() * 12 + d2.getUTCMonth() - (d1.getUTCFullYear() * 12 + d1.getUTCMonth());
        case 'd':
          return dayNumber(d2) - dayNumber(d1);
        case 'ww': {
          const sunday = (d: Date) => dayNumber(d) - d.getUTCDay();
          return (sunday(d2) - sunday(d1)) / 7;
        }
        case 'h':
          return Math.floor(d2.getTime() / 3_600_000) - Math.floor(d1.getTime() / 3_600_000);
        case 'n':
          return Math.floor(d2.getTime() / 60_000) - Math.floor(d1.getTime() / 60_000);
        case 's':
          return Math.floor(d2.getTime() / 1000) - Math.floor(d1.getTime() / 1000);
      }
    }),
  },
  {
    // To AD's large-integer time (accountExpires ...): text, since it exceeds 2^53.
    name: 'NumFromDate',
    min: 1,
    max: 1,
    call: eager(([v]) => {
      const d = toDate(v!, 'NumFromDate');
      if (d === null) return null;
      return ((BigInt(d.getTime()) + FILETIME_EPOCH_MS) * 10_000n).toString();
    }),
  },
  {
    name: 'PCase',
    min: 1,
    max: 2,
    call: eager(([v, seps], present) => {
      const separators = present[1] ? (toStr(seps!) ?? null) : null;
      if (v === null) return null;
      const one = (x: Scalar) => pcase(scalarToString(x), separators);
      return mapScalars(v, one);
    }),
  },
  {
    name: 'IgnoreFlowIfNullOrEmpty',
    min: 1,
    max: 1,
    call: eager(([v]) => (isEmptyValue(v!) ? IgnoreFlow.instance : v!)),
  },
  // Redact only hides a value in Microsoft's provisioning logs; the value itself flows.
  { name: 'Redact', min: 1, max: 1, call: eager(([v]) => v!) },
];
