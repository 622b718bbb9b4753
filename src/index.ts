/**
 * deltakit: real-time recurrent network inference at the edge.
 *
 * @example
 * import { loadModel, createSession } from 'deltakit';
 * const model = await loadModel('m.safetensors');
 * const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.05 });
 * const y = s.step(frame);
 */
export * from './core/index.js';
export * from './model/index.js';
export * from './cells/index.js';
export * from './runtime/index.js';
export * from './quant/index.js';
export * from './stream/index.js';
