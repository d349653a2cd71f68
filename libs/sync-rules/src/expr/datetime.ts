import { ExpressionEvaluationError } from './errors.js';

/**
 * .NET custom date and time format strings (invariant culture), enough for FormatDateTime:
 * parse a string with an input format, print with an output format. Specifiers: yyyy yyy yy y,
 * MMMM MMM MM M, dddd ddd dd d, HH H hh h, mm m, ss s, f..fffffff, F..FFFFFFF, tt t,
 * zzz zz z, K, quoted literals '...' "...", \x escapes, %x single specifiers; ':' and '/' are
 * the invariant separators. Standard formats o/O, s, u, d, D, g, G, t, T, M/m, y/Y are expanded
 * to their invariant custom patterns. Any other character is a literal.
 */
export interface DateParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** fraction of a second in 100 ns ticks, 0..9_999_999 */
  ticks: number;
  /** offset from UTC in minutes when known (Z = 0); null for an unspecified ("local") time */
  offset: number | null;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const STANDARD: Record<string, string> = {
  o: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  O: "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
  s: "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
  u: "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
  d: 'MM/dd/yyyy',
  D: 'dddd, dd MMMM yyyy',
  g: 'MM/dd/yyyy HH:mm',
  G: 'MM/dd/yyyy HH:mm:ss',
  t: 'HH:mm',
  T: 'HH:mm:ss',
  M: 'MMMM dd',
  m: 'MMMM dd',
  y: 'yyyy MMMM',
  Y: 'yyyy MMMM',
};

type Token = { lit: string } | { spec: string };

function tokenize(format: string): Token[] {
  if (format.length === 1 && STANDARD[format]) format = STANDARD[format]!;
  const out: Token[] = [];
  let i = 0;
  const lit = (s: string) => {
    const last = out[out.length - 1];
    if (last && 'lit' in last) last.lit += s;
    else out.push({ lit: s });
  };
  while (i < format.length) {
    const ch = format[i]!;
    if (ch === "'" || ch === '"') {
      const end = format.indexOf(ch, i + 1);
      if (end < 0) throw new ExpressionEvaluationError(`unterminated quote in date format "${format}"`);
      lit(format.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (ch === '\\') {
      lit(format[i + 1] ?? '');
      i += 2;
      continue;
    }
    if (ch === '%') {
      i++;
      continue;
    }
    if ('yMdHhmsfFtzK'.includes(ch)) {
      let j = i;
      while (format[j] === ch) j++;
      out.push({ spec: format.slice(i, j) });
      i = j;
      continue;
    }
    lit(ch);
    i++;
  }
  return out;
}

const pad = (n: number, w: number) => String(Math.abs(n)).padStart(w, '0');

export function formatDate(p: DateParts, format: string): string {
  let out = '';
  const h12 = p.hour % 12 === 0 ? 12 : p.hour % 12;
  for (const t of tokenize(format)) {
    if ('lit' in t) {
      out += t.lit;
      continue;
    }
    const s = t.spec;
    const c = s[0]!;
    const n = s.length;
    switch (c) {
      case 'y':
        out += n === 1 ? String(p.year % 100) : n === 2 ? pad(p.year % 100, 2) : pad(p.year, n);
        break;
      case 'M':
        out += n === 1 ? String(p.month) : n === 2 ? pad(p.month, 2) : n === 3 ? MONTHS[p.month - 1]!.slice(0, 3) : MONTHS[p.month - 1]!;
        break;
      case 'd': {
        if (n <= 2) out += n === 1 ? String(p.day) : pad(p.day, 2);
        else {
          const day = new Date(0);
          day.setUTCFullYear(p.year, p.month - 1, p.day);
          const dow = DAYS[day.getUTCDay()]!;
          out += n === 3 ? dow.slice(0, 3) : dow;
        }
        break;
      }
      case 'H':
        out += n === 1 ? String(p.hour) : pad(p.hour, 2);
        break;
      case 'h':
        out += n === 1 ? String(h12) : pad(h12, 2);
        break;
      case 'm':
        out += n === 1 ? String(p.minute) : pad(p.minute, 2);
        break;
      case 's':
        out += n === 1 ? String(p.second) : pad(p.second, 2);
        break;
      case 'f':
      case 'F': {
        const digits = pad(p.ticks, 7).slice(0, Math.min(n, 7));
        out += c === 'f' ? digits : digits.replace(/0+$/, '');
        break;
      }
      case 't':
        out += (p.hour < 12 ? 'AM' : 'PM').slice(0, n === 1 ? 1 : 2);
        break;
      case 'z': {
        const off = p.offset ?? 0;
        const sign = off < 0 ? '-' : '+';
        const hh = Math.floor(Math.abs(off) / 60);
        const mm = Math.abs(off) % 60;
        out += n === 1 ? `${sign}${hh}` : n === 2 ? `${sign}${pad(hh, 2)}` : `${sign}${pad(hh, 2)}:${pad(mm, 2)}`;
        break;
      }
      case 'K':
        if (p.offset === null) break;
        if (p.offset === 0) out += 'Z';
        else {
          const sign = p.offset < 0 ? '-' : '+';
          out += `${sign}${pad(Math.floor(Math.abs(p.offset) / 60), 2)}:${pad(Math.abs(p.offset) % 60, 2)}`;
        }
        break;
    }
  }
  return out;
}

/** Parse `text` exactly against a .NET custom format; leading/trailing white space is allowed (DateTimeStyles.AllowLeadingWhite|AllowTrailingWhite). */
export function parseDate(text: string, format: string): DateParts {
  const tokens = tokenize(format);
  let re = '^\\s*';
  const fields: string[] = [];
  for (const t of tokens) {
    if ('lit' in t) {
      re += t.lit.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
      continue;
    }
    const s = t.spec;
    const c = s[0]!;
    const n = s.length;
    fields.push(s);
    switch (c) {
      case 'y':
        re += n <= 2 ? (n === 1 ? '(\\d{1,2})' : '(\\d{2})') : `(\\d{${n},5})`;
        break;
      case 'M':
        re += n <= 2 ? (n === 1 ? '(\\d{1,2})' : '(\\d{2})') : '([A-Za-z]+)';
        break;
      case 'd':
        re += n <= 2 ? (n === 1 ? '(\\d{1,2})' : '(\\d{2})') : '([A-Za-z]+)';
        break;
      case 'H':
      case 'h':
      case 'm':
      case 's':
        re += n === 1 ? '(\\d{1,2})' : '(\\d{2})';
        break;
      case 'f':
        re += `(\\d{${Math.min(n, 7)}})`;
        break;
      case 'F':
        re += `(\\d{0,${Math.min(n, 7)}})`;
        break;
      case 't':
        re += n === 1 ? '([AaPp])' : '([AaPp][Mm])';
        break;
      case 'z':
        re += n === 3 ? '([+-]\\d{1,2}:\\d{2})' : '([+-]\\d{1,2})';
        break;
      case 'K':
        re += '(Z|[+-]\\d{2}:\\d{2}|)';
        break;
    }
  }
  re += '\\s*$';
  const m = new RegExp(re, 'i').exec(text);
  if (!m) throw new ExpressionEvaluationError(`"${text}" does not match the date format "${format}"`);
  const p: DateParts = { year: 1, month: 1, day: 1, hour: 0, minute: 0, second: 0, ticks: 0, offset: null };
  let pm: boolean | null = null;
  fields.forEach((s, i) => {
    const v = m[i + 1]!;
    const c = s[0]!;
    const n = s.length;
    switch (c) {
      case 'y': {
        const y = Number(v);
        p.year = n <= 2 ? (y < 50 ? 2000 + y : 1900 + y) : y;
        break;
      }
      case 'M':
        if (n <= 2) p.month = Number(v);
        else {
          const idx = MONTHS.findIndex((name) => (n === 3 ? name.slice(0, 3) : name).toLowerCase() === v.toLowerCase());
          if (idx < 0) throw new ExpressionEvaluationError(`"${v}" is not a month name`);
          p.month = idx + 1;
        }
        break;
      case 'd':
        if (n <= 2) p.day = Number(v);
        break;
      case 'H':
      case 'h':
        p.hour = Number(v);
        break;
      case 'm':
        p.minute = Number(v);
        break;
      case 's':
        p.second = Number(v);
        break;
      case 'f':
      case 'F':
        p.ticks = Number(v.padEnd(7, '0') || '0');
        break;
      case 't':
        pm = v[0]!.toUpperCase() === 'P';
        break;
      case 'z':
      case 'K': {
        if (v === '' ) break;
        if (v.toUpperCase() === 'Z') {
          p.offset = 0;
          break;
        }
        const [hh, mm] = v.slice(1).split(':');
        const off = Number(hh) * 60 + Number(mm ?? 0);
        p.offset = v[0] === '-' ? -off : off;
        break;
      }
    }
  });
  if (pm !== null) {
    if (p.hour < 1 || p.hour > 12) throw new ExpressionEvaluationError(`"${text}": hour ${p.hour} is not valid with AM/PM`);
    p.hour = (p.hour % 12) + (pm ? 12 : 0);
  }
  validate(p, text);
  return p;
}

function validate(p: DateParts, text: string): void {
  const last = new Date(0);
  last.setUTCFullYear(p.year, p.month, 0);
  const days = last.getUTCDate();
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > days || p.hour > 23 || p.minute > 59 || p.second > 59) {
    throw new ExpressionEvaluationError(`"${text}" is not a valid date`);
  }
}

/** UTC parts of a JS Date (offset 0, printed as Z by K). */
export function partsOfDate(d: Date): DateParts {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new ExpressionEvaluationError('invalid date');
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    ticks: d.getUTCMilliseconds() * 10_000,
    offset: 0,
  };
}

/**
 * AD large-integer time (FILETIME: 100 ns intervals since 1601-01-01 UTC) to a Date, as
 * DateFromNum. 0 and 0x7FFFFFFFFFFFFFFF ("never", e.g. accountExpires) give null.
 */
export function dateFromFileTime(value: bigint): Date | null {
  if (value === 0n || value === 0x7fffffffffffffffn) return null;
  if (value < 0n) throw new ExpressionEvaluationError(`${value} is not an AD date (negative)`);
  const ms = Number(value / 10_000n) - 11_644_473_600_000;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new ExpressionEvaluationError(`${value} is out of the date range`);
  return d;
}
