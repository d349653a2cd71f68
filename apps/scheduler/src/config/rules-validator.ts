import { rulesFromConfig } from '@canopy/sync-rules';
import type { RulesValidator } from './config-apply.service.js';

/**
 * Validates a forest's rules document by compiling it with @canopy/sync-rules (the same code the
 * transformer runs): an unknown or read-only mapping target, a bad expression or a bad scoping
 * filter is refused at apply time, naming the field.
 */
export const validateForestRules: RulesValidator = (forest, rules, global) => {
  const tenant = (global as { tenant?: { initialDomain?: string; verifiedDomains?: string[] } } | undefined)?.tenant;
  rulesFromConfig(
    forest,
    rules,
    tenant?.initialDomain ? { initialDomain: tenant.initialDomain, verifiedDomains: tenant.verifiedDomains ?? [] } : undefined,
  );
};
