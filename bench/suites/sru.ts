/**
 * SRU and QRNN multi-step (Sung & Park): an SRU has no recurrent matrix, so T steps share one
 * pass over the weights. Per-step time of runSteps(T) against T = 1 on layers whose float32
 * weights (about 37 MB) exceed the 32 MB L3, where streaming the weights dominates a step; the
 * multi-step kernel alone (matmat_f32_p8) and the previous row-major kernel (matmat_f32, which
 * the executors used before) on the same weights; and, measured in the same run, the two limits
 * that bound the speedup: the memory read floor (a native memchr over a buffer of the same size)
 * and the kernel's own arithmetic rate with its weights in L2.
 */
import * as os from 'node:os';
import { randomModel } from '../../src/model/random.js';
import { createWasmExecutorFactory, type WasmQrnnExecutor, type WasmSruExecutor } from '../../src/runtime/backends/wasm/index.js';
import { kernelBuild, loadKernels, relaxedSimdSupported, type WasmKernels } from '../../src/kernels/wasm/loader.js';
import { packRows8F32 } from '../../src/kernels/ref/pack.js';
import type { BenchContext, BenchSection, BenchSuite } from '../types.js';
import { fmtUs, fmtX, median } from '../lib/timing.js';
import { wanderingStream } from './delta.js';

const STEPS = [1, 4, 16, 32];

/**
 * Both weight layouts of one (rows, cols) row-major matrix in one kernels instance, and the X/Y
 * blocks, each on a 64-byte line as the executors place their weights; `release` frees them.
 */
function placeKernelOperands(k: WasmKernels, w: Float32Array, rows: number, cols: number, frames: Float32Array) {
  const held: number[] = [];
  const put = (a: Float32Array): number => { const p = k.alloc(a.length * 4 + 48); held.push(p); const q = Math.ceil(p / 64) * 64; k.f32(q, a.length).set(a); return q; };
  const Tmax = STEPS[STEPS.length - 1]!;
  return {
    row: put(w),
    p8: put(packRows8F32(w, rows, cols)),
    b: put(new Float32Array(rows)),
    x: put(frames.subarray(0, Tmax * cols)),
    y: put(new Float32Array(Tmax * rows)),
    release: (): void => { for (const p of held) k.free(p); },
  };
}

/**
 * CPU microseconds per call of each closure, median over interleaved rounds: every round runs each
 * closure for at least `ms` of CPU time, so all of them (single step, blocks, limits) are measured
 * under the same conditions, and time the process spent descheduled on a shared machine does
 * not count (the ratios between them are what this suite reports).
 */
function interleavedCpuUs(fns: Record<string, () => void>, rounds: number, ms: number, log: (m: string) => void): Record<string, number> {
  const cpu = (): number => { const c = process.cpuUsage(); return c.user + c.system; };
  const calls: Record<string, number> = {};
  for (const [name, f] of Object.entries(fns)) {
    for (let w = 0; w < 3; w++) f(); // warm-up: optimising tier, caches
    const t0 = cpu();
    f();
    calls[name] = Math.max(1, Math.ceil((ms * 1000) / Math.max(1, cpu() - t0)));
  }
  const per: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    log(`  round ${r + 1} of ${rounds}`);
    for (const [name, f] of Object.entries(fns)) {
      const n = calls[name]!;
      const t0 = cpu();
      for (let i = 0; i < n; i++) f();
      (per[name] ??= []).push((cpu() - t0) / n);
    }
  }
  return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, median(v)]));
}

interface Measured { T: number; us: number; kernelUs: number; prevUs: number }
interface LayerResult { m: Measured[]; floorUs: number; inCacheGmacs: number }

/**
 * runSteps per step, the kernel alone and the previous row-major kernel at every T, the read floor
 * (glibc's memchr, Buffer.indexOf of an absent byte, over a buffer as large as the weights) and
 * the kernel's arithmetic rate with its weights in L2 (64 rows x cols, T = 16), interleaved.
 */
function measureLayer(ctx: BenchContext, name: string, ex: WasmSruExecutor | WasmQrnnExecutor, k: WasmKernels, w: Float32Array, rows: number, cols: number, inputSize: number, frames: Float32Array): LayerResult {
  const ops = placeKernelOperands(k, w, rows, cols, wanderingStream(3, STEPS[STEPS.length - 1]!, cols));
  const buf = Buffer.alloc(rows * cols * 4, 2); // written, so every page is real memory (not the shared zero page)
  const cr = 64, cT = 16;
  const cwRaw = k.alloc(cr * cols * 4 + 48), cw = Math.ceil(cwRaw / 64) * 64, cb = k.alloc(cr * 4), cx = k.alloc(cT * cols * 4), cy = k.alloc(cT * cr * 4);
  k.f32(cw, cr * cols).set(packRows8F32(new Float32Array(cr * cols).map((_, i) => ((i * 7919) % 1000) / 1e4 - 0.05), cr, cols));
  k.f32(cx, cT * cols).fill(0.5);
  const fns: Record<string, () => void> = {};
  for (const T of STEPS) {
    const block = frames.subarray(0, T * inputSize);
    fns[`run${T}`] = () => ex.runSteps(block, T);
    fns[`kernel${T}`] = () => k.exports.matmat_f32_p8(ops.p8, ops.b, rows, cols, ops.x, T, ops.y);
    fns[`prev${T}`] = () => k.exports.matmat_f32(ops.row, ops.b, rows, cols, ops.x, T, ops.y);
  }
  fns['floor'] = () => { if (buf.indexOf(1) !== -1) throw new Error('unreachable'); };
  fns['incache'] = () => k.exports.matmat_f32_p8(cw, cb, cr, cols, cx, cT, cy);
  ctx.log(`${name}: ${Object.keys(fns).length} measurements, interleaved`);
  const us = interleavedCpuUs(fns, ctx.quick ? 3 : 11, ctx.quick ? 20 : 100, ctx.log);
  ops.release();
  for (const p of [cwRaw, cb, cx, cy]) k.free(p);
  return {
    m: STEPS.map((T) => ({ T, us: us[`run${T}`]! / T, kernelUs: us[`kernel${T}`]! / T, prevUs: us[`prev${T}`]! / T })),
    floorUs: us['floor']!,
    inCacheGmacs: (cr * cols * cT) / us['incache']! / 1e3,
  };
}

function target(T: number, x: number, want: number): string {
  return `T = ${T}: target >= ${want}x over T single steps: ${x >= want ? `met (${fmtX(x)})` : `MISSED by ${((1 - x / want) * 100).toFixed(0)} % (${fmtX(x)})`}`;
}

/** The notes on the limits, from the numbers of one layer. */
function limitNotes(r: LayerResult, macs: number, mb: number): string[] {
  const base = r.m[0]!.us;
  const at = (T: number): Measured => r.m.find((x) => x.T === T)!;
  const t4 = at(4), t16 = at(16);
  const floorGBs = (macs * 4) / r.floorUs / 1e3;
  const computeUs = macs / r.inCacheGmacs / 1e3;
  const k16 = macs / t16.kernelUs / 1e3;
  const bound = base / computeUs;
  return [
    `Limits measured in this run: reading ${mb.toFixed(1)} MB takes ${fmtUs(r.floorUs)} us (${floorGBs.toFixed(1)} GB/s, native memchr over a buffer as large as the weights); the kernel's arithmetic with its weights in L2 runs ${r.inCacheGmacs.toFixed(1)} GMAC/s (4-lane SIMD, one FMA per 4 MACs), ${fmtUs(computeUs)} us for one step's MACs. A single step takes ${fmtUs(base)} us, ${(base / r.floorUs).toFixed(2)}x the read time; at T = 16 the kernel alone runs ${k16.toFixed(1)} GMAC/s, ${((k16 / r.inCacheGmacs) * 100).toFixed(0)} % of its in-cache rate. Reuse removes the weight traffic but not the arithmetic, so no T can make a step faster than ${fmtUs(computeUs)} us: at most ${fmtX(bound)} over the single step here. 9.3x would need ${((9.3 * macs) / base / 1e3).toFixed(1)} GMAC/s, ${fmtX((9.3 * macs) / base / 1e3 / r.inCacheGmacs)} the arithmetic rate this core reaches in 128-bit WebAssembly SIMD (the published 9.3x was on an ARM core whose arithmetic is fast relative to its DRAM bandwidth).`,
    `The kernel alone, on its own copy of the weights: ${fmtX(r.m[0]!.kernelUs / t4.kernelUs)} at T = 4, ${fmtX(r.m[0]!.kernelUs / t16.kernelUs)} at T = 16 over its T = 1 (the executor's T = 1 also copies the frame in and runs the recurrence; its single step took ${fmtUs(base)} us against the kernel's ${fmtUs(r.m[0]!.kernelUs)} us in this run).`,
    `T = 4: with the stream of a block and its arithmetic fully overlapped a step would take max(${fmtUs(r.floorUs / 4)}, ${fmtUs(computeUs)}) us = ${fmtUs(Math.max(r.floorUs / 4, computeUs))} us (${fmtX(base / Math.max(r.floorUs / 4, computeUs))}); one after the other (frame 0's sweep at the single step's own rate, the three other frames at the arithmetic rate), ${fmtUs(base / 4 + (3 * computeUs) / 4)} us (${fmtX(1 / (0.25 + (0.75 * computeUs) / base))}); measured ${fmtUs(t4.us)} us, the kernel alone ${fmtUs(t4.kernelUs)} us: the two phases do not overlap. WebAssembly has no prefetch instruction, so the next block's weights arrive during the arithmetic only as far as the hardware prefetcher runs ahead; emulating one with loads, interleaving the next block's sweep with the current block's tiles, and streaming 8 blocks before their arithmetic were all no faster (docs/performance.md).`,
  ];
}

export const sruSuite: BenchSuite = {
  name: 'sru',
  async run(ctx: BenchContext): Promise<BenchSection[]> {
    const k = loadKernels();
    const build = kernelBuild();
    const load = os.loadavg()[0]!.toFixed(1);
    const columns = ['steps per pass T', 'us per step', 'speedup vs T = 1', 'GMAC/s', 'kernel alone us/step', 'previous row-major kernel us/step', 'kernel vs previous'];
    const table = (r: LayerResult, macs: number): string[][] => r.m.map((x) => [String(x.T), fmtUs(x.us), fmtX(r.m[0]!.us / x.us), (macs / x.us / 1e3).toFixed(1), fmtUs(x.kernelUs), fmtUs(x.prevUs), fmtX(x.prevUs / x.kernelUs)]);
    const targets = (r: LayerResult): string[] => [target(4, r.m[0]!.us / r.m.find((x) => x.T === 4)!.us, 3), target(16, r.m[0]!.us / r.m.find((x) => x.T === 16)!.us, 9.3)];
    const method = `Measured ${new Date().toISOString()} on Node ${process.version}, separately from the rest of this report. Method: CPU time per call (process.cpuUsage), median of interleaved rounds in which every row, the read and the in-cache measurements each run for at least 100 ms, so they share the machine's conditions; wasm ${build}; 1-minute load average ${load} on ${os.cpus().length} cores when the suite started (times still include other processes' use of the caches and memory bus, so read ratios within the run).`;

    // SRU, I = H = 1792: W is 3H x H (the z, f, r blocks), 36.8 MB.
    const H = 1792;
    const layer = randomModel(9, H, [{ kind: 'sru', hiddenSize: H }]).layers[0]!;
    if (layer.kind !== 'sru') throw new Error('unreachable');
    const rows = 3 * H, cols = H, macs = rows * cols, mb = (macs * 4) / 2 ** 20;
    const ex = createWasmExecutorFactory()(layer, { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' }) as WasmSruExecutor;
    const sru = measureLayer(ctx, 'sru', ex, k, layer.weight, rows, cols, H, wanderingStream(1, 64, H));
    const notes = [
      `Latency grows by up to T - 1 frames (the block must be complete before it runs). T = 1 is step(): the same kernel with one 8-row sweep per block, the dense mat-vec.`,
      ...targets(sru),
      ...limitNotes(sru, macs, mb),
      `Previous kernel: the row-major matmat_f32 (2 rows x 4 frames; 4 accumulator chains at T = 1) that the executors used before, on the same weights: ${fmtX(sru.m[0]!.prevUs / sru.m[0]!.kernelUs)} slower than the new kernel at T = 1, ${fmtX(sru.m.find((x) => x.T === 16)!.prevUs / sru.m.find((x) => x.T === 16)!.kernelUs)} at T = 16. Its slow single step made its own multi-step ratio look larger (${fmtX(sru.m[0]!.prevUs / sru.m.find((x) => x.T === 16)!.prevUs)} at T = 16).`,
      method,
    ];
    if (relaxedSimdSupported()) {
      // Relaxed (f32x4.relaxed_madd = one vfmadd) against SIMD128 (mul + add), the kernel alone at T = 16.
      const kk = { relaxed: loadKernels({ build: 'relaxed-simd' }), simd: loadKernels({ build: 'simd128' }) };
      const ops = { relaxed: placeKernelOperands(kk.relaxed, layer.weight, rows, cols, wanderingStream(3, 32, cols)), simd: placeKernelOperands(kk.simd, layer.weight, rows, cols, wanderingStream(3, 32, cols)) };
      ctx.log('sru: relaxed against simd128');
      const us = interleavedCpuUs({
        relaxed: () => kk.relaxed.exports.matmat_f32_p8(ops.relaxed.p8, ops.relaxed.b, rows, cols, ops.relaxed.x, 16, ops.relaxed.y),
        simd: () => kk.simd.exports.matmat_f32_p8(ops.simd.p8, ops.simd.b, rows, cols, ops.simd.x, 16, ops.simd.y),
      }, ctx.quick ? 3 : 11, ctx.quick ? 20 : 100, ctx.log);
      ops.relaxed.release();
      ops.simd.release();
      notes.push(`Relaxed SIMD against SIMD128, the kernel alone at T = 16: ${fmtUs(us['relaxed']! / 16)} against ${fmtUs(us['simd']! / 16)} us per step (${fmtX(us['simd']! / us['relaxed']!)}).`);
    }

    // QRNN, window 2 (columns [x_t | x_{t-1}]): the same kernel with twice the columns.
    const Hq = 1280;
    const qlayer = randomModel(10, Hq, [{ kind: 'qrnn', hiddenSize: Hq, window: 2 }]).layers[0]!;
    if (qlayer.kind !== 'qrnn') throw new Error('unreachable');
    const rowsQ = 3 * Hq, colsQ = 2 * Hq, macsQ = rowsQ * colsQ, mbq = (macsQ * 4) / 2 ** 20;
    const exq = createWasmExecutorFactory()(qlayer, { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' }) as WasmQrnnExecutor;
    const qrnn = measureLayer(ctx, 'qrnn', exq, k, qlayer.weight, rowsQ, colsQ, Hq, wanderingStream(2, 64, Hq));
    return [
      {
        title: `QRNN multi-step (window 2, H = I = ${Hq}, ${mbq.toFixed(1)} MB float32 weights, wasm ${build})`,
        columns,
        rows: table(qrnn, macsQ),
        notes: [...targets(qrnn), ...limitNotes(qrnn, macsQ, mbq), method],
      },
      {
        title: `SRU multi-step (H = I = ${H}, ${mb.toFixed(1)} MB float32 weights, wasm ${build})`,
        columns,
        rows: table(sru, macs),
        notes,
      },
    ];
  },
};
