/**
 * From a model and an input stream to a workload: run a real session with tracing on and turn
 * its trace into the simulator's workload. This is the only way the CLI builds workloads, so
 * what is simulated is what the runtime did on the user's data.
 */
import { check } from '../core/errors.js';
import type { Model } from '../model/types.js';
import { createSession } from '../runtime/session.js';
import type { BiasConvention, SessionStats } from '../runtime/types.js';
import { EdgeDrnnMachine } from '../quant/edgedrnn/machine.js';
import { buildEdgeDrnnProgram, quantizeStimulus } from '../quant/edgedrnn/program.js';
import { workloadFromTrace, type Workload } from './workload/workload.js';

export interface TracedRunOptions {
  /** Delta thresholds; give neither for a dense run. */
  thresholdX?: number;
  thresholdH?: number;
  biasConvention?: BiasConvention;
  /** Called after each chunk of steps (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Run `frames` (T*I flat) through a traced session and return the workload and the statistics.
 *
 * @example const { workload } = traceWorkload(model, frames, { thresholdX: 0.1, thresholdH: 0.1 });
 */
export function traceWorkload(model: Model, frames: Float32Array, o: TracedRunOptions = {}): { workload: Workload; stats: SessionStats } {
  const session = createSession(model, {
    ...(o.thresholdX !== undefined ? { thresholdX: o.thresholdX } : {}),
    ...(o.thresholdH !== undefined ? { thresholdH: o.thresholdH } : {}),
    ...(o.biasConvention ? { biasConvention: o.biasConvention } : {}),
    trace: true,
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
  const workload = workloadFromTrace(model, session.trace(), {
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
  o: { thresholdX?: number; thresholdH?: number; onProgress?: (done: number, total: number) => void } = {},
): { workload: Workload; warnings: string[]; firedBias: number } {
  const built = buildEdgeDrnnProgram(model, { thresholdX: o.thresholdX ?? 0, thresholdH: o.thresholdH ?? 0 });
  const I = built.inputSize;
  check(frames.length > 0 && frames.length % I === 0, 'E_SHAPE', () => `input: expected T x ${I} values (T >= 1), found ${frames.length}`);
  const machine = new EdgeDrnnMachine(built.program, { trace: true });
  machine.run(quantizeStimulus(frames, I, built.program.config.inputSize), o.onProgress);
  const extra = model.layers.length - built.program.config.hiddenSizes.length;
  const trace = machine.trace().map((st) => [...st, ...new Array<null>(extra).fill(null)]);
  // The register codes the hardware compares with, back in real units.
  const workload = workloadFromTrace(model, trace, {
    thresholdX: built.program.config.thresholdX / 256,
    thresholdH: built.program.config.thresholdH / 256,
  }, 'fixed-point');
  const firedBias = machine.stats().layers.reduce((a, l) => a + l.firedBias, 0);
  return { workload, warnings: built.warnings, firedBias };
}
