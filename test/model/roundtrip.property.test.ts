/** Property tests (fast-check): encoders and parsers are inverse for any valid input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/core/npy.js';
import { decodeModelFile, encodeModel } from '../../src/model/io.js';
import { randomModel, type LayerRecipe } from '../../src/model/random.js';
import { encodeSafetensors, parseSafetensors } from '../../src/model/safetensors.js';
import { layerTensors } from '../../src/model/types.js';

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });
const tensorArb = shapeArb.chain((shape) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return fc.float32Array({ minLength: n, maxLength: n, noNaN: true }).map((data) => ({ shape, data }));
});

describe('round-trip properties', () => {
  it('safetensors: parse(encode(tensors, metadata)) gives them back bit for bit', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => k !== '__metadata__'), tensorArb, { maxKeys: 5 }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
        (tensors, metadata) => {
          const f = parseSafetensors(encodeSafetensors(tensors, metadata));
          expect(f.metadata).toEqual(metadata);
          expect([...f.tensors.keys()].sort()).toEqual(Object.keys(tensors).sort());
          for (const [k, t] of Object.entries(tensors)) {
            expect(f.tensors.get(k)!.shape).toEqual(t.shape);
            expect(Buffer.from(f.tensors.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
          }
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it('npy: parse(encode(data, shape)) gives them back', () => {
    fc.assert(
      fc.property(tensorArb, ({ shape, data }) => {
        const back = parseNpy(encodeNpy(data, shape));
        expect(back.shape).toEqual(shape);
        expect(Array.from(back.data)).toEqual(Array.from(data));
      }),
      { numRuns: 200, seed: 12 },
    );
  });

  it('deltakit file: decode(encode(model)) is the same model for random stacks of layers', () => {
    const recipeArb: fc.Arbitrary<LayerRecipe> = fc.oneof(
      fc.record({ kind: fc.constantFrom('gru' as const, 'lstm' as const, 'sru' as const), hiddenSize: fc.integer({ min: 1, max: 6 }) }),
      fc.record({ kind: fc.constant('qrnn' as const), hiddenSize: fc.integer({ min: 1, max: 6 }), window: fc.constantFrom(1 as const, 2 as const) }),
      fc.record({ kind: fc.constant('linear' as const), outputSize: fc.integer({ min: 1, max: 6 }), activation: fc.constantFrom('none' as const, 'relu' as const, 'tanh' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 6 }), fc.array(recipeArb, { minLength: 1, maxLength: 5 }), (seed, I, recipes) => {
        const m = randomModel(seed, I, recipes);
        const { model } = decodeModelFile(encodeModel(m));
        expect(model.layers.length).toBe(m.layers.length);
        m.layers.forEach((l, k) => {
          const b = model.layers[k]!;
          expect(b.kind).toBe(l.kind);
          expect(b.inputSize).toBe(l.inputSize);
          const ta = layerTensors(l);
          const tb = layerTensors(b);
          for (const name of Object.keys(ta)) expect(Array.from(tb[name]!)).toEqual(Array.from(ta[name]!));
        });
      }),
      { numRuns: 150, seed: 13 },
    );
  });
});
