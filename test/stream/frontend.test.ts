/**
 * The streaming front end against the offline one: the resampler fed in pieces equals one call on
 * the whole signal, and is a correct band-limited resampler; the streaming log-mel equals
 * LogMel.compute bit for bit whatever the chunk sizes.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { LogMel, StreamingLogMel } from '../../src/data/mel.js';
import { Resampler, resample } from '../../src/data/resample.js';
import { DeltakitError } from '../../src/core/errors.js';
import { parseWav, WavStream } from '../../src/data/wav.js';
import { wavFile } from '../helpers/wav.js';

/** A speech-like test signal: a few tones with a moving envelope plus a little noise. */
function signal(n: number, rate: number, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    x[i] = env * (0.3 * Math.sin(2 * Math.PI * 220 * t) + 0.2 * Math.sin(2 * Math.PI * 1370 * t) + 0.1 * Math.sin(2 * Math.PI * 3100 * t)) + 0.01 * rng.normal();
  }
  return x;
}

/** Split `x` into pieces of random sizes (1 .. max), some empty. */
function chunks(x: Float32Array, seed: number, max: number): Float32Array[] {
  const rng = new Rng(seed);
  const out: Float32Array[] = [];
  for (let i = 0; i < x.length; ) {
    const n = rng.int(max + 1);
    out.push(x.subarray(i, i + n));
    i += n;
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('Resampler', () => {
  it('gives the same samples in chunks of any size as in one call', () => {
    for (const [from, to] of [
      [48000, 16000],
      [44100, 16000],
      [22050, 16000],
      [8000, 16000],
    ] as const) {
      const x = signal(from / 2, from);
      const whole = resample(x, from, to);
      expect(whole.length).toBe(Math.ceil((x.length * to) / from));
      for (const seed of [1, 2]) {
        const r = new Resampler(from, to);
        const parts = chunks(x, seed, seed === 1 ? 7 : 3000).map((c) => r.push(c));
        parts.push(r.flush());
        expect(concat(parts)).toEqual(whole);
      }
    }
  });

  it('keeps a tone below the cut-off (amplitude and phase) and removes one above it', () => {
    const from = 44100;
    const to = 16000;
    const n = from;
    const tone = (f: number) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * f * i) / from));
    const y = resample(tone(1000), from, to);
    // Away from the edges, output sample m is the tone at time m / to.
    let err = 0;
    for (let m = 200; m < y.length - 200; m++) err = Math.max(err, Math.abs(y[m]! - 0.5 * Math.sin((2 * Math.PI * 1000 * m) / to)));
    expect(err).toBeLessThan(2e-3);
    // 11 kHz is above the 8 kHz Nyquist of the output: it must not alias into 5 kHz.
    const z = resample(tone(11000), from, to);
    let peak = 0;
    for (let m = 200; m < z.length - 200; m++) peak = Math.max(peak, Math.abs(z[m]!));
    expect(peak).toBeLessThan(0.5 * 10 ** (-60 / 20));
  });

  it('passes samples through unchanged at the same rate, and refuses bad rates with a coded error', () => {
    const x = signal(1000, 16000);
    expect(resample(x, 16000, 16000)).toEqual(x);
    expect(() => new Resampler(0, 16000)).toThrow(DeltakitError);
    expect(() => new Resampler(44100.5, 16000)).toThrow(/source sample rate must be an integer in 1\.\.384000 Hz, found 44100\.5/);
  });
});

describe('StreamingLogMel', () => {
  it('equals LogMel.compute bit for bit, whatever the chunks, at 16 kHz and 22.05 kHz (a hop of 220.5 samples)', () => {
    for (const rate of [16000, 22050]) {
      const x = signal(Math.round(1.3 * rate), rate, 3);
      const offline = new LogMel(rate).compute(x);
      for (const [seed, max] of [
        [1, 1],
        [2, 170],
        [3, 5000],
      ] as const) {
        const s = new StreamingLogMel(rate);
        const frames = chunks(x, seed, max).flatMap((c) => s.push(c));
        expect(frames.length).toBe(offline.frames);
        expect(concat(frames)).toEqual(offline.data);
        expect(s.frames).toBe(offline.frames);
      }
    }
  });

  it('starts over after reset', () => {
    const x = signal(8000, 16000, 4);
    const s = new StreamingLogMel(16000);
    s.push(signal(3000, 16000, 5));
    s.reset();
    expect(concat(s.push(x))).toEqual(new LogMel(16000).compute(x).data);
  });

  it('through the resampler: 48 kHz audio in pieces gives the features of the resampled whole', () => {
    const x = signal(48000, 48000, 6);
    const offline = new LogMel(16000).compute(resample(x, 48000, 16000));
    const r = new Resampler(48000, 16000);
    const s = new StreamingLogMel(16000);
    const frames = chunks(x, 7, 128).flatMap((c) => s.push(r.push(c)));
    frames.push(...s.push(r.flush()));
    expect(concat(frames)).toEqual(offline.data);
  });
});

/** A 16-bit PCM WAV with an extra chunk before the data (as some recorders write), stereo or mono. */
function wavBytes(samples: Float32Array, rate: number, channels: number, dataSize?: number): Uint8Array {
  // Channel c of frame i: the sample, negated on the second channel.
  const codes = Int16Array.from({ length: samples.length * channels }, (_, k) => Math.round(samples[Math.floor(k / channels)]! * 32767) * (k % channels ? -1 : 1));
  const extraChunk = { id: 'LIST', body: new TextEncoder().encode('test') };
  return wavFile(codes, rate, { channels, extraChunk, ...(dataSize !== undefined ? { dataSize } : {}) });
}

describe('WavStream', () => {
  it('gives parseWav\'s samples from bytes in pieces of any size (header split anywhere), mono and stereo, sized or piped', () => {
    const x = signal(3001, 16000, 8);
    for (const [channels, size] of [
      [1, undefined],
      [2, undefined],
      [1, 0x7fffffff],
    ] as const) {
      const bytes = wavBytes(x, 16000, channels, size);
      const whole = parseWav(bytes);
      for (const [seed, max] of [
        [1, 1],
        [2, 7],
        [3, 900],
      ] as const) {
        const w = new WavStream();
        const rng = new Rng(seed);
        const parts: Float32Array[] = [];
        for (let i = 0; i < bytes.length; ) {
          const n = 1 + rng.int(max);
          parts.push(w.push(bytes.subarray(i, i + n)));
          i += n;
        }
        expect(w.sampleRate).toBe(16000);
        expect(concat(parts)).toEqual(whole.samples);
      }
    }
  });

  it('end(): a stream cut short of its declared data size is refused, a piped one (unknown size) is not', () => {
    // listen - < first-300-bytes.wav printed "heard: (nothing)" and exited 0.
    const bytes = wavBytes(signal(100, 8000, 9), 8000, 1);
    const cut = new WavStream();
    cut.push(bytes.subarray(0, bytes.length - 10));
    expect(() => cut.end()).toThrow(/^wav: expected the 200 bytes of samples its data chunk declares, found 190 \(truncated stream\?\)$/);
    const whole = new WavStream();
    whole.push(bytes);
    whole.end();
    const piped = new WavStream();
    piped.push(wavBytes(signal(100, 8000, 9), 8000, 1, 0x7fffffff).subarray(0, 120));
    piped.end();
  });

  it('stops at the declared data size and refuses what is not a WAV stream', () => {
    const x = signal(100, 8000, 9);
    const bytes = wavBytes(x, 8000, 1);
    const trailing = new Uint8Array(bytes.length + 6);
    trailing.set(bytes);
    expect(new WavStream().push(trailing)).toEqual(parseWav(bytes).samples);
    expect(() => new WavStream().push(new TextEncoder().encode('this is not a wav file'))).toThrow(/wav: expected a RIFF\/WAVE header/);
    const w = new WavStream();
    expect(w.push(bytes.subarray(0, 30)).length).toBe(0);
    expect(w.format).toBeNull();
  });
});
