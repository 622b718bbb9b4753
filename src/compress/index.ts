/**
 * Weight compression: CBTD structured pruning and its compressed storage (cbtd/), and the
 * codebook codec standing in for NeuCompression (codebook/). See docs/cbtd.md.
 */
export * from './cbtd/index.js';
export * from './codebook/index.js';
