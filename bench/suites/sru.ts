/**
 * SRU multi-step (SPEC §6, Sung & Park): an SRU has no recurrent matrix, so T steps share one
 * pass over the weights. Per-step time of runSteps(T) against T = 1 on a layer whose float32
 * weights (38.5 MB) exceed the 32 MB L3, where streaming the weights dominates a step.
 */
import { randomModel } from '../../src/model/random.js';
import { createWasmExecutorFactory, type WasmSruExecutor } from '../../src/runtime/backends/wasm/index.js';
import type { BenchContext, BenchSection, BenchSuite } from '../types.js';
import { fmtUs, fmtX, timeSync, timingPlan } from '../lib/timing.js';
import { wanderingStream } from './delta.js';

export const sruSuite: BenchSuite = {
  name: 'sru',
  async run(ctx: BenchContext): Promise<BenchSection[]> {
    const plan = timingPlan(ctx);
    const H = 1792;
    const model = randomModel(9, H, [{ kind: 'sru', hiddenSize: H }]);
    const layer = model.layers[0]!;
    const mb = (3 * H * H * 4) / 2 ** 20;
    const ex = createWasmExecutorFactory()(layer, { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' }) as WasmSruExecutor;
    const frames = wanderingStream(1, 64, H);
    const rows: string[][] = [];
    let base = 0;
    const notes: string[] = [];
    for (const T of [1, 4, 16, 32]) {
      ctx.log(`sru: T = ${T}`);
      const block = frames.subarray(0, T * H);
      const us = timeSync(() => ex.runSteps(block, T), { ...plan, reps: Math.max(3, plan.reps - 4) }) / T;
      if (T === 1) base = us;
      const gmacs = (3 * H * H) / us / 1e3;
      rows.push([String(T), fmtUs(us), fmtX(base / us), gmacs.toFixed(1)]);
      if (T === 4) notes.push(`T = 4: target >= 3x: ${base / us >= 3 ? 'met' : 'MISSED'} (${fmtX(base / us)})`);
      if (T === 16) notes.push(`T = 16: target >= 9x: ${base / us >= 9 ? 'met' : 'MISSED'} (${fmtX(base / us)})`);
    }
    return [
      {
        title: `SRU multi-step (H = I = ${H}, ${mb.toFixed(1)} MB float32 weights, wasm SIMD)`,
        columns: ['steps per pass T', 'us per step', 'speedup vs T = 1', 'GMAC/s'],
        rows,
        notes: [`Latency grows by up to T - 1 frames (the block must be complete before it runs).`, ...notes],
      },
    ];
  },
};
