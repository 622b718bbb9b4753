/**
 * A streaming level normalisation of log-mel features, applied before the per-band
 * standardisation when a model asks for it (`featureStats.frontEnd === 'level'`).
 *
 * A gain g on the audio adds the same constant 2 ln g to every log-mel value (speech and noise
 * alike), so subtracting any level estimate that moves with that constant makes the features
 * exactly independent of the loudness. The estimate is a peak tracker on the frame's mean
 * log energy over the bands: instant attack, slow release,
 *
 *   m_t = mean_b x_t[b];  L_0 = m_0;  L_t = max(m_t, L_{t-1} - release);  y_t[b] = max(x_t[b] - L_t, -range)
 *
 * It is causal (one frame of state, so a streaming session and a microphone can run it), it
 * follows the loudest recent speech rather than the noise floor (a running mean would depend on
 * how much silence came first), and the floor `-range` (52 dB below the tracked level) makes an
 * empty band (an 8 kHz channel above 4 kHz, digital silence) look like a very quiet one instead of
 * the log floor's -23.
 */
import { check } from '../core/errors.js';

export type FrontEnd = 'none' | 'level';
export const FRONT_ENDS: readonly FrontEnd[] = ['none', 'level'];

/** Release of the level tracker per 10 ms frame, in natural-log power units (about 2.2 dB/s). */
export const LEVEL_RELEASE = 0.005;
/** Dynamic range kept below the tracked level, natural-log power units (about 52 dB). */
export const LEVEL_RANGE = 12;

/** The state a streaming level normaliser carries from frame to frame. */
export class LevelNormalizer {
  private level = Number.NaN;
  constructor(readonly bands: number) {
    check(Number.isInteger(bands) && bands > 0, 'E_OPTION', () => `level normaliser: bands must be a positive integer, found ${bands}`);
  }

  /** Forget the tracked level (the start of a new stream). */
  reset(): void {
    this.level = Number.NaN;
  }

  /** Normalise one frame (`bands` values from `src[off..]`) into `dst[off..]`. */
  frame(src: ArrayLike<number>, dst: Float32Array, off = 0): void {
    const B = this.bands;
    let m = 0;
    for (let b = 0; b < B; b++) m += src[off + b]!;
    m /= B;
    this.level = Number.isNaN(this.level) ? m : Math.max(m, this.level - LEVEL_RELEASE);
    for (let b = 0; b < B; b++) dst[off + b] = Math.max(src[off + b]! - this.level, -LEVEL_RANGE);
  }
}

/**
 * Level-normalise a whole stream of frames (frames x bands, row-major) from a fresh state.
 *
 * @example const y = levelNormalize(features, 40); // independent of the input gain
 */
export function levelNormalize(features: Float32Array, bands: number): Float32Array {
  check(features.length % bands === 0, 'E_SHAPE', () => `level normaliser: expected a multiple of ${bands} values, found ${features.length}`);
  const out = new Float32Array(features.length);
  const n = new LevelNormalizer(bands);
  for (let off = 0; off < features.length; off += bands) n.frame(features, out, off);
  return out;
}
