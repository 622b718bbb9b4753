/**
 * Sample-rate conversion by a rational factor with a Kaiser-windowed sinc (band-limited
 * interpolation), streaming: a microphone at 48 or 44.1 kHz becomes the 16 kHz the log-mel front
 * end and the built-in models use, chunk by chunk, with the same output as one call on the
 * whole signal.
 *
 * Output sample n sits at input position t = n * from / to. With g = gcd(from, to), L = to / g
 * and M = from / g, t = i + p / L with i = floor(n M / L) and phase p = n M mod L, so one table of
 * taps per phase serves every output (polyphase). The low-pass cut-off is 0.95 of the lower
 * Nyquist frequency (7.6 kHz at 16 kHz: the 40 mel bands end at 8 kHz, the top band barely
 * loses), with 16 zero crossings per side and a Kaiser window (beta 8.6, about 80 dB stop-band).
 * Samples before the start and after the end of the stream count as zeros.
 */
import { checkFiniteSamples } from '../core/bytes.js';
import { check } from '../core/errors.js';

/** Zero crossings of the sinc on each side of the centre. */
const ZEROS = 16;
/** Cut-off as a fraction of the lower of the two Nyquist frequencies. */
const ROLLOFF = 0.95;
const KAISER_BETA = 8.6;
/** Highest sample rate accepted (the table has to/gcd phases). */
export const MAX_SAMPLE_RATE = 384_000;

/** Phase tables by conversion (`from>to`), shared by every Resampler of that conversion: a page or a CLI that starts a new stream does not rebuild them. */
const TAP_CACHE = new Map<string, Array<Float64Array | undefined>>();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for x < 30). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200 && term > 1e-17 * sum; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/**
 * A streaming resampler from `from` Hz to `to` Hz (integers).
 *
 * @example
 * const r = new Resampler(48000, 16000);
 * const a = r.push(chunk1), b = r.push(chunk2), c = r.flush(); // a, b, c end to end = resample(all, 48000, 16000)
 */
export class Resampler {
  readonly from: number;
  readonly to: number;
  /** Upsampling (phases) and downsampling factors: to / gcd and from / gcd. */
  readonly up: number;
  readonly down: number;
  /** Taps reach `reach` input samples on either side of the output position. */
  readonly reach: number;
  private readonly taps: Array<Float64Array | undefined>;
  private readonly cutoff: number;
  /** Same rate in and out: samples pass through unchanged. */
  private readonly identity: boolean;
  /** Outputs emitted so far. */
  private n = 0;
  /** Absolute input index of buf[0]. */
  private base = 0;
  private buf = new Float32Array(4096);
  private len = 0;

  constructor(from: number, to: number) {
    for (const [name, v] of [['source', from], ['target', to]] as const) {
      check(Number.isInteger(v) && v > 0 && v <= MAX_SAMPLE_RATE, 'E_OPTION', () => `resampler: ${name} sample rate must be an integer in 1..${MAX_SAMPLE_RATE} Hz, found ${v}`);
    }
    const g = gcd(from, to);
    this.from = from;
    this.to = to;
    this.up = to / g;
    this.down = from / g;
    // Cut-off in cycles per input sample.
    this.cutoff = 0.5 * ROLLOFF * Math.min(1, to / from);
    this.reach = Math.ceil(ZEROS / (2 * this.cutoff));
    this.identity = from === to;
    const key = `${from}>${to}`;
    let taps = TAP_CACHE.get(key);
    if (!taps) TAP_CACHE.set(key, (taps = new Array<Float64Array | undefined>(this.up)));
    this.taps = taps;
  }

  /** Start a new stream. */
  reset(): void {
    this.n = 0;
    this.base = 0;
    this.len = 0;
  }

  /** Outputs emitted since the start (or the last reset). */
  get produced(): number {
    return this.n;
  }

  /** Number of outputs a whole signal of `samples` input samples gives: ceil(samples * to / from). */
  outputLength(samples: number): number {
    return Math.ceil((samples * this.up) / this.down);
  }

  /** Taps of phase p for inputs i - reach + 1 .. i + reach (output at i + p / up). */
  private phase(p: number): Float64Array {
    let h = this.taps[p];
    if (h) return h;
    const J = this.reach;
    h = new Float64Array(2 * J);
    const frac = p / this.up;
    const norm = besselI0(KAISER_BETA);
    const fc = this.cutoff;
    for (let j = -J + 1; j <= J; j++) {
      const tau = frac - j; // output position minus input position, in input samples
      const u = tau / (J + 1);
      if (Math.abs(u) >= 1) continue;
      const x = 2 * Math.PI * fc * tau;
      const sinc = tau === 0 ? 1 : Math.sin(x) / x;
      h[j + J - 1] = 2 * fc * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - u * u)) / norm);
    }
    this.taps[p] = h;
    return h;
  }

  /** Input sample at absolute index k (zero outside what is buffered: before the start, or past a flushed end). */
  private at(k: number): number {
    const j = k - this.base;
    return j >= 0 && j < this.len ? this.buf[j]! : 0;
  }

  /**
   * Write to `out` from index `o` every output (before output `limit`) whose taps lie within the
   * first `avail` absolute input samples; returns the new write index.
   */
  private emit(avail: number, out: Float32Array, o: number, limit = Infinity): number {
    const J = this.reach;
    const T = 2 * J;
    const buf = this.buf;
    while (this.n < limit) {
      const num = this.n * this.down;
      const i = Math.floor(num / this.up);
      if (i + J >= avail) break;
      const h = this.phase(num - i * this.up);
      let acc = 0;
      const k0 = i - J + 1;
      const j0 = k0 - this.base;
      if (j0 >= 0 && j0 + T <= this.len) {
        for (let j = 0; j < T; j++) acc += h[j]! * buf[j0 + j]!;
      } else {
        for (let j = 0; j < T; j++) acc += h[j]! * this.at(k0 + j);
      }
      out[o++] = acc;
      this.n++;
    }
    return o;
  }

  /** Drop the samples no later output needs. */
  private trim(): void {
    const first = Math.floor((this.n * this.down) / this.up) - this.reach + 1;
    const drop = Math.min(first - this.base, this.len);
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      this.base += drop;
    }
  }

  /** Append input samples; returns the output samples they complete. */
  push(samples: ArrayLike<number>): Float32Array {
    checkFiniteSamples(samples, 'resampler: audio');
    if (this.identity) {
      this.n += samples.length;
      return Float32Array.from(samples);
    }
    this.trim();
    if (this.len + samples.length > this.buf.length) {
      const grown = new Float32Array(Math.max(2 * this.buf.length, this.len + samples.length));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    for (let k = 0; k < samples.length; k++) this.buf[this.len + k] = samples[k]!;
    this.len += samples.length;
    const out = new Float32Array(Math.max(0, this.outputLength(this.base + this.len) - this.n));
    return out.subarray(0, this.emit(this.base + this.len, out, 0));
  }

  /** End of the stream: the outputs still owed (the input continued by zeros); then reset. */
  flush(): Float32Array {
    if (this.identity) {
      this.reset();
      return new Float32Array(0);
    }
    const total = this.outputLength(this.base + this.len);
    const out = new Float32Array(Math.max(0, total - this.n));
    // Outputs near the end read zeros past it (at() gives them).
    const n = this.emit(Infinity, out, 0, total);
    this.reset();
    return out.subarray(0, n);
  }
}

/**
 * Resample a whole signal from `from` Hz to `to` Hz: ceil(samples * to / from) outputs, equal to
 * a Resampler's push and flush outputs end to end.
 *
 * @example const x16 = resample(audio.samples, audio.sampleRate, 16000);
 */
export function resample(samples: Float32Array, from: number, to: number): Float32Array {
  const r = new Resampler(from, to);
  const a = r.push(samples);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
