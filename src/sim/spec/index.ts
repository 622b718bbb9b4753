export * from './params.js';
export * from './presets.js';
