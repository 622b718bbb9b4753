/**
 * Data: speech synthesised on the machine (espeak-ng), noise, log-mel features, corpora split by
 * voice, and the committed held-out feature set.
 */
export * from './wav.js';
export * from './mel.js';
export * from './resample.js';
export * from './vocabulary.js';
export * from './noise.js';
export * from './festival.js';
export * from './flite.js';
export * from './augment.js';
export * from './frontend.js';
export * from './espeak.js';
export * from './dataset.js';
export * from './corpus.js';
export * from './heldout.js';
