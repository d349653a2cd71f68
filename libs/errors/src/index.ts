export * from './canopy-error.js';
