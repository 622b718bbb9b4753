/**
 * Accelerator simulation: architecture specs and presets (spec/), workloads from session traces
 * (workload/), one cycle engine per accelerator (engine/), energy tables (cost/), and reports
 * (report/). See docs/simulator.md.
 */
export * from './spec/index.js';
export * from './workload/index.js';
export * from './engine/index.js';
export * from './cost/index.js';
export * from './simulate.js';
export * from './report/index.js';
export * from './run.js';
export * from './sweep.js';
export * from './trace/index.js';
