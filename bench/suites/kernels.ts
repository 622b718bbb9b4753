/**
 * The kernel builds and the session's overhead:
 *  - relaxed SIMD against SIMD128, kernel by kernel, timed round-robin in one process (where the
 *    engine runs relaxed SIMD; on Node 20 the section says it could not);
 *  - the built-in digits model on its held-out voices: dense against delta, wall-clock speedup
 *    against the reduction in operations;
 *  - session overhead: Session.stepInto against the bare chain of the layers' kernel calls
 *    (stepWasm) on the same frames, for the built-in model and the EdgeDRNN network;
 *  - int8 activation codes (7-bit, 14-bit, int16) and their accuracy.
 */
import { existsSync } from 'node:fs';
import { Rng } from '../../src/core/rng.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { runModelRef } from '../../src/cells/index.js';
import { kernelBuild, loadKernels, relaxedSimdSupported, type KernelBuild, type WasmKernels } from '../../src/kernels/wasm/loader.js';
import { packRows8F32, packRows8I8, rowSums } from '../../src/kernels/ref/pack.js';
import { int16QMax } from '../../src/kernels/ref/matvec.js';
import { quantizeI8 } from '../../src/kernels/ref/quantize.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import type { Model } from '../../src/model/types.js';
import { createSession, type Session, type SessionOptions } from '../../src/runtime/index.js';
import { createWasmExecutorFactory } from '../../src/runtime/backends/wasm/index.js';
import type { LayerExecutor } from '../../src/runtime/backends/types.js';
import type { WasmRecurrentExecutor } from '../../src/runtime/backends/wasm/index.js';
import { padRows } from '../../src/runtime/backends/wasm/memory.js';
import type { GruLayer } from '../../src/model/types.js';
import { BUILTIN_MODEL_FILE, builtinHeldout, loadBuiltinModel } from '../../src/train/builtin.js';
import { modelTask } from '../../src/train/task.js';
import { concatFeatures } from '../../src/data/dataset.js';
import type { BenchContext, BenchSection, BenchSuite } from '../types.js';
import { fmtUs, fmtX, median, medianRatio, pairedPlan, timeInterleaved, timeRounds, timingPlan, type TimingPlan } from '../lib/timing.js';

/** A session stepper over pre-sliced frames, without allocation (stepInto). */
export function frameStepper(s: Session, frames: Float32Array, I: number): (i: number) => void {
  const T = frames.length / I;
  const views = Array.from({ length: T }, (_, t) => frames.subarray(t * I, (t + 1) * I));
  const out = new Float32Array(s.outputSize);
  return (i) => void s.stepInto(views[i % T]!, out);
}

/**
 * The bare chain of a session's executors: frame in, each layer's kernels, output out; nothing
 * else. `calls`: each layer through its separate kernel calls (stepCalls, the path before the
 * one-call layer step) instead of stepWasm.
 */
function bareChain(exs: readonly LayerExecutor[], frames: Float32Array, I: number, calls = false): (i: number) => void {
  const k = exs[0]!.wasmIo!.kernels;
  const T = frames.length / I;
  const views = Array.from({ length: T }, (_, t) => frames.subarray(t * I, (t + 1) * I));
  const outSize = (e: LayerExecutor) => (e.layer.kind === 'linear' ? e.layer.outputSize : e.layer.hiddenSize);
  const ins = exs.map((e) => k.f32(e.wasmIo!.input, e.layer.inputSize));
  const outs = exs.map((e) => k.f32(e.wasmIo!.output, outSize(e)));
  const out = new Float32Array(outSize(exs[exs.length - 1]!));
  return (i) => {
    ins[0]!.set(views[i % T]!);
    for (let j = 0; j < exs.length; j++) {
      if (j > 0) ins[j]!.set(outs[j - 1]!);
      if (calls) (exs[j] as unknown as { stepCalls(): void }).stepCalls();
      else exs[j]!.stepWasm!();
    }
    out.set(outs[exs.length - 1]!);
  };
}

interface KernelCase {
  name: string;
  /** Per build: the timed call (inputs prepared in that build's memory). */
  make(k: WasmKernels): (() => void) | null;
}

function kernelCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  const rng = new Rng(9);
  const place = (k: WasmKernels, data: ArrayLike<number>, kind: 'f32' | 'i8' | 'i32' = 'f32'): number => {
    const bytes = kind === 'i8' ? data.length : data.length * 4;
    const p = k.alloc(bytes + 64);
    (kind === 'f32' ? k.f32(p, data.length) : kind === 'i32' ? k.i32(p, data.length) : k.i8(p, data.length)).set(data);
    return p;
  };
  for (const [rows, cols, label] of [[768, 256, 'GRU H=256 W_hh'], [3072, 1024, 'GRU H=1024 W_hh']] as const) {
    const w = rng.uniformArray(rows * cols, -0.1, 0.1);
    const x = rng.uniformArray(cols, -1, 1);
    const q = quantizeI8(w, rows, cols, 'row');
    cases.push({ name: `matvec f32 row-major (4 rows), ${label} ${rows}x${cols}`, make: (k) => {
      const pw = place(k, w), pb = k.alloc(rows * 4), px = place(k, x), py = k.alloc(rows * 4);
      return () => k.exports.matvec_f32(pw, pb, rows, cols, px, py);
    } });
    cases.push({ name: `matvec f32 8-row packed, ${label}`, make: (k) => {
      const pw = place(k, packRows8F32(w, rows, cols)), pb = k.alloc(rows * 4), px = place(k, x), py = k.alloc(rows * 4);
      return () => k.exports.matvec_f32_p8(pw, pb, rows, cols, px, py);
    } });
    cases.push({ name: `matvec int8, int16 activations (row-major), ${label}`, make: (k) => {
      const pw = place(k, q.q, 'i8'), ps = place(k, q.scale), pb = k.alloc(rows * 4), px = place(k, x), pxq = k.alloc(cols * 2), py = k.alloc(rows * 4);
      const qmax = int16QMax(cols);
      return () => k.exports.matvec_i8(pw, ps, pb, rows, cols, pxq, k.exports.quantize_i16(px, cols, qmax, pxq), py);
    } });
    for (const planes of [2, 1] as const) {
      cases.push({ name: `matvec int8, ${planes === 2 ? '14' : '7'}-bit codes, relaxed dot (8-row packed), ${label}`, make: (k) => {
        if (k.build !== 'relaxed-simd') return null;
        const pw = place(k, packRows8I8(q.q, rows, cols), 'i8'), ps = place(k, q.scale), prs = place(k, rowSums(q.q, rows, cols), 'i32'), pb = k.alloc(rows * 4), px = place(k, x);
        const hi = k.alloc(cols), lo = k.alloc(cols), py = k.alloc(rows * 4);
        const qmax = Math.min(planes === 2 ? 8191 : 63, int16QMax(cols));
        return () => k.exports.matvec_i8_p8(pw, ps, prs, pb, rows, cols, planes, hi, lo, k.exports.quantize_codes(px, cols, qmax, planes, hi, lo), py);
      } });
    }
  }
  // Delta columns: the EdgeDRNN layer (3 x 768 rows), 77 fired columns of 768 (10 %).
  const ld = 2304, ncols = 768, fired = 77;
  const wc = rng.uniformArray(ld * ncols, -0.1, 0.1);
  const idx = Array.from({ length: fired }, (_, j) => Math.floor((j * ncols) / fired));
  const vals = rng.uniformArray(fired, -0.5, 0.5);
  cases.push({ name: `delta column f32, ${fired} of ${ncols} columns x ${ld} rows`, make: (k) => {
    const pw = place(k, wc), pi = place(k, idx, 'i32'), pv = place(k, vals), pa = k.alloc(ld * 4);
    return () => k.exports.delta_f32(pw, ld, 0, ld, pi, pv, fired, pa);
  } });
  cases.push({ name: `delta column int8, ${fired} of ${ncols} columns x ${ld} rows`, make: (k) => {
    const q = quantizeI8(wc, ncols, ld, 'row'); // any int8 columns; the scales per row
    const pw = place(k, q.q, 'i8'), ps = place(k, rng.uniformArray(ld, 0.001, 0.002)), pi = place(k, idx, 'i32'), pv = place(k, vals), pa = k.alloc(ld * 4), pt = k.alloc(ld * 4), pe = k.alloc(ncols * 4);
    return () => k.exports.delta_i8(pw, ld, 0, ld, ps, pi, pv, fired, pa, pt, pe);
  } });
  const hp = 768;
  const gi = rng.uniformArray(4 * hp, -4, 4), gh = rng.uniformArray(4 * hp, -4, 4);
  for (const n of [hp, 64]) {
    cases.push({ name: `GRU gate activations, H = ${n}`, make: (k) => {
      const pgi = place(k, gi.subarray(0, 3 * n)), pgh = place(k, gh.subarray(0, 3 * n)), ph = k.alloc(n * 4);
      return () => k.exports.gru_gates(pgi, pgh, ph, n);
    } });
  }
  cases.push({ name: `delta encoder, ${hp} elements`, make: (k) => {
    const px = place(k, rng.uniformArray(hp, -1, 1)), pp = k.alloc(hp * 4), pi = k.alloc(hp * 4), pv = k.alloc(hp * 4);
    return () => k.exports.delta_encode(px, pp, hp, 1e9, pi, pv);
  } });
  const H = 1024, T = 16;
  const ws = rng.uniformArray(3 * H * H, -0.05, 0.05);
  const xs = rng.uniformArray(T * H, -1, 1);
  cases.push({ name: `multi-step matmat f32 (SRU H = ${H}, T = ${T}, 12 MB)`, make: (k) => {
    const pw = place(k, ws), pb = k.alloc(3 * H * 4), px = place(k, xs), py = k.alloc(T * 3 * H * 4);
    return () => k.exports.matmat_f32(pw, pb, 3 * H, H, px, T, py);
  } });
  return cases;
}

async function buildsSection(plan: TimingPlan): Promise<BenchSection> {
  const relaxed = relaxedSimdSupported();
  const builds: KernelBuild[] = relaxed ? ['relaxed-simd', 'simd128'] : ['simd128'];
  const kernels = builds.map((b) => loadKernels({ build: b }));
  const rows: string[][] = [];
  for (const c of kernelCases()) {
    const fns = kernels.map((k) => c.make(k));
    const contenders = fns.flatMap((f, j) => (f ? [{ name: builds[j]!, step: () => f() }] : []));
    const t = await timeInterleaved(contenders, plan);
    const r = t.get('relaxed-simd');
    const s = t.get('simd128');
    rows.push([c.name, r !== undefined ? fmtUs(r) : '-', s !== undefined ? fmtUs(s) : '-', r !== undefined && s !== undefined ? fmtX(s / r) : '-']);
  }
  return {
    title: 'Kernels: relaxed SIMD against SIMD128 (us per call, median, round-robin)',
    columns: ['kernel', 'relaxed-simd', 'simd128', 'relaxed speedup'],
    rows,
    notes: [
      `This engine loads the '${kernelBuild()}' build by default; relaxed SIMD ${relaxed ? 'validated and passed the self-test' : 'is not run correctly here (not validated, or the self-test failed): only SIMD128 is measured'}.`,
      'relaxed-simd: f32x4.relaxed_madd (one fused vfmadd on x86 with FMA) in every float kernel, i32x4.relaxed_dot_i8x16_i7x16_add_s for the packed int8 mat-vec (weights first, activations as unsigned 7-bit codes; the 14-bit mode runs two planes). "-": the kernel exists only in the relaxed build. Both builds run the same layouts where both have the kernel, so the ratio is the instruction set alone.',
      'The row-major f32 kernel gets slower with FMA: its 4 accumulator chains become latency bound (4-cycle FMA latency, one chain per row); the 8-row packed kernel keeps 8 independent chains and is what the executors use on both SIMD builds.',
    ],
  };
}

async function builtinSection(ctx: BenchContext, plan: TimingPlan): Promise<BenchSection | null> {
  if (!existsSync(BUILTIN_MODEL_FILE)) return null;
  const model = await loadBuiltinModel();
  const task = modelTask(model);
  const { dataset } = builtinHeldout(task, 'committed', { maxFrames: ctx.quick ? 2000 : 20000 });
  const { features, frames } = concatFeatures(dataset);
  const I = model.layers[0]!.inputSize;
  const th = { thresholdX: Number(model.meta.thresholdX ?? 0.4), thresholdH: Number(model.meta.thresholdH ?? 0.3) };
  const x = Float32Array.from(features.subarray(0, frames * I));
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const weights of ['f32', 'int8'] as const) {
    const dense = createSession(model, { weights });
    const delta = createSession(model, { ...th, weights });
    const r = await timeRounds([
      { name: 'dense', step: frameStepper(dense, x, I) },
      { name: 'delta', step: frameStepper(delta, x, I) },
    ], plan);
    const st = delta.stats();
    // Ratio per repetition (the pair ran back to back), then the median.
    const wall = medianRatio(r, 'dense', 'delta');
    rows.push([weights, fmtUs(median(r.get('dense')!)), fmtUs(median(r.get('delta')!)), `${(100 * st.occupancy).toFixed(1)} %`, fmtX(st.opsSaving), fmtX(wall), `${(wall / st.opsSaving).toFixed(2)}`]);
    if (weights === 'f32') notes.push(`Target: wall-clock speedup at least 0.7x the ops reduction: ${wall >= 0.7 * st.opsSaving ? 'met' : `MISSED: ${fmtX(wall)} against ${fmtX(0.7 * st.opsSaving)} wanted (${((1 - wall / (0.7 * st.opsSaving)) * 100).toFixed(0)} % short)`}.`);
  }
  return {
    // The shape is read from the model file: the built-in model changes when it is retrained.
    title: `Built-in digits model (${model.name}: ${model.layers.map((l) => `${l.kind.toUpperCase()} ${l.inputSize} -> ${l.kind === 'linear' ? l.outputSize : l.hiddenSize}`).join(', ')}) on its held-out voices: dense against delta`,
    columns: ['weights', 'dense us/step', 'delta us/step', 'occupancy', 'ops reduction', 'wall speedup', 'wall / ops'],
    rows,
    notes: [
      `${frames} frames of real speech features (committed held-out copy), thresholds thx ${th.thresholdX}, thh ${th.thresholdH} (the model's tuned pair); Session.stepInto per frame, dense and delta round-robin in ${plan.reps} short repetitions; wall speedup: the median of the repetitions' ratios.`,
      ...notes,
    ],
  };
}

/**
 * Where the built-in model's delta step goes: each piece timed alone, round-robin with the
 * session step, on the held-out stream (fired columns and gate inputs replayed from it).
 */
async function profileSection(ctx: BenchContext, plan: TimingPlan): Promise<BenchSection | null> {
  if (!existsSync(BUILTIN_MODEL_FILE)) return null;
  const model = await loadBuiltinModel();
  const gru = model.layers[0]!;
  if (gru.kind !== 'gru' || model.layers.length !== 2 || model.layers[1]!.kind !== 'linear') return null;
  const { dataset } = builtinHeldout(modelTask(model), 'committed', { maxFrames: ctx.quick ? 2000 : 20000 });
  const { features, frames } = concatFeatures(dataset);
  const I = gru.inputSize;
  const H = gru.hiddenSize;
  const x = Float32Array.from(features.subarray(0, frames * I));
  const th = { thresholdX: Number(model.meta.thresholdX ?? 0.5), thresholdH: Number(model.meta.thresholdH ?? 0.2) };
  const delta = createSession(model, th);
  const dense = createSession(model);
  const k = loadKernels();
  // Replay material: every step's fired x and h columns, and the gate inputs (memories) of 64 steps.
  const rec = createSession(model, th);
  const ex = (rec as unknown as { executors: WasmRecurrentExecutor[] }).executors[0]!;
  const S = Math.min(frames, 4000);
  const hp = Math.ceil(H / 4) * 4;
  const ld = 3 * hp;
  const idxX: number[][] = [];
  const idxH: number[][] = [];
  const mem: Float32Array[] = [];
  let active = 0;
  for (let t = 0; t < S; t++) {
    rec.step(x.subarray(t * I, (t + 1) * I));
    idxX.push(Array.from(ex.firedXIdx.subarray(0, ex.lastFiredX)));
    idxH.push(Array.from(ex.firedHIdx.subarray(0, ex.lastFiredH)));
    if (ex.lastFiredX + ex.lastFiredH > 0) active++;
    if (t % 61 === 0 && mem.length < 64) {
      const snap = ex.snapshot();
      mem.push(Float32Array.from([...snap.gi.subarray(0, ld), ...snap.gh.subarray(0, ld)]));
    }
  }
  const colMajor = (w: Float32Array, cols: number): number => {
    const rm = padRows(w, 3, H, cols, hp, cols);
    const t = new Float32Array(cols * ld);
    for (let r = 0; r < ld; r++) for (let c = 0; c < cols; c++) t[c * ld + r] = rm[r * cols + c]!;
    const p = k.alloc(t.length * 4);
    k.f32(p, t.length).set(t);
    return p;
  };
  const g = gru as GruLayer;
  const pWih = colMajor(g.weightIh, I), pWhh = colMajor(g.weightHh, H);
  const pack = (lists: number[][]): { ptr: number; at: number[] } => {
    const at: number[] = [];
    const flat: number[] = [];
    for (const l of lists) {
      at.push(flat.length);
      flat.push(...l);
    }
    const ptr = k.alloc(Math.max(flat.length, 1) * 4);
    k.i32(ptr, flat.length).set(flat);
    return { ptr, at };
  };
  const px = pack(idxX), ph = pack(idxH);
  const pVals = k.alloc((Math.max(I, H) + 4) * 4);
  k.f32(pVals, Math.max(I, H) + 4).fill(0.01);
  const pAcc = k.alloc(2 * ld * 4);
  const pMem = k.alloc(mem.length * 2 * ld * 4);
  mem.forEach((m, j) => k.f32(pMem + j * 2 * ld * 4, 2 * ld).set(m));
  const pH = k.alloc(hp * 4), pKeep = k.alloc(2 * hp * 4);
  const views = Array.from({ length: frames }, (_, t) => x.subarray(t * I, (t + 1) * I));
  const out = new Float32Array(delta.outputSize);
  const dex = (delta as unknown as { executors: LayerExecutor[] }).executors;
  const nex = (dense as unknown as { executors: LayerExecutor[] }).executors;
  const in0 = k.f32(dex[0]!.wasmIo!.input, I);
  const din0 = k.f32(nex[0]!.wasmIo!.input, I);
  const rounds = await timeRounds([
    { name: 'session', step: (i) => void delta.stepInto(views[i % frames]!, out) },
    { name: 'gru', step: (i) => { in0.set(views[i % frames]!); dex[0]!.stepFused!(0, 0, 1); } },
    { name: 'cols', step: (i) => {
      const j = i % S;
      k.exports.delta_f32(pWih, ld, 0, ld, px.ptr + px.at[j]! * 4, pVals, idxX[j]!.length, pAcc);
      k.exports.delta_f32(pWhh, ld, 0, ld, ph.ptr + ph.at[j]! * 4, pVals, idxH[j]!.length, pAcc + ld * 4);
    } },
    { name: 'gates', step: (i) => { const m = pMem + (i % mem.length) * 2 * ld * 4; k.exports.gru_gates_keep(m, m + ld * 4, pH, hp, pKeep); } },
    { name: 'readout', step: () => void dex[1]!.stepFused!(dex[0]!.wasmIo!.output, H, 0) },
    { name: 'dense session', step: (i) => void dense.stepInto(views[i % frames]!, out) },
    { name: 'dense gru', step: (i) => { din0.set(views[i % frames]!); nex[0]!.stepFused!(0, 0, 1); } },
  ], plan);
  const v = (n: string) => median(rounds.get(n)!);
  // Differences per repetition, then the median.
  const diff = (f: (r: number) => number) => median(rounds.get('session')!.map((_, r) => f(r)));
  const at = (n: string, r: number) => rounds.get(n)![r]!;
  const session = v('session');
  const gates = v('gates') * (active / S);
  const rest = diff((r) => at('gru', r) - at('cols', r) - at('gates', r) * (active / S));
  const glue = diff((r) => at('session', r) - at('gru', r) - at('readout', r));
  const share = (u: number) => `${((100 * u) / session).toFixed(0)} %`;
  const st = delta.stats();
  const denseStep = v('dense session');
  const floor = v('cols') + gates + v('readout');
  return {
    title: `Where a step goes: built-in digits model (GRU ${I} -> ${H}, linear ${H} -> ${model.layers[1]!.kind === 'linear' ? model.layers[1]!.outputSize : 0}), delta at thx ${th.thresholdX} / thh ${th.thresholdH} (us per step, each piece alone, median, round-robin)`,
    columns: ['piece', 'us per step', 'share of the delta step'],
    rows: [
      ['delta session step (Session.stepInto)', fmtUs(session), '100 %'],
      ['GRU layer_step alone (frame copy + one call)', fmtUs(v('gru')), share(v('gru'))],
      [`- fired columns (delta_f32 x 2 on the stream's fired lists: ${(idxX.reduce((a, l) => a + l.length, 0) / S).toFixed(1)} x + ${(idxH.reduce((a, l) => a + l.length, 0) / S).toFixed(1)} h columns of ${ld} rows)`, fmtUs(v('cols')), share(v('cols'))],
      [`- gate pass (gru_gates_keep, ${H} units; runs on the ${((100 * active) / S).toFixed(1)} % of steps where something fired)`, fmtUs(gates), share(gates)],
      ['- the rest: encoders of x and h, kept-activation logic, frame copy, call (by difference)', fmtUs(rest), share(rest)],
      [`linear readout layer_step (${H} -> ${model.layers[1]!.kind === 'linear' ? model.layers[1]!.outputSize : 0}, input copied from h, 8-row packed)`, fmtUs(v('readout')), share(v('readout'))],
      ['session: frame and output checks, statistics, output copy (by difference)', fmtUs(glue), share(glue)],
      ['dense session step', fmtUs(denseStep), ''],
      ['dense GRU layer_step alone (two 8-row packed mat-vecs + gate pass)', fmtUs(v('dense gru')), ''],
    ],
    notes: [
      `${frames} held-out frames; occupancy ${(100 * st.occupancy).toFixed(1)} %, ${fmtX(st.opsSaving)} fewer ops than dense; wall speedup in this run ${fmtX(medianRatio(rounds, 'dense session', 'session'))} (${(medianRatio(rounds, 'dense session', 'session') / st.opsSaving).toFixed(2)} of the ops reduction; medians of ${plan.reps} short round-robin repetitions, differences and ratios per repetition).`,
      `The gate pass and the readout are the same work in the dense step and are not counted as saved ops; fired columns, gate pass and readout alone take ${fmtUs(floor)} us, so even with no other cost the wall speedup here would be ${fmtX(denseStep / floor)} (${(denseStep / floor / st.opsSaving).toFixed(2)} of the ops reduction).`,
      'Pieces timed alone run in a warm cache on replayed inputs (the same fired lists, gate inputs of 64 recorded steps), so the differences are estimates; the session and layer_step rows are the real stream.',
    ],
  };
}

async function overheadSection(ctx: BenchContext, plan: TimingPlan): Promise<BenchSection> {
  const nets: Array<{ name: string; model: Model; opts: SessionOptions[] }> = [];
  if (existsSync(BUILTIN_MODEL_FILE)) {
    const m = await loadBuiltinModel();
    nets.push({ name: 'built-in digits model', model: m, opts: [{}, { thresholdX: Number(m.meta.thresholdX ?? 0.5), thresholdH: Number(m.meta.thresholdH ?? 0.2) }] });
  }
  nets.push({ name: 'EdgeDRNN network (2L GRU 768, I = 40)', model: randomModel(768, 40, [{ kind: 'gru', hiddenSize: 768 }, { kind: 'gru', hiddenSize: 768 }]), opts: [{ weights: 'int8' }, { thresholdX: 1e9, thresholdH: 1e9, weights: 'int8' }, { thresholdX: 0.1, thresholdH: 0.1, weights: 'int8' }] });
  const rows: string[][] = [];
  for (const net of nets) {
    const I = net.model.layers[0]!.inputSize;
    const frames = smoothStream(7, ctx.quick ? 64 : 512, I, 0.3);
    for (const opts of net.opts) {
      ctx.log(`kernels: overhead, ${net.name} ${JSON.stringify(opts)}`);
      const s = createSession(net.model, opts);
      // The bare chain runs its own executors (same layout, same state evolution).
      const f = createWasmExecutorFactory({ weights: opts.weights ?? 'f32' });
      const delta = opts.thresholdX !== undefined;
      const cfg = (l: Model['layers'][number]) => ({ delta: delta && l.kind !== 'linear', thresholdX: opts.thresholdX ?? 0, thresholdH: opts.thresholdH ?? 0, biasConvention: 'cudnn' as const });
      const exs = net.model.layers.map((l) => f(l, cfg(l)));
      const exsCalls = net.model.layers.map((l) => f(l, cfg(l)));
      const t = await timeRounds([
        { name: 'session', step: frameStepper(s, frames, I) },
        { name: 'bare', step: bareChain(exs, frames, I) },
        { name: 'calls', step: bareChain(exsCalls, frames, I, true) },
      ], plan);
      const a = median(t.get('session')!);
      const b = median(t.get('bare')!);
      const c = median(t.get('calls')!);
      const over = median(t.get('session')!.map((v, r) => v - t.get('bare')![r]!));
      const mode = !delta ? 'dense' : opts.thresholdX! > 1e6 ? 'delta, nothing fires' : `delta (occupancy ${(100 * s.stats().occupancy).toFixed(1)} %)`;
      rows.push([net.name, `${mode}, ${opts.weights ?? 'f32'}`, fmtUs(a), fmtUs(b), fmtUs(over), fmtUs(c), fmtX(medianRatio(t, 'calls', 'bare'))]);
    }
  }
  return {
    title: 'Session overhead: Session.stepInto against the sum of its kernels (us per step, median, round-robin)',
    columns: ['network', 'mode', 'session step', 'kernels only (bare chain)', 'overhead', 'separate kernel calls (bare chain)', 'one call per layer vs separate calls'],
    rows,
    notes: [
      'Kernels only: the frame copied into the first layer\'s input, each layer\'s kernel calls (stepWasm: one layer_step call per layer), the layer outputs copied in wasm memory, the last output copied out: what any caller must do. The session adds the frame check, statistics and dispatch. The three are interleaved in short repetitions; overhead and the last column are medians of the repetitions\' differences and ratios (negative overheads are measurement noise).',
      'Separate kernel calls: the same chain with each layer stepping through its kernels one call at a time (encoders, delta columns, gates; or the mat-vecs and gates): the path sessions took before the one-call layer step, and its reference in the tests.',
      '"Nothing fires" measures the fixed work of a delta step (encoders, state update from the kept gate activations, re-synchronisation bands); target at most 5 us on the EdgeDRNN network.',
    ],
  };
}

function accuracySection(ctx: BenchContext): BenchSection {
  const rows: string[][] = [];
  const T = ctx.quick ? 50 : 300;
  for (const H of [256, 768]) {
    const model = randomModel(H + 1, 40, [{ kind: 'gru', hiddenSize: H }, { kind: 'gru', hiddenSize: H }]);
    const frames = smoothStream(3, T, 40, 0.3);
    const ref = runModelRef(model, frames).outputs;
    const cfg = { delta: false, thresholdX: 0, thresholdH: 0, biasConvention: 'cudnn' as const };
    const run = (f: ReturnType<typeof createWasmExecutorFactory>): Float32Array => {
      const exs = model.layers.map((l) => f(l, cfg));
      const s = { executors: exs };
      const out = new Float32Array(T * H);
      for (let t = 0; t < T; t++) {
        let v: Float64Array = Float64Array.from(frames.subarray(t * 40, (t + 1) * 40));
        for (const e of s.executors) v = e.step(v);
        for (let j = 0; j < H; j++) out[t * H + j] = v[j]!;
      }
      return out;
    };
    const rms = (y: Float32Array) => Math.sqrt(y.reduce((a, v, i) => a + (v - ref[i]!) ** 2, 0) / y.length);
    const variants: Array<[string, ReturnType<typeof createWasmExecutorFactory> | null]> = [
      ['int16 activations (simd128 build)', createWasmExecutorFactory({ build: 'simd128', weights: 'int8' })],
      ['14-bit codes, relaxed dot', relaxedSimdSupported() ? createWasmExecutorFactory({ build: 'relaxed-simd', weights: 'int8', activationBits: 14 }) : null],
      ['7-bit codes, relaxed dot', relaxedSimdSupported() ? createWasmExecutorFactory({ build: 'relaxed-simd', weights: 'int8', activationBits: 7 }) : null],
    ];
    for (const [name, f] of variants) {
      if (!f) {
        rows.push([`2L GRU H=${H}`, name, '-', '-']);
        continue;
      }
      const y = run(f);
      rows.push([`2L GRU H=${H}, I=40, ${T} steps`, name, maxAbsDiff(y, ref).toExponential(1), rms(y).toExponential(1)]);
    }
  }
  return {
    title: 'int8 weights: accuracy of the activation codes (dense, h of the last layer against float64)',
    columns: ['network', 'activations', 'max |err|', 'rms err'],
    rows,
    notes: ['Weights: int8 with per-row scales in every case. The 7-bit and 14-bit codes are exact integer arithmetic (the code offset is removed exactly with the row sums); the error is the activation rounding: 14-bit is within a bit of int16, 7-bit trades accuracy for about twice the speed (section "Kernels"). Sessions use 14-bit unless the session option `activationBits: 7` (CLI `--activation-bits 7`) is given.'],
  };
}

export const kernelsSuite: BenchSuite = {
  name: 'kernels',
  async run(ctx: BenchContext): Promise<BenchSection[]> {
    const plan = timingPlan(ctx);
    ctx.log('kernels: relaxed against SIMD128');
    const out: BenchSection[] = [await buildsSection(plan)];
    ctx.log('kernels: built-in model dense against delta');
    const paired = pairedPlan(ctx);
    const b = await builtinSection(ctx, paired);
    if (b) out.push(b);
    out.push(await overheadSection(ctx, paired));
    ctx.log('kernels: where a step goes');
    const w = await profileSection(ctx, paired);
    if (w) out.push(w);
    out.push(accuracySection(ctx));
    return out;
  },
};
