export * from './prune.js';
export * from './balance.js';
export * from './storage.js';
