/**
 * A labelled set of feature sequences, as the trainer and the tuner consume it.
 */
import { checkFiniteSamples } from '../core/bytes.js';
import { check, DeltakitError } from '../core/errors.js';
import { FRONT_ENDS, levelNormalize, type FrontEnd, type PauseRelease } from './frontend.js';

export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];

export interface Utterance {
  /** Stable id (corpus, split, voice, text, rendition). */
  id: string;
  /** The speaker (espeak-ng variant); never shared between splits. */
  voice: string;
  /** What was said. */
  text: string;
  /** Class index for an isolated word (or silence); -1 for a connected string. */
  label: number;
  /** Class index of every word spoken, in order (one entry for an isolated word, none for silence). */
  words: number[];
  frames: number;
  /** frames x bands, row-major. */
  features: Float32Array;
}

export interface Dataset {
  corpus: string;
  split: Split;
  classes: string[];
  bands: number;
  utterances: Utterance[];
}

/** Per-band feature mean and standard deviation (computed on the training split only). */
export interface FeatureStats {
  mean: Float32Array;
  std: Float32Array;
  /** Applied before the standardisation: `level` = the streaming level normaliser (frontend.ts). Default none. */
  frontEnd?: FrontEnd;
}

/**
 * Per-band mean and standard deviation over every frame of a dataset.
 *
 * @example const stats = featureStats(train); const x = normalizeFeatures(u.features, stats);
 */
export function featureStats(ds: Dataset, o: { frontEnd?: FrontEnd } = {}): FeatureStats {
  const B = ds.bands;
  const frontEnd = o.frontEnd ?? 'none';
  if (frontEnd !== 'none') ds = { ...ds, utterances: ds.utterances.map((u) => ({ ...u, features: levelNormalize(u.features, B) })) };
  const sum = new Float64Array(B);
  const sq = new Float64Array(B);
  let n = 0;
  for (const u of ds.utterances) {
    for (let t = 0; t < u.frames; t++) {
      for (let b = 0; b < B; b++) {
        const v = u.features[t * B + b]!;
        sum[b] += v;
        sq[b] += v * v;
      }
    }
    n += u.frames;
  }
  check(n > 0, 'E_VALUE', () => `featureStats: dataset ${ds.corpus}/${ds.split} has no frames`);
  const mean = new Float32Array(B);
  const std = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    mean[b] = sum[b]! / n;
    std[b] = Math.sqrt(Math.max(sq[b]! / n - mean[b]! * mean[b]!, 1e-12));
  }
  return frontEnd === 'none' ? { mean, std } : { mean, std, frontEnd };
}

/**
 * (x - mean) / std per band, into a new array; with `stats.frontEnd === 'level'` the stream is
 * level-normalised first (from a fresh tracker state: one call is one stream; `pause`: the
 * continuous-stream release of frontend.ts).
 *
 * @example const x = normalizeFeatures(u.features, stats);
 */
export function normalizeFeatures(features: Float32Array, stats: FeatureStats, pause?: PauseRelease): Float32Array {
  check(stats !== null && typeof stats === 'object' && ArrayBuffer.isView(stats.mean) && ArrayBuffer.isView(stats.std) && stats.mean.length === stats.std.length && stats.mean.length > 0, 'E_OPTION', () => `normalizeFeatures: expected stats { mean, std } of equal non-zero length (statsFromJson(model.meta.featureStats)), found ${stats === null ? 'null' : typeof stats}`);
  // NaN features gave NaN inputs to the network, whose outputs then were NaN without a word.
  checkFiniteSamples(features, 'normalizeFeatures: features');
  const B = stats.mean.length;
  check(features.length % B === 0, 'E_SHAPE', () => `normalizeFeatures: expected a multiple of ${B} values, found ${features.length}`);
  if (stats.frontEnd === 'level') features = levelNormalize(features, B, pause);
  const out = new Float32Array(features.length);
  for (let i = 0; i < features.length; i++) {
    const b = i % B;
    out[i] = (features[i]! - stats.mean[b]!) / stats.std[b]!;
  }
  return out;
}

/**
 * A copy of the dataset with every utterance's features normalised.
 *
 * @example const test = normalizeDataset(buildCorpus('digits', 'test'), featureStats(train));
 */
export function normalizeDataset(ds: Dataset, stats: FeatureStats): Dataset {
  return { ...ds, utterances: ds.utterances.map((u) => ({ ...u, features: normalizeFeatures(u.features, stats) })) };
}

/**
 * Feature statistics as JSON-safe numbers (stored in a model's meta).
 *
 * @example model.meta.featureStats = statsToJson(featureStats(train));
 */
export function statsToJson(stats: FeatureStats): string {
  const r = (a: Float32Array) => Array.from(a, (v) => Number(v.toPrecision(7)));
  return JSON.stringify({ mean: r(stats.mean), std: r(stats.std), ...(stats.frontEnd && stats.frontEnd !== 'none' ? { frontEnd: stats.frontEnd } : {}) });
}

/**
 * Parse statsToJson output; throws E_FORMAT on anything else.
 *
 * @example const stats = statsFromJson(model.meta.featureStats!);
 */
export function statsFromJson(text: string): FeatureStats {
  check(typeof text === 'string', 'E_FORMAT', () => `feature stats: expected JSON text {mean, std} (model.meta.featureStats), found ${text === null ? 'null' : typeof text}`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new DeltakitError('E_FORMAT', 'feature stats: expected JSON {mean, std}, found unparsable text');
  }
  const o = v as { mean?: unknown; std?: unknown; frontEnd?: unknown };
  check(o.frontEnd === undefined || FRONT_ENDS.includes(o.frontEnd as FrontEnd), 'E_FORMAT', () => `feature stats: frontEnd must be one of ${FRONT_ENDS.join(', ')}, found ${JSON.stringify(o.frontEnd)}`);
  check(Array.isArray(o.mean) && Array.isArray(o.std) && o.mean.length === o.std.length && o.mean.length > 0, 'E_FORMAT', () => 'feature stats: expected {mean: number[], std: number[]} of equal non-zero length');
  const mean = Float32Array.from(o.mean as number[]);
  const std = Float32Array.from(o.std as number[]);
  for (let i = 0; i < mean.length; i++) {
    check(Number.isFinite(mean[i]) && Number.isFinite(std[i]) && std[i]! > 0, 'E_FORMAT', () => `feature stats: band ${i} has mean ${mean[i]} and std ${std[i]}; expected finite values and std > 0`);
  }
  return o.frontEnd === undefined || o.frontEnd === 'none' ? { mean, std } : { mean, std, frontEnd: o.frontEnd as FrontEnd };
}

/**
 * Every utterance's features end to end as one (frames, bands) stream: what `deltakit run` or
 * `deltakit sim` take as --input.
 *
 * @example const { features, frames } = concatFeatures(ds); writeFileSync('x.npy', encodeNpy(features, [frames, ds.bands]));
 */
export function concatFeatures(ds: Dataset): { features: Float32Array; frames: number } {
  const frames = ds.utterances.reduce((a, u) => a + u.frames, 0);
  const features = new Float32Array(frames * ds.bands);
  let off = 0;
  for (const u of ds.utterances) {
    features.set(u.features, off);
    off += u.features.length;
  }
  return { features, frames };
}
