export * from './errors.js';
export * from './rng.js';
export * from './math.js';
export * from './npy.js';
export * from './files.js';
