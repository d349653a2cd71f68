import { ExpressionEvaluationError } from './errors.js';

/**
 * Microsoft's provisioning service runs .NET regular expressions. JavaScript's engine shares the
 * syntax that mapping expressions use in practice (classes, quantifiers, (?<name>...) groups,
 * \d \s \w, anchors); this adapter translates the .NET-only spellings that have a JS twin:
 * (?'name'...) groups, leading inline options (?i) (?m) (?s), \A and \z / \Z anchors. Patterns
 * are compiled once and cached.
 */
const cache = new Map<string, RegExp>();

export function compileDotNetRegex(pattern: string, extraFlags = ''): RegExp {
  const key = `${extraFlags}\u0000${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let p = pattern;
  let flags = extraFlags;
  const opts = /^\(\?([imsx]+)\)/.exec(p);
  if (opts) {
    for (const o of opts[1]!) if (o !== 'x' && !flags.includes(o)) flags += o;
    p = p.slice(opts[0].length);
  }
  p = p.replace(/\(\?'([A-Za-z_][A-Za-z0-9_]*)'/g, '(?<$1>').replace(/\\A/g, '^').replace(/\\[zZ]/g, '$');
  let re: RegExp;
  try {
    re = new RegExp(p, flags);
  } catch (err) {
    throw new ExpressionEvaluationError(`invalid regular expression "${pattern}": ${(err as Error).message}`);
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(key, re);
  return re;
}

/** Replace every match (global, .NET empty-match rules) with what `replacer` returns. */
export function replaceAllMatches(re: RegExp, input: string, replacer: (m: RegExpExecArray) => string): string {
  const g = re.global ? re : compileDotNetRegex(re.source, re.flags + 'g');
  g.lastIndex = 0;
  let out = '';
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = g.exec(input)) !== null) {
    out += input.slice(last, m.index) + replacer(m);
    last = m.index + m[0].length;
    if (m[0].length === 0) g.lastIndex++;
    if (g.lastIndex > input.length) break;
  }
  g.lastIndex = 0;
  return out + input.slice(last);
}

/**
 * .NET substitution syntax in a replacement string: $1, ${name}, $$, $&, $`, $', $+ (last
 * group), $_ (whole input). An unknown group leaves the text as written, as .NET does.
 */
export function expandDotNetReplacement(replacement: string, m: RegExpExecArray, input: string): string {
  if (!replacement.includes('$')) return replacement;
  return replacement.replace(/\$(\$|&|`|'|\+|_|\{([A-Za-z_][A-Za-z0-9_]*|\d+)\}|(\d+))/g, (whole, tok: string, braced?: string, num?: string) => {
    if (tok === '$') return '$';
    if (tok === '&') return m[0];
    if (tok === '`') return input.slice(0, m.index);
    if (tok === "'") return input.slice(m.index + m[0].length);
    if (tok === '_') return input;
    if (tok === '+') return m.length > 1 ? (m[m.length - 1] ?? '') : '';
    const name = braced ?? num!;
    if (/^\d+$/.test(name)) {
      const i = Number(name);
      return i < m.length ? (m[i] ?? '') : whole;
    }
    if (m.groups && name in m.groups) return m.groups[name] ?? '';
    return whole;
  });
}
