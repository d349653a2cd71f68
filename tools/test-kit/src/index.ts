export * from './spawn-service.js';
export * from './wait-for.js';
export * from './stack-env.js';
export * from './probes.js';
