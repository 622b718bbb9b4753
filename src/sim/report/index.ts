export * from './format.js';
export * from './csv.js';
export * from './plot.js';
