export * from './kafka-options.js';
export * from './kafka-errors.js';
export * from './kafka-client.js';
export * from './topics-setup.js';
