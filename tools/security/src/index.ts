export * from './leaks.js';
export * from './emitted.js';
export * from './tls-lab.js';
export * from './hostile-cases.js';
