/**
 * The streaming runtime's public contract: options a session takes, the statistics it keeps,
 * and the trace of fired columns it can record for the accelerator simulator.
 */

/**
 * Bias conventions of the delta cells.
 * - `cudnn`: Mr = b_ir+b_hr, Mz = b_iz+b_hz, Mnx = b_in, Mnh = b_hn. With thresholds 0 it equals
 *   torch.nn.GRU exactly.
 * - `edgedrnn`: one bias per gate, as the EdgeDRNN hardware stores it (an extra weight column):
 *   Mr = b_ir+b_hr, Mz = b_iz+b_hz, Mnx = b_in+b_hn, Mnh = 0. Differs from PyTorch wherever
 *   b_hn != 0 (the hardware does not multiply b_hn by r).
 * LSTM has one memory per gate in both conventions: M = b_ih + b_hh.
 */
export type BiasConvention = 'cudnn' | 'edgedrnn';

export type Backend = 'js' | 'wasm';

export interface SessionOptions {
  /**
   * Delta threshold for every recurrent layer's input (layer 2's input is layer 1's h, still
   * tested against thresholdX). An element fires when |x - xPrev| >= thresholdX.
   * Giving thresholdX or thresholdH (even 0) makes the session a delta network; the missing one
   * defaults to 0. Giving neither runs the dense network.
   */
  thresholdX?: number;
  /** Delta threshold for the recurrent state h. */
  thresholdH?: number;
  /** Default `cudnn`. Only meaningful for delta sessions. */
  biasConvention?: BiasConvention;
  /** Compute backend. Default: the fastest one available. */
  backend?: Backend;
  /**
   * Called after every step with the indices of the fired input and hidden elements of each delta
   * layer (null for dense layers): what the accelerator simulator replays. Stream it to a trace
   * file (deltakit/sim `createTraceFileWriter`) or a `WorkloadBuilder`; the session keeps nothing.
   */
  onTrace?: (step: StepTrace) => void;
  /**
   * Deprecated: use onTrace. Keeps the trace in memory for `trace()`, about 1.2 KB per step, so it
   * is bounded: at most TRACE_MEMORY_LIMIT (100 000) steps, after which a step fails with E_LIMIT.
   */
  trace?: boolean;
  /**
   * Where GRU/LSTM weights are read from. `cbtd`: CBTD-compressed storage (values plus per-PE
   * row indices, src/compress/cbtd), which skips pruned weights; use it on a CBTD-pruned model.
   * Default `dense`.
   */
  weightStorage?: 'dense' | 'cbtd';
  /** PEs per array of the CBTD storage layout (default 64, the Spartus/TIMIT setup). */
  cbtdPes?: number;
  /**
   * Weight precision of the wasm backend. `int8`: symmetric int8 with one scale per row (dense
   * layers quantise their input to int16 per step, delta layers their fired deltas, with error
   * feedback); a quarter of the memory traffic, accuracy effect in docs/performance.md.
   * Default `f32`. The js backend is f32 only.
   */
  weights?: 'f32' | 'int8';
  /**
   * With `weights: 'int8'`, on the relaxed-SIMD kernel build: bits of the quantised activations of
   * dense layers, 14 (default: two 7-bit planes of the relaxed int8 dot, the accuracy of int16) or
   * 7 (one plane: about twice as fast where the dot is not native, about twice the error; measured
   * in BENCHMARKS.md). Other builds quantise activations to int16 whatever this says.
   */
  activationBits?: 7 | 14;
}

/** Counters for one layer, accumulated over the steps since the last reset. */
export interface LayerStats {
  kind: string;
  /** Whether this layer ran with delta updates. */
  delta: boolean;
  inputSize: number;
  /** Hidden size for recurrent layers, output size for linear ones. */
  outputSize: number;
  /** Sum over steps of fired input elements (equals steps * inputSize when dense). */
  firedX: number;
  /** Sum over steps of fired hidden elements (equals steps * hiddenSize when dense; 0 for non-recurrent layers). */
  firedH: number;
  /** Reset-before GRU layers only: sum over steps of fired q = r * h elements (W_hn's columns). */
  firedQ?: number;
  /** Matrix-vector ops (2 per multiply-accumulate) the dense network would do. */
  denseOps: number;
  /** Matrix-vector ops actually done (only the fired columns, for delta layers). */
  ops: number;
}

export interface SessionStats {
  steps: number;
  layers: LayerStats[];
  /** Sum over layers. */
  denseOps: number;
  ops: number;
  /** Fired input elements / possible ones, over delta layers (1 when dense). */
  occupancyX: number;
  /** Fired hidden elements / possible ones, over delta layers. */
  occupancyH: number;
  /** Fired columns / all columns, over delta layers: the fraction of weight columns read. */
  occupancy: number;
  /** 1 - occupancy: the temporal sparsity of the published results. */
  temporalSparsity: number;
  /** denseOps / ops. */
  opsSaving: number;
}

/** Fired element indices of one delta layer in one step. */
export interface LayerStepTrace {
  firedX: Int32Array;
  firedH: Int32Array;
  /** Reset-before GRU only: fired q = r * h elements (columns of W_hn). */
  firedQ?: Int32Array;
  /**
   * Whether the layer's bias pseudo-column fired (EdgeDRNN stores the biases as an extra weight
   * column driven by a pseudo-input of 1.0). Recorded by the EdgeDRNN fixed-point machine and
   * trace files that carry it; absent from float sessions.
   */
  bias?: boolean;
}

/** One step of a traced run: one entry per layer, null for layers without delta updates. */
export type StepTrace = Array<LayerStepTrace | null>;

/** Steps an in-memory trace (`trace: true`) may hold; longer runs stream with `onTrace`. */
export const TRACE_MEMORY_LIMIT = 100_000;
