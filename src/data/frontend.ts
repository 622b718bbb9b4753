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

/**
 * How the tracked level falls in a continuous stream (keyword spotting): after `hold` frames
 * without a new peak it releases `release` per frame (natural-log power units) instead of
 * LEVEL_RELEASE, so after a word and a pause the level is back at the noise floor, as it is at
 * the start of every training utterance (a fresh tracker). Inside a word (gaps shorter than
 * `hold`) the features are those of the training front end.
 */
export interface PauseRelease {
  hold: number;
  release: number;
}

/** The pause release `deltakit kws` streams with (chosen on validation streams). */
export const STREAM_PAUSE_RELEASE: PauseRelease = { hold: 50, release: 0.2 };

/** The state a streaming level normaliser carries from frame to frame. */
export class LevelNormalizer {
  private level = Number.NaN;
  private since = 0;
  constructor(
    readonly bands: number,
    readonly pause?: PauseRelease,
  ) {
    check(Number.isInteger(bands) && bands > 0, 'E_OPTION', () => `level normaliser: bands must be a positive integer, found ${bands}`);
    if (pause) check(Number.isInteger(pause.hold) && pause.hold >= 0 && Number.isFinite(pause.release) && pause.release >= 0, 'E_OPTION', () => `level normaliser: pause release needs an integer hold >= 0 and a release >= 0, found ${JSON.stringify(pause)}`);
  }

  /** Forget the tracked level (the start of a new stream). */
  reset(): void {
    this.level = Number.NaN;
    this.since = 0;
  }

  /** Normalise one frame (`bands` values from `src[off..]`) into `dst[off..]`. */
  frame(src: ArrayLike<number>, dst: Float32Array, off = 0): void {
    const B = this.bands;
    let m = 0;
    for (let b = 0; b < B; b++) m += src[off + b]!;
    m /= B;
    if (Number.isNaN(this.level) || m >= this.level) {
      this.level = m;
      this.since = 0;
    } else {
      this.since++;
      const release = this.pause && this.since > this.pause.hold ? this.pause.release : LEVEL_RELEASE;
      this.level = Math.max(m, this.level - release);
    }
    for (let b = 0; b < B; b++) dst[off + b] = Math.max(src[off + b]! - this.level, -LEVEL_RANGE);
  }
}

/**
 * Level-normalise a whole stream of frames (frames x bands, row-major) from a fresh state.
 *
 * @example const y = levelNormalize(features, 40); // independent of the input gain
 */
export function levelNormalize(features: Float32Array, bands: number, pause?: PauseRelease): Float32Array {
  check(features.length % bands === 0, 'E_SHAPE', () => `level normaliser: expected a multiple of ${bands} values, found ${features.length}`);
  const out = new Float32Array(features.length);
  const n = new LevelNormalizer(bands, pause);
  for (let off = 0; off < features.length; off += bands) n.frame(features, out, off);
  return out;
}
