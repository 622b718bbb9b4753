/**
 * 2-thread mode: dense float32 GRU/LSTM rows split between this thread and a worker on shared
 * memory. The row split changes no arithmetic, so outputs equal the single-thread kernels' bit
 * for bit, and the path says '-2t'.
 */
import { afterAll, expect, it } from 'vitest';
import { createWasmExecutorFactory, WasmThreadPool } from '../../src/runtime/backends/wasm/index.js';
import type { LayerExecutor } from '../../src/runtime/backends/types.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';

const pool = await WasmThreadPool.create();
afterAll(() => pool.close());

it.each(['gru', 'lstm'] as const)('dense %s on 2 threads equals 1 thread bit for bit', (kind) => {
  const model = randomModel(4, 24, [{ kind, hiddenSize: 70 }, { kind, hiddenSize: 33 }, { kind: 'linear', outputSize: 5 }]);
  const cfg = { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' as const };
  const two = model.layers.map((l) => createWasmExecutorFactory({ pool })(l, cfg));
  // The same build and layout on one thread (the pool's shared kernels without the pool).
  const one = model.layers.map((l) => createWasmExecutorFactory({ kernels: pool.kernels })(l, cfg));
  expect(two.map((e) => e.path)).toEqual(['wasm-simd-shared-2t', 'wasm-simd-shared-2t', 'wasm-simd-shared']);
  const frames = smoothStream(1, 40, 24, 0.3);
  const run = (exs: LayerExecutor[]) => {
    const out: number[] = [];
    for (let t = 0; t < 40; t++) {
      let v: Float64Array = Float64Array.from(frames.subarray(t * 24, (t + 1) * 24));
      for (const ex of exs) v = ex.step(v);
      out.push(...v);
    }
    return out;
  };
  expect(run(two)).toEqual(run(one));
});

it('delta and int8 layers ignore the pool (single thread on the shared kernels)', () => {
  const model = randomModel(5, 8, [{ kind: 'gru', hiddenSize: 16 }]);
  const d = createWasmExecutorFactory({ pool })(model.layers[0]!, { delta: true, thresholdX: 0.1, thresholdH: 0.1, biasConvention: 'cudnn' });
  expect(d.path).toBe('wasm-simd-shared');
  const q = createWasmExecutorFactory({ pool, weights: 'int8' })(model.layers[0]!, { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' });
  expect(q.path).toBe('wasm-simd-shared-int8');
});

it('two pools keep separate weight layouts (each has its own memory)', async () => {
  const other = await WasmThreadPool.create();
  try {
    const model = randomModel(6, 12, [{ kind: 'gru', hiddenSize: 20 }]);
    const cfg = { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' as const };
    const a = createWasmExecutorFactory({ pool })(model.layers[0]!, cfg);
    const b = createWasmExecutorFactory({ pool: other })(model.layers[0]!, cfg);
    const x = Float64Array.from({ length: 12 }, (_, i) => Math.sin(i));
    expect(Array.from(b.step(x))).toEqual(Array.from(a.step(x)));
  } finally {
    other.close();
  }
});
