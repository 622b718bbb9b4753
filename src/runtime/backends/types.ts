/**
 * A session runs each layer through an executor: an object that owns the layer's streaming
 * state and computes one step. Backends (js, wasm) and weight storages (dense, CBTD-compressed,
 * int8) are different executors behind this one interface, so the session, its statistics and
 * its trace do not care which one ran.
 */
import type { Layer } from '../../model/types.js';
import type { WasmKernels } from '../../kernels/wasm/loader.js';
import type { BiasConvention } from '../types.js';

export interface ExecutorConfig {
  /** Run this layer with delta updates (only GRU and LSTM layers support it). */
  delta: boolean;
  /** Input threshold (delta only). */
  thresholdX: number;
  /** Hidden threshold (delta only). */
  thresholdH: number;
  biasConvention: BiasConvention;
}

export interface LayerExecutor {
  readonly layer: Layer;
  /** Whether the executor does delta updates. */
  readonly delta: boolean;
  /** Name of what actually runs (e.g. 'js', 'wasm-simd', 'wasm-scalar'), so tests can prove a fast path ran. */
  readonly path: string;
  /** Fired input / hidden element counts of the last step (dense: inputSize / hiddenSize). */
  lastFiredX: number;
  lastFiredH: number;
  /** Reset-before GRU only: fired q = r * h elements of the last step, and their indices. */
  lastFiredQ?: number;
  readonly firedQIdx?: Int32Array;
  /** Indices of the elements fired in the last step: the first lastFiredX / lastFiredH entries are valid. */
  readonly firedXIdx: Int32Array;
  readonly firedHIdx: Int32Array;
  /** Back to the state after construction (h = 0, memories at their biases). */
  reset(): void;
  /**
   * One time step. `x` has the layer's input size. Returns the layer output (h, or the linear
   * output); the array is owned by the executor and overwritten by the next step.
   */
  step(x: Float64Array): Float64Array;
  /**
   * Optional: `steps` steps at once, for layers whose weights do not multiply h (SRU, QRNN), so
   * one pass over the weights serves the whole block (the published designs, Sung & Park). `xs` holds steps
   * frames of inputSize values; returns steps * outputSize values. Must equal `steps` calls of
   * step() up to float rounding.
   */
  runSteps?(xs: ArrayLike<number>, steps: number): Float32Array;
  /**
   * Optional (wasm executors): where the executor reads its input and leaves its output in the
   * kernels' linear memory (float32, byte offsets). A session whose executors all share one
   * kernels instance chains them there with `stepWasm()`: no float64 hand-offs, no copies through
   * JavaScript arrays, no allocation per step.
   */
  readonly wasmIo?: { readonly kernels: WasmKernels; readonly input: number; readonly output: number };
  /** One step reading the input already at `wasmIo.input`, leaving the output at `wasmIo.output`. */
  stepWasm?(): void;
  /** Whether the executor steps with one kernel call per step (stepFused). */
  readonly fused?: boolean;
  /**
   * One step as one kernel call (wasm layer_step): from the input at `wasmIo.input`, or first
   * copying `n` floats there from `src` (another executor's output, src != 0); check != 0
   * refuses a non-finite input before any state changes (returns -1). Returns 0 after a step.
   */
  stepFused?(src: number, n: number, check: number): number;
  /** Optional: the executor will not run again (wasm executors give back their state slot). */
  dispose?(): void;
}

export type ExecutorFactory = (layer: Layer, config: ExecutorConfig) => LayerExecutor;
