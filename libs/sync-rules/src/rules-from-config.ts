import { compileRules, type ForestRules } from './config.js';

export interface TenantDomains {
  initialDomain: string;
  verifiedDomains: readonly string[];
}

/**
 * Compile a forest's rules as they live in canopy.config: the forest document's `rules` plus the
 * tenant's domains from the global document (for the UPN suffix fallback), unless the rules set
 * their own `upnSuffix`. The transformer, the scheduler's validation, preview, explain and replay
 * all compile rules through here, so they agree.
 */
export function rulesFromConfig(forest: string, rules: unknown, tenant: TenantDomains | undefined): ForestRules {
  const doc = (rules && typeof rules === 'object' ? rules : {}) as Record<string, unknown>;
  return compileRules({
    ...(tenant
      ? { upnSuffix: { fallbackToInitialDomain: true, initialDomain: tenant.initialDomain, verifiedDomains: [...tenant.verifiedDomains] } }
      : {}),
    ...doc,
    forest,
  });
}
