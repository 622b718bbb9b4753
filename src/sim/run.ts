/**
 * From a model and an input stream to a workload: run a real session with tracing on and turn
 * its trace into the simulator's workload. This is the only way the CLI builds workloads, so
 * what is simulated is what the runtime did on the user's data.
 */
import { check, isDeltakitError } from '../core/errors.js';
import type { Model } from '../model/types.js';
import { createSession } from '../runtime/session.js';
import type { BiasConvention, SessionStats, StepTrace } from '../runtime/types.js';
import { EdgeDrnnMachine } from '../quant/edgedrnn/machine.js';
import { buildEdgeDrnnProgram, quantizeStimulus } from '../quant/edgedrnn/program.js';
import { WorkloadBuilder, type Workload } from './workload/workload.js';

export interface TracedRunOptions {
  /** Delta thresholds; give neither for a dense run. */
  thresholdX?: number;
  thresholdH?: number;
  biasConvention?: BiasConvention;
  /** Called after each chunk of steps (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
  /** Also receives every step (e.g. a TraceWriter's write, to record a trace file). */
  onTrace?: (step: StepTrace) => void;
}

/**
 * Run `frames` (T*I flat) through a traced session and return the workload and the statistics.
 *
 * @example const { workload } = traceWorkload(model, frames, { thresholdX: 0.1, thresholdH: 0.1 });
 */
export function traceWorkload(model: Model, frames: Float32Array, o: TracedRunOptions = {}): { workload: Workload; stats: SessionStats } {
  // The steps stream into a compact builder (4 bytes per fired index), not an in-memory trace.
  const builder = new WorkloadBuilder(model);
  const session = createSession(model, {
    ...(o.thresholdX !== undefined ? { thresholdX: o.thresholdX } : {}),
    ...(o.thresholdH !== undefined ? { thresholdH: o.thresholdH } : {}),
    ...(o.biasConvention ? { biasConvention: o.biasConvention } : {}),
    onTrace: (st) => {
      builder.add(st);
      o.onTrace?.(st);
    },
  });
  const I = session.inputSize;
  check(frames.length > 0 && frames.length % I === 0, 'E_SHAPE', () => `input: expected T x ${I} values (T >= 1), found ${frames.length}`);
  const T = frames.length / I;
  const CHUNK = 2048;
  for (let t = 0; t < T; t += CHUNK) {
    const end = Math.min(T, t + CHUNK);
    session.run(frames.subarray(t * I, end * I));
    o.onProgress?.(end, T);
  }
  const delta = session.isDelta;
  const workload = builder.build({
    thresholdX: delta ? (o.thresholdX ?? 0) : null,
    thresholdH: delta ? (o.thresholdH ?? 0) : null,
  }, delta ? 'session' : 'dense');
  return { workload, stats: session.stats() };
}

/**
 * The EdgeDRNN trace from the bit-exact fixed-point machine (src/quant/edgedrnn): the firing
 * decisions the hardware makes on Q8.8 deltas (zero deltas never fire, thresholds are register
 * codes), instead of the float session's. The model must be a GRU stack, optionally followed by
 * linear layers (which run on the CPU and appear as dense layers).
 *
 * @example const { workload, warnings } = traceEdgeDrnnWorkload(model, frames, { thresholdX: 0.1, thresholdH: 0.1 });
 */
export function traceEdgeDrnnWorkload(
  model: Model,
  frames: Float32Array,
  o: { thresholdX?: number; thresholdH?: number; onProgress?: (done: number, total: number) => void; onTrace?: (step: StepTrace) => void } = {},
): { workload: Workload; warnings: string[]; firedBias: number } {
  const built = buildEdgeDrnnProgram(model, { thresholdX: o.thresholdX ?? 0, thresholdH: o.thresholdH ?? 0 });
  const I = built.inputSize;
  check(frames.length > 0 && frames.length % I === 0, 'E_SHAPE', () => `input: expected T x ${I} values (T >= 1), found ${frames.length}`);
  const extra = model.layers.length - built.program.config.hiddenSizes.length;
  const builder = new WorkloadBuilder(model);
  const machine = new EdgeDrnnMachine(built.program, {
    onTrace: (st) => {
      // The linear head runs on the CPU: a dense entry per linear layer.
      const full = extra > 0 ? [...st, ...new Array<null>(extra).fill(null)] : st;
      builder.add(full);
      o.onTrace?.(full);
    },
  });
  machine.run(quantizeStimulus(frames, I, built.program.config.inputSize), o.onProgress);
  // The register codes the hardware compares with, back in real units.
  const workload = builder.build({
    thresholdX: built.program.config.thresholdX / 256,
    thresholdH: built.program.config.thresholdH / 256,
  }, 'fixed-point');
  const firedBias = machine.stats().layers.reduce((a, l) => a + l.firedBias, 0);
  return { workload, warnings: built.warnings, firedBias };
}

/**
 * Whether the EdgeDRNN fixed-point machine can run this model at these thresholds (a GRU stack,
 * optionally followed by linear layers, within the hardware's limits); the reason when not.
 *
 * @example const fit = edgedrnnFits(model, { thresholdX: 0.1, thresholdH: 0.1 }); if (!fit.ok) console.log(fit.reason);
 */
export function edgedrnnFits(model: Model, thresholds: { thresholdX?: number; thresholdH?: number } = {}): { ok: true } | { ok: false; reason: string } {
  try {
    buildEdgeDrnnProgram(model, { thresholdX: thresholds.thresholdX ?? 0, thresholdH: thresholds.thresholdH ?? 0 });
    return { ok: true };
  } catch (e) {
    if (isDeltakitError(e)) return { ok: false, reason: e.message };
    throw e;
  }
}
