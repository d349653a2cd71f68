import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parse a human duration ('250ms', '10s', '2m', '1h30m', '7d') or a number of milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`not a duration: ${input}`);
    return input;
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== text.length) {
    throw new Error(`not a duration: "${input}" (use e.g. 500ms, 10s, 2m, 1h, 7d)`);
  }
  return total;
}

/** A zod schema accepting a human duration or milliseconds, producing milliseconds. */
export function duration() {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/**
 * A boolean from configuration or the environment: true/false, "true"/"false", "1"/"0",
 * "yes"/"no", "on"/"off" (case-insensitive). Unlike z.coerce.boolean(), "false" is false.
 */
export function flag() {
  return z.union([z.boolean(), z.string(), z.number()]).transform((v, ctx) => {
    if (typeof v === 'boolean') return v;
    const s = String(v).trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off', ''].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: `not a boolean: "${v}" (use true or false)` });
    return z.NEVER;
  });
}
