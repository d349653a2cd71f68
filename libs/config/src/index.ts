export { z } from 'zod';
export * from './duration.js';
export * from './secret.js';
export * from './load-config.js';
