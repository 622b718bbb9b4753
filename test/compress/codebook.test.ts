import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cbtdPruneModel } from '../../src/compress/cbtd/index.js';
import {
  compressModel,
  compressionReport,
  decodeCompressedModel,
  decodeWithCodebook,
  decompressModel,
  encodeCompressedModel,
  encodeWithCodebook,
  trainCodebook,
} from '../../src/compress/codebook/index.js';
import { DeltakitError } from '../../src/core/errors.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { Rng } from '../../src/core/rng.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { layerTensors } from '../../src/model/types.js';
import { expectCode } from '../helpers/errors.js';
import { createSession } from '../../src/runtime/session.js';

describe('codebook codec', () => {
  it('packs and unpacks indices of every width exactly', () => {
    for (let bits = 1; bits <= 8; bits++) {
      const cb = Float32Array.from({ length: 2 ** bits }, (_, k) => k - 3);
      const rng = new Rng(bits);
      const values = Float32Array.from({ length: 1001 }, () => cb[rng.int(cb.length)]!);
      const t = encodeWithCodebook(values, cb, bits);
      expect(t.indices.length).toBe(Math.ceil((1001 * bits) / 8));
      expect(Array.from(decodeWithCodebook(t, cb))).toEqual(Array.from(values));
    }
  });

  it('codes every value to its nearest codebook entry (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 6 }), (seed, bits) => {
        const w = new Rng(seed).uniformArray(150, -1, 1);
        const cb = trainCodebook([w], bits);
        expect(cb.length).toBeLessThanOrEqual(2 ** bits);
        const d = decodeWithCodebook(encodeWithCodebook(w, cb, bits), cb);
        for (let i = 0; i < w.length; i++) {
          const best = Math.min(...Array.from(cb, (c) => Math.abs(c - w[i]!)));
          if (Math.abs(Math.abs(d[i]! - w[i]!) - best) > 1e-6) throw new Error(`value ${w[i]} coded to ${d[i]}, nearest entry is ${best} away`);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('k-means beats a uniform grid of the same size', () => {
    const rng = new Rng(5);
    const w = Float32Array.from({ length: 5000 }, () => rng.normal() * 0.1);
    const cb = trainCodebook([w], 3);
    const lo = Math.min(...w);
    const hi = Math.max(...w);
    const grid = Float32Array.from({ length: 8 }, (_, k) => lo + ((k + 0.5) * (hi - lo)) / 8);
    const err = (c: Float32Array) => {
      const d = decodeWithCodebook(encodeWithCodebook(w, c, 3), c);
      let s = 0;
      for (let i = 0; i < w.length; i++) s += (d[i]! - w[i]!) ** 2;
      return s;
    };
    expect(err(cb)).toBeLessThan(0.8 * err(grid));
  });
});

describe('model compression', () => {
  const model = randomModel(8, 20, [{ kind: 'gru', hiddenSize: 48 }, { kind: 'lstm', hiddenSize: 32 }, { kind: 'linear', outputSize: 5 }]);
  const frames = smoothStream(3, 80, 20);

  it('the decoder gives a model the runtime runs; more bits, closer outputs', () => {
    const ref = createSession(model, { thresholdX: 0.02, thresholdH: 0.02 }).run(frames);
    const diffs = [3, 5, 8].map((bits) => {
      const back = decompressModel(compressModel(model, { bits }));
      return maxAbsDiff(createSession(back, { thresholdX: 0.02, thresholdH: 0.02 }).run(frames), ref);
    });
    expect(diffs[0]!).toBeGreaterThan(diffs[1]!);
    expect(diffs[1]!).toBeGreaterThan(diffs[2]!);
    expect(diffs[2]!).toBeLessThan(0.05);
  });

  it('reports the ratio: 4-bit indices are ~8x over float32 and ~4x over 16-bit weights', () => {
    const big = randomModel(9, 64, [{ kind: 'gru', hiddenSize: 128 }]);
    const rep = compressionReport(big, compressModel(big, { bits: 4 }), 16);
    // Biases stay float32 (768 of them here), so a little under 32 / 4.
    expect(rep.ratioVsFloat32).toBeGreaterThan(7.2);
    expect(rep.ratioVsFloat32).toBeLessThan(8);
    expect(rep.ratioVsFixed).toBeGreaterThan(3.9);
    expect(rep.ratioVsFixed).toBeLessThan(4);
    expect(rep.maxWeightError).toBeGreaterThan(0);
  });

  it('keeps CBTD zeros exactly zero', () => {
    const pruned = cbtdPruneModel(model, { gamma: 0.75, pes: 16 });
    const cm = compressModel(pruned, { bits: 3 });
    expect(compressionReport(pruned, cm).zerosKept).toBe(1);
    const back = decompressModel(cm);
    const w0 = layerTensors(pruned.layers[0]!).weight_hh!;
    const d0 = layerTensors(back.layers[0]!).weight_hh!;
    for (let i = 0; i < w0.length; i++) if (w0[i] === 0) expect(d0[i]).toBe(0);
  });

  it('the .dkcb container round-trips exactly', () => {
    const cm = compressModel(model, { bits: 5 });
    const bytes = encodeCompressedModel(cm);
    const again = decodeCompressedModel(bytes);
    const a = decompressModel(cm);
    const b = decompressModel(again);
    a.layers.forEach((l, k) => {
      const ta = layerTensors(l);
      const tb = layerTensors(b.layers[k]!);
      for (const n of Object.keys(ta)) expect(maxAbsDiff(ta[n]!, tb[n]!)).toBe(0);
    });
    expect(b.name).toBe(model.name);
  });

  describe('malformed headers are refused before anything is decoded', () => {
    const src = encodeCompressedModel(compressModel(randomModel(3, 4, [{ kind: 'gru', hiddenSize: 8 }, { kind: 'linear', outputSize: 2 }]), { bits: 4 }));
    /** Re-encode the file with an edited header (data region unchanged). */
    const withHeader = (edit: (h: any) => unknown): Uint8Array => {
      const hlen = new DataView(src.buffer).getUint32(4, true);
      const h = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + hlen)));
      const text = new TextEncoder().encode(JSON.stringify(edit(h) ?? h));
      const out = new Uint8Array(8 + text.length + src.length - 8 - hlen);
      out.set(src.subarray(0, 4));
      new DataView(out.buffer).setUint32(4, text.length, true);
      out.set(text, 8);
      out.set(src.subarray(8 + hlen), 8 + text.length);
      return out;
    };
    const decode = (b: Uint8Array) => decompressModel(decodeCompressedModel(b));
    it('tensors sharing bytes', () => {
      expectCode(() => decode(withHeader((h) => { h.layers[0].tensors.weight_hh.offset = h.layers[0].tensors.weight_ih.offset; })), 'E_FORMAT', /overlap/);
    });
    it('extra layer entries, and 200,000 of them (a RangeError before)', () => {
      expectCode(() => decode(withHeader((h) => { h.layers.push(h.layers[1]); })), 'E_FORMAT', /layer entries/);
      expectCode(() => decode(withHeader((h) => { h.layers = Array.from({ length: 200_000 }, () => h.layers[1]); })), 'E_FORMAT', /layer entries/);
    });
    it('null layers and null tensor entries (a TypeError before)', () => {
      expectCode(() => decode(withHeader((h) => { h.layers[0] = null; })), 'E_FORMAT', /layer 0 must be an object/);
      expectCode(() => decode(withHeader((h) => { h.layers[0].tensors.bias_ih = null; })), 'E_FORMAT', /bias_ih/);
      expectCode(() => decode(withHeader((h) => { h.layers[0].tensors.extra = h.layers[0].tensors.bias_ih; })), 'E_FORMAT', /not part of the model spec/);
      expectCode(() => decode(withHeader((h) => { delete h.layers[1].tensors.bias; })), 'E_FORMAT', /missing/);
      expectCode(() => decode(withHeader((h) => { h.layers[1].tensors.bias.count += 1; })), 'E_SHAPE');
    });
    it('a repeated key in the header', () => {
      const b = withHeader((h) => h);
      const hlen = new DataView(b.buffer).getUint32(4, true);
      const text = new TextDecoder().decode(b.subarray(8, 8 + hlen)).replace('"version":1', '"version":1,"version":1');
      const out = new Uint8Array(8 + text.length + b.length - 8 - hlen);
      out.set(b.subarray(0, 4));
      new DataView(out.buffer).setUint32(4, text.length, true);
      out.set(new TextEncoder().encode(text), 8);
      out.set(b.subarray(8 + hlen), 8 + text.length);
      expectCode(() => decode(out), 'E_FORMAT', /appears twice/);
    });
    it('many entries pointing at one large region fail fast (40 s and GBs before)', () => {
      // A 1-layer model whose header points 30,000 extra names at the same 1-bit region.
      const big = encodeCompressedModel(compressModel(randomModel(4, 64, [{ kind: 'gru', hiddenSize: 256 }]), { bits: 1 }));
      const hlen = new DataView(big.buffer).getUint32(4, true);
      const h = JSON.parse(new TextDecoder().decode(big.subarray(8, 8 + hlen)));
      for (let i = 0; i < 30_000; i++) h.layers[0].tensors[`w${i}`] = h.layers[0].tensors.weight_hh;
      const text = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + text.length + big.length - 8 - hlen);
      out.set(big.subarray(0, 4));
      new DataView(out.buffer).setUint32(4, text.length, true);
      out.set(text, 8);
      out.set(big.subarray(8 + hlen), 8 + text.length);
      // Refused from the header, before decoding anything (the decoder's own check came after
      // decoding every entry: 40 s and GBs for a 1 MB file).
      expectCode(() => decodeCompressedModel(out), 'E_FORMAT', /^dkcb: layer 0: tensor w0 is not part of the model spec/);
    });
  });

  it('a damaged .dkcb fails with a DeltakitError, never anything else (fuzz)', () => {
    const bytes = encodeCompressedModel(compressModel(randomModel(2, 4, [{ kind: 'gru', hiddenSize: 8 }]), { bits: 4 }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length }), fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (cut, edits) => {
        const b = bytes.slice(0, cut === 0 ? bytes.length : cut);
        for (const [i, v] of edits) if (i < b.length) b[i] = v;
        try {
          decompressModel(decodeCompressedModel(b));
        } catch (e) {
          expect(e).toBeInstanceOf(DeltakitError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('accuracy effect of compression', () => {
  it('classification accuracy before and after, through streaming sessions', async () => {
    const { accuracyEffect } = await import('../../src/cli/commands/compress.js');
    const m = randomModel(21, 6, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 3 }]);
    // Label each utterance with the original model's own mean-readout decision: accuracy before = 1.
    const utterances = [0, 1, 2, 3, 4, 5].map((k) => {
      const features = smoothStream(100 + k, 20, 6, 0.5);
      const y = createSession(m).run(features);
      const score = [0, 0, 0];
      for (let t = 0; t < 20; t++) for (let c = 0; c < 3; c++) score[c]! += y[t * 3 + c]!;
      const label = score.indexOf(Math.max(...score));
      return { id: `u${k}`, voice: 'v', text: String(label), label, words: [label], frames: 20, features };
    });
    const ds = { corpus: 'digits', split: 'test' as const, classes: ['a', 'b', 'c'], bands: 6, utterances };
    const r8 = accuracyEffect(m, decompressModel(compressModel(m, { bits: 8 })), ds, 'mean');
    expect(r8.utterances).toBe(6);
    expect(r8.before).toBe(1);
    expect(r8.after).toBeGreaterThanOrEqual(0.6);
    const same = accuracyEffect(m, m, ds, 'mean', { thresholdX: 0, thresholdH: 0 });
    expect(same.after).toBe(same.before);
  });
});
