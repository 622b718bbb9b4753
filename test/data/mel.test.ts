import { describe, expect, it } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import { LogMel, logMel } from '../../src/data/mel.js';

/** Independent definition: naive O(N^2) DFT power spectrum, float64, same framing and filters. */
function naivePower(frame: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < frame.length; t++) {
      re += frame[t]! * Math.cos((2 * Math.PI * k * t) / n);
      im -= frame[t]! * Math.sin((2 * Math.PI * k * t) / n);
    }
    out[k] = re * re + im * im;
  }
  return out;
}

describe('log-mel features', () => {
  it('frame count and shape follow 25 ms windows every 10 ms', () => {
    const mel = new LogMel(16000);
    expect(mel.windowLength).toBe(400);
    expect(mel.fftSize).toBe(512);
    expect(mel.frameCount(16000)).toBe(98); // (16000 - 400) / 160 + 1
    expect(mel.frameCount(399)).toBe(0);
    const f = mel.compute(new Float32Array(16000).fill(0.01));
    expect(f.frames).toBe(98);
    expect(f.data.length).toBe(98 * 40);
    // 22050 Hz: 10 ms is 220.5 samples; frames start at round(k * 220.5).
    expect(new LogMel(22050).frameCount(22050)).toBe(Math.floor((22050 - 551) / 220.5) + 1);
  });

  it('matches a naive DFT reference (fft.js path vs float64 definition)', () => {
    const sr = 16000;
    const x = new Float32Array(2000);
    for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin(2 * Math.PI * 440 * (i / sr)) + 0.05 * Math.sin(i * 1.7) * Math.cos(i * 0.013);
    const mel = new LogMel(sr);
    const f = mel.compute(x);
    // Rebuild frame 3 by hand: pre-emphasis 0.97, Hamming window, zero pad, DFT, filters.
    const L = 400;
    const s0 = Math.round(3 * 160);
    const frame = new Float64Array(L);
    for (let i = 0; i < L; i++) {
      const j = s0 + i;
      frame[i] = (x[j]! - 0.97 * (j > 0 ? x[j - 1]! : 0)) * (0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (L - 1)));
    }
    const p = naivePower(frame, 512);
    // One band spanning 0..8 kHz: its log energy is the reference spectrum through one triangle.
    const one = new LogMel(sr, { bands: 1, fMin: 0, fMax: 8000 });
    const g = one.compute(x);
    const hz = (m: number) => 700 * (10 ** (m / 2595) - 1);
    const lo = 0;
    const hi = 8000;
    const mid = hz((2595 * Math.log10(1 + hi / 700)) / 2);
    let e = 0;
    for (let k = 0; k <= 256; k++) {
      const fk = (k * sr) / 512;
      const w = fk <= mid ? (fk - lo) / (mid - lo) : (hi - fk) / (hi - mid);
      if (w > 0) e += w * p[k]!;
    }
    expect(g.data[3]!).toBeCloseTo(Math.log(e), 6);
    expect(f.frames).toBe(g.frames);
  });

  it('puts a pure tone into the band around its frequency', () => {
    const sr = 16000;
    for (const freq of [300, 1000, 3000, 6000]) {
      const x = new Float32Array(sr / 2);
      for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin(2 * Math.PI * freq * (i / sr));
      const f = logMel({ samples: x, sampleRate: sr });
      const row = f.data.subarray(10 * 40, 11 * 40);
      let arg = 0;
      for (let b = 1; b < 40; b++) if (row[b]! > row[arg]!) arg = b;
      // Band centres are equally spaced in mel between 20 Hz and 8 kHz.
      const mel = (h: number) => 2595 * Math.log10(1 + h / 700);
      const centre = (b: number) => 700 * (10 ** ((mel(20) + ((mel(8000) - mel(20)) * (b + 1)) / 41) / 2595) - 1);
      const nearest = [...Array(40).keys()].reduce((a, b) => (Math.abs(centre(b) - freq) < Math.abs(centre(a) - freq) ? b : a), 0);
      expect(Math.abs(arg - nearest)).toBeLessThanOrEqual(1);
    }
  });

  it('rejects bad options with E_OPTION', () => {
    expect(() => new LogMel(16000, { bands: 0 })).toThrow(DeltakitError);
    expect(() => new LogMel(-1)).toThrowError(/sample rate/);
    expect(() => new LogMel(16000, { fMin: 9000, fMax: 8000 })).toThrowError(/fMin/);
  });
});
