export * from './format.js';
export * from './file.js';
