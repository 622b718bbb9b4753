/**
 * Log-mel filterbank features (the datasets the papers used: 40 bands, 25 ms window, 10 ms hop), computed in
 * TypeScript with fft.js so the same code runs in Node and in the browser.
 *
 * Choices (documented in docs/data.md): pre-emphasis 0.97, Hamming window, power spectrum,
 * HTK mel scale, triangular filters from 20 Hz to 8 kHz (so 16 kHz and 22.05 kHz audio give the
 * same bands), natural log with a floor of 1e-10 on the filter energy. Frame k starts at sample
 * round(k * hop * sampleRate), which keeps the hop exact at sample rates where 10 ms is not a
 * whole number of samples (22050 Hz).
 */
import { checkFiniteSamples } from '../core/bytes.js';
import { MAX_SAMPLE_RATE } from './resample.js';
import FFT from 'fft.js';
import { check } from '../core/errors.js';
import type { Audio } from './wav.js';

const MEL_OPTIONS = ['bands', 'window', 'hop', 'fMin', 'fMax', 'preEmphasis', 'warp'];

export interface MelOptions {
  /** Number of mel bands. Default 40. */
  bands?: number;
  /** Window length in seconds. Default 0.025. */
  window?: number;
  /** Hop in seconds. Default 0.010. */
  hop?: number;
  /** Lowest filter edge in Hz. Default 20. */
  fMin?: number;
  /** Highest filter edge in Hz. Default 8000 (clamped to Nyquist). */
  fMax?: number;
  /** Pre-emphasis coefficient. Default 0.97; 0 disables. */
  preEmphasis?: number;
  /**
   * Vocal-tract-length perturbation: the filterbank's warp factor alpha (`vtlpWarp`). The
   * energy at frequency f is counted where a filter expects frequency `vtlpWarp(f, alpha, fMax)`:
   * alpha > 1 moves the spectrum up (a shorter vocal tract), alpha < 1 down. Default 1: the
   * filterbank as it is, bit for bit. Range 0.5..2.
   */
  warp?: number;
}

/** Where the piecewise-linear VTLP warp bends, as a fraction of the filterbank's top edge (4800 Hz of 8 kHz). */
export const VTLP_BOUNDARY = 0.6;

/**
 * The piecewise-linear frequency warp of vocal-tract-length perturbation (Jaitly and Hinton,
 * 2013): f -> alpha f up to the boundary `VTLP_BOUNDARY * fMax * min(alpha, 1) / alpha`, then a
 * straight line to (fMax, fMax), so the filterbank's band 0..fMax maps onto itself; above fMax
 * the identity. alpha = 1 returns f unchanged.
 *
 * @example vtlpWarp(1000, 1.2, 8000) // 1200
 */
export function vtlpWarp(f: number, alpha: number, fMax: number): number {
  if (alpha === 1 || f >= fMax) return f;
  const knee = (VTLP_BOUNDARY * fMax * Math.min(alpha, 1)) / alpha;
  if (f <= knee) return alpha * f;
  return alpha * knee + ((fMax - alpha * knee) * (f - knee)) / (fMax - knee);
}

/** The inverse of vtlpWarp (the warp is increasing and piecewise linear). */
function vtlpUnwarp(g: number, alpha: number, fMax: number): number {
  if (alpha === 1 || g >= fMax) return g;
  const knee = (VTLP_BOUNDARY * fMax * Math.min(alpha, 1)) / alpha;
  if (g <= alpha * knee) return g / alpha;
  return knee + ((g - alpha * knee) * (fMax - knee)) / (fMax - alpha * knee);
}

/** Features of one utterance: `frames` rows of `bands` values, row-major. */
export interface Features {
  data: Float32Array;
  frames: number;
  bands: number;
}

const LOG_FLOOR = 1e-10;

function hzToMel(f: number): number {
  return 2595 * Math.log10(1 + f / 700);
}
function melToHz(m: number): number {
  return 700 * (10 ** (m / 2595) - 1);
}

/** A planned extractor: the FFT, window and filterbank for one sample rate, reused per utterance. */
export class LogMel {
  readonly bands: number;
  readonly sampleRate: number;
  readonly windowLength: number;
  readonly hopSeconds: number;
  readonly fftSize: number;
  /** The VTLP warp factor of the filterbank (1: none). */
  readonly warp: number;
  private readonly fft: FFT;
  private readonly win: Float64Array;
  private readonly preEmphasis: number;
  /** Per band: first FFT bin and the triangle's weights from there. */
  private readonly filters: Array<{ start: number; weights: Float64Array }>;
  private readonly frame: number[];
  private readonly spectrum: number[];
  private readonly power: Float64Array;

  /**
   * @example const mel = new LogMel(22050); const f = mel.compute(audio.samples); // f.frames x 40
   */
  constructor(sampleRate: number, o: MelOptions = {}) {
    check(o !== null && typeof o === 'object', 'E_OPTION', () => `mel: expected options { bands, window, hop, ... }, found ${o === null ? 'null' : typeof o}`);
    for (const key of Object.keys(o)) check(MEL_OPTIONS.includes(key), 'E_OPTION', () => `mel option: expected one of ${MEL_OPTIONS.join(', ')}, found '${key}'`);
    // The window's samples and its FFT are allocated from these: a rate of 1e9 Hz took minutes
    // building filters, a window of 1e9 s would not fit in memory.
    check(typeof sampleRate === 'number' && Number.isFinite(sampleRate) && sampleRate > 0 && sampleRate <= MAX_SAMPLE_RATE, 'E_OPTION', () => `mel: sample rate must be in (0, ${MAX_SAMPLE_RATE}] Hz, found ${String(sampleRate)}`);
    for (const key of ['window', 'hop'] as const) {
      const v = o[key];
      check(v === undefined || (typeof v === 'number' && v > 0 && v <= 1), 'E_OPTION', () => `mel: ${key} must be in (0, 1] seconds, found ${String(v)}`);
    }
    this.bands = o.bands ?? 40;
    const window = o.window ?? 0.025;
    this.hopSeconds = o.hop ?? 0.01;
    const fMin = o.fMin ?? 20;
    const fMax = Math.min(o.fMax ?? 8000, sampleRate / 2);
    this.preEmphasis = o.preEmphasis ?? 0.97;
    const alpha = o.warp ?? 1;
    check(Number.isFinite(alpha) && alpha >= 0.5 && alpha <= 2, 'E_OPTION', () => `mel: warp (VTLP alpha) must be in 0.5..2, found ${alpha}`);
    this.warp = alpha;
    check(Number.isInteger(this.bands) && this.bands > 0 && this.bands <= 256, 'E_OPTION', () => `mel: bands must be an integer in 1..256, found ${this.bands}`);
    check(sampleRate > 0 && Number.isFinite(sampleRate), 'E_OPTION', () => `mel: sample rate must be positive, found ${sampleRate}`);
    check(window > 0 && this.hopSeconds > 0, 'E_OPTION', () => `mel: window and hop must be positive, found ${window} and ${this.hopSeconds}`);
    check(fMin >= 0 && fMin < fMax, 'E_OPTION', () => `mel: expected 0 <= fMin < fMax, found ${fMin} and ${fMax}`);
    this.sampleRate = sampleRate;
    this.windowLength = Math.round(window * sampleRate);
    let n = 2;
    while (n < this.windowLength) n *= 2;
    this.fftSize = n;
    this.fft = new FFT(n);
    this.win = new Float64Array(this.windowLength);
    for (let i = 0; i < this.windowLength; i++) this.win[i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (this.windowLength - 1));
    // Triangles equally spaced on the mel scale, edges at bands + 2 points.
    const mLo = hzToMel(fMin);
    const mHi = hzToMel(fMax);
    const edges: number[] = [];
    for (let b = 0; b < this.bands + 2; b++) edges.push(melToHz(mLo + ((mHi - mLo) * b) / (this.bands + 1)));
    const binHz = sampleRate / n;
    this.filters = [];
    // With a VTLP warp, bin k's energy is weighed where its warped frequency falls (alpha = 1: no warp).
    const warped = (f: number) => (alpha === 1 ? f : vtlpWarp(f, alpha, fMax));
    const unwarped = (g: number) => (alpha === 1 ? g : vtlpUnwarp(g, alpha, fMax));
    for (let b = 0; b < this.bands; b++) {
      const [lo, mid, hi] = [edges[b]!, edges[b + 1]!, edges[b + 2]!];
      const start = Math.max(0, Math.ceil(unwarped(lo) / binHz));
      const stop = Math.min(n / 2, Math.floor(unwarped(hi) / binHz));
      const w: number[] = [];
      for (let k = start; k <= stop; k++) {
        const f = warped(k * binHz);
        w.push(f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid));
      }
      this.filters.push({ start, weights: Float64Array.from(w, (v) => Math.max(0, v)) });
    }
    this.frame = new Array<number>(n).fill(0);
    this.spectrum = this.fft.createComplexArray() as number[];
    this.power = new Float64Array(n / 2 + 1);
  }

  /** Number of frames for a signal of `n` samples (0 when shorter than one window). */
  frameCount(n: number): number {
    if (n < this.windowLength) return 0;
    const hop = this.hopSeconds * this.sampleRate;
    return Math.floor((n - this.windowLength) / hop) + 1;
  }

  /** Log-mel features of a mono signal at this extractor's sample rate. */
  compute(samples: Float32Array): Features {
    checkFiniteSamples(samples, 'log-mel: audio');
    const frames = this.frameCount(samples.length);
    const out = new Float32Array(frames * this.bands);
    for (let t = 0; t < frames; t++) {
      const s0 = this.frameStart(t);
      this.frameInto(samples, s0, s0 > 0 ? samples[s0 - 1]! : 0, out, t * this.bands);
    }
    return { data: out, frames, bands: this.bands };
  }

  /** First sample of frame `t`: round(t * hop), exact for hops that are not whole samples. */
  frameStart(t: number): number {
    return Math.round(t * this.hopSeconds * this.sampleRate);
  }

  /**
   * One frame: the window of `windowLength` samples from `src[s0..]`, with `prev` the sample
   * before it (pre-emphasis; 0 at the start of a signal), written to `out[off..off + bands)`.
   * compute() and StreamingLogMel both call this, so a stream gives the offline features bit for bit.
   */
  frameInto(src: ArrayLike<number>, s0: number, prev: number, out: Float32Array, off: number): void {
    const L = this.windowLength;
    const half = this.fftSize / 2;
    const power = this.power;
    for (let i = 0; i < L; i++) {
      const x = src[s0 + i]!;
      this.frame[i] = (x - this.preEmphasis * prev) * this.win[i]!;
      prev = x;
    }
    for (let i = L; i < this.fftSize; i++) this.frame[i] = 0;
    this.fft.realTransform(this.spectrum, this.frame);
    // realTransform fills bins 0..N/2 (the rest is the mirror image we do not need).
    for (let k = 0; k <= half; k++) {
      const re = this.spectrum[2 * k]!;
      const im = this.spectrum[2 * k + 1]!;
      power[k] = re * re + im * im;
    }
    for (let b = 0; b < this.bands; b++) {
      const { start, weights } = this.filters[b]!;
      let e = 0;
      for (let k = 0; k < weights.length; k++) e += weights[k]! * power[start + k]!;
      out[off + b] = Math.log(Math.max(e, LOG_FLOOR));
    }
  }
}

/**
 * Log-mel features computed as audio arrives, in chunks of any size: the same frames, bit for
 * bit, as LogMel.compute() on the whole signal (both run LogMel.frameInto on the same samples).
 * Keeps only the samples the next frame needs (one window plus a hop).
 *
 * @example
 * const s = new StreamingLogMel(16000);
 * for (const chunk of chunks) for (const frame of s.push(chunk)) model.step(frame); // 40 values each
 */
export class StreamingLogMel {
  readonly mel: LogMel;
  /** Frames emitted so far. */
  private t = 0;
  /** Absolute index of buf[0] in the stream. */
  private base = 0;
  private buf: Float32Array;
  private len = 0;
  /** The sample just before buf[0] (pre-emphasis of the first sample kept). */
  private before = 0;

  constructor(sampleRate: number, o: MelOptions = {}) {
    this.mel = new LogMel(sampleRate, o);
    this.buf = new Float32Array(2 * this.mel.windowLength + Math.ceil(this.mel.hopSeconds * sampleRate) + 1);
  }

  get bands(): number {
    return this.mel.bands;
  }
  /** Frames emitted since the start (or the last reset). */
  get frames(): number {
    return this.t;
  }
  /** Samples received since the start (or the last reset). */
  get samples(): number {
    return this.base + this.len;
  }

  /** Start a new stream. */
  reset(): void {
    this.t = 0;
    this.base = 0;
    this.len = 0;
    this.before = 0;
  }

  /**
   * Append samples; returns the frames completed by them (each a new Float32Array of `bands`
   * values, in order; none while the next window is incomplete).
   */
  push(samples: ArrayLike<number>): Float32Array[] {
    checkFiniteSamples(samples, 'log-mel: audio');
    const out: Float32Array[] = [];
    const L = this.mel.windowLength;
    let i = 0;
    while (i < samples.length) {
      // Drop what no later frame needs, then fill the buffer as far as it goes.
      const keepFrom = this.mel.frameStart(this.t) - this.base;
      const drop = Math.min(keepFrom, this.len);
      if (drop > 0) {
        this.before = this.buf[drop - 1]!;
        this.buf.copyWithin(0, drop, this.len);
        this.len -= drop;
        this.base += drop;
      }
      const n = Math.min(samples.length - i, this.buf.length - this.len);
      for (let k = 0; k < n; k++) this.buf[this.len + k] = samples[i + k]!;
      this.len += n;
      i += n;
      for (;;) {
        const s0 = this.mel.frameStart(this.t) - this.base;
        if (s0 < 0 || s0 + L > this.len) break;
        const f = new Float32Array(this.mel.bands);
        this.mel.frameInto(this.buf, s0, s0 > 0 ? this.buf[s0 - 1]! : this.base > 0 ? this.before : 0, f, 0);
        out.push(f);
        this.t++;
      }
    }
    return out;
  }
}

/**
 * Log-mel features of an audio clip with the the datasets the papers used defaults.
 *
 * @example const f = logMel(speak('nine', voice)); // f.bands === 40
 */
export function logMel(audio: Audio, o: MelOptions = {}): Features {
  return new LogMel(audio.sampleRate, o).compute(audio.samples);
}
