/**
 * Streaming speech: voice-activity segmentation of log-mel frames, a streaming recogniser for
 * models trained by `deltakit train`, and a listener from audio chunks at any rate to words.
 * The resampler and the streaming log-mel front end live in deltakit/data and are re-exported here.
 */
export * from './segmenter.js';
export * from './recognizer.js';
export * from './listener.js';
export { Resampler, resample } from '../data/resample.js';
export { StreamingLogMel, LogMel, logMel, type Features, type MelOptions } from '../data/mel.js';
export { LevelNormalizer, levelNormalize } from '../data/frontend.js';
export { normalizeFeatures, statsFromJson, type FeatureStats } from '../data/dataset.js';
export { parseWav, type Audio } from '../data/wav.js';
export { modelTask, type ModelTask } from '../train/model-task.js';
export { CtcGreedyDecoder } from '../train/ctc.js';
