/**
 * @canopy/sync-rules: the pure core of the transformer (no Kafka, no I/O beyond reading its own
 * Graph schema file at load). Used by the transformer app and by the CLI's preview/explain.
 */
export { transform, coerce, buildEnv, GROUP_TYPE } from './transform.js';
export type { TransformContext, TransformOutcome, TransformFailure, MappedAttribute, MemberScoping } from './transform.js';
export { compileRules, forestRulesSchema, mappingSchema } from './config.js';
export { forestRulesJsonSchema } from './json-schema.js';
export { rulesFromConfig, type TenantDomains } from './rules-from-config.js';
export type { ForestRules, ForestRulesConfig, ForestRulesInput, MappingConfig, CompiledMapping } from './config.js';
export { adEvent, dnRef } from './fixtures.js';
export type { AdEventSpec } from './fixtures.js';
export { DEFAULT_USER_MAPPINGS, DEFAULT_GROUP_MAPPINGS } from './defaults.js';
export {
  decideScope,
  decideMemberScope,
  evaluateClause,
  canonicalOperator,
  objectTypeOf,
  SCOPING_OPERATORS,
} from './scoping.js';
export type { ScopingDecision, ScopeRule, ScopingOperator, CompiledScoping } from './scoping.js';
export { normalizeDn, isUnder, domainOfDn } from './dn.js';
export { resolveTarget, graphProperties, isSyncOnly } from './graph-schema.js';
export type { TargetInfo, PropertyAccess, GraphEntity } from './graph-schema.js';
export { parseExpression, formatExpression } from './expr/parser.js';
export type { Node as ExpressionNode } from './expr/parser.js';
export { compileExpression, evaluateExpression } from './expr/compile.js';
export type { CompiledExpression } from './expr/compile.js';
export { FUNCTIONS, CLOUD_SYNC_FUNCTIONS, sidToString } from './expr/functions.js';
export type { EvalEnv } from './expr/functions.js';
export { ExpressionSyntaxError, ExpressionEvaluationError } from './expr/errors.js';
export { UniqueCandidates } from './expr/values.js';
export type { Value, Scalar } from './expr/values.js';
export { normalizeDiacritics } from './expr/diacritics.js';
export { formatDate, parseDate, dateFromFileTime } from './expr/datetime.js';
