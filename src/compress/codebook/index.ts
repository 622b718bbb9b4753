export * from './codec.js';
export * from './model.js';
