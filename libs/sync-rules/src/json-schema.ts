import { z } from '@canopy/config';
import { forestRulesSchema } from './config.js';

/**
 * JSON Schema (draft 2020-12) of the per-forest rules document as admins write it, for editors,
 * the CLI and Helm values validation. Generated from the zod schema, so it cannot drift; the
 * checks that need Graph's schema or the expression compiler happen in compileRules.
 */
export function forestRulesJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(forestRulesSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
