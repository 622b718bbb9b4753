/**
 * Delta GRU step (SPEC §3) against our own dense step, at controlled occupancies.
 *
 * Occupancy (fired columns / all columns) is a property of the stream and the thresholds, so
 * for each target we bisect one threshold (used for both thresholdX and thresholdH) on a
 * wandering stream until the measured occupancy is close, then time the real session at that
 * threshold and report the occupancy actually measured during timing. Also: a smooth stream at
 * fixed thresholds, and the EdgeDRNN network in int8 at 10 % (target < 30 us per step).
 */
import { Rng } from '../../src/core/rng.js';
import { loadKernels } from '../../src/kernels/wasm/loader.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import type { Model } from '../../src/model/types.js';
import { createSession, type SessionOptions } from '../../src/runtime/index.js';
import type { BenchContext, BenchSection, BenchSuite } from '../types.js';
import { sessionStepper } from './gru-step.js';
import { fmtUs, fmtX, timeInterleaved, timeSync, timingPlan, type TimingPlan } from '../lib/timing.js';

/** x_t = 0.9 x_{t-1} + 0.2 n_t: every element wanders, so the threshold sets the occupancy. */
export function wanderingStream(seed: number, T: number, I: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(T * I);
  const v = new Float64Array(I);
  for (let t = 0; t < T; t++) for (let i = 0; i < I; i++) out[t * I + i] = v[i] = 0.9 * v[i]! + 0.2 * rng.normal();
  return out;
}

function occupancyAt(model: Model, frames: Float32Array, th: number, weights: 'f32' | 'int8'): number {
  const s = createSession(model, { thresholdX: th, thresholdH: th, weights });
  s.run(frames);
  return s.stats().occupancy;
}

/** Threshold giving `target` occupancy on `frames` (bisection on log th). */
export function thresholdFor(model: Model, frames: Float32Array, target: number, weights: 'f32' | 'int8'): number {
  let lo = Math.log(1e-5);
  let hi = Math.log(10);
  for (let it = 0; it < 14; it++) {
    const mid = (lo + hi) / 2;
    if (occupancyAt(model, frames, Math.exp(mid), weights) > target) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

interface Timed {
  us: number;
  occupancy: number;
}

interface GroupEntry {
  name: string;
  model: Model;
  frames: Float32Array;
  opts: SessionOptions;
}

/** Sessions timed round-robin (see timeInterleaved): per name, us per step and occupancy. */
async function timeGroup(entries: GroupEntry[], plan: TimingPlan): Promise<Map<string, Timed>> {
  const sessions = entries.map((e) => createSession(e.model, e.opts));
  const t = await timeInterleaved(entries.map((e, k) => ({ name: e.name, step: sessionStepper(sessions[k]!, e.frames, e.model.layers[0]!.inputSize) })), plan);
  return new Map(entries.map((e, k) => [e.name, { us: t.get(e.name)!, occupancy: sessions[k]!.isDelta ? sessions[k]!.stats().occupancy : 1 }]));
}

function timeSession(model: Model, frames: Float32Array, opts: SessionOptions, plan: TimingPlan): Timed {
  const I = model.layers[0]!.inputSize;
  const s = createSession(model, opts);
  const us = timeSync(sessionStepper(s, frames, I), plan);
  return { us, occupancy: s.isDelta ? s.stats().occupancy : 1 };
}

export const deltaSuite: BenchSuite = {
  name: 'delta',
  async run(ctx: BenchContext): Promise<BenchSection[]> {
    const plan = timingPlan(ctx);
    const H = 1024;
    const model = randomModel(H, H, [{ kind: 'gru', hiddenSize: H }]);
    const calib = wanderingStream(1, ctx.quick ? 40 : 120, H);
    // Timing runs on a longer stream (cycled), so the delta state sees fresh frames.
    const stream = wanderingStream(2, 2048, H);
    const rows: string[][] = [];
    const notes: string[] = [];
    const jsPlan = { ...plan, reps: Math.min(plan.reps, 5) };
    const group0 = await timeGroup([
      { name: 'dense f32', model, frames: stream, opts: { weights: 'f32' } },
      { name: 'dense int8', model, frames: stream, opts: { weights: 'int8' } },
      { name: 'idle f32', model, frames: stream, opts: { thresholdX: 1e9, thresholdH: 1e9, weights: 'f32' } },
      { name: 'idle int8', model, frames: stream, opts: { thresholdX: 1e9, thresholdH: 1e9, weights: 'int8' } },
    ], plan);
    const dense = { f32: group0.get('dense f32')!.us, int8: group0.get('dense int8')!.us, js: timeSession(model, stream, { backend: 'js' }, jsPlan).us };
    const idle = { f32: group0.get('idle f32')!, int8: group0.get('idle int8')! };
    rows.push(['dense (reference)', '100 %', fmtUs(dense.f32), '1.00x', '', fmtUs(dense.int8), '1.00x', fmtUs(dense.js), '1.00x']);
    // Fixed per-step work (encoders, gate activations, copies, re-synchronisation): nothing fires.
    rows.push(['0 % (nothing fires)', `${(idle.f32.occupancy * 100).toFixed(1)} %`, fmtUs(idle.f32.us), fmtX(dense.f32 / idle.f32.us), '', fmtUs(idle.int8.us), fmtX(dense.int8 / idle.int8.us), '', '']);
    /** Delta f32 and int8 timed round-robin with the dense steps they are compared with. */
    const deltaRow = async (label: string, frames: Float32Array, th: number) => {
      const g = await timeGroup([
        { name: 'dense f32', model, frames, opts: { weights: 'f32' } },
        { name: 'delta f32', model, frames, opts: { thresholdX: th, thresholdH: th, weights: 'f32' } },
        { name: 'dense int8', model, frames, opts: { weights: 'int8' } },
        { name: 'delta int8', model, frames, opts: { thresholdX: th, thresholdH: th, weights: 'int8' } },
      ], plan);
      const a = g.get('delta f32')!;
      const b = g.get('delta int8')!;
      const c = timeSession(model, frames, { thresholdX: th, thresholdH: th, backend: 'js' }, jsPlan);
      const sa = g.get('dense f32')!.us / a.us;
      const sb = g.get('dense int8')!.us / b.us;
      rows.push([label, `${(a.occupancy * 100).toFixed(1)} %`, fmtUs(a.us), fmtX(sa), fmtX(0.7 / a.occupancy), fmtUs(b.us), fmtX(sb), fmtUs(c.us), fmtX(dense.js / c.us)]);
      return { sa, sb, a, b };
    };
    const targets = ctx.quick ? [0.05, 0.25] : [0.02, 0.05, 0.1, 0.25, 0.5];
    for (const target of targets) {
      ctx.log(`delta: occupancy ${target * 100} %`);
      const th = thresholdFor(model, calib, target, 'f32');
      const { sa, sb, a, b } = await deltaRow(`${(target * 100).toFixed(0)} % (th ${th.toPrecision(2)})`, stream, th);
      const want = 0.7 / a.occupancy;
      if (target >= 0.05) notes.push(`${(target * 100).toFixed(0)} %: f32 speedup ${fmtX(sa)} vs target 0.7/occupancy = ${fmtX(want)}: ${sa >= want ? 'met' : `MISSED by ${((1 - sa / want) * 100).toFixed(0)} %`}; int8 ${fmtX(sb)} (target ${fmtX(0.7 / b.occupancy)}): ${sb >= 0.7 / b.occupancy ? 'met' : `MISSED by ${((1 - sb / (0.7 / b.occupancy)) * 100).toFixed(0)} %`}`);
    }
    // A smooth stream (slowly varying features) at fixed thresholds.
    await deltaRow('smooth stream (th 0.05)', smoothStream(3, 2048, H, 0.05), 0.05);

    // The EdgeDRNN benchmark network, int8 delta at 10 % occupancy.
    ctx.log('delta: EdgeDRNN network');
    const edge = randomModel(768, 40, [{ kind: 'gru', hiddenSize: 768 }, { kind: 'gru', hiddenSize: 768 }]);
    const eCalib = wanderingStream(4, ctx.quick ? 40 : 120, 40);
    const eStream = wanderingStream(5, 2048, 40);
    const eth = thresholdFor(edge, eCalib, 0.1, 'int8');
    const eg = await timeGroup([
      { name: 'dense int8', model: edge, frames: eStream, opts: { weights: 'int8' } },
      { name: 'idle int8', model: edge, frames: eStream, opts: { thresholdX: 1e9, thresholdH: 1e9, weights: 'int8' } },
      { name: 'delta f32', model: edge, frames: eStream, opts: { thresholdX: eth, thresholdH: eth, weights: 'f32' } },
      { name: 'delta int8', model: edge, frames: eStream, opts: { thresholdX: eth, thresholdH: eth, weights: 'int8' } },
    ], plan);
    const e8 = eg.get('delta int8')!;
    const e32 = eg.get('delta f32')!;
    const eDense = eg.get('dense int8')!;
    const eIdle = eg.get('idle int8')!;
    // A step where something fires runs the full gate pass (2 x 768 units, 3 activations each);
    // timed alone on the same kernels so the breakdown below is measured, not guessed.
    const k = loadKernels();
    const pg = k.alloc(4 * 768 * 4), ph = k.alloc(768 * 4);
    k.f32(pg, 3 * 768).set(new Rng(3).uniformArray(3 * 768, -3, 3));
    const gatesUs = 2 * timeSync(() => k.exports.gru_gates(pg, pg, ph, 768), plan);
    k.free(pg);
    k.free(ph);
    // MACs of the fired columns per step: 3H rows per fired column.
    const eMacs = e8.occupancy * (40 + 768 + 768 + 768) * 3 * 768;
    const edgeRows = [
      ['dense int8', '100 %', fmtUs(eDense.us)],
      ['delta int8, nothing fires (fixed per-step work: encoders, state update from kept activations)', `${(eIdle.occupancy * 100).toFixed(1)} %`, fmtUs(eIdle.us)],
      ['full gate activations of both layers (2 x gru_gates, H = 768), kernel alone', '-', fmtUs(gatesUs)],
      [`delta f32 (th ${eth.toPrecision(2)})`, `${(e32.occupancy * 100).toFixed(1)} %`, fmtUs(e32.us)],
      [`delta int8 (th ${eth.toPrecision(2)})`, `${(e8.occupancy * 100).toFixed(1)} %`, fmtUs(e8.us)],
    ];
    return [
      {
        title: `Delta GRU step vs our dense step of the same backend and weights (H = ${H}, I = ${H}, us per step, median)`,
        columns: ['target occupancy', 'measured occupancy', 'wasm f32 delta', 'f32 speedup', 'target 0.7/occ', 'wasm int8 delta', 'int8 speedup', 'js delta', 'js speedup'],
        rows,
        notes: [
          'Occupancy = fired columns / all columns (input and hidden), measured over the timed steps; one threshold for x and h, bisected on a wandering stream. Each row\'s speedups are against the dense steps timed round-robin with it (the first row shows one such dense measurement).',
          ...notes,
          `Why int8 delta speedups are lower than f32's: the int8 dense step is already about ${fmtX(dense.f32 / dense.int8)} faster than the f32 dense step (a quarter of the bytes, 8 MACs per dot instruction), while a fired column costs about as much in int8 as in f32 (the deltas are quantised and two columns interleaved per dot, but the column is short and scattered); and the fixed per-step work (row "0 %": encoders, ${H}-unit gate activations, copies) of ${fmtUs(idle.int8.us)} us caps the speedup at ${fmtX(dense.int8 / idle.int8.us)} however few columns fire.`,
        ],
      },
      {
        title: 'EdgeDRNN network (2L GRU, H = 768, I = 40), delta at 10 % occupancy (us per step)',
        columns: ['mode', 'occupancy', 'us per step'],
        rows: edgeRows,
        notes: [
          `Target: int8 delta at 10 % under 30 us per step (the FPGA needs about 500 us): ${e8.us < 30 ? 'met' : `MISSED by ${fmtX(e8.us / 30)}`} (${fmtUs(e8.us)} us).`,
          `Fixed work of a delta step when nothing fires: ${fmtUs(eIdle.us)} us (target at most 5 us: ${eIdle.us <= 5 ? 'met' : `MISSED by ${fmtX(eIdle.us / 5)}`}); such a step reuses the kept gate activations. A step where something fires adds the full gate pass, ${fmtUs(gatesUs)} us here (2 x 768 units, 3 rational tanh of 11 multiply-adds and a division each), then ${(eMacs / 1e3).toFixed(0)} k multiply-adds of fired columns, which at the ${((eMacs / Math.max(e8.us - eIdle.us - gatesUs, 1e-3)) / 1e3).toFixed(1)} GMAC/s achieved here take the rest. ${eIdle.us + gatesUs >= 25 ? 'The fixed work alone leaves no room under 30 us in this run' : `Under 30 us would need about ${(eMacs / Math.max(30 - eIdle.us - gatesUs, 1e-3) / 1e3).toFixed(0)} GMAC/s on scattered columns`}.`,
        ],
      },
    ];
  },
};
