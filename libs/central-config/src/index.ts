export * from './config-documents.js';
export * from './config-store.js';
