/**
 * The reset-before GRU's wasm executor (second pass over W_hn on q = r*h) with the session
 * machinery: chained stepWasm sessions (bit for bit the executor-by-executor path), the shared
 * state slots (q's remembered copy and error feedback swap with the session), the 8-row packed
 * dense layouts of every build this engine runs, and idle steps (kept gate activations).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { loadKernels } from '../../src/kernels/wasm/loader.js';
import { createWasmExecutorFactory } from '../../src/runtime/backends/wasm/index.js';
import { denseLayout } from '../../src/runtime/backends/wasm/recurrent.js';
import { createSession } from '../../src/runtime/index.js';
import { BUILDS_HERE, PATH_OF_BUILD } from '../helpers/builds.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';
import { chainedAgainstTraced } from '../helpers/wasm-chain.js';

afterEach(() => vi.restoreAllMocks());

const model = randomModel(23, 7, [{ kind: 'gru', hiddenSize: 19, resetAfter: false }, { kind: 'gru', hiddenSize: 8, resetAfter: false }, { kind: 'linear', outputSize: 5 }]);
const delta = { thresholdX: 0.05, thresholdH: 0.03 };

describe('reset-before GRU in wasm sessions', () => {
  it.each([{}, delta, { weights: 'int8' as const }, { weights: 'int8' as const, ...delta }])('chained steps (%o) run stepWasm only and equal the per-executor path bit for bit', (opts) => {
    const frames = smoothStream(4, 50, 7, 0.3);
    const { chained, traced, y, yt, chainedCalls, tracedCalls } = chainedAgainstTraced(model, opts, frames, 50);
    expect(chainedCalls.step).toBe(0);
    expect(chainedCalls.stepWasm).toBe(100);
    expect(tracedCalls.step).toBeGreaterThan(0);
    expect(Array.from(y)).toEqual(Array.from(yt));
    expect(chained.stats()).toEqual(traced.stats());
    const q = chained.stats().layers[0]!.firedQ!;
    if ('thresholdX' in opts) {
      expect(q).toBeGreaterThan(0);
      expect(q).toBeLessThan(50 * 19);
    } else expect(q).toBe(50 * 19);
  });

  it('sessions interleaved step by step equal each run alone (q state swaps with the slot), idle steps included', () => {
    const T = 45;
    const a = smoothStream(5, T, 7, 0.3);
    // b repeats frames: x fires nothing on the repeats, so the kept-activation path is taken
    // unless q fires.
    const b = new Float32Array(a.length);
    for (let t = 0; t < T; t++) b.set(a.subarray(Math.floor(t / 3) * 7, Math.floor(t / 3) * 7 + 7), t * 7);
    for (const opts of [{}, delta, { weights: 'int8' as const }, { weights: 'int8' as const, ...delta }]) {
      const alone = [a, b].map((x) => {
        const s = createSession(model, opts);
        const y = new Float32Array(T * 5);
        for (let t = 0; t < T; t++) y.set(s.step(x.subarray(t * 7, (t + 1) * 7)), t * 5);
        return y;
      });
      const sa = createSession(model, opts);
      const sb = createSession(model, opts);
      const oa = new Float32Array(T * 5);
      const ob = new Float32Array(T * 5);
      for (let t = 0; t < T; t++) {
        sa.stepInto(a.subarray(t * 7, (t + 1) * 7), oa, t * 5);
        sb.stepInto(b.subarray(t * 7, (t + 1) * 7), ob, t * 5);
      }
      expect(Array.from(oa)).toEqual(Array.from(alone[0]!));
      expect(Array.from(ob)).toEqual(Array.from(alone[1]!));
      if (!('weights' in opts)) {
        const ref = runModelRef(model, b, 'thresholdX' in opts ? delta : {}).outputs;
        expect(maxAbsDiff(ob, ref)).toBeLessThan(2e-5);
      }
    }
  });

  it('an initial state (ONNX initial_h) is where the wasm executor resets to, q included, dense and delta', () => {
    const m = randomModel(31, 5, [{ kind: 'gru', hiddenSize: 11, resetAfter: false }, { kind: 'linear', outputSize: 2 }]);
    const l0 = m.layers[0]!;
    if (l0.kind === 'gru') l0.initialH = Float32Array.from({ length: 11 }, (_, i) => 0.7 * Math.sin(i + 1));
    const frames = smoothStream(6, 30, 5, 0.3);
    for (const opts of [{}, delta]) {
      const ref = runModelRef(m, frames, opts).outputs;
      const s = createSession(m, { ...opts, backend: 'wasm' });
      expect(s.paths[0]).toMatch(/^wasm/);
      expect(maxAbsDiff(s.run(frames), ref)).toBeLessThan(2e-5);
      s.reset();
      expect(maxAbsDiff(s.run(frames), ref)).toBeLessThan(2e-5);
    }
  });

  describe.each(BUILDS_HERE)('%s build, dense layouts', (build) => {
    const frames = smoothStream(8, 40, 7, 0.25);
    const ref = runModelRef(model, frames).outputs;
    const run = (opts: Parameters<typeof createWasmExecutorFactory>[0]) => {
      const f = createWasmExecutorFactory({ build, ...opts });
      const exs = model.layers.map((l) => f(l, { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' }));
      expect(exs[0]!.path.startsWith(PATH_OF_BUILD[build])).toBe(true);
      const out: number[] = [];
      for (let t = 0; t < 40; t++) {
        let v = Float64Array.from(frames.subarray(t * 7, (t + 1) * 7));
        for (const ex of exs) v = Float64Array.from(ex.step(v));
        out.push(...v);
      }
      return out;
    };
    it('f32: matches the float64 reference (packed 8-row layout on the SIMD builds)', () => {
      expect(denseLayout(loadKernels({ build }), 'f32')).toBe(build === 'scalar' ? 'row' : 'p8');
      expect(maxAbsDiff(run({ weights: 'f32' }), ref)).toBeLessThan(2e-5);
    });
    it('int8: 14-bit and 7-bit activations stay near the float64 reference (packed relaxed dot on the relaxed build)', () => {
      expect(denseLayout(loadKernels({ build }), 'int8')).toBe(build === 'relaxed-simd' ? 'p8' : 'row');
      const e14 = maxAbsDiff(run({ weights: 'int8', activationBits: 14 }), ref);
      const e7 = maxAbsDiff(run({ weights: 'int8', activationBits: 7 }), ref);
      expect(e14).toBeLessThan(0.05);
      expect(e7).toBeLessThan(0.2);
      if (build !== 'relaxed-simd') expect(e7).toBe(e14); // other builds always quantise to int16
    });
  });
});
