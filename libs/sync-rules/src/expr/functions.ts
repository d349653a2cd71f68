import { randomUUID } from 'node:crypto';
import { dateFromFileTime, formatDate, parseDate, partsOfDate, type DateParts } from './datetime.js';
import { normalizeDiacritics } from './diacritics.js';
import { ExpressionEvaluationError } from './errors.js';
import { PROVISIONING_FUNCTIONS } from './functions-provisioning.js';
import { compileDotNetRegex, expandDotNetReplacement, replaceAllMatches } from './regex.js';
import {
  IgnoreFlow,
  UniqueCandidates,
  asList,
  mapScalars,
  isBinary,
  isEmptyValue,
  scalarToString,
  toBigInt,
  toBool,
  toNum,
  toStr,
  type Scalar,
  type Value,
} from './values.js';

/** What an expression can see of the object being evaluated. */
export interface EvalEnv {
  /** Value of an attribute by lower-cased name; null when absent. */
  attr(lowerName: string): Value;
  /** Source of Guid(); tests and previews inject a deterministic one. */
  newGuid?: () => string;
  /** Clock of Now(); transform passes its context's time so it stays pure. */
  now?: () => Date;
}

export type Thunk = (env: EvalEnv) => Value;

export interface FunctionDef {
  /** Name as Microsoft spells it. */
  name: string;
  min: number;
  max: number;
  /** Extra arity rule checked at compile time; returns a message when violated. */
  check?: (argc: number) => string | null;
  /** Receives unevaluated arguments (IIF, Switch, Coalesce evaluate only what they need). */
  call: (args: Thunk[], env: EvalEnv, present: boolean[]) => Value;
}

const MANY = Number.POSITIVE_INFINITY;

/** Evaluate every argument first. */
function eager(fn: (v: Value[], present: boolean[], env: EvalEnv) => Value): FunctionDef['call'] {
  return (args, env, present) => fn(args.map((a) => a(env)), present, env);
}

/** Apply a string -> value function to each value of a (possibly multi-valued) source; Null stays Null. */
function perValue(v: Value, fn: (s: string) => Scalar | Scalar[] | null): Value {
  if (v === null || v instanceof IgnoreFlow) return null;
  if (Array.isArray(v) || v instanceof UniqueCandidates) {
    const out: Scalar[] = [];
    for (const x of asList(v)) {
      const r = fn(scalarToString(x));
      if (r === null) continue;
      if (Array.isArray(r)) out.push(...r);
      else out.push(r);
    }
    return out;
  }
  return fn(scalarToString(v));
}

function int(v: Value, fn: string, param: string): number | null {
  const n = toNum(v, `${fn}(${param})`);
  if (n === null) return null;
  return Math.trunc(n);
}

/** .NET invariant-culture case mapping: one character to one character (no 'ß' -> 'SS', no final sigma). */
function caseMap(s: string, upper: boolean, culture: string | null): string {
  if (culture) {
    try {
      return upper ? s.toLocaleUpperCase(culture) : s.toLocaleLowerCase(culture);
    } catch {
      throw new ExpressionEvaluationError(`unknown culture "${culture}"`);
    }
  }
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    if ([...m].length === 1) out += m;
    else if (ch === '\u0130') out += 'i';
    else out += ch;
  }
  return out;
}

function decodeBase64(s: string, encoding: string): string {
  const bytes = Buffer.from(s, 'base64');
  switch (encoding.toLowerCase()) {
    case 'unicode':
    case 'utf16':
    case 'utf-16':
      return bytes.toString('utf16le');
    case 'utf8':
    case 'utf-8':
      return bytes.toString('utf8');
    case 'ascii':
      return Array.from(bytes, (b) => (b > 0x7f ? '?' : String.fromCharCode(b))).join('');
    default:
      throw new ExpressionEvaluationError(`ConvertFromBase64: unknown encoding "${encoding}" (Unicode, ASCII or UTF8)`);
  }
}

/** Split a DN into RDNs, honouring backslash escapes and quoted values. */
export function splitDn(dn: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < dn.length; i++) {
    const ch = dn[i]!;
    if (ch === '\\' && i + 1 < dn.length) {
      cur += ch + dn[i + 1];
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if ((ch === ',' || ch === ';') && !quoted) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim() || out.length) out.push(cur.trim());
  return out.filter((r) => r.length > 0);
}

/** RFC 4514 unescape of an attribute value (\, \+ \" \\ and \XX hex pairs). */
export function unescapeDnValue(v: string): string {
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < v.length; i++) {
    const ch = v[i]!;
    if (ch === '\\' && i + 1 < v.length) {
      const hex = v.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
      flush();
      out += v[i + 1];
      i++;
      continue;
    }
    flush();
    out += ch;
  }
  flush();
  return out;
}

/** Binary SID to its string form S-R-I-S-S... (MS-DTYP 2.4.2). */
export function sidToString(b: Uint8Array): string {
  if (b.length < 8) throw new ExpressionEvaluationError(`StringFromSID: ${b.length} bytes is too short for a SID`);
  const revision = b[0]!;
  const count = b[1]!;
  if (b.length < 8 + 4 * count) throw new ExpressionEvaluationError(`StringFromSID: SID declares ${count} sub-authorities but has ${b.length} bytes`);
  let authority = 0n;
  for (let i = 2; i < 8; i++) authority = (authority << 8n) | BigInt(b[i]!);
  const auth = authority >= 0x100000000n ? '0x' + authority.toString(16).toUpperCase().padStart(12, '0') : authority.toString();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const subs: number[] = [];
  for (let i = 0; i < count; i++) subs.push(dv.getUint32(8 + 4 * i, true));
  return [`S-${revision}-${auth}`, ...subs].join('-');
}

function dateParts(v: Scalar, inputFormat: string | null): DateParts {
  if (v instanceof Date) return partsOfDate(v);
  const s = scalarToString(v);
  if (inputFormat) return parseDate(s, inputFormat);
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new ExpressionEvaluationError(`"${s}" is not a date`);
  return partsOfDate(new Date(ms));
}

/**
 * .NET DateTimeStyles for FormatDateTime's dateTimeStyles argument ("AdjustToUniversal,
 * AssumeUniversal", names or "|"-separated). Empty means Microsoft's default: RoundtripKind,
 * AllowLeadingWhite, AllowTrailingWhite. AdjustToUniversal converts a value with an offset to
 * UTC; AssumeUniversal treats a value without one as UTC. There is no machine-local time zone
 * in Canopy: AssumeLocal leaves an unspecified value as it is.
 */
interface Styles {
  adjustToUniversal: boolean;
  assumeUniversal: boolean;
}
const DEFAULT_STYLES: Styles = { adjustToUniversal: false, assumeUniversal: false };
const KNOWN_STYLES = new Set([
  'none', 'allowleadingwhite', 'allowtrailingwhite', 'allowinnerwhite', 'allowwhitespaces', 'nocurrentdatedefault',
  'adjusttouniversal', 'assumelocal', 'assumeuniversal', 'roundtripkind',
]);

function parseDateTimeStyles(text: string): Styles {
  const names = text.split(/[,|]/).map((n) => n.trim().replace(/^DateTimeStyles\./i, '').toLowerCase()).filter(Boolean);
  for (const n of names) if (!KNOWN_STYLES.has(n)) throw new ExpressionEvaluationError(`FormatDateTime: unknown DateTimeStyles value "${n}"`);
  return { adjustToUniversal: names.includes('adjusttouniversal'), assumeUniversal: names.includes('assumeuniversal') };
}

function applyStyles(p: DateParts, st: Styles): DateParts {
  let out = p;
  if (st.assumeUniversal && out.offset === null) out = { ...out, offset: 0 };
  if (st.adjustToUniversal && out.offset !== null && out.offset !== 0) {
    const d = new Date(0);
    d.setUTCFullYear(out.year, out.month - 1, out.day);
    d.setUTCHours(out.hour, out.minute - out.offset, out.second, 0);
    out = { ...partsOfDate(d), ticks: out.ticks, offset: 0 };
  }
  return out;
}

function replaceFn(args: Value[], present: boolean[]): Value {
  const [source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttribute, template] = args;
  const has = (i: number) => present[i] === true;
  const str = (v: Value | undefined) => (v === undefined ? null : toStr(v));
  // Entra Connect's 3-argument form Replace(source, oldValue, newValue).
  if (args.length === 3 && has(1) && has(2)) {
    const from = str(oldValue) ?? '';
    const to = str(regexPattern) ?? '';
    return perValue(source!, (s) => (from ? s.split(from).join(to) : s));
  }
  if (has(1) && has(6)) {
    const from = str(oldValue) ?? '';
    const tpl = str(template) ?? '';
    return perValue(source!, (s) => (from ? tpl.split(from).join(s) : tpl));
  }
  if (has(1) && has(4)) {
    const from = str(oldValue) ?? '';
    const to = str(replacementValue) ?? '';
    return perValue(source!, (s) => (from ? s.split(from).join(to) : s));
  }
  if (has(2) && has(3) && has(5)) {
    if (!isEmptyValue(source!)) return source!;
    const re = compileDotNetRegex(str(regexPattern) ?? '');
    const group = str(regexGroupName) ?? '';
    const text = str(replacementAttribute);
    if (text === null) return null;
    const m = re.exec(text);
    re.lastIndex = 0;
    if (!m) return null;
    return m.groups?.[group] ?? null;
  }
  if (has(2) && has(3) && has(4)) {
    const re = compileDotNetRegex(str(regexPattern) ?? '', 'gd');
    const group = str(regexGroupName) ?? '';
    const to = str(replacementValue) ?? '';
    return perValue(source!, (s) =>
      replaceAllMatches(re, s, (m) => {
        const span = m.indices?.groups?.[group];
        if (!span) return m[0];
        return s.slice(m.index, span[0]) + to + s.slice(span[1], m.index + m[0].length);
      }),
    );
  }
  if (has(2) && has(4)) {
    const re = compileDotNetRegex(str(regexPattern) ?? '', 'g');
    const to = str(replacementValue) ?? '';
    return perValue(source!, (s) => replaceAllMatches(re, s, (m) => expandDotNetReplacement(to, m, s)));
  }
  throw new ExpressionEvaluationError(
    'Replace: give oldValue with replacementValue or template, or regexPattern with replacementValue, or regexPattern, regexGroupName and replacementValue or replacementAttributeName',
  );
}

const defs: FunctionDef[] = [
  {
    name: 'Append',
    min: 2,
    max: 2,
    call: eager(([source, suffix]) => {
      const sfx = toStr(suffix!) ?? '';
      return perValue(source!, (s) => s + sfx);
    }),
  },
  {
    name: 'BitAnd',
    min: 2,
    max: 2,
    call: eager(([a, b]) => {
      const x = toBigInt(a!, 'BitAnd(value1)');
      const y = toBigInt(b!, 'BitAnd(value2)');
      if (x === null || y === null) return null;
      return Number(BigInt.asIntN(64, x & y));
    }),
  },
  { name: 'CBool', min: 1, max: 1, call: eager(([v]) => toBool(v!)) },
  {
    name: 'ConvertFromBase64',
    min: 1,
    max: 2,
    call: eager(([source, enc], present) => {
      const encoding = present[1] ? (toStr(enc!) ?? 'Unicode') : 'Unicode';
      return perValue(source!, (s) => decodeBase64(s, encoding));
    }),
  },
  {
    name: 'ConvertToBase64',
    min: 1,
    max: 1,
    call: eager(([source]) => {
      const one = (x: Scalar) => (isBinary(x) ? Buffer.from(x).toString('base64') : Buffer.from(scalarToString(x), 'utf16le').toString('base64'));
      const v = source!;
      if (v === null) return null;
      return mapScalars(v, one);
    }),
  },
  {
    name: 'ConvertToUTF8Hex',
    min: 1,
    max: 1,
    call: eager(([source]) => perValue(source!, (s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase())),
  },
  { name: 'Count', min: 1, max: 1, call: eager(([v]) => asList(v!).length) },
  { name: 'CStr', min: 1, max: 1, call: eager(([v]) => toStr(v!)) },
  // Entra Connect's CRef (a reference from a DN string); kept so DNComponent(CRef([dn]), 1) from Microsoft's examples runs.
  { name: 'CRef', min: 1, max: 1, call: eager(([v]) => v!) },
  {
    name: 'Coalesce',
    min: 1,
    max: MANY,
    call: (args, env) => {
      for (const a of args) {
        const v = a(env);
        if (v !== null && !(Array.isArray(v) && v.length === 0)) return v;
      }
      return null;
    },
  },
  {
    name: 'DateFromNum',
    min: 1,
    max: 1,
    call: eager(([v]) => {
      if (v instanceof Date) return v;
      const n = toBigInt(v!, 'DateFromNum');
      return n === null ? null : dateFromFileTime(n);
    }),
  },
  {
    name: 'DNComponent',
    min: 2,
    max: 2,
    call: eager(([dn, num]) => {
      const s = toStr(dn!);
      const n = int(num!, 'DNComponent', 'ComponentNumber');
      if (s === null || n === null) return null;
      const rdns = splitDn(s);
      if (n < 1 || n > rdns.length) return null;
      const rdn = rdns[n - 1]!;
      const eq = rdn.indexOf('=');
      return unescapeDnValue(eq >= 0 ? rdn.slice(eq + 1).trim() : rdn);
    }),
  },
  {
    name: 'Error',
    min: 1,
    max: 1,
    call: eager(([msg]) => {
      throw new ExpressionEvaluationError(toStr(msg!) ?? 'Error()', 'Expression.Error');
    }),
  },
  {
    name: 'FormatDateTime',
    min: 3,
    max: 4,
    call: eager((args, present) => {
      const [source] = args;
      const [inF, outF] = args.length === 4 ? [args[2]!, args[3]!] : [args[1]!, args[2]!];
      const inPresent = args.length === 4 ? present[2] : present[1];
      const inputFormat = inPresent ? toStr(inF) : null;
      const outputFormat = toStr(outF) ?? '';
      const styles = args.length === 4 && present[1] ? parseDateTimeStyles(toStr(args[1]!) ?? '') : DEFAULT_STYLES;
      if (source === null) return null;
      const one = (x: Scalar) => formatDate(applyStyles(dateParts(x, inputFormat), styles), outputFormat);
      return mapScalars(source, one);
    }),
  },
  { name: 'Guid', min: 0, max: 0, call: (_a, env) => (env.newGuid ? env.newGuid() : randomUUID()) },
  {
    name: 'IIF',
    min: 3,
    max: 3,
    call: (args, env) => (toBool(args[0]!(env), 'IIF condition') ? args[1]!(env) : args[2]!(env)),
  },
  {
    name: 'InStr',
    min: 2,
    max: 4,
    call: eager(([check, match, start, compare], present) => {
      const s = toStr(check!);
      const m = toStr(match!);
      if (s === null || m === null) return null;
      const from = present[2] ? int(start!, 'InStr', 'start') ?? 1 : 1;
      if (from < 1) throw new ExpressionEvaluationError(`InStr: start must be 1 or more, got ${from}`);
      const mode = present[3] ? (toStr(compare!) ?? '').toLowerCase() : 'vbbinarycompare';
      const text = mode === 'vbtextcompare' || mode === '1';
      if (!text && mode !== 'vbbinarycompare' && mode !== '0') throw new ExpressionEvaluationError(`InStr: compare must be vbBinaryCompare or vbTextCompare, got "${mode}"`);
      const idx = text ? caseMap(s, false, null).indexOf(caseMap(m, false, null), from - 1) : s.indexOf(m, from - 1);
      return idx + 1;
    }),
  },
  { name: 'IsNull', min: 1, max: 1, call: eager(([v]) => v === null || (Array.isArray(v) && v.length === 0)) },
  { name: 'IsNullOrEmpty', min: 1, max: 1, call: eager(([v]) => isEmptyValue(v!)) },
  { name: 'IsPresent', min: 1, max: 1, call: eager(([v]) => !isEmptyValue(v!)) },
  {
    name: 'IsString',
    min: 1,
    max: 1,
    call: eager(([v]) => v !== null && !Array.isArray(v) && !(v instanceof UniqueCandidates) && !isBinary(v)),
  },
  {
    name: 'Item',
    min: 2,
    max: 2,
    call: eager(([attr, index]) => {
      if (attr === null) return null;
      const list = asList(attr!);
      const i = int(index!, 'Item', 'index');
      if (i === null) return null;
      if (i < 1 || i > list.length) throw new ExpressionEvaluationError(`Item: index ${i} is out of bounds (the attribute has ${list.length} value(s); the first is 1)`);
      return list[i - 1]!;
    }),
  },
  {
    name: 'Join',
    min: 2,
    max: MANY,
    call: eager(([sep, ...sources]) => {
      const parts: string[] = [];
      for (const src of sources) for (const x of asList(src!)) {
        const s = scalarToString(x);
        if (s !== '') parts.push(s);
      }
      return parts.length ? parts.join(toStr(sep!) ?? '') : null;
    }),
  },
  {
    name: 'Left',
    min: 2,
    max: 2,
    call: eager(([source, num]) => {
      const s = toStr(source!);
      if (s === null) return '';
      const n = int(num!, 'Left', 'NumChars');
      if (n === null || n < 0) return s;
      return s.slice(0, n);
    }),
  },
  {
    name: 'Mid',
    min: 3,
    max: 3,
    call: eager(([source, start, length]) => {
      const st = int(start!, 'Mid', 'start');
      const len = int(length!, 'Mid', 'length');
      if (st === null || len === null) return null;
      if (st < 1) throw new ExpressionEvaluationError(`Mid: start must be 1 or more, got ${st}`);
      if (len < 0) throw new ExpressionEvaluationError(`Mid: length must not be negative, got ${len}`);
      return perValue(source!, (s) => s.slice(st - 1, st - 1 + len));
    }),
  },
  { name: 'NormalizeDiacritics', min: 1, max: 1, call: eager(([v]) => perValue(v!, normalizeDiacritics)) },
  {
    name: 'Not',
    min: 1,
    max: 1,
    call: eager(([v]) => {
      const s = v === null ? null : toStr(v!);
      return !(v === true || (s !== null && s.trim().toLowerCase() === 'true'));
    }),
  },
  {
    name: 'RemoveDuplicates',
    min: 1,
    max: 1,
    call: eager(([v]) => {
      if (v === null) return null;
      const seen = new Set<string>();
      const out: Scalar[] = [];
      for (const x of asList(v!)) {
        const k = scalarToString(x);
        if (!seen.has(k)) {
          seen.add(k);
          out.push(x);
        }
      }
      return out;
    }),
  },
  { name: 'Replace', min: 3, max: 7, call: eager((args, present) => replaceFn(args, present)) },
  {
    name: 'SelectUniqueValue',
    min: 2,
    max: MANY,
    call: eager((rules) => {
      const out: string[] = [];
      for (const r of rules) {
        const s = toStr(r);
        if (s !== null && s !== '' && !out.includes(s)) out.push(s);
      }
      return new UniqueCandidates(out);
    }),
  },
  {
    name: 'Split',
    min: 2,
    max: 2,
    call: eager(([source, delim]) => {
      const d = toStr(delim!) ?? '';
      return perValue(source!, (s) => (d === '' ? [s.trim()] : s.split(d).map((x) => x.trim())));
    }),
  },
  {
    name: 'StringFromSID',
    min: 1,
    max: 1,
    call: eager(([v]) => {
      const one = (x: Scalar) => (isBinary(x) ? sidToString(x) : /^S-\d/i.test(scalarToString(x)) ? scalarToString(x) : sidToString(Buffer.from(scalarToString(x), 'base64')));
      if (v === null) return null;
      return mapScalars(v, one);
    }),
  },
  { name: 'StripSpaces', min: 1, max: 1, call: eager(([v]) => perValue(v!, (s) => s.replace(/ /g, ''))) },
  {
    name: 'Switch',
    min: 4,
    max: MANY,
    check: (n) => (n % 2 === 0 ? null : `Switch takes source, defaultValue and key/value pairs (an even number of arguments), got ${n}`),
    call: (args, env) => {
      const src = toStr(args[0]!(env)) ?? '';
      for (let i = 2; i + 1 < args.length; i += 2) {
        const key = toStr(args[i]!(env)) ?? '';
        if (key === src) return args[i + 1]!(env);
      }
      return args[1]!(env);
    },
  },
  {
    name: 'ToLower',
    min: 1,
    max: 2,
    call: eager(([v, culture], present) => {
      const c = present[1] ? toStr(culture!) : null;
      return perValue(v!, (s) => caseMap(s, false, c));
    }),
  },
  {
    name: 'ToUpper',
    min: 1,
    max: 2,
    call: eager(([v, culture], present) => {
      const c = present[1] ? toStr(culture!) : null;
      return perValue(v!, (s) => caseMap(s, true, c));
    }),
  },
  { name: 'Trim', min: 1, max: 1, call: eager(([v]) => perValue(v!, (s) => s.trim())) },
  {
    name: 'Word',
    min: 3,
    max: 3,
    call: eager(([source, num, delims]) => {
      const s = toStr(source!);
      const n = int(num!, 'Word', 'WordNumber');
      if (s === null || n === null || n < 1) return '';
      const d = toStr(delims!) ?? '';
      const words: string[] = [];
      let cur = '';
      for (const ch of s) {
        if (d.includes(ch)) {
          if (cur) words.push(cur);
          cur = '';
        } else cur += ch;
      }
      if (cur) words.push(cur);
      return words[n - 1] ?? '';
    }),
  },
];

/** Functions by lower-cased name (names are matched case-insensitively). */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map([...defs, ...PROVISIONING_FUNCTIONS].map((d) => [d.name.toLowerCase(), d]));

/** Names of the functions of Microsoft's Cloud Sync expression reference, all implemented here. */
export const CLOUD_SYNC_FUNCTIONS = [
  'Append', 'BitAnd', 'CBool', 'ConvertFromBase64', 'ConvertToBase64', 'ConvertToUTF8Hex', 'Count', 'CStr',
  'DateFromNum', 'DNComponent', 'Error', 'FormatDateTime', 'Guid', 'IIF', 'InStr', 'IsNull', 'IsNullOrEmpty',
  'IsPresent', 'IsString', 'Item', 'Join', 'Left', 'Mid', 'NormalizeDiacritics', 'Not', 'RemoveDuplicates',
  'Replace', 'SelectUniqueValue', 'Split', 'StringFromSID', 'StripSpaces', 'Switch', 'ToLower', 'ToUpper', 'Trim', 'Word',
] as const;
