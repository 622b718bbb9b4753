/**
 * The one-call layer step (layer_step) against its reference, the same layer stepped through the
 * separate kernels one call at a time (stepCalls), on every kernel build this engine runs:
 * GRU and LSTM, dense and delta, float32 and int8 weights, sizes off every block boundary, with
 * steps where nothing fires (kept activations) and re-synchronisation bands. The kernels' own
 * counter proves which path ran.
 *
 * Tolerances: the one call runs the same kernels in the same order, so dense steps and delta
 * steps agree bit for bit when re-synchronisation is off (resyncPeriod 0); with it on, the
 * one-call path re-synchronises its band after the gate pass, the separate calls before it, so
 * the next steps differ by float32 rounding of the same sums, which the gates pass on with slope
 * at most 1: within 2e-5 of each other and of the float64 reference over the stream (the session
 * tests' bound).
 */
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { loadKernels } from '../../src/kernels/wasm/loader.js';
import { createWasmExecutorFactory, WasmLinearExecutor, WasmRecurrentExecutor } from '../../src/runtime/backends/wasm/index.js';
import type { LayerExecutor } from '../../src/runtime/backends/types.js';
import type { Model } from '../../src/model/types.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';
import { BUILDS_HERE, PATH_OF_BUILD } from '../helpers/builds.js';

const outSize = (e: LayerExecutor): number => (e.layer.kind === 'linear' ? e.layer.outputSize : e.layer.hiddenSize);

/** Frames where every frame is repeated `rep` times (after its first copy little or nothing fires). */
function repeated(seed: number, distinct: number, rep: number, I: number): Float32Array {
  const base = smoothStream(seed, distinct, I, 0.4);
  const out = new Float32Array(distinct * rep * I);
  for (let t = 0; t < distinct * rep; t++) out.set(base.subarray(Math.floor(t / rep) * I, Math.floor(t / rep) * I + I), t * I);
  return out;
}

/** Run the executors over the frames, each layer through stepFused (one call) or stepCalls. */
function run(exs: LayerExecutor[], frames: Float32Array, fused: boolean): Float32Array {
  const k = exs[0]!.wasmIo!.kernels;
  const I = exs[0]!.layer.inputSize;
  const T = frames.length / I;
  const O = outSize(exs[exs.length - 1]!);
  const out = new Float32Array(T * O);
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < exs.length; j++) {
      const ex = exs[j]! as WasmRecurrentExecutor | WasmLinearExecutor;
      const io = ex.wasmIo;
      if (fused) {
        if (j === 0) {
          k.f32(io.input, I).set(frames.subarray(t * I, (t + 1) * I));
          expect(ex.stepFused(0, 0, 1)).toBe(0);
        } else {
          expect(ex.stepFused(exs[j - 1]!.wasmIo!.output, ex.layer.inputSize, 0)).toBe(0);
        }
      } else {
        const x = j === 0 ? frames.subarray(t * I, (t + 1) * I) : k.f32(exs[j - 1]!.wasmIo!.output, ex.layer.inputSize).slice();
        k.f32(io.input, ex.layer.inputSize).set(x);
        ex.stepCalls();
      }
    }
    out.set(k.f32(exs[exs.length - 1]!.wasmIo!.output, O), t * O);
  }
  return out;
}

describe.each(BUILDS_HERE)('%s: layer_step equals the separate kernel calls', (build) => {
  const k = loadKernels({ build });
  const cases: Array<[string, number, number]> = [['GRU', 40, 64], ['GRU', 7, 13], ['LSTM', 5, 11], ['GRU', 1, 33]];
  for (const [cell, I, H] of cases) {
    for (const weights of ['f32', 'int8'] as const) {
      for (const mode of ['dense', 'delta'] as const) {
        it(`${mode} ${cell} I = ${I}, H = ${H}, ${weights} + linear readout`, () => {
          const model: Model = randomModel(I * 31 + H, I, [{ kind: cell === 'GRU' ? 'gru' : 'lstm', hiddenSize: H }, { kind: 'linear', outputSize: 3 }]);
          const delta = mode === 'delta';
          const th = { thresholdX: 0.05, thresholdH: 0.3 };
          const cfg = (l: Model['layers'][number]) => ({ delta: delta && l.kind !== 'linear', ...(delta ? th : { thresholdX: 0, thresholdH: 0 }), biasConvention: 'cudnn' as const });
          // Bit for bit needs the same re-synchronisation order: none (see the header); float32
          // delta layers run with it, as sessions do.
          const exact = mode === 'dense' || weights === 'int8';
          const factory = createWasmExecutorFactory({ build, weights, ...(exact ? { resyncPeriod: 0 } : { resyncPeriod: 64 }) });
          const fusedExs = model.layers.map((l) => factory(l, cfg(l)));
          const callExs = model.layers.map((l) => factory(l, cfg(l)));
          expect(fusedExs.every((e) => e.fused === true && e.path.startsWith(PATH_OF_BUILD[build]))).toBe(true);
          const frames = repeated(I + H, 40, 4, I);
          const T = frames.length / I;
          const before = k.exports.layer_steps();
          const wide0 = k.exports.delta_i8_wide_passes();
          const a = run(fusedExs, frames, true);
          // One layer_step per layer and step, none from the separate calls.
          expect(k.exports.layer_steps() - before).toBe(T * 2);
          // int8 delta on the SIMD builds: the first step fires (nearly) all I >= 8 inputs, so
          // the one call ran the int8 column kernel's 8-column passes; the scalar build has none.
          if (weights === 'int8' && delta && I >= 8) {
            const wide = k.exports.delta_i8_wide_passes() - wide0;
            if (build === 'scalar') expect(wide).toBe(0);
            else expect(wide).toBeGreaterThan(0);
          }
          const b = run(callExs, frames, false);
          expect(k.exports.layer_steps() - before).toBe(T * 2);
          if (exact) expect(Array.from(a)).toEqual(Array.from(b));
          else {
            expect(maxAbsDiff(a, b)).toBeLessThan(2e-5);
            // Without re-synchronisation the float32 delta step is bit for bit the separate calls too.
            const f0 = createWasmExecutorFactory({ build, weights, resyncPeriod: 0 });
            const a0 = run(model.layers.map((l) => f0(l, cfg(l))), frames, true);
            const b0 = run(model.layers.map((l) => f0(l, cfg(l))), frames, false);
            expect(Array.from(a0)).toEqual(Array.from(b0));
          }
          if (weights === 'f32') {
            const ref = runModelRef(model, frames, delta ? th : {}).outputs;
            expect(maxAbsDiff(a, ref)).toBeLessThan(2e-5);
          }
          if (delta) {
            // Steps where nothing fired ran (the blend-only path of the one-call step).
            const r = fusedExs[0]! as WasmRecurrentExecutor;
            r.reset();
            let idle = 0;
            for (let t = 0; t < T; t++) {
              k.f32(r.wasmIo.input, I).set(frames.subarray(t * I, (t + 1) * I));
              r.stepFused(0, 0, 0);
              if (r.lastFiredX + r.lastFiredH === 0) idle++;
            }
            expect(idle).toBeGreaterThan(5);
          }
        });
      }
    }
  }

  it('a non-finite input is refused before any state changes (-1), a finite one steps', () => {
    const model = randomModel(5, 7, [{ kind: 'gru', hiddenSize: 9 }]);
    const ex = createWasmExecutorFactory({ build })(model.layers[0]!, { delta: true, thresholdX: 0.01, thresholdH: 0.01, biasConvention: 'cudnn' }) as WasmRecurrentExecutor;
    const x = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, 4, 6]) {
        const y = x.slice();
        y[at] = bad;
        k.f32(ex.wasmIo.input, 7).set(y);
        const s0 = ex.snapshot();
        expect(ex.stepFused(0, 0, 1)).toBe(-1);
        expect(ex.snapshot()).toEqual(s0);
      }
    }
    k.f32(ex.wasmIo.input, 7).set(x);
    expect(ex.stepFused(0, 0, 1)).toBe(0);
    expect(ex.lastFiredX).toBe(7);
  });
});
