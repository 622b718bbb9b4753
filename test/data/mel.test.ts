import { describe, expect, it } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import { LogMel, logMel, VTLP_BOUNDARY, vtlpWarp } from '../../src/data/mel.js';

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
    expect(() => new LogMel(16000, { warp: 0.4 })).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(() => new LogMel(16000, { warp: Number.NaN })).toThrowError(/warp/);
    expect(() => new LogMel(16000, { bands: 0 })).toThrow(DeltakitError);
    expect(() => new LogMel(-1)).toThrowError(/sample rate/);
    expect(() => new LogMel(16000, { fMin: 9000, fMax: 8000 })).toThrowError(/fMin/);
  });
});

/** The mel band whose centre is nearest `hz` (centres equally spaced in mel between 20 Hz and 8 kHz). */
function nearestBand(hz: number): number {
  const mel = (h: number) => 2595 * Math.log10(1 + h / 700);
  const centre = (b: number) => 700 * (10 ** ((mel(20) + ((mel(8000) - mel(20)) * (b + 1)) / 41) / 2595) - 1);
  return [...Array(40).keys()].reduce((a, b) => (Math.abs(centre(b) - hz) < Math.abs(centre(a) - hz) ? b : a), 0);
}

/** The loudest band of frame 10 of a pure tone's features. */
function loudestBand(freq: number, sr: number, warp?: number): number {
  const x = new Float32Array(sr / 2);
  for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin(2 * Math.PI * freq * (i / sr));
  const f = new LogMel(sr, warp === undefined ? {} : { warp }).compute(x);
  const row = f.data.subarray(10 * 40, 11 * 40);
  let arg = 0;
  for (let b = 1; b < 40; b++) if (row[b]! > row[arg]!) arg = b;
  return arg;
}

describe('vocal-tract-length perturbation (VTLP) of the filterbank', () => {
  it('warps piecewise linearly: alpha f below the boundary, then a line to (fMax, fMax)', () => {
    expect(vtlpWarp(1000, 1.2, 8000)).toBeCloseTo(1200, 9);
    expect(vtlpWarp(1000, 0.8, 8000)).toBeCloseTo(800, 9);
    // alpha > 1: the bend is at 4800 / alpha, where the warped frequency is 4800 Hz.
    expect(vtlpWarp((VTLP_BOUNDARY * 8000) / 1.25, 1.25, 8000)).toBeCloseTo(4800, 9);
    // 6000 Hz at alpha 1.2: bend at 4000 (-> 4800), then (8000 - 4800) / (8000 - 4000) per Hz.
    expect(vtlpWarp(6000, 1.2, 8000)).toBeCloseTo(4800 + 0.8 * 2000, 9);
    // alpha < 1: the bend stays at 4800 Hz (-> 4800 alpha).
    expect(vtlpWarp(6000, 0.8, 8000)).toBeCloseTo(3840 + ((8000 - 3840) * 1200) / 3200, 9);
    for (const alpha of [0.7, 0.9, 1.1, 1.4]) {
      expect(vtlpWarp(8000, alpha, 8000)).toBeCloseTo(8000, 9);
      expect(vtlpWarp(9000, alpha, 8000)).toBe(9000);
      expect(vtlpWarp(0, alpha, 8000)).toBe(0);
      let prev = -1;
      for (let f = 0; f <= 8000; f += 50) {
        const g = vtlpWarp(f, alpha, 8000);
        expect(g).toBeGreaterThan(prev);
        prev = g;
      }
    }
    expect(vtlpWarp(1234.5, 1, 8000)).toBe(1234.5);
  });

  it('alpha = 1 gives the unwarped features bit for bit', () => {
    const sr = 22050;
    const x = new Float32Array(6000);
    for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin(i * 0.05) + 0.1 * Math.sin(i * 0.71) * Math.cos(i * 0.002);
    const plain = new LogMel(sr).compute(x).data;
    expect(new LogMel(sr, { warp: 1 }).compute(x).data).toEqual(plain);
    // Any other factor changes them (the test above would pass for a warp that did nothing).
    const warped = new LogMel(sr, { warp: 1.05 }).compute(x).data;
    expect(warped).not.toEqual(plain);
  });

  it("moves a pure tone's energy to the band of its warped frequency", () => {
    for (const sr of [16000, 22050]) {
      for (const [freq, alpha] of [
        [1000, 1.2],
        [1000, 0.8],
        [2000, 1.25],
        [500, 0.75],
        [6000, 1.2],
        [6000, 0.8],
      ] as const) {
        const target = nearestBand(vtlpWarp(freq, alpha, 8000));
        expect(target).not.toBe(nearestBand(freq));
        expect(loudestBand(freq, sr)).toBe(nearestBand(freq));
        expect(Math.abs(loudestBand(freq, sr, alpha) - target)).toBeLessThanOrEqual(1);
      }
    }
    // 1 kHz at alpha 1.25 lands on 1250 Hz: two bands or more above where it was.
    expect(loudestBand(1000, 16000, 1.25) - loudestBand(1000, 16000)).toBeGreaterThanOrEqual(2);
  });
});
