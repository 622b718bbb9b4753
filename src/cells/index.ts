export * from './linear/reference.js';
export * from './gru/reference.js';
export * from './gru/delta.js';
export * from './lstm/reference.js';
export * from './lstm/delta.js';
export * from './sru/reference.js';
export * from './qrnn/reference.js';
export * from './reference-model.js';
