/**
 * Channel and speaker augmentation rendered with Debian's SoX, so a model hears more than the
 * clean, full-band, dry output of a synthesiser:
 *
 * - **telephone**: the signal goes through an 8 kHz channel (band-pass 300-3400 Hz, resampled to
 *   8 kHz and back), so every band above 4 kHz is empty; **narrowband** resamples to 8 kHz and back
 *   without the band-pass (an 8 kHz voice at 16 kHz; drawn in training with the corpus option
 *   `narrowband`, corpus.ts);
 * - **reverb**: SoX's Freeverb-style `reverb` (reverberance %, the room scale follows it);
 * - **vocal-tract length and pitch**: SoX `pitch` (resampling plus time-scale modification)
 *   moves the formants and F0 together by a number of cents at constant duration, what
 *   vocal-tract-length perturbation approximates;
 * - **gain** is applied in TypeScript (a float signal has no clipping; log-mel shifts by 2 ln g);
 * - **VTLP** (`warp`) is no SoX effect: the log-mel filterbank itself is warped (mel.ts, vtlpWarp).
 *
 * Audio is piped through SoX as raw 32-bit float, so nothing is clipped or quantised on the way.
 */
import { spawnSync } from 'node:child_process';
import { check, fail } from '../core/errors.js';
import type { Audio } from './wav.js';

const SOX = process.env['DELTAKIT_SOX'] ?? 'sox';

/** One utterance's augmentation (every field has a neutral value). */
export interface Augmentation {
  /** Formant and pitch shift in cents (0 = none). */
  pitchCents: number;
  /** Reverberance in percent (0 = dry). */
  reverb: number;
  /**
   * `wide`: as synthesised; `telephone`: an 8 kHz band-limited channel (300-3400 Hz);
   * `narrowband`: resampled to 8 kHz and back without the band-pass (everything below 4 kHz kept,
   * nothing above: what an 8 kHz recording or voice looks like at 16 kHz).
   */
  channel: 'wide' | 'telephone' | 'narrowband';
  /** Level change in dB applied to speech and noise together (0 = none). */
  gainDb: number;
  /**
   * Vocal-tract-length perturbation: the warp factor of the log-mel filterbank (mel.ts,
   * vtlpWarp; absent or 1 = none). Applied when the features are computed, without SoX.
   */
  warp?: number;
}

export const NO_AUGMENTATION: Augmentation = { pitchCents: 0, reverb: 0, channel: 'wide', gainDb: 0 };

let available: boolean | undefined;

/**
 * True when the sox program runs (cached after the first call).
 *
 * @example if (!soxAvailable()) console.log('apt-get install sox');
 */
export function soxAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync(SOX, ['--version'], { encoding: 'utf8' });
    available = r.status === 0 && /SoX/i.test(r.stdout);
  }
  return available;
}

/**
 * Run SoX effects on mono audio; the result keeps the input's sample rate unless the effects
 * end with `rate`. Throws E_IO when sox is missing or fails.
 *
 * @example const band = soxEffects(audio, ['sinc', '300-3400']);
 */
export function soxEffects(audio: Audio, effects: string[], outRate = audio.sampleRate): Audio {
  const raw = ['-t', 'raw', '-e', 'floating-point', '-b', '32', '-c', '1'];
  const args = ['-q', '-D', ...raw, '-r', String(audio.sampleRate), '-', ...raw, '-r', String(outRate), '-', ...effects];
  const input = new Uint8Array(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength);
  const r = spawnSync(SOX, args, { input, maxBuffer: 256 << 20 });
  if (r.error || r.status !== 0) fail('E_IO', `sox: expected the sox program (apt-get install sox) to apply ${effects.join(' ')}, found ${r.error ? r.error.message : `exit code ${r.status}: ${String(r.stderr).trim()}`}`);
  const out = r.stdout as Buffer;
  const copy = new Uint8Array(out.byteLength - (out.byteLength % 4));
  copy.set(out.subarray(0, copy.length));
  return { samples: new Float32Array(copy.buffer), sampleRate: outRate };
}

/** True when an augmentation changes nothing. */
export function isNeutral(a: Augmentation): boolean {
  return a.pitchCents === 0 && a.reverb === 0 && a.channel === 'wide' && a.gainDb === 0 && (a.warp ?? 1) === 1;
}

/**
 * The SoX effect chain of an augmentation (gain excluded: it is applied after mixing noise).
 *
 * @example augmentationEffects({ ...NO_AUGMENTATION, channel: 'telephone' }, 16000)
 */
export function augmentationEffects(a: Augmentation, sampleRate: number): string[] {
  check(Math.abs(a.pitchCents) <= 1200 && a.reverb >= 0 && a.reverb <= 100, 'E_OPTION', () => `augmentation: expected |pitchCents| <= 1200 and reverb in 0..100, found ${a.pitchCents} and ${a.reverb}`);
  const fx: string[] = [];
  if (a.pitchCents !== 0) fx.push('pitch', String(Math.round(a.pitchCents)));
  // Reverberance, HF damping 50 %, room scale growing with the reverberance; wet and dry mixed.
  if (a.reverb > 0) fx.push('reverb', a.reverb.toFixed(0), '50', Math.min(100, 20 + a.reverb).toFixed(0));
  if (a.channel === 'telephone') fx.push('sinc', '300-3400', 'rate', '8000', 'rate', String(sampleRate));
  if (a.channel === 'narrowband') fx.push('rate', '8000', 'rate', String(sampleRate));
  return fx;
}

/**
 * Apply the channel part of an augmentation (pitch, reverb, telephone) with SoX; the sample rate
 * is kept, so the 40 log-mel bands stay the same (a telephone signal just has nothing above 4 kHz).
 *
 * @example const y = applyChannel(audio, { ...NO_AUGMENTATION, reverb: 40 });
 */
export function applyChannel(audio: Audio, a: Augmentation): Audio {
  const fx = augmentationEffects(a, audio.sampleRate);
  if (fx.length === 0) return audio;
  return soxEffects(audio, fx);
}
