export * from './ad-snapshot.js';
export * from './oracle.js';
export * from './ad-admin.js';
