export * from './readiness.js';
export * from './metrics.js';
export * from './run-service.js';
export { ProbesController } from './probes.controller.js';
export * from './shutdown-hook.js';
