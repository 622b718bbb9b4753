/**
 * Training: BPTT for GRU/LSTM and their delta variants with a Linear head, Adam, the
 * delta-network recipe, CBTD during training, checkpoints, threshold tuning, the built-in model.
 * Node only (checkpoints and the corpus use the file system).
 */
export * from './net.js';
export * from './fast.js';
export * from './init.js';
export * from './adam.js';
export * from './evaluate.js';
export * from './checkpoint.js';
export * from './trainer.js';
export * from './task.js';
export * from './tune.js';
export * from './plot.js';
export * from './progress.js';
export * from './builtin.js';
export * from './ctc.js';
export * from './kws.js';
export * from './kws-windows.js';
