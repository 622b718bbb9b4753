import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { DeltakitError } from '../../src/core/errors.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { createSession } from '../../src/runtime/index.js';
import { encodeDeltas } from '../../src/runtime/backends/js/encode.js';
import { randomModel, smoothStream, STACKS } from '../helpers/random-model.js';


describe('session (js backend) against the float64 references', () => {
  for (const [name, recipe] of STACKS) {
    it(`dense ${name}`, () => {
      const model = randomModel(7, 5, recipe);
      const frames = smoothStream(3, 40, 5, 0.3);
      const ref = runModelRef(model, frames);
      const s = createSession(model, { backend: 'js' });
      const y = s.run(frames);
      // float32 output rounding only: the runtime accumulates in float64 like the reference.
      expect(maxAbsDiff(y, ref.outputs)).toBeLessThan(1e-6);
      expect(s.paths.every((p) => p === 'js')).toBe(true);
    });
  }

  for (const conv of ['cudnn', 'edgedrnn'] as const) {
    for (const [name, recipe] of STACKS.slice(0, 3)) {
      it(`delta ${name} (${conv})`, () => {
        const model = randomModel(11, 5, recipe);
        const frames = smoothStream(4, 60, 5, 0.2);
        const opts = { thresholdX: 0.08, thresholdH: 0.04, biasConvention: conv };
        const ref = runModelRef(model, frames, opts);
        const s = createSession(model, opts);
        const y = s.run(frames);
        expect(maxAbsDiff(y, ref.outputs)).toBeLessThan(1e-6);
        const st = s.stats();
        const fx = ref.firedX.reduce((a, row) => a + row.filter((_, k) => model.layers[k]!.kind !== 'linear').reduce((p, q) => p + q, 0), 0);
        const sx = st.layers.filter((l) => l.delta).reduce((a, l) => a + l.firedX, 0);
        expect(sx).toBe(fx);
        expect(st.occupancy).toBeLessThan(1);
        expect(st.ops).toBeLessThan(st.denseOps);
      });
    }
  }

  it('edgedrnn and cudnn conventions differ exactly when b_hn != 0', () => {
    const model = randomModel(5, 4, [{ kind: 'gru', hiddenSize: 8 }]);
    const frames = smoothStream(1, 20, 4, 0.3);
    const a = createSession(model, { thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn', backend: 'js' }).run(frames);
    const b = createSession(model, { thresholdX: 0, thresholdH: 0, biasConvention: 'edgedrnn', backend: 'js' }).run(frames);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-4);
    const layer = model.layers[0]!;
    if (layer.kind !== 'gru') throw new Error('unreachable');
    layer.biasHh.fill(0, 2 * 8);
    const c = createSession(model, { thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn', backend: 'js' }).run(frames);
    const d = createSession(model, { thresholdX: 0, thresholdH: 0, biasConvention: 'edgedrnn', backend: 'js' }).run(frames);
    expect(maxAbsDiff(c, d)).toBeLessThan(1e-9);
  });

  it('counts ops: dense layers count dense ops, delta layers 2 * rows per fired column', () => {
    const model = randomModel(2, 3, [{ kind: 'gru', hiddenSize: 4 }, { kind: 'linear', outputSize: 2 }]);
    const s = createSession(model, { thresholdX: 1e9, thresholdH: 1e9 });
    s.run(smoothStream(2, 5, 3));
    const st = s.stats();
    expect(st.layers[0]!.ops).toBe(0);
    expect(st.layers[1]!.ops).toBe(5 * 2 * 2 * 4);
    expect(st.layers[0]!.denseOps).toBe(5 * 2 * 3 * 4 * (3 + 4));
    expect(st.occupancy).toBe(0);
  });
});

describe('session properties (fast-check)', () => {
  const arbModel = fc.record({
    seed: fc.integer({ min: 1, max: 1e6 }),
    cell: fc.constantFrom<'gru' | 'lstm'>('gru', 'lstm'),
    layers: fc.integer({ min: 1, max: 3 }),
    I: fc.integer({ min: 1, max: 8 }),
    H: fc.integer({ min: 1, max: 12 }),
    T: fc.integer({ min: 1, max: 25 }),
    readout: fc.boolean(),
  });
  const build = (p: { seed: number; cell: 'gru' | 'lstm'; layers: number; I: number; H: number; readout: boolean }) =>
    randomModel(p.seed, p.I, [
      ...Array.from({ length: p.layers }, () => ({ kind: p.cell, hiddenSize: p.H })),
      ...(p.readout ? [{ kind: 'linear' as const, outputSize: 3 }] : []),
    ]);

  it('delta with thresholds 0 equals dense', () => {
    fc.assert(
      fc.property(arbModel, (p) => {
        const model = build(p);
        const frames = smoothStream(p.seed, p.T, p.I, 0.5);
        const dense = createSession(model).run(frames);
        const delta = createSession(model, { thresholdX: 0, thresholdH: 0 }).run(frames);
        // The default backend accumulates in float32: the delta memories sum the same products in
        // another order than the dense mat-vec, so the two differ by float32 rounding (1.4e-6 seen
        // on a 20-step GRU); the js backend's float64 path is held to 1e-9 elsewhere.
        return maxAbsDiff(dense, delta) < 1e-5;
      }),
      { numRuns: 60 },
    );
  });

  it('raising a threshold never makes more elements fire from the same state', () => {
    // Over a whole run this does NOT hold in general: a higher threshold changes which values
    // are remembered, e.g. x = [1.5, -0.9, -2, 0, -2, -1.4] fires twice at threshold 1.5 but
    // three times at 2. What holds is the encoder's contract: from the same remembered values,
    // a higher threshold fires a subset. Checked on the encoder and on a session's first step.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -4, max: 4, noNaN: true }), fc.double({ min: -4, max: 4, noNaN: true })), { minLength: 1, maxLength: 40 }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        (pairs, a, b) => {
          const lo = Math.min(a, b);
          const hi = Math.max(a, b);
          const value = Float64Array.from(pairs.map((q) => q[0]));
          const fired = (th: number) => {
            const prev = Float64Array.from(pairs.map((q) => q[1]));
            const idx = new Int32Array(pairs.length);
            const n = encodeDeltas(value, prev, th, idx, new Float64Array(pairs.length));
            return Array.from(idx.subarray(0, n));
          };
          const fl = new Set(fired(lo));
          return fired(hi).every((i) => fl.has(i));
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(arbModel, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (p, a, b) => {
        const model = build(p);
        const frame = smoothStream(p.seed, 1, p.I, 1);
        const firstStep = (th: number) => {
          const s = createSession(model, { thresholdX: th, thresholdH: th, trace: true });
          s.step(frame);
          return Array.from(s.trace()[0]![0]!.firedX);
        };
        const fl = new Set(firstStep(Math.min(a, b)));
        return firstStep(Math.max(a, b)).every((i) => fl.has(i));
      }),
      { numRuns: 60 },
    );
  });

  it('sessions are independent: interleaving two streams changes neither', () => {
    fc.assert(
      fc.property(arbModel, (p) => {
        const model = build(p);
        const fa = smoothStream(p.seed, p.T, p.I, 0.4);
        const fb = smoothStream(p.seed + 99, p.T, p.I, 0.4);
        const alone = createSession(model, { thresholdX: 0.05, thresholdH: 0.05 }).run(fa);
        const a = createSession(model, { thresholdX: 0.05, thresholdH: 0.05 });
        const b = createSession(model, { thresholdX: 0.05, thresholdH: 0.05 });
        const ya = new Float32Array(alone.length);
        const O = a.outputSize;
        for (let t = 0; t < p.T; t++) {
          b.step(fb.subarray(t * p.I, (t + 1) * p.I));
          ya.set(a.step(fa.subarray(t * p.I, (t + 1) * p.I)), t * O);
        }
        return maxAbsDiff(alone, ya) === 0;
      }),
      { numRuns: 40 },
    );
  });
});

describe('session errors', () => {
  const model = randomModel(1, 3, [{ kind: 'gru', hiddenSize: 4 }]);
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(DeltakitError);
      return (e as DeltakitError).code;
    }
    return 'no error';
  };
  it('rejects wrong frame length, NaN input, bad thresholds, unknown options', () => {
    const s = createSession(model);
    expect(code(() => s.step([1, 2]))).toBe('E_SHAPE');
    expect(code(() => s.step([1, NaN, 2]))).toBe('E_VALUE');
    expect(code(() => s.run(new Float32Array(7)))).toBe('E_SHAPE');
    expect(code(() => createSession(model, { thresholdX: -1 }))).toBe('E_VALUE');
    expect(code(() => createSession(model, { thresholdH: NaN }))).toBe('E_VALUE');
    expect(code(() => createSession(model, { threshold: 1 } as never))).toBe('E_OPTION');
    expect(code(() => createSession(model, { backend: 'cuda' as never }))).toBe('E_UNSUPPORTED');
    expect(code(() => s.trace())).toBe('E_OPTION');
  });
  it('rejects a model whose weights hold NaN', () => {
    const bad = randomModel(1, 3, [{ kind: 'gru', hiddenSize: 4 }]);
    (bad.layers[0] as { weightHh: Float32Array }).weightHh[5] = NaN;
    expect(code(() => createSession(bad))).toBe('E_VALUE');
  });
  it('reset returns to the initial state', () => {
    const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.1 });
    const frames = smoothStream(9, 10, 3);
    const a = s.run(frames);
    s.reset();
    expect(s.stats().steps).toBe(0);
    expect(maxAbsDiff(a, s.run(frames))).toBe(0);
  });
});

describe('weight sharing', () => {
  it('sessions reference the model weights and share one compiled layout', async () => {
    const { columnMajor } = await import('../../src/runtime/plan.js');
    const model = randomModel(8, 16, [{ kind: 'gru', hiddenSize: 32 }]);
    const layer = model.layers[0]!;
    if (layer.kind !== 'gru') throw new Error('unreachable');
    const before = columnMajor(layer.weightIh, 96, 16);
    const sessions = Array.from({ length: 20 }, () => createSession(model, { thresholdX: 0.1, thresholdH: 0.1, backend: 'js' }));
    expect(columnMajor(layer.weightIh, 96, 16)).toBe(before);
    expect(sessions.every((s) => s.model === model)).toBe(true);
    // Zeroing the shared layout changes what every session computes: nothing was copied per session.
    const frame = new Float32Array(16).fill(0.5);
    const y1 = sessions[0]!.step(frame);
    before.fill(0);
    const y2 = sessions[1]!.step(frame);
    expect(maxAbsDiff(y1, y2)).toBeGreaterThan(1e-3);
  });
});
