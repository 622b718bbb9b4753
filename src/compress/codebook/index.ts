export * from './codec.js';
export * from './model.js';
export * from './io.js';
