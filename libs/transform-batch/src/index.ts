export { transformBatch, deadLetterFor, type BatchOutput } from './transform-batch.js';
export { userEvent } from './testing/test-events.js';
