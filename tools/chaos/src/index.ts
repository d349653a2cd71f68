export { runChaos, FAULT_KINDS, type ChaosOptions, type ChaosReport, type ChaosFigures, type FaultKind } from './chaos.js';
export { PrivateStack, PROFILES, type PrivateStackProfile } from './private-stack.js';
export { renderMarkdown, writeReports } from './report.js';
