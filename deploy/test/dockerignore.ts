/**
 * .dockerignore semantics (as BuildKit applies them), enough for our file: patterns are
 * slash-separated paths relative to the context root, `*` and `?` do not cross `/`, `**` matches
 * any number of directories, a pattern also excludes everything below a matching directory, and
 * `!pattern` re-includes. The last matching pattern wins.
 */
export function parseDockerignore(text: string): Array<{ negate: boolean; re: RegExp; pattern: string }> {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((raw) => {
      const negate = raw.startsWith('!');
      const pattern = (negate ? raw.slice(1) : raw).replace(/^\/+/, '').replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]!;
        if (c === '*' && pattern[i + 1] === '*') {
          i++;
          if (pattern[i + 1] === '/') {
            i++;
            re += '(?:.*/)?';
          } else re += '.*';
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`), pattern };
    });
}

export function isIgnored(path: string, rules: ReturnType<typeof parseDockerignore>): boolean {
  let ignored = false;
  for (const r of rules) if (r.re.test(path)) ignored = !r.negate;
  return ignored;
}
