export * from './ad-snapshot.js';
export * from './oracle.js';
