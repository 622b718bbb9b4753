/**
 * What a cycle engine returns: raw counts per step and per layer. Derived figures (latency,
 * effective GOp/s, utilisation, energy) are computed once, in ../simulate.ts, the same way for
 * every accelerator.
 */
import type { ArchSpec } from '../spec/params.js';
import { param } from '../spec/presets.js';
import type { Workload } from '../workload/workload.js';

/** Counts of one layer summed over the steps of the workload. */
export interface LayerCounts {
  /** False when the layer runs outside the accelerator (e.g. EdgeDRNN's FC head on the CPU). */
  onAccelerator: boolean;
  cycles: number;
  /** Cycles in which the MAC array waited (on the encoder, on DRAM, or on a busier array). */
  stallCycles: number;
  /** Weight bytes read from off-chip memory. */
  dramBytes: number;
  /** Weight bytes read from on-chip memory. */
  sramBytes: number;
  /** Multiply-accumulates done (useful ones: nonzero weights of fetched columns). */
  macs: number;
  /** Elements the delta encoder scanned. */
  encoderElements: number;
  /** Hidden / output units through the activation pipeline. */
  activations: number;
  /** Weight columns fetched. */
  firedColumns: number;
}

export interface EngineCounts {
  perStep: {
    cycles: Float64Array;
    stallCycles: Float64Array;
    dramBytes: Float64Array;
    macs: Float64Array;
    /** Per layer (model order), per step: the cycles that layer took (0 for layers off the accelerator). */
    layerCycles: Float64Array[];
  };
  layers: LayerCounts[];
  /** Multiply-accumulates the hardware can do per cycle. */
  peakMacsPerCycle: number;
  /** Extra latency in steps from batching steps over time (Sung & Park blocks); 0 otherwise. */
  addedLatencySteps: number;
  notes: string[];
}

/** Expected failures are values, not crashes: a model the hardware cannot run says why. */
export type EngineOutcome = ({ ok: true } & EngineCounts) | { ok: false; reason: string };

export type Engine = (w: Workload, spec: ArchSpec) => EngineOutcome;

/** Zeroed counters of one layer (engines add to them step by step). */
export function emptyLayerCounts(onAccelerator: boolean): LayerCounts {
  return { onAccelerator, cycles: 0, stallCycles: 0, dramBytes: 0, sramBytes: 0, macs: 0, encoderElements: 0, activations: 0, firedColumns: 0 };
}

/** Zeroed per-step arrays for a workload of `steps` steps and `layers` layers. */
export function perStepArrays(steps: number, layers: number): EngineCounts['perStep'] {
  return {
    cycles: new Float64Array(steps),
    stallCycles: new Float64Array(steps),
    dramBytes: new Float64Array(steps),
    macs: new Float64Array(steps),
    layerCycles: Array.from({ length: layers }, () => new Float64Array(steps)),
  };
}

/**
 * Cycles of a layer's activation phase for `units` hidden units: actLatency + actInterval *
 * ceil(units / actLanes). One formula for every engine, because the published works leave it
 * open (Spartus' act_latency / act_interval exist in the authors' code without the formula that
 * uses them; EdgeDRNN's tail, 9 + 5H/8 after the last beat, is read from its RTL): changing the
 * model changes it everywhere.
 *
 * @example const act = activationCycles(spec, 768); // 9 + 5 * 96 = 489 with the edgedrnn preset
 */
export function activationCycles(spec: ArchSpec, units: number): number {
  return param(spec, 'actLatency') + param(spec, 'actInterval') * Math.ceil(units / param(spec, 'actLanes'));
}
