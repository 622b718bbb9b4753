/**
 * SRU multi-step (SPEC §6, Sung & Park): an SRU has no recurrent matrix, so T steps share one
 * pass over the weights. Per-step time of runSteps(T) against T = 1 on a layer whose float32
 * weights (38.5 MB) exceed the 32 MB L3, where streaming the weights dominates a step.
 */
import { randomModel } from '../../src/model/random.js';
import { createWasmExecutorFactory, type WasmQrnnExecutor, type WasmSruExecutor } from '../../src/runtime/backends/wasm/index.js';
import { kernelBuild } from '../../src/kernels/wasm/loader.js';
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
    let peak = 0;
    const notes: string[] = [];
    for (const T of [1, 4, 16, 32]) {
      ctx.log(`sru: T = ${T}`);
      const block = frames.subarray(0, T * H);
      const us = timeSync(() => ex.runSteps(block, T), { ...plan, reps: Math.max(3, plan.reps - 4) }) / T;
      if (T === 1) base = us;
      const gmacs = (3 * H * H) / us / 1e3;
      rows.push([String(T), fmtUs(us), fmtX(base / us), gmacs.toFixed(1)]);
      if (T === 4) notes.push(`T = 4: target >= 3x: ${base / us >= 3 ? 'met' : `MISSED by ${((1 - base / us / 3) * 100).toFixed(0)} %`} (${fmtX(base / us)})`);
      if (T === 16) notes.push(`T = 16: target >= 9.3x: ${base / us >= 9.3 ? 'met' : `MISSED by ${((1 - base / us / 9.3) * 100).toFixed(0)} %`} (${fmtX(base / us)})`);
      if (T > 1) peak = Math.max(peak, gmacs);
    }
    const bw = (3 * H * H * 4) / base / 1e3; // GB/s streamed at T = 1
    notes.push(
      `Roofline: at T = 1 the step streams ${mb.toFixed(1)} MB at ${bw.toFixed(1)} GB/s; with weights reused the kernel reaches at most ${peak.toFixed(1)} GMAC/s (compute bound, 128-bit SIMD, one FMA per 4 MACs on the relaxed build), so weight reuse can speed a step up by at most about ${fmtX(peak / ((3 * H * H) / base / 1e3))} here. The published 9.3x at T = 16 was on an ARM core whose DRAM bandwidth is small relative to its arithmetic; here one x86 core streams float32 weights fast enough, against a 128-bit SIMD kernel (2 weight rows x 4 steps = 8 accumulators held in registers), that arithmetic caps the gain (the kernel reads each weight row in one sequential sweep while the T input frames stay in L2).`,
    );
    // QRNN, window 2 (columns [x_t | x_{t-1}]): the same kernel with twice the columns.
    const Hq = 1280;
    const qrnn = randomModel(10, Hq, [{ kind: 'qrnn', hiddenSize: Hq, window: 2 }]).layers[0]!;
    const mbq = (3 * Hq * 2 * Hq * 4) / 2 ** 20;
    const exq = createWasmExecutorFactory()(qrnn, { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' }) as WasmQrnnExecutor;
    const framesQ = wanderingStream(2, 64, Hq);
    const qrows: string[][] = [];
    let qbase = 0;
    for (const T of [1, 4, 16]) {
      const block = framesQ.subarray(0, T * Hq);
      const us = timeSync(() => exq.runSteps(block, T), { ...plan, reps: Math.max(3, plan.reps - 4) }) / T;
      if (T === 1) qbase = us;
      qrows.push([String(T), fmtUs(us), fmtX(qbase / us), ((3 * Hq * 2 * Hq) / us / 1e3).toFixed(1)]);
    }
    return [
      {
        title: `QRNN multi-step (window 2, H = I = ${Hq}, ${mbq.toFixed(1)} MB float32 weights, wasm ${kernelBuild()})`,
        columns: ['steps per pass T', 'us per step', 'speedup vs T = 1', 'GMAC/s'],
        rows: qrows,
      },
      {
        title: `SRU multi-step (H = I = ${H}, ${mb.toFixed(1)} MB float32 weights, wasm ${kernelBuild()})`,
        columns: ['steps per pass T', 'us per step', 'speedup vs T = 1', 'GMAC/s'],
        rows,
        notes: [`Latency grows by up to T - 1 frames (the block must be complete before it runs).`, ...notes],
      },
    ];
  },
};
