/**
 * The TypeScript reference of the generated C (src/model/export/c/reference.ts) against the
 * float64 session, on fresh random GRU and LSTM models: f32 equals the session, fixed point
 * stays close to it, and the delta properties hold exactly in fixed point.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSession } from '../../src/runtime/session.js';
import { randomModel, smoothStream, type LayerRecipe } from '../../src/model/random.js';
import type { Model } from '../../src/model/types.js';
import { lowerModel, maxFracFor } from '../../src/quant/lowering.js';
import { createCReference, dequantizeCOutput, gateIndex, quantizeCInput, rshr, sigmoidAcc, tanhAcc, TANH_Q14, toPre } from '../../src/model/export/c/reference.js';
import { sigmoid } from '../../src/core/math.js';
import { expectCode } from '../helpers/errors.js';

const STACKS: Array<[string, LayerRecipe[]]> = [
  ['gru + linear', [{ kind: 'gru', hiddenSize: 14 }, { kind: 'linear', outputSize: 3 }]],
  ['gru x2', [{ kind: 'gru', hiddenSize: 9 }, { kind: 'gru', hiddenSize: 12 }]],
  ['lstm + mlp', [{ kind: 'lstm', hiddenSize: 10 }, { kind: 'linear', outputSize: 6, activation: 'relu' }, { kind: 'linear', outputSize: 3, activation: 'tanh' }]],
  ['gru + lstm', [{ kind: 'gru', hiddenSize: 8 }, { kind: 'lstm', hiddenSize: 11 }, { kind: 'linear', outputSize: 2 }]],
  ['reset-before gru x2 + linear', [{ kind: 'gru', hiddenSize: 10, resetAfter: false }, { kind: 'gru', hiddenSize: 7, resetAfter: false }, { kind: 'linear', outputSize: 3 }]],
];

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const seed = () => 1000 + Math.floor(Math.random() * 1e6);

describe('C reference: gate tables and integer helpers', () => {
  it('the gate table is monotone and odd; gates are within 0.004 (tanh) and 0.002 (sigmoid) on [-8, 8)', () => {
    for (let k = 1; k < TANH_Q14.length; k++) expect(TANH_Q14[k]!).toBeGreaterThanOrEqual(TANH_Q14[k - 1]!);
    for (let k = 1; k < 1024; k++) expect(TANH_Q14[1024 + k]).toBe(-TANH_Q14[1024 - k]!);
    let es = 0;
    let et = 0;
    // Accumulators with 18 fraction bits (q15 int8-weight layers are near there).
    for (let x = -8; x < 8; x += 0.0037) {
      const acc = Math.round(x * 2 ** 18);
      es = Math.max(es, Math.abs(sigmoidAcc(acc, 18) / 16384 - sigmoid(acc / 2 ** 18)));
      et = Math.max(et, Math.abs(tanhAcc(acc, 18) / 16384 - Math.tanh(acc / 2 ** 18)));
    }
    expect(es).toBeLessThan(0.002);
    expect(et).toBeLessThan(0.004);
    // Saturation far outside the table, and accumulators with few fraction bits.
    expect(sigmoidAcc(2 ** 40, 18)).toBe(16384);
    expect(sigmoidAcc(-(2 ** 40), 18)).toBe(0);
    expect(tanhAcc(3, 0)).toBe(TANH_Q14[gateIndex(3, -7)]);
    expect(Math.abs(tanhAcc(1, 0) / 16384 - Math.tanh(1))).toBeLessThan(0.004);
  });

  it('rshr rounds half up, toPre floors and clamps', () => {
    expect([rshr(5, 1), rshr(-5, 1), rshr(6, 2), rshr(-6, 2), rshr(7, 0)]).toEqual([3, -2, 2, -1, 7]);
    expect(toPre(2 ** 20 + 3, 14)).toBe(2 ** 18);
    expect(toPre(-(2 ** 40), 12)).toBe(-(2 ** 26));
    expect(toPre(3, 10)).toBe(12);
    expect(maxFracFor([0.99], 8)).toBe(7);
    expect(maxFracFor([1.5], 8)).toBe(6);
    expect(maxFracFor([127 / 128], 8)).toBe(7);
  });
});

describe('C reference against the session', () => {
  for (const [label, recipe] of STACKS) {
    it(`${label}: f32 equals the float64 session (dense, delta cudnn, delta edgedrnn) and counts the same fired columns`, () => {
      const s0 = seed();
      const m = randomModel(s0, 7, recipe);
      const frames = smoothStream(s0 + 1, 300, 7, 0.15);
      for (const opt of [{}, { thresholdX: 0.05, thresholdH: 0.04 }, { thresholdX: 0.05, thresholdH: 0.04, biasConvention: 'edgedrnn' as const }]) {
        const session = createSession(m, { backend: 'js', ...opt });
        const ref = createCReference(lowerModel(m, { precision: 'f32', ...opt }));
        const I = 7;
        let firedRef = 0;
        const outs: number[] = [];
        for (let t = 0; t < 300; t++) {
          const x = frames.subarray(t * I, (t + 1) * I);
          outs.push(...ref.step(x));
          firedRef += [...ref.lastFiredX, ...ref.lastFiredH, ...ref.lastFiredQ].reduce((a, b) => a + b, 0);
        }
        const want = session.run(frames);
        expect(maxDiff(outs, want), `seed ${s0} ${JSON.stringify(opt)}`).toBeLessThan(1e-6);
        const st = session.stats();
        expect(firedRef).toBe(st.layers.reduce((a, l) => a + l.firedX + l.firedH + (l.firedQ ?? 0), 0));
      }
    });

    it(`${label}: q15 stays within 0.05 of the session over 500 steps (dense and delta), q7 within 0.3 (dense)`, () => {
      const s0 = seed();
      const m = randomModel(s0, 7, recipe);
      const frames = smoothStream(s0 + 1, 500, 7, 0.15);
      for (const opt of [{}, { thresholdX: 0.02, thresholdH: 0.02 }]) {
        const want = createSession(m, { backend: 'js', ...opt }).run(frames);
        const low = lowerModel(m, { precision: 'q15', ...opt });
        const got = dequantizeCOutput(low, createCReference(low).run(quantizeCInput(low, frames)));
        expect(maxDiff(got, want), `seed ${s0} ${JSON.stringify(opt)}`).toBeLessThan(0.05);
      }
      const want = createSession(m, { backend: 'js' }).run(frames);
      const low7 = lowerModel(m, { precision: 'q7' });
      const got7 = dequantizeCOutput(low7, createCReference(low7).run(quantizeCInput(low7, frames)));
      expect(maxDiff(got7, want), `seed ${s0}`).toBeLessThan(0.3);
    });
  }
});

describe('C reference: fixed-point delta properties', () => {
  it('delta with zero thresholds equals dense bit for bit (the memories telescope exactly in integers)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.constantFrom<'q15' | 'q7'>('q15', 'q7'), fc.constantFrom('gru', 'lstm', 'gru-before'), (s, precision, kind) => {
        const layer: LayerRecipe = kind === 'gru-before' ? { kind: 'gru', hiddenSize: 6, resetAfter: false } : { kind: kind as 'gru' | 'lstm', hiddenSize: 6 };
        const m = randomModel(s, 5, [layer, { kind: 'linear', outputSize: 2 }]);
        const frames = smoothStream(s, 60, 5, 0.3);
        const dense = lowerModel(m, { precision });
        const delta = lowerModel(m, { precision, thresholdX: 0, thresholdH: 0 });
        const a = createCReference(dense).run(quantizeCInput(dense, frames));
        const b = createCReference(delta).run(quantizeCInput(delta, frames));
        expect(Array.from(b)).toEqual(Array.from(a));
      }),
      { numRuns: 20 },
    );
  });

  it('larger thresholds fire fewer columns; a threshold above the input range fires nothing after step 0', () => {
    const m = randomModel(seed(), 6, [{ kind: 'gru', hiddenSize: 10 }]);
    const frames = smoothStream(5, 200, 6, 0.1);
    const fired = (th: number) => {
      const low = lowerModel(m, { precision: 'q15', thresholdX: th, thresholdH: th });
      const ref = createCReference(low);
      const x = quantizeCInput(low, frames);
      let n = 0;
      for (let t = 0; t < 200; t++) {
        ref.step(x.subarray(t * 6, (t + 1) * 6));
        if (t > 0) n += ref.lastFiredX[0]! + ref.lastFiredH[0]!;
      }
      return n;
    };
    const f = [0, 0.02, 0.1, 0.5].map(fired);
    expect(f[0]).toBe(199 * 16);
    for (let k = 1; k < f.length; k++) expect(f[k]!).toBeLessThanOrEqual(f[k - 1]!);
    expect(fired(100)).toBe(0);
  });

  it('int16 weights (q15) get int64 accumulators and are closer to the float model than int8 weights', () => {
    const m = randomModel(seed(), 8, [{ kind: 'lstm', hiddenSize: 12 }, { kind: 'linear', outputSize: 3 }]);
    const frames = smoothStream(4, 300, 8, 0.15);
    const want = createSession(m, { backend: 'js' }).run(frames);
    const err = (weightBits: 8 | 16) => {
      const low = lowerModel(m, { precision: 'q15', weightBits });
      return { acc: low.accBits, e: maxDiff(dequantizeCOutput(low, createCReference(low).run(quantizeCInput(low, frames))), want) };
    };
    const w8 = err(8);
    const w16 = err(16);
    expect(w8.acc).toBe(32);
    expect(w16.acc).toBe(64);
    expect(w16.e).toBeLessThan(w8.e);
  });

  it('a calibration stream picks the input format from its range', () => {
    const m = randomModel(3, 4, [{ kind: 'gru', hiddenSize: 5 }, { kind: 'linear', outputSize: 2 }]);
    const small = lowerModel(m, { precision: 'q15', calibration: smoothStream(1, 50, 4, 0.01) });
    const big = lowerModel(m, { precision: 'q15', calibration: Float32Array.from({ length: 40 }, (_, i) => (i % 2 ? 100 : -100)) });
    expect(small.inputFrac).toBeGreaterThan(big.inputFrac);
    expect(big.inputFrac).toBe(7); // 2 * 100 needs 8 integer bits of int16
    expect(lowerModel(m, { precision: 'q7', actFrac: 5 }).inputFrac).toBe(5);
  });
});

describe('C lowering: refusals', () => {
  const gru = randomModel(1, 3, [{ kind: 'gru', hiddenSize: 4 }]);
  it('refuses what the C export does not support, with coded errors', () => {
    expectCode(() => lowerModel(randomModel(1, 3, [{ kind: 'sru', hiddenSize: 4 }])), 'E_UNSUPPORTED', /sru/);
    expectCode(() => lowerModel(randomModel(1, 3, [{ kind: 'qrnn', hiddenSize: 4, window: 1 }])), 'E_UNSUPPORTED', /qrnn/);
    const lstm = randomModel(1, 3, [{ kind: 'lstm', hiddenSize: 4 }]);
    const peep = { ...lstm, layers: [{ ...lstm.layers[0]!, peephole: new Float32Array(12) }] } as unknown as Model;
    expectCode(() => lowerModel(peep), 'E_UNSUPPORTED', /peephole/i);
    expectCode(() => lowerModel(gru, { precision: 'q3' as never }), 'E_OPTION', /precision/);
    expectCode(() => lowerModel(gru, { precision: 'q7', weightBits: 16 }), 'E_OPTION', /weightBits/);
    expectCode(() => lowerModel(gru, { precision: 'q15', actFrac: 16 }), 'E_OPTION', /actFrac/);
    expectCode(() => lowerModel(gru, { actFrac: 3, calibration: [1, 2, 3] }), 'E_OPTION', /both/);
    expectCode(() => lowerModel(gru, { thresholdX: -1 }), 'E_VALUE', /thresholdX/);
    expectCode(() => lowerModel(gru, { calibration: [1, 2] }), 'E_SHAPE', /calibration/);
  });
});
