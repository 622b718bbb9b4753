/**
 * Feature files given to the CLI (`run --input`, `compress --input`, `prune --input`,
 * `quantize --frames`, `sim --input`, `sweep --input`, `edgedrnn export --stim`, `export c
 * --calibration`): every one is read by readFrames, so all refuse the same shapes alike. Those
 * that run the model to measure it (run, prune, compress, sim, sweep) read through
 * readFeatureInput, which applies a trained model's stored statistics as below.
 *
 * deltakit's feature files (`data export`, models/digits-heldout.npy) hold raw log-mel features;
 * a trained model records the per-band statistics it was trained with (meta.featureStats) and
 * expects (x - mean) / std. Applying them here is what makes `run MODEL --input features.npy`
 * give the model's real accuracy; forgetting them gave 20 % instead of 98 % without a word.
 */
import { check } from '../core/errors.js';
import { readNpy, type NpyArray } from '../core/npy.js';
import { normalizeFeatures, statsFromJson } from '../data/dataset.js';
import type { Model } from '../model/types.js';
import { modelLabel } from '../model/source.js';
import { fromMetadata } from '../train/model-task.js';

/** How commands say that the model's stored statistics were applied to an input file. */
export const NORMALIZED_NOTE = "normalised with the model's feature statistics, meta.featureStats; --no-normalize to skip";

export interface FeatureInput {
  /** (T, I) row-major frames, normalised when `normalized`. */
  data: Float32Array;
  frames: number;
  /** True when the model's stored feature statistics were applied. */
  normalized: boolean;
}

/**
 * Read a (T, I) float32 .npy of at least one frame: E_SHAPE naming the option, the shape expected
 * and the one found. An empty (0, I) file used to run through some commands to a report of NaN %
 * (prune, compress) or an empty output (run), and was refused by others.
 *
 * @example const x = await readFrames('x.npy', 40, '--input'); // { data, shape: [T, 40] }
 */
export async function readFrames(path: string, inputSize: number, option: string): Promise<NpyArray> {
  const x = await readNpy(path);
  check(x.shape.length === 2 && x.shape[1] === inputSize && x.shape[0]! > 0, 'E_SHAPE', () => `${option} ${path}: expected shape (T, ${inputSize}) with T >= 1 for this model, found (${x.shape.join(', ')})`);
  return x;
}

/**
 * Read a (T, I) float32 .npy for `model` and apply the model's stored feature statistics unless
 * `normalize` is false (per utterance when `streams` gives the frame counts). Writes one line to stderr when the model has statistics and they are not
 * applied (the outputs are then those of un-normalised input).
 *
 * @example const x = await readFeatureInput('features.npy', model, '--input', true);
 */
export async function readFeatureInput(path: string, model: Model, option: string, normalize = true, streams?: (frames: number) => Promise<number[]>): Promise<FeatureInput> {
  const I = model.layers[0]!.inputSize;
  const x = await readFrames(path, I, option);
  const statsText = model.meta['featureStats'];
  if (statsText === undefined) return { data: x.data, frames: x.shape[0]!, normalized: false };
  const stats = fromMetadata(model, 'featureStats', () => statsFromJson(statsText));
  check(stats.mean.length === I, 'E_FORMAT', () => `${modelLabel(model)}: metadata featureStats has ${stats.mean.length} bands, the model's input has ${I}`);
  if (!normalize) {
    process.stderr.write(`deltakit: warning: ${option} is used as given; the model was trained on features normalised with its stored statistics (meta.featureStats), which --no-normalize skips\n`);
    return { data: x.data, frames: x.shape[0]!, normalized: false };
  }
  // A streaming front end (the level tracker) starts fresh on each utterance, as in training and
  // as a session reset does: utterances given by `streams` are normalised one by one, not as one
  // long stream whose tracker state would carry across the boundaries.
  const T = x.shape[0]!;
  const counts = streams ? await streams(T) : [T];
  const data = new Float32Array(x.data.length);
  let t0 = 0;
  for (const n of counts) {
    data.set(normalizeFeatures(x.data.subarray(t0 * I, (t0 + n) * I), stats), t0 * I);
    t0 += n;
  }
  return { data, frames: T, normalized: true };
}
