import { splitDn, unescapeDnValue } from './expr/functions.js';

/**
 * Distinguished names compared the way AD does: RDN by RDN, attribute types and values
 * case-insensitive, escapes resolved (so "OU=A\,B" and "ou=a\2cb" are the same RDN), spaces
 * around separators ignored.
 */
export type NormalizedDn = readonly string[];

export function normalizeDn(dn: string): NormalizedDn {
  return splitDn(dn).map((rdn) =>
    rdn
      .split('+')
      .map((ava) => {
        const eq = ava.indexOf('=');
        if (eq < 0) return unescapeDnValue(ava.trim()).toLowerCase();
        return `${ava.slice(0, eq).trim().toLowerCase()}=${unescapeDnValue(ava.slice(eq + 1).trim()).toLowerCase()}`;
      })
      .sort()
      .join('+'),
  );
}

/** True when `dn` is `base` or lies in the subtree below it. */
export function isUnder(dn: NormalizedDn, base: NormalizedDn): boolean {
  if (base.length === 0 || base.length > dn.length) return false;
  const off = dn.length - base.length;
  for (let i = 0; i < base.length; i++) if (dn[off + i] !== base[i]) return false;
  return true;
}

/** DNS name of the domain a DN belongs to, from its DC= components (lower case), or null. */
export function domainOfDn(dn: NormalizedDn): string | null {
  const dcs: string[] = [];
  for (const rdn of dn) if (rdn.startsWith('dc=')) dcs.push(rdn.slice(3));
  return dcs.length ? dcs.join('.') : null;
}

/** Parent DN (the DN without its first RDN), normalized. */
export function parentOf(dn: NormalizedDn): NormalizedDn {
  return dn.slice(1);
}
