export * from './workload.js';
export * from './synthetic.js';
export * from './mapping.js';
