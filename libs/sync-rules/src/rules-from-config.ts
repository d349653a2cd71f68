import { ConfigError } from '@canopy/errors';
import { compileRules, type ForestRules } from './config.js';

/** The tenant facts the GLOBAL config document holds (extra fields are ignored). */
export interface TenantDomains {
  initialDomain: string;
  verifiedDomains?: readonly string[];
}

/**
 * Compile the `rules` section of a FOREST config document (scoping + mappings, without
 * `forest`) for `forest`, with the tenant's domains from the GLOBAL document: when `tenant` is
 * given, the UPN suffix rule is on by default with the tenant's initial and verified domains; a
 * `upnSuffix` section in the rules overrides it (its missing fields come from the tenant, its
 * verifiedDomains are added to the tenant's). Throws ConfigError like compileRules. The
 * transformer, the scheduler's validation, preview, explain and replay all compile rules through
 * here, so they agree.
 */
export function rulesFromConfig(forest: string, rules: unknown, tenant?: TenantDomains | null): ForestRules {
  if (rules !== undefined && rules !== null && (typeof rules !== 'object' || Array.isArray(rules))) {
    throw new ConfigError('sync-rules: invalid configuration:\n  - (root): the rules of a forest must be an object', { type: 'Config.Invalid' });
  }
  const body: Record<string, unknown> = { ...((rules ?? {}) as Record<string, unknown>) };
  if (body.forest !== undefined && body.forest !== forest) {
    throw new ConfigError(`sync-rules: invalid configuration:\n  - forest: "${String(body.forest)}" does not match the document's forest "${forest}"`, {
      type: 'Config.Invalid',
    });
  }
  body.forest = forest;
  if (tenant?.initialDomain) {
    const own = body.upnSuffix;
    if (own === undefined) {
      body.upnSuffix = { fallbackToInitialDomain: true, initialDomain: tenant.initialDomain, verifiedDomains: [...(tenant.verifiedDomains ?? [])] };
    } else if (own && typeof own === 'object' && !Array.isArray(own)) {
      const o = own as { initialDomain?: unknown; verifiedDomains?: unknown };
      body.upnSuffix = {
        ...o,
        initialDomain: o.initialDomain ?? tenant.initialDomain,
        verifiedDomains: [...(tenant.verifiedDomains ?? []), ...(Array.isArray(o.verifiedDomains) ? (o.verifiedDomains as unknown[]) : [])],
      };
    }
  }
  return compileRules(body);
}
