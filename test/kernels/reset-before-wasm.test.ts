/**
 * The reset-before GRU on the wasm kernels (SIMD and scalar builds; float32 and int8; dense and
 * delta), against the float64 references: the fast path ran (paths), matched, and fired the same
 * elements as the js backend.
 */
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { createWasmExecutorFactory } from '../../src/runtime/backends/wasm/index.js';
import { createSession } from '../../src/runtime/index.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';

const model = randomModel(41, 6, [{ kind: 'gru', hiddenSize: 13, resetAfter: false }, { kind: 'gru', hiddenSize: 20, resetAfter: false }, { kind: 'linear', outputSize: 3 }]);
const frames = smoothStream(9, 80, 6, 0.25);

describe('reset-before GRU on the wasm backend', () => {
  it('f32 dense and delta match the references; fired x, h and q counts equal the js backend', () => {
    const dense = createSession(model, { backend: 'wasm' });
    expect(dense.paths.slice(0, 2).every((p) => p.startsWith('wasm'))).toBe(true);
    expect(maxAbsDiff(dense.run(frames), runModelRef(model, frames).outputs)).toBeLessThan(2e-5);
    const opts = { thresholdX: 0.05, thresholdH: 0.02 };
    const w = createSession(model, { ...opts, backend: 'wasm', trace: true });
    const j = createSession(model, { ...opts, backend: 'js', trace: true });
    expect(maxAbsDiff(w.run(frames), runModelRef(model, frames, opts).outputs)).toBeLessThan(2e-5);
    j.run(frames);
    const sw = w.stats().layers;
    const sj = j.stats().layers;
    for (const k of [0, 1]) {
      expect(sw[k]!.firedX).toBe(sj[k]!.firedX);
      expect(sw[k]!.firedH).toBe(sj[k]!.firedH);
      expect(sw[k]!.firedQ).toBe(sj[k]!.firedQ);
      expect(sw[k]!.firedQ).toBeGreaterThan(0);
      expect(sw[k]!.firedQ).toBeLessThan(80 * (k === 0 ? 13 : 20));
    }
    expect(Array.from(w.trace()[40]![1]!.firedQ!)).toEqual(Array.from(j.trace()[40]![1]!.firedQ!));
  });

  it('the scalar build matches too', () => {
    const f = createWasmExecutorFactory({ simd: false });
    const exs = model.layers.map((l) => f(l, { delta: true, thresholdX: 0.05, thresholdH: 0.02, biasConvention: 'cudnn' }));
    expect(exs[0]!.path).toBe('wasm-scalar');
    const I = 6;
    const out: number[] = [];
    for (let t = 0; t < 80; t++) {
      let v = Float64Array.from(frames.subarray(t * I, (t + 1) * I));
      for (const ex of exs) v = Float64Array.from(ex.step(v));
      out.push(...v);
    }
    expect(maxAbsDiff(out, runModelRef(model, frames, { thresholdX: 0.05, thresholdH: 0.02 }).outputs)).toBeLessThan(2e-5);
  });

  it('int8 weights, dense and delta: close to float64 (the int8 paths ran)', () => {
    const d8 = createSession(model, { weights: 'int8' });
    expect(d8.paths[0]).toMatch(/-int8$/);
    expect(maxAbsDiff(d8.run(frames), runModelRef(model, frames).outputs)).toBeLessThan(0.05);
    const opts = { thresholdX: 0.05, thresholdH: 0.02 };
    expect(maxAbsDiff(createSession(model, { ...opts, weights: 'int8' }).run(frames), runModelRef(model, frames, opts).outputs)).toBeLessThan(0.05);
  });

  for (const weights of ['f32', 'int8'] as const) {
    it(`re-synchronisation rebuilds the q rows from the remembered q (${weights}, every band many times)`, () => {
      const m = randomModel(5, 4, [{ kind: 'gru', hiddenSize: 9, resetAfter: false }]);
      const x = smoothStream(3, 400, 4, 0.3);
      const opts = { delta: true, thresholdX: 0.05, thresholdH: 0.03, biasConvention: 'cudnn' as const };
      const run = (resyncPeriod: number) => {
        const ex = createWasmExecutorFactory({ weights, resyncPeriod })(m.layers[0]!, opts);
        const out: number[] = [];
        for (let t = 0; t < 400; t++) out.push(...ex.step(Float64Array.from(x.subarray(4 * t, 4 * t + 4))));
        return out;
      };
      const ref = runModelRef(m, x, { thresholdX: 0.05, thresholdH: 0.03 }).outputs;
      // Resync every 3 steps (48 rows, 3 bands) versus never: both stay on the delta reference.
      const often = run(3);
      const never = run(0);
      const tol = weights === 'f32' ? 2e-5 : 0.05;
      expect(maxAbsDiff(often, ref)).toBeLessThan(tol);
      expect(maxAbsDiff(never, ref)).toBeLessThan(tol);
      if (weights === 'f32') expect(maxAbsDiff(often, never)).toBeLessThan(2e-5);
    });
  }
});
