import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DeltakitError } from '../../src/core/errors.js';
import { parseNpy } from '../../src/core/npy.js';
import { encodeNpyHalf, floatToHalf, readHeldout, writeHeldout } from '../../src/data/heldout.js';
import { makeNoise, mixAtSnr, rms } from '../../src/data/noise.js';
import { parseWav } from '../../src/data/wav.js';
import type { Dataset } from '../../src/data/dataset.js';
import { wavFile } from '../helpers/wav.js';

function wav(samples: number[], sr: number, dataSize?: number): Uint8Array {
  // Sizes as a recorder writing to a pipe leaves them (unknown: 0x7fffffff) unless given.
  return wavFile(samples, sr, { riffSize: 0x7fffffff, dataSize: dataSize ?? 0x7fffffff });
}

describe('wav', () => {
  it('reads espeak-ng streamed output whose sizes read 0x7fffffff', () => {
    const a = parseWav(wav([0, 16384, -32768, 32767], 22050));
    expect(a.sampleRate).toBe(22050);
    expect(Array.from(a.samples)).toEqual([0, 0.5, -1, 32767 / 32768]);
  });
  it('honours a correct data size', () => {
    expect(parseWav(wav([1, 2, 3, 4], 16000, 4)).samples.length).toBe(2);
  });
  it('refuses a file cut short of the data size it declares; placeholder sizes read to the end', () => {
    // Was read silently as whatever samples remained (listen printed "heard: (nothing)").
    const full = wavFile([1, 2, 3, 4, 5, 6], 16000);
    expect(() => parseWav(full.subarray(0, full.length - 4))).toThrowError(/^wav: expected the 12 bytes of samples its data chunk declares, found 8 \(truncated file\?\)$/);
    expect(parseWav(full).samples.length).toBe(6);
    // What writers to a pipe leave: espeak-ng 0x7ffff000, others 0x7fffffff, 0xffffffff or 0.
    for (const dataSize of [0, 0x7ffff000, 0x7fffffff, 0xffffffff]) expect(parseWav(wavFile([1, 2, 3], 16000, { dataSize })).samples.length, String(dataSize)).toBe(3);
  });
  it('rejects non-wav and non-PCM16 input with coded errors', () => {
    expect(() => parseWav(new Uint8Array(8))).toThrowError(DeltakitError);
    const w = wav([1, 2], 16000);
    new DataView(w.buffer).setUint16(34, 8, true);
    expect(() => parseWav(w)).toThrowError(/16-bit PCM/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          parseWav(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DeltakitError);
        }
      }),
    );
  });
});

describe('noise', () => {
  it('is deterministic from its seed and has unit RMS', () => {
    for (const kind of ['white', 'pink', 'brown'] as const) {
      const a = makeNoise(kind, 5000, 3);
      expect(Array.from(a)).toEqual(Array.from(makeNoise(kind, 5000, 3)));
      expect(rms(a)).toBeCloseTo(1, 5);
      expect(Array.from(a)).not.toEqual(Array.from(makeNoise(kind, 5000, 4)));
    }
  });
  it('mixes at the requested SNR measured over the active speech', () => {
    const n = 22050;
    const speech = new Float32Array(n);
    for (let i = 5000; i < 15000; i++) speech[i] = 0.2 * Math.sin(i * 0.05);
    const clean = speech.slice();
    const noise = makeNoise('white', n, 1);
    mixAtSnr(speech, noise, 20);
    const added = new Float32Array(n);
    for (let i = 0; i < n; i++) added[i] = speech[i]! - clean[i]!;
    const snr = 20 * Math.log10(rms(clean, 5060, 14960) / rms(added));
    expect(snr).toBeGreaterThan(19.5);
    expect(snr).toBeLessThan(20.5);
  });
});

describe('held-out feature files', () => {
  it('float16 conversion rounds half to even like numpy', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(-2)).toBe(0xc000);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(floatToHalf(2 ** -24)).toBe(1);
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    const v = new Float32Array([0.1, -3.25, 7.5e-5, 1000]);
    const back = parseNpy(encodeNpyHalf(v, [2, 2]));
    expect(back.shape).toEqual([2, 2]);
    back.data.forEach((x, i) => expect(Math.abs(x - v[i]!)).toBeLessThanOrEqual(Math.abs(v[i]!) * 2 ** -11 + 1e-7));
  });
  it('round-trips a dataset and rejects inconsistent files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-heldout-'));
    const ds: Dataset = {
      corpus: 'digits', split: 'test', classes: ['a', 'b'], bands: 3,
      utterances: [
        { id: 'u1', voice: 'v1', text: 'a', label: 0, words: [0], frames: 2, features: Float32Array.from([1, 2, 3, 4, 5, 6]) },
        { id: 'u2', voice: 'v2', text: 'b', label: 1, words: [1], frames: 1, features: Float32Array.from([-1, 0.5, 0.25]) },
      ],
    };
    const base = join(dir, 'h');
    writeHeldout(base, ds);
    const back = readHeldout(base);
    expect(back.utterances.map((u) => [u.id, u.voice, u.label, u.frames])).toEqual([['u1', 'v1', 0, 2], ['u2', 'v2', 1, 1]]);
    expect(Array.from(back.utterances[1]!.features)).toEqual([-1, 0.5, 0.25]);
    writeFileSync(`${base}.json`, JSON.stringify({ corpus: 'digits', split: 'test', classes: ['a'], bands: 3, utterances: [{ id: 'x', voice: 'v', text: 'a', label: 0, frames: 5 }] }));
    expect(() => readHeldout(base)).toThrowError(/lists 5 frames/);
    expect(() => readHeldout(join(dir, 'missing'))).toThrowError(DeltakitError);
  });
});
