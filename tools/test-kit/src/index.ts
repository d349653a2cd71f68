export * from './spawn-service.js';
export * from './wait-for.js';
