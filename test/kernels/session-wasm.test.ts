/**
 * The wasm backend in the session: same numbers as the float64 references (dense and delta,
 * on every kernel build this engine runs), the path that ran, int8 accuracy, multi-step SRU/QRNN,
 * option errors.
 */
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { DeltakitError } from '../../src/core/errors.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { createSession, availableBackends } from '../../src/runtime/index.js';
import { createWasmExecutorFactory, WasmQrnnExecutor, WasmSruExecutor } from '../../src/runtime/backends/wasm/index.js';
import type { LayerExecutor } from '../../src/runtime/backends/types.js';
import { loadKernels } from '../../src/kernels/wasm/loader.js';
import type { Model } from '../../src/model/types.js';
import { randomModel, smoothStream, STACKS } from '../helpers/random-model.js';
import { BUILDS_HERE, DEFAULT_BUILD_EXPECTED, PATH_OF_BUILD } from '../helpers/builds.js';

const DEFAULT_PATH = PATH_OF_BUILD[DEFAULT_BUILD_EXPECTED];


/** Run frames through executors from a factory, as the session does (float64 between layers). */
function runExecutors(model: Model, exs: LayerExecutor[], frames: Float32Array): Float32Array {
  const I = model.layers[0]!.inputSize;
  const T = frames.length / I;
  const last = exs[exs.length - 1]!.layer;
  const O = last.kind === 'linear' ? last.outputSize : last.hiddenSize;
  const out = new Float32Array(T * O);
  for (let t = 0; t < T; t++) {
    let v: Float64Array = Float64Array.from(frames.subarray(t * I, (t + 1) * I));
    for (const ex of exs) v = ex.step(v);
    for (let o = 0; o < O; o++) out[t * O + o] = v[o]!;
  }
  return out;
}

it('wasm is the default backend where it loads, and sessions report the build that runs', () => {
  expect(availableBackends()[0]).toBe('wasm');
  const model = randomModel(1, 4, [{ kind: 'gru', hiddenSize: 8 }, { kind: 'linear', outputSize: 2 }]);
  expect(createSession(model).paths).toEqual([DEFAULT_PATH, DEFAULT_PATH]);
  expect(createSession(model, { weights: 'int8' }).paths).toEqual([`${DEFAULT_PATH}-int8`, `${DEFAULT_PATH}-int8`]);
  expect(createSession(model, { backend: 'js' }).paths).toEqual(['js', 'js']);
});

describe.each(BUILDS_HERE)('%s executors against the float64 references', (build) => {
  const factory = createWasmExecutorFactory({ build });
  const path = PATH_OF_BUILD[build];
  for (const [name, recipe] of STACKS) {
    it(`dense ${name}`, () => {
      const model = randomModel(7, 5, recipe);
      const frames = smoothStream(3, 40, 5, 0.3);
      const ref = runModelRef(model, frames);
      const exs = model.layers.map((l) => factory(l, { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' }));
      expect(exs.every((e) => e.path === path)).toBe(true);
      // float32 weights and accumulation against float64: a few ulps per layer.
      expect(maxAbsDiff(runExecutors(model, exs, frames), ref.outputs)).toBeLessThan(2e-5);
    });
  }
  // The multi-step kernel (matmat_f32_p8) on sizes that are not multiples of its blocks: 8 rows
  // (3 gates x 13 units = 39 rows, 4 x 11 with the SRU projection), 8 columns (7 and 5 inputs, the
  // QRNN window's 2 x 8), 2 frames (T = 1, 3, 4, 17): the runSteps blocks against the cells'
  // float64 references, one block per runSteps call, state carried across calls.
  it('SRU (with and without projection) and QRNN (windows 2 and 1) runSteps on odd sizes and block lengths', () => {
    const model = randomModel(8, 7, [
      { kind: 'sru', hiddenSize: 13 },
      { kind: 'sru', hiddenSize: 13 },
      { kind: 'qrnn', hiddenSize: 11, window: 2 },
      { kind: 'qrnn', hiddenSize: 9, window: 1 },
      { kind: 'sru', hiddenSize: 5 },
    ]);
    const cfg = { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' as const };
    const lengths = [1, 3, 4, 17, 1];
    const total = lengths.reduce((a, b) => a + b, 0);
    const frames = smoothStream(9, total, 7, 0.3);
    const ref = runModelRef(model, frames).outputs;
    const exs = model.layers.map((l) => factory(l, cfg) as WasmSruExecutor | WasmQrnnExecutor);
    expect(exs.every((e) => e.path === path)).toBe(true);
    const out: number[] = [];
    let t0 = 0;
    for (const T of lengths) {
      let xs: Float32Array = frames.subarray(t0 * 7, (t0 + T) * 7);
      for (const ex of exs) xs = ex.runSteps(xs, T);
      out.push(...xs);
      t0 += T;
    }
    expect(out.length).toBe(total * 5);
    expect(maxAbsDiff(Float32Array.from(out), ref)).toBeLessThan(2e-5);
  });

  for (const conv of ['cudnn', 'edgedrnn'] as const) {
    for (const [name, recipe] of STACKS.slice(0, 3)) {
      it(`delta ${name} (${conv}): outputs and fired counts`, () => {
        const model = randomModel(11, 5, recipe);
        const frames = smoothStream(4, 60, 5, 0.2);
        const opts = { thresholdX: 0.08, thresholdH: 0.04, biasConvention: conv };
        const ref = runModelRef(model, frames, opts);
        const exs = model.layers.map((l) => factory(l, { delta: l.kind !== 'linear', thresholdX: 0.08, thresholdH: 0.04, biasConvention: conv }));
        expect(exs.every((e) => e.path === path)).toBe(true);
        const I = 5;
        const y = new Float32Array(ref.outputs.length);
        const O = ref.outputs.length / 60;
        for (let t = 0; t < 60; t++) {
          let v: Float64Array = Float64Array.from(frames.subarray(t * I, (t + 1) * I));
          exs.forEach((ex, k) => {
            v = ex.step(v);
            if (ex.delta) {
              expect(ex.lastFiredX).toBe(ref.firedX[t]![k]);
              expect(ex.lastFiredH).toBe(ref.firedH[t]![k]);
            }
          });
          for (let o = 0; o < O; o++) y[t * O + o] = v[o]!;
        }
        expect(maxAbsDiff(y, ref.outputs)).toBeLessThan(2e-5);
      });
    }
  }
  it('int8 weights (dense and delta) stay within the quantisation bound of the float64 reference', () => {
    const model = randomModel(13, 16, [{ kind: 'gru', hiddenSize: 40 }, { kind: 'lstm', hiddenSize: 24 }, { kind: 'linear', outputSize: 4 }]);
    const frames = smoothStream(5, 50, 16, 0.3);
    const f8 = createWasmExecutorFactory({ build, weights: 'int8' });
    for (const opts of [{ delta: false, thresholdX: 0, thresholdH: 0 }, { delta: true, thresholdX: 0.02, thresholdH: 0.02 }]) {
      const ref = runModelRef(model, frames, opts.delta ? { thresholdX: 0.02, thresholdH: 0.02 } : {});
      const exs = model.layers.map((l) => f8(l, { ...opts, delta: opts.delta && l.kind !== 'linear', biasConvention: 'cudnn' }));
      expect(exs.every((e) => e.path === `${path}-int8`)).toBe(true);
      expect(maxAbsDiff(runExecutors(model, exs, frames), ref.outputs)).toBeLessThan(0.05);
    }
  });
});

describe('wasm backend in the session', () => {
  it('delta session equals the js backend (stats and trace included)', () => {
    const model = randomModel(5, 6, [{ kind: 'gru', hiddenSize: 24 }, { kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 3 }]);
    const frames = smoothStream(9, 80, 6, 0.2);
    const opts = { thresholdX: 0.05, thresholdH: 0.05, trace: true };
    const a = createSession(model, { ...opts, backend: 'wasm' });
    const b = createSession(model, { ...opts, backend: 'js' });
    expect(maxAbsDiff(a.run(frames), b.run(frames))).toBeLessThan(2e-5);
    expect(a.stats()).toEqual(b.stats());
    expect(a.trace()).toEqual(b.trace());
  });

  it('int8 weights: outputs stay close to float64 (dense and delta); error measured', () => {
    const model = randomModel(3, 16, [{ kind: 'gru', hiddenSize: 64 }, { kind: 'gru', hiddenSize: 64 }, { kind: 'linear', outputSize: 4 }]);
    const frames = smoothStream(2, 100, 16, 0.3);
    const dense = runModelRef(model, frames);
    const y8 = createSession(model, { weights: 'int8' }).run(frames);
    const y32 = createSession(model).run(frames);
    const e8 = maxAbsDiff(y8, dense.outputs);
    const e32 = maxAbsDiff(y32, dense.outputs);
    expect(e32).toBeLessThan(2e-5);
    // int8 quantisation error is orders of magnitude above float32's but small in absolute terms.
    expect(e8).toBeGreaterThan(e32);
    expect(e8).toBeLessThan(0.05);
    const opts = { thresholdX: 0.02, thresholdH: 0.02 };
    const delta = runModelRef(model, frames, opts);
    const d8 = createSession(model, { ...opts, weights: 'int8' }).run(frames);
    expect(maxAbsDiff(d8, delta.outputs)).toBeLessThan(0.05);
  });

  it('SRU and QRNN runSteps (one pass over the weights per block) equal step by step', () => {
    const model = randomModel(4, 12, [{ kind: 'sru', hiddenSize: 12 }, { kind: 'sru', hiddenSize: 8 }, { kind: 'qrnn', hiddenSize: 8, window: 2 }]);
    const f = createWasmExecutorFactory();
    const cfg = { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' as const };
    const T = 45; // more than one 32-step block
    let xs: Float32Array = smoothStream(6, T, 12, 0.3);
    for (const layer of model.layers) {
      if (layer.kind !== 'sru' && layer.kind !== 'qrnn') throw new Error('unreachable');
      const a = f(layer, cfg) as WasmSruExecutor | WasmQrnnExecutor;
      const b = f(layer, cfg);
      const block = a.runSteps(xs, T);
      const H = layer.hiddenSize;
      const I = layer.inputSize;
      const stepped = new Float32Array(T * H);
      for (let t = 0; t < T; t++) stepped.set(b.step(Float64Array.from(xs.subarray(t * I, (t + 1) * I))), t * H);
      expect(maxAbsDiff(block, stepped)).toBeLessThan(1e-6);
      xs = block;
    }
    const ref = runModelRef(model, smoothStream(6, T, 12, 0.3));
    expect(maxAbsDiff(xs, ref.outputs)).toBeLessThan(2e-5);
  });

  it.runIf(DEFAULT_BUILD_EXPECTED === 'relaxed-simd')('relaxed int8: 7-bit activations run the one-plane kernel, less accurate than 14-bit, still bounded', () => {
    const model = randomModel(3, 16, [{ kind: 'gru', hiddenSize: 64 }, { kind: 'linear', outputSize: 4 }]);
    const frames = smoothStream(2, 100, 16, 0.3);
    const ref = runModelRef(model, frames).outputs;
    const cfg = { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' as const };
    const err = (bits: 7 | 14): number => {
      const f = createWasmExecutorFactory({ weights: 'int8', activationBits: bits });
      return maxAbsDiff(runExecutors(model, model.layers.map((l) => f(l, cfg)), frames), ref);
    };
    const e14 = err(14);
    const e7 = err(7);
    expect(e7).toBeGreaterThan(e14);
    expect(e14).toBeLessThan(0.05);
    expect(e7).toBeLessThan(0.3);
  });

  it('the session option activationBits: 7-bit codes on the relaxed build, validated everywhere', () => {
    const model = randomModel(3, 16, [{ kind: 'gru', hiddenSize: 64 }, { kind: 'linear', outputSize: 4 }]);
    const frames = smoothStream(2, 100, 16, 0.3);
    const ref = runModelRef(model, frames).outputs;
    const e7 = maxAbsDiff(createSession(model, { weights: 'int8', activationBits: 7 }).run(frames), ref);
    const e14 = maxAbsDiff(createSession(model, { weights: 'int8', activationBits: 14 }).run(frames), ref);
    const eDefault = maxAbsDiff(createSession(model, { weights: 'int8' }).run(frames), ref);
    expect(eDefault).toBe(e14);
    if (DEFAULT_BUILD_EXPECTED === 'relaxed-simd') expect(e7).toBeGreaterThan(e14);
    expect(e7).toBeLessThan(0.3);
    const code = (f: () => unknown) => {
      try { f(); } catch (e) { return e instanceof DeltakitError ? e.code : 'other'; }
      return 'none';
    };
    expect(code(() => createSession(model, { weights: 'int8', activationBits: 8 as never }))).toBe('E_OPTION');
    expect(code(() => createSession(model, { activationBits: 7 }))).toBe('E_OPTION');
  });

  it('rejects bad weight options with coded errors', () => {
    const model = randomModel(1, 4, [{ kind: 'gru', hiddenSize: 8 }]);
    const code = (f: () => unknown) => {
      try { f(); } catch (e) { return e instanceof DeltakitError ? e.code : 'other'; }
      return 'none';
    };
    expect(code(() => createSession(model, { weights: 'int4' as never }))).toBe('E_OPTION');
    expect(code(() => createSession(model, { backend: 'js', weights: 'int8' }))).toBe('E_UNSUPPORTED');
    expect(code(() => createSession(model, { backend: 'gpu' as never }))).toBe('E_UNSUPPORTED');
  });

  it.each([[1, 1], [1, 33], [17, 5]])('odd sizes I = %i, H = %i: f32 and int8, dense and delta, GRU and LSTM', (I, H) => {
    for (const kind of ['gru', 'lstm'] as const) {
      const model = randomModel(I * 100 + H, I, [{ kind, hiddenSize: H }, { kind: 'linear', outputSize: 3 }]);
      const frames = smoothStream(3, 30, I, 0.3);
      for (const opts of [{}, { thresholdX: 0.02, thresholdH: 0.02 }]) {
        const ref = runModelRef(model, frames, opts).outputs;
        expect(maxAbsDiff(createSession(model, opts).run(frames), ref)).toBeLessThan(2e-5);
        expect(maxAbsDiff(createSession(model, { ...opts, weights: 'int8' }).run(frames), ref)).toBeLessThan(0.05);
      }
    }
  });

  it('executors keep working after the shared memory grows (views are refreshed)', () => {
    const model = randomModel(6, 5, [{ kind: 'gru', hiddenSize: 12 }, { kind: 'linear', outputSize: 3 }]);
    const frames = smoothStream(2, 20, 5, 0.3);
    const a = createSession(model, { thresholdX: 0.05, thresholdH: 0.05 });
    const y1 = a.run(frames.subarray(0, 50));
    // Another session with large weights grows the shared wasm memory.
    const gen = loadKernels().generation;
    const big = randomModel(7, 1024, [{ kind: 'gru', hiddenSize: 1024 }]);
    createSession(big).step(new Float32Array(1024));
    expect(loadKernels().generation).toBeGreaterThan(gen);
    const y2 = a.run(frames.subarray(50));
    const b = createSession(model, { thresholdX: 0.05, thresholdH: 0.05 });
    const y = b.run(frames);
    expect(Array.from(y1).concat(Array.from(y2))).toEqual(Array.from(y));
  });

  it('reset returns the wasm executors to their initial state', () => {
    const model = randomModel(2, 4, [{ kind: 'lstm', hiddenSize: 8 }, { kind: 'qrnn', hiddenSize: 4, window: 2 }]);
    const frames = smoothStream(1, 30, 4, 0.3);
    const s = createSession(model, { thresholdX: 0.05 });
    const y1 = s.run(frames);
    s.reset();
    expect(Array.from(s.run(frames))).toEqual(Array.from(y1));
  });
});
