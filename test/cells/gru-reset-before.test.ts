/**
 * The reset-before GRU (ONNX linear_before_reset=0, Keras reset_after=False): its float64
 * reference against an independent gate-by-gate formula, its delta form's properties, the js
 * session against both references, the file format, and the engines that refuse it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDeltaGruState, deltaGruStepRef, gruStepRef, gruVariant, runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { decodeModelFile, encodeModel } from '../../src/model/io.js';
import { modelSpec } from '../../src/model/format.js';
import { summarizeModel } from '../../src/model/summary.js';
import type { GruLayer, Model } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/index.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';
import { expectCode } from '../helpers/errors.js';
import { splitEdgeDrnnModel } from '../../src/quant/edgedrnn/program.js';
import { denseWorkload } from '../../src/sim/workload/workload.js';

/** Cho et al. 2014 written out per gate with plain loops: shares no code with gruStepRef. */
function choStep(l: GruLayer, x: ArrayLike<number>, h: ArrayLike<number>): number[] {
  const H = l.hiddenSize;
  const I = l.inputSize;
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const lin = (w: Float32Array, cols: number, row: number, v: ArrayLike<number>) => {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[row * cols + j]! * v[j]!;
    return s;
  };
  const r = Array.from({ length: H }, (_, k) => sig(lin(l.weightIh, I, k, x) + l.biasIh[k]! + lin(l.weightHh, H, k, h) + l.biasHh[k]!));
  const z = Array.from({ length: H }, (_, k) => sig(lin(l.weightIh, I, H + k, x) + l.biasIh[H + k]! + lin(l.weightHh, H, H + k, h) + l.biasHh[H + k]!));
  const rh = Array.from({ length: H }, (_, k) => r[k]! * h[k]!);
  return Array.from({ length: H }, (_, k) => {
    const n = Math.tanh(lin(l.weightIh, I, 2 * H + k, x) + l.biasIh[2 * H + k]! + lin(l.weightHh, H, 2 * H + k, rh) + l.biasHh[2 * H + k]!);
    return (1 - z[k]!) * n + z[k]! * h[k]!;
  });
}

const beforeModel = (seed: number, I: number, H: number[], readout = false): Model =>
  randomModel(seed, I, [...H.map((h) => ({ kind: 'gru' as const, hiddenSize: h, resetAfter: false })), ...(readout ? [{ kind: 'linear' as const, outputSize: 3 }] : [])]);

describe('reset-before GRU: float64 reference', () => {
  it('equals the gate-by-gate formula of Cho et al. 2014, and differs from the reset-after form', () => {
    const m = beforeModel(3, 5, [7]);
    const l = m.layers[0] as GruLayer;
    const frames = smoothStream(2, 30, 5, 0.5);
    let h: ArrayLike<number> = new Float64Array(7);
    let hc: number[] = new Array<number>(7).fill(0);
    for (let t = 0; t < 30; t++) {
      const x = frames.subarray(t * 5, (t + 1) * 5);
      h = gruStepRef(l, x, h);
      hc = choStep(l, x, hc);
      expect(maxAbsDiff(h, hc)).toBeLessThan(1e-12);
    }
    const after = gruStepRef({ ...l, resetAfter: true }, frames.subarray(0, 5), Float64Array.from(hc));
    expect(maxAbsDiff(after, gruStepRef(l, frames.subarray(0, 5), Float64Array.from(hc)))).toBeGreaterThan(1e-4);
    expect(gruVariant(l)).toBe('reset-before');
    expect(gruVariant({ ...l, resetAfter: undefined })).toBe('reset-after');
  });

  it('delta reference: thresholds 0 equal dense (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 30 }), (seed, I, H, T) => {
        const l = beforeModel(seed, I, [H]).layers[0] as GruLayer;
        const frames = smoothStream(seed, T, I, 0.5);
        const st = createDeltaGruState(l);
        let h: Float64Array = new Float64Array(H);
        for (let t = 0; t < T; t++) {
          const x = frames.subarray(t * I, (t + 1) * I);
          h = gruStepRef(l, x, h);
          deltaGruStepRef(l, st, x, 0, 0);
          if (maxAbsDiff(h, st.h) > 1e-9) return false;
        }
        return true;
      }),
      { numRuns: 80 },
    );
  });

  it('delta reference: from the same state a higher threshold fires a subset of x, h and q (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 5, max: 40 }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 0.5, noNaN: true }), (seed, T, a, b) => {
        const l = beforeModel(seed, 4, [6]).layers[0] as GruLayer;
        const frames = smoothStream(seed, T, 4, 0.5);
        // Warm a state up at a shared threshold, then take one step from copies of it.
        const st = createDeltaGruState(l);
        for (let t = 0; t < T - 1; t++) deltaGruStepRef(l, st, frames.subarray(t * 4, (t + 1) * 4), 0.05, 0.05);
        const copy = () => ({ ...st, xPrev: st.xPrev.slice(), hPrev: st.hPrev.slice(), h: st.h.slice(), mr: st.mr.slice(), mz: st.mz.slice(), mnx: st.mnx.slice(), mnh: st.mnh.slice(), qPrev: st.qPrev.slice() });
        const x = frames.subarray((T - 1) * 4, T * 4);
        const lo = deltaGruStepRef(l, copy(), x, Math.min(a, b), Math.min(a, b));
        const hi = deltaGruStepRef(l, copy(), x, Math.max(a, b), Math.max(a, b));
        const sub = (p: number[], q: number[]) => p.every((i) => q.includes(i));
        // q depends on r, which depends on what fired in x and h: compare q only when x and h fired the same.
        const qOk = lo.firedX.length === hi.firedX.length && lo.firedH.length === hi.firedH.length ? sub(hi.firedQ, lo.firedQ) : true;
        return sub(hi.firedX, lo.firedX) && sub(hi.firedH, lo.firedH) && qOk;
      }),
      { numRuns: 150 },
    );
  });
});

describe('reset-before GRU: js session', () => {
  for (const [name, H, readout] of [['one layer', [9], false], ['3 layers + readout', [8, 12, 5], true]] as const) {
    it(`dense and delta match the references (${name})`, () => {
      const m = beforeModel(21, 5, [...H], readout);
      const frames = smoothStream(4, 60, 5, 0.25);
      expect(maxAbsDiff(createSession(m, { backend: 'js' }).run(frames), runModelRef(m, frames).outputs)).toBeLessThan(1e-6);
      for (const conv of ['cudnn', 'edgedrnn'] as const) {
        const opts = { thresholdX: 0.06, thresholdH: 0.03, biasConvention: conv };
        const ref = runModelRef(m, frames, opts);
        const s = createSession(m, { ...opts, backend: 'js', trace: true });
        expect(maxAbsDiff(s.run(frames), ref.outputs)).toBeLessThan(1e-6);
        const st = s.stats();
        expect(st.layers[0]!.firedQ).toBeGreaterThan(0);
        expect(st.layers[0]!.firedQ).toBeLessThan(60 * H[0]!);
        expect(st.ops).toBeLessThan(st.denseOps);
        // ops: 6H per fired x column, 4H per fired h column (r, z), 2H per fired q column (n).
        const l0 = st.layers[0]!;
        expect(l0.ops).toBe(6 * H[0]! * l0.firedX + 4 * H[0]! * l0.firedH + 2 * H[0]! * l0.firedQ!);
        expect(s.trace()[1]![0]!.firedQ).toBeInstanceOf(Int32Array);
      }
    });
  }

  it('session: delta with thresholds 0 equals dense (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 3 }), (seed, I, H, L) => {
        const m = beforeModel(seed, I, Array.from({ length: L }, () => H), seed % 2 === 0);
        const frames = smoothStream(seed, 20, I, 0.5);
        return maxAbsDiff(createSession(m, { backend: 'js' }).run(frames), createSession(m, { backend: 'js', thresholdX: 0, thresholdH: 0 }).run(frames)) < 1e-6;
      }),
      { numRuns: 40 },
    );
  });
});

describe('reset-before GRU: model file and engines', () => {
  it('the spec stores resetAfter only when false; files round-trip', () => {
    const m = randomModel(4, 3, [{ kind: 'gru', hiddenSize: 4 }, { kind: 'gru', hiddenSize: 4, resetAfter: false }]);
    const spec = modelSpec(m);
    expect(spec.layers[0]).toEqual({ kind: 'gru', inputSize: 3, hiddenSize: 4 });
    expect(spec.layers[1]).toEqual({ kind: 'gru', inputSize: 4, hiddenSize: 4, resetAfter: false });
    const back = decodeModelFile(encodeModel(m)).model;
    expect((back.layers[0] as GruLayer).resetAfter).toBeUndefined();
    expect((back.layers[1] as GruLayer).resetAfter).toBe(false);
    expect(summarizeModel(back).layers.map((l) => l.detail)).toEqual(['reset-after', 'reset-before']);
  });

  it('engines that run only the PyTorch form (CBTD, EdgeDRNN) refuse it with E_UNSUPPORTED naming the variant', () => {
    const m = beforeModel(5, 3, [4]);
    expectCode(() => createSession(m, { weightStorage: 'cbtd', thresholdX: 0.1 }), 'E_UNSUPPORTED', /reset-before GRU/);
    const withHead = randomModel(5, 3, [{ kind: 'gru', hiddenSize: 4, resetAfter: false }, { kind: 'linear', outputSize: 2 }]);
    expectCode(() => splitEdgeDrnnModel(withHead), 'E_UNSUPPORTED', /EdgeDRNN.*reset-before GRU/);
    // The wasm backend runs it (test/kernels/reset-before-wasm.test.ts); with no backend named a
    // layer wasm does not run (here an LSTM with peepholes) goes to js, the others stay on wasm.
    const mixed = randomModel(5, 3, [{ kind: 'gru', hiddenSize: 4, resetAfter: false }, { kind: 'lstm', hiddenSize: 4 }]);
    const l1 = mixed.layers[1]!;
    if (l1.kind === 'lstm') l1.peephole = new Float32Array(12).fill(0.3);
    const auto = createSession(mixed);
    expect(auto.paths[0]).toMatch(/^wasm/);
    expect(auto.paths[1]).toBe('js');
    const frames = smoothStream(1, 10, 3, 0.3);
    expect(maxAbsDiff(auto.run(frames), runModelRef(mixed, frames).outputs)).toBeLessThan(2e-5);
    // The simulator's workload takes it (test/sim/reset-before.test.ts): three column groups.
    expect(denseWorkload(m, 3).layers[0]!.qCols).toBe(4);
  });
});
