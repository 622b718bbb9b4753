/**
 * Seeded background noise and mixing at a signal-to-noise ratio, so a synthetic corpus is not
 * unrealistically clean (a delta network on clean silence would fire nothing at all).
 */
import { check } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export type NoiseKind = 'white' | 'pink' | 'brown';
export const NOISE_KINDS: readonly NoiseKind[] = ['white', 'pink', 'brown'];

/**
 * `n` samples of unit-RMS noise of the given colour, deterministic from `seed`.
 * Pink uses Paul Kellet's economy filter (about -3 dB/octave); brown is leaky integrated white noise.
 *
 * @example const n = makeNoise('pink', 22050, 7);
 */
export function makeNoise(kind: NoiseKind, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  let b0 = 0, b1 = 0, b2 = 0, acc = 0;
  for (let i = 0; i < n; i++) {
    const w = rng.normal();
    if (kind === 'white') out[i] = w;
    else if (kind === 'pink') {
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      out[i] = b0 + b1 + b2 + w * 0.1848;
    } else {
      acc = 0.995 * acc + w;
      out[i] = acc;
    }
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += out[i]!;
  mean /= Math.max(1, n);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    out[i] = out[i]! - mean;
    ss += out[i]! * out[i]!;
  }
  const rms = Math.sqrt(ss / Math.max(1, n)) || 1;
  for (let i = 0; i < n; i++) out[i] = out[i]! / rms;
  return out;
}

/**
 * Root mean square of the samples in [from, to).
 *
 * @example rms(samples) // 0.1
 */
export function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return to > from ? Math.sqrt(s / (to - from)) : 0;
}

/**
 * Add `noise` to `speech` in place so that speech power / noise power = snrDb, where the speech
 * power is measured over the samples whose level is within 30 dB of the loudest 10 ms
 * (so leading and trailing silence does not lower the reference).
 *
 * @example mixAtSnr(samples, makeNoise('white', samples.length, 1), 20);
 */
export function mixAtSnr(speech: Float32Array, noise: Float32Array, snrDb: number): Float32Array {
  check(noise.length >= speech.length, 'E_SHAPE', () => `mixAtSnr: noise must be at least as long as speech (${speech.length}), found ${noise.length}`);
  check(Number.isFinite(snrDb), 'E_VALUE', () => `mixAtSnr: SNR must be finite, found ${snrDb}`);
  const block = 220;
  const levels: number[] = [];
  for (let i = 0; i + block <= speech.length; i += block) levels.push(rms(speech, i, i + block));
  const peak = Math.max(0, ...levels);
  let ss = 0;
  let count = 0;
  for (let b = 0; b < levels.length; b++) {
    if (levels[b]! >= peak * 0.0316) {
      ss += levels[b]! * levels[b]! * block;
      count += block;
    }
  }
  const speechRms = count > 0 ? Math.sqrt(ss / count) : 0;
  // Pure silence (the "silence" class) gets noise at a level a -30 dBFS speech signal would give.
  const ref = speechRms > 0 ? speechRms : 0.0316;
  const noiseRms = ref / 10 ** (snrDb / 20);
  for (let i = 0; i < speech.length; i++) speech[i] = speech[i]! + noiseRms * noise[i]!;
  return speech;
}
