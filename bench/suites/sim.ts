/**
 * Accelerator simulator and CBTD storage:
 *  1. simulated steps per second of each cycle engine on the EdgeDRNN benchmark network
 *     (2-layer GRU, 768 units, 40 inputs) at ~10 % occupancy (target: >= 20,000 steps/s on one core);
 *  2. the published figures as our models reproduce them (the same checks as test/sim/validation);
 *  3. the delta runtime from CBTD-compressed storage against dense storage on a CBTD-pruned
 *     1024-unit LSTM (gamma 0.94, 64 PEs), same outputs checked before timing.
 */
import { existsSync } from 'node:fs';
import { cbtdPruneModel } from '../../src/compress/cbtd/index.js';
import { BUILTIN_MODEL_FILE, builtinHeldout, loadBuiltinModel } from '../../src/train/builtin.js';
import { modelTask } from '../../src/train/task.js';
import { concatFeatures } from '../../src/data/dataset.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { createSession } from '../../src/runtime/index.js';
import { denseWorkload, parseAxis, runSweep, simulate, syntheticWorkload, traceEdgeDrnnWorkload, traceWorkload, type SimOutcome, type SimReport } from '../../src/sim/index.js';
import type { BenchContext, BenchSection, BenchSuite } from '../types.js';
import { timeSync, timingPlan } from '../lib/timing.js';

const fmtUs = (us: number): string => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2));
const fmtX = (r: number): string => `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;

function ok(r: SimOutcome): SimReport {
  if (!r.ok) throw new Error(r.reason);
  return r;
}

function engineThroughput(ctx: BenchContext): BenchSection {
  const plan = timingPlan(ctx);
  const net = randomModel(768, 40, [{ kind: 'gru', hiddenSize: 768 }, { kind: 'gru', hiddenSize: 768 }]);
  const steps = ctx.quick ? 500 : 4000;
  const w = syntheticWorkload(net, { steps, occupancyX: 0.1, seed: 1 });
  const rows: string[][] = [];
  const notes: string[] = [];
  let edge = 0;
  for (const arch of ['edgedrnn', 'spartus', 'deltarnn', 'rnnaccel'] as const) {
    ctx.log(`sim: ${arch}`);
    const set = arch === 'deltarnn' || arch === 'spartus' ? { onChipWeightBytes: 0 } : {};
    ok(simulate(w, arch, { set }));
    const us = timeSync(() => void simulate(w, arch, { set }), { ...plan, warmup: 2 });
    const perSec = (steps / us) * 1e6;
    if (arch === 'edgedrnn') edge = perSec;
    rows.push([arch, String(steps), (us / 1000).toFixed(2), Math.round(perSec).toLocaleString('en-US')]);
  }
  // Building the workload from a real traced session run (the CLI path), per step.
  const frames = smoothStream(2, ctx.quick ? 200 : 1000, 40, 0.3);
  const T = frames.length / 40;
  const s0 = performance.now();
  const { workload, stats } = traceWorkload(net, frames, { thresholdX: 0.3, thresholdH: 0.1 });
  const traceUs = ((performance.now() - s0) * 1000) / T;
  const traced = ok(simulate(workload, 'edgedrnn'));
  notes.push(`Target >= 20,000 simulated steps/s for the 2L-768H GRU on one core: EdgeDRNN engine ${Math.round(edge).toLocaleString('en-US')} steps/s, ${edge >= 20_000 ? 'met' : 'MISSED'} (synthetic trace at 10 % occupancy; other engines for comparison; DeltaRNN/Spartus with the on-chip limit lifted, the network exceeds their BRAM).`);
  notes.push(`Producing the trace itself is a real session run: ${fmtUs(traceUs)} us/step for this network (occupancy ${(100 * stats.occupancy).toFixed(1)} %, simulated latency ${traced.total.latencyUs.toFixed(0)} us/step on EdgeDRNN); sweeps over architecture parameters reuse one trace.`);
  return { title: 'Simulator throughput (2L-768H GRU, 10 % occupancy)', columns: ['engine', 'steps', 'ms per run', 'simulated steps/s'], rows, notes };
}

function validation(): BenchSection {
  const rows: string[][] = [];
  const edge = randomModel(1, 40, [{ kind: 'gru', hiddenSize: 768 }, { kind: 'gru', hiddenSize: 768 }]);
  const dense = ok(simulate(denseWorkload(edge, 2), 'edgedrnn'));
  rows.push(['EdgeDRNN dense peak (8 PEs, 125 MHz)', '2 GOp/s', `${dense.total.effectiveGops.toFixed(3)} GOp/s, ${(dense.total.latencyUs / 1000).toFixed(2)} ms/step`]);
  for (const occ of [0.09, 0.1]) {
    const r = ok(simulate(syntheticWorkload(edge, { steps: 200, occupancyX: occ }), 'edgedrnn'));
    rows.push([`EdgeDRNN 2L-768H at ${occ * 100} % occupancy`, '~0.5 ms, 20.2 GOp/s', `${(r.total.latencyUs / 1000).toFixed(3)} ms, ${r.total.effectiveGops.toFixed(1)} GOp/s`]);
  }
  const lstm = randomModel(2, 120, [{ kind: 'lstm', hiddenSize: 1024 }]);
  const sd = ok(simulate(denseWorkload(lstm, 1), 'spartus'));
  rows.push(['Spartus peak (8 x 64 PEs, 200 MHz)', '204.8 GOp/s', `${sd.total.peakGops.toFixed(1)} GOp/s peak; dense step ${sd.total.effectiveGops.toFixed(1)} GOp/s`]);
  const pruned = cbtdPruneModel(lstm, { gamma: 0.94, pes: 64 });
  const sp = ok(simulate(syntheticWorkload(pruned, { steps: 200, occupancyX: 0.18 }), 'spartus'));
  rows.push(['Spartus 1024-unit DeltaLSTM, 93.75 % CBTD, 18 % occupancy', '~1 us, 9.4 TOp/s, 46x', `${sp.total.latencyUs.toFixed(2)} us, ${(sp.total.effectiveGops / 1000).toFixed(2)} TOp/s, ${sp.total.speedupOverPeak.toFixed(1)}x`]);
  const g = randomModel(3, 40, [{ kind: 'gru', hiddenSize: 256 }]);
  const gd = ok(simulate(denseWorkload(g, 2), 'deltarnn'));
  const gs = ok(simulate(syntheticWorkload(g, { steps: 200, occupancyX: 0.11 }), 'deltarnn'));
  rows.push(['DeltaRNN 1L-256H GRU at 11 % occupancy', '5.7x over dense, 1.2 TOp/s', `${fmtX(gd.total.latencyUs / gs.total.latencyUs)}, ${(gs.total.effectiveGops / 1000).toFixed(2)} TOp/s`]);
  const kws = randomModel(4, 16, [{ kind: 'lstm', hiddenSize: 128 }, { kind: 'linear', outputSize: 12 }]);
  const rk = ok(simulate(denseWorkload(kws, 2), 'rnnaccel'));
  rows.push(['RNNAccel 32 MACs, KWS LSTM 16-128-12', '90 % utilisation', `${(100 * rk.total.utilisation).toFixed(1)} %`]);
  const sru = randomModel(5, 64, [{ kind: 'sru', hiddenSize: 64 }, { kind: 'sru', hiddenSize: 64 }]);
  const sw = denseWorkload(sru, 16);
  const b1 = ok(simulate(sw, 'rnnaccel', { set: { timeBlock: 1 } })).total.dramBytesPerStep;
  const b8 = ok(simulate(sw, 'rnnaccel', { set: { timeBlock: 8 } })).total.dramBytesPerStep;
  rows.push(['SRU weight traffic per step, T = 8', 'falls by T', `${b1.toFixed(0)} -> ${b8.toFixed(0)} bytes (/${(b1 / b8).toFixed(2)})`]);
  return {
    title: 'Simulator against the published figures',
    columns: ['figure', 'published', 'simulated'],
    rows,
    notes: ['Occupancies are those of synthetic traces: the published temporal sparsities come from data we do not have. docs/simulator.md explains each row.'],
  };
}

function cbtdSpeed(ctx: BenchContext): BenchSection {
  const plan = timingPlan(ctx);
  const model = cbtdPruneModel(randomModel(9, 120, [{ kind: 'lstm', hiddenSize: 1024 }]), { gamma: 0.94, pes: 64 });
  const I = 120;
  const frames = smoothStream(3, 256, I, 0.3);
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const th of [null, { thresholdX: 0.1, thresholdH: 0.05 }] as const) {
    const opts = th ?? {};
    const dense = createSession(model, { ...opts, backend: 'js' });
    const cbtd = createSession(model, { ...opts, weightStorage: 'cbtd', cbtdPes: 64 });
    const wasm = createSession(model, opts);
    const diff = maxAbsDiff(dense.run(frames.subarray(0, 32 * I)), cbtd.run(frames.subarray(0, 32 * I)));
    if (!(diff < 1e-6)) throw new Error(`cbtd storage disagrees with dense storage: ${diff}`);
    const occ = cbtd.stats().occupancy;
    const stepper = (s: typeof dense) => (i: number) => {
      const t = i % 256;
      s.step(frames.subarray(t * I, (t + 1) * I));
    };
    ctx.log(`sim: cbtd ${th ? 'delta' : 'dense'}`);
    const uDense = timeSync(stepper(dense), plan);
    const uCbtd = timeSync(stepper(cbtd), plan);
    const uWasm = timeSync(stepper(wasm), plan);
    const mode = th ? `delta (thx 0.1, thh 0.05; occupancy ${(100 * occ).toFixed(1)} %)` : 'dense update';
    rows.push([mode, `${fmtUs(uDense)} (${dense.paths[0]})`, `${fmtUs(uWasm)} (${wasm.paths[0]})`, `${fmtUs(uCbtd)} (${cbtd.paths[0]})`, fmtX(uDense / uCbtd)]);
  }
  notes.push('Same model (1024-unit LSTM, 120 inputs, CBTD gamma 0.94 on 64 PEs: 4 of 64 weights per PE sub-column kept); outputs of the CBTD path checked against dense storage (< 1e-6) before timing. Speedup is CBTD js over dense-storage js; the ideal is 16x (93.75 % of the weights skipped), less the index arithmetic and the element-wise gate work.');
  return { title: 'Delta runtime from CBTD-compressed storage', columns: ['mode', 'dense storage us/step', 'default backend us/step', 'CBTD storage us/step', 'CBTD speedup'], rows, notes };
}

/** The built-in digits DeltaGRU on its held-out voices, on every accelerator (when the model is present). */
async function builtinOnAccelerators(ctx: BenchContext): Promise<BenchSection | null> {
  if (!existsSync(BUILTIN_MODEL_FILE)) return null;
  const model = await loadBuiltinModel();
  const task = modelTask(model);
  const { dataset, source } = builtinHeldout(task, 'committed', ctx.quick ? { maxFrames: 3000 } : {});
  const { features: x, frames } = concatFeatures(dataset);
  const th = { thresholdX: Number(model.meta.thresholdX ?? 0.5), thresholdH: Number(model.meta.thresholdH ?? 0.2) };
  ctx.log(`sim: built-in model, ${frames} frames`);
  const { workload } = traceWorkload(model, x, th);
  const rows: string[][] = [];
  for (const arch of ['edgedrnn', 'spartus', 'deltarnn', 'rnnaccel'] as const) {
    const r = simulate(workload, arch);
    if (!r.ok) {
      rows.push([arch, '-', '-', '-', '-', r.reason]);
      continue;
    }
    const p99 = Array.from(r.perStep.cycles).sort((a, b) => a - b)[Math.floor(0.99 * (r.total.steps - 1))]! / r.clockMHz;
    rows.push([arch, (100 * r.total.occupancy).toFixed(1), `${r.total.latencyUs.toPrecision(3)} / ${p99.toPrecision(3)}`, r.total.effectiveGops.toPrecision(3), fmtX(r.total.speedupOverDenseUpdate), r.total.dramBytesPerStep.toFixed(0)]);
  }
  const fp = ok(simulate(traceEdgeDrnnWorkload(model, x, th).workload, 'edgedrnn'));
  rows.push(['edgedrnn (fixed-point trace)', (100 * fp.total.occupancy).toFixed(1), `${fp.total.latencyUs.toPrecision(3)} / -`, fp.total.effectiveGops.toPrecision(3), fmtX(fp.total.speedupOverDenseUpdate), fp.total.dramBytesPerStep.toFixed(0)]);
  // A sweep over this stream: 4 threshold pairs (one traced session run each) x 3 clocks.
  const t0 = performance.now();
  let points = 0;
  await runSweep(model, x, [parseAxis('thx=0.25,0.5,0.75,1'), parseAxis('clockMHz=100,125,200')], { arch: 'edgedrnn', thresholdH: th.thresholdH, onRow: () => void points++ });
  const sweepS = (performance.now() - t0) / 1000;
  return {
    title: 'Simulator on the built-in digits DeltaGRU (real speech features)',
    columns: ['accelerator', 'occupancy %', 'latency us/step (mean / p99)', 'effective GOp/s', 'x over dense update', 'DRAM bytes/step'],
    rows,
    notes: [
      `${model.name} at thx ${th.thresholdX}, thh ${th.thresholdH} on ${dataset.utterances.length} held-out utterances (${frames} frames, ${source} copy), presets unchanged.`,
      `A sweep of ${points} points (4 input thresholds, each a traced session run over all ${frames} frames, x 3 clocks) took ${sweepS.toFixed(1)} s.`,
    ],
  };
}

export const simSuite: BenchSuite = {
  name: 'sim',
  async run(ctx: BenchContext): Promise<BenchSection[]> {
    const real = await builtinOnAccelerators(ctx);
    return [engineThroughput(ctx), validation(), ...(real ? [real] : []), cbtdSpeed(ctx)];
  },
};
