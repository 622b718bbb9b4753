/**
 * The streaming session: one model, one stream, one step at a time (batch size 1).
 *
 * A session owns only its streaming state (hidden states, delta memories, remembered
 * values); the weights and their compiled layouts belong to the Model and are shared by every
 * session created from it.
 */
import { check, fail } from '../core/errors.js';
import type { Model } from '../model/types.js';
import { layerDenseOps } from '../model/summary.js';
import { modelInputSize, modelOutputSize, validateModel } from '../model/types.js';
import { executorFactory } from './backends/index.js';
import { isResetAfter } from '../cells/gru/definition.js';
import { cbtdExecutorFactory } from './backends/js/cbtd.js';
import type { ExecutorConfig, LayerExecutor } from './backends/types.js';
import type { WasmKernels } from '../kernels/wasm/loader.js';
import { TRACE_MEMORY_LIMIT, type LayerStats, type SessionOptions, type SessionStats, type StepTrace } from './types.js';

export interface Session {
  readonly model: Model;
  readonly inputSize: number;
  readonly outputSize: number;
  /** True when GRU/LSTM layers run with delta updates (thresholds were given). */
  readonly isDelta: boolean;
  /** What runs each layer (e.g. 'js', 'wasm-simd'). */
  readonly paths: string[];
  /** One step: a frame of inputSize values in, outputSize values out (a new array). */
  step(frame: ArrayLike<number>): Float32Array;
  /**
   * One step without allocating: writes the outputSize outputs into `out` at `offset` and
   * returns `out`. The loop form of step() for real-time callers.
   *
   * @example const y = new Float32Array(s.outputSize); for (const f of frames) s.stepInto(f, y);
   */
  stepInto(frame: ArrayLike<number>, out: Float32Array, offset?: number): Float32Array;
  /** T steps: frames as one flat (T*I) array or a list of frames; returns (T*O) flat. */
  run(frames: ArrayLike<number> | ArrayLike<number>[]): Float32Array;
  /** Back to the initial state; clears statistics and trace. */
  reset(): void;
  /** Counters since the last reset. */
  stats(): SessionStats;
  /** Fired elements per step (only with the deprecated `trace: true`, at most TRACE_MEMORY_LIMIT steps; stream with `onTrace`). */
  trace(): StepTrace[];
  /**
   * Release what the session holds (wasm: its place in the layers' shared state slots). Using the
   * session afterwards is an error (E_OPTION). Optional: a dropped session is reclaimed by the
   * garbage collector alone, wasm included, without waiting for the event loop.
   */
  dispose(): void;
  /** The same as dispose(), for `using session = createSession(model)`. */
  [Symbol.dispose](): void;
}

/** The most PEs weightStorage 'cbtd' is given (as prune and training take: compress/cbtd MAX_PES). */
const MAX_CBTD_PES = 4096;

const KNOWN_OPTIONS = new Set(['thresholdX', 'thresholdH', 'biasConvention', 'backend', 'trace', 'onTrace', 'weightStorage', 'cbtdPes', 'weights', 'activationBits']);
const validated = new WeakSet<Model>();

function checkThreshold(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  check(typeof v === 'number' && Number.isFinite(v) && v >= 0, 'E_VALUE', () => `${name}: expected a finite number >= 0, found ${String(v)}`);
  return v;
}

/**
 * Steps per block when layers run one at a time (SRU/QRNN sessions): large enough that each
 * block reads the weights once per 32-step kernel block many times over, small enough that the
 * intermediate arrays stay a few hundred kB.
 */
export const LAYER_MAJOR_BLOCK = 1024;

class StreamingSession implements Session {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly isDelta: boolean;
  readonly paths: string[];
  private readonly executors: LayerExecutor[];
  private readonly denseOps: number[];
  /** Ops per fired input / hidden / q column of each layer (rows of the column * 2). */
  private readonly opsPerColumn: number[];
  private readonly opsPerHColumn: number[];
  private readonly opsPerQColumn: number[];
  private readonly x: Float64Array;
  private steps = 0;
  private firedX: number[];
  private firedH: number[];
  private firedQ: number[];
  private readonly traceOn: boolean;
  private readonly onTrace: ((step: StepTrace) => void) | null;
  private traces: StepTrace[] = [];
  /**
   * In-memory chain: set when every executor runs on one wasm kernels instance (wasmIo). Steps
   * then copy the frame once into the first layer's float32 input, run the layers' kernels on
   * wasm memory and copy the last output out once.
   */
  private readonly chain: WasmKernels | null;
  private chainGen = -1;
  private chainIn: Float32Array[] = [];
  private chainOut: Float32Array[] = [];
  /**
   * One-call chain: every executor steps with one kernel call (stepFused), each layer reading
   * its input from the previous layer's output inside the kernel; the frame is checked finite by
   * the first call, before any state changes.
   */
  private readonly fusedChain: boolean;
  private chainSrc: number[] = [];

  constructor(
    readonly model: Model,
    options: SessionOptions,
  ) {
    check(options !== null && typeof options === 'object' && !Array.isArray(options), 'E_OPTION', () => `session options: expected an object ({ thresholdX, thresholdH, backend, ... }), found ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
    for (const key of Object.keys(options)) {
      check(KNOWN_OPTIONS.has(key), 'E_OPTION', () => `session option: expected one of ${[...KNOWN_OPTIONS].join(', ')}, found '${key}'`);
    }
    if (!validated.has(model)) {
      validateModel(model);
      validated.add(model);
    }
    const thresholdX = checkThreshold('thresholdX', options.thresholdX);
    const thresholdH = checkThreshold('thresholdH', options.thresholdH);
    const conv = options.biasConvention ?? 'cudnn';
    if (conv !== 'cudnn' && conv !== 'edgedrnn') fail('E_OPTION', `biasConvention: expected 'cudnn' or 'edgedrnn', found '${String(conv)}'`);
    this.isDelta = thresholdX !== undefined || thresholdH !== undefined;
    const storage = options.weightStorage ?? 'dense';
    if (storage !== 'dense' && storage !== 'cbtd') fail('E_OPTION', `weightStorage: expected 'dense' or 'cbtd', found '${String(storage)}'`);
    if (options.cbtdPes !== undefined) {
      check(storage === 'cbtd', 'E_OPTION', () => `cbtdPes: the PE count of weightStorage 'cbtd', found it with weightStorage '${storage}' (it would be ignored)`);
      check(Number.isInteger(options.cbtdPes) && options.cbtdPes >= 1 && options.cbtdPes <= MAX_CBTD_PES, 'E_OPTION', () => `cbtdPes: expected an integer in 1..${MAX_CBTD_PES}, found ${String(options.cbtdPes)}`);
    }
    check(options.trace === undefined || typeof options.trace === 'boolean', 'E_OPTION', () => `trace: expected true or false, found ${typeof options.trace} ${String(options.trace).slice(0, 20)}`);
    // CBTD storage is a js executor over float32 values: refuse combinations it would silently ignore.
    if (storage === 'cbtd') check((options.backend ?? 'js') === 'js' && (options.weights ?? 'f32') === 'f32', 'E_UNSUPPORTED', () => `weightStorage 'cbtd' runs on backend 'js' with weights 'f32', found backend '${options.backend}', weights '${options.weights ?? 'f32'}'`);
    const factory = storage === 'cbtd' ? cbtdExecutorFactory(options.cbtdPes) : executorFactory(options.backend, options.weights, options.activationBits);
    this.executors = model.layers.map((layer) => {
      const config: ExecutorConfig = {
        delta: this.isDelta && (layer.kind === 'gru' || layer.kind === 'lstm'),
        thresholdX: thresholdX ?? 0,
        thresholdH: thresholdH ?? 0,
        biasConvention: conv,
      };
      return factory(layer, config);
    });
    this.paths = this.executors.map((e) => e.path);
    this.inputSize = modelInputSize(model);
    this.outputSize = modelOutputSize(model);
    this.denseOps = model.layers.map(layerDenseOps);
    this.opsPerColumn = model.layers.map((l) => (l.kind === 'gru' ? 6 * l.hiddenSize : l.kind === 'lstm' ? 8 * l.hiddenSize : 0));
    // Reset-before GRU: a fired h column feeds r, z only; W_hn's column is fired by q = r * h.
    const before = (l: Model['layers'][number]) => l.kind === 'gru' && !isResetAfter(l);
    this.opsPerHColumn = model.layers.map((l, k) => (before(l) ? 4 * (l as { hiddenSize: number }).hiddenSize : this.opsPerColumn[k]!));
    this.opsPerQColumn = model.layers.map((l) => (before(l) ? 2 * (l as { hiddenSize: number }).hiddenSize : 0));
    this.firedQ = model.layers.map(() => 0);
    this.x = new Float64Array(this.inputSize);
    this.firedX = model.layers.map(() => 0);
    this.firedH = model.layers.map(() => 0);
    this.traceOn = options.trace === true;
    if (options.onTrace !== undefined) check(typeof options.onTrace === 'function', 'E_OPTION', () => `onTrace: expected a function, found ${typeof options.onTrace}`);
    this.onTrace = options.onTrace ?? null;
    const k0 = this.executors[0]?.wasmIo?.kernels ?? null;
    this.chain = k0 && this.executors.every((e) => e.wasmIo?.kernels === k0 && e.stepWasm) ? k0 : null;
    this.fusedChain = this.chain !== null && this.executors.every((e) => e.fused === true && e.stepFused);
    this.chainSrc = this.fusedChain ? this.executors.map((e, j) => (j === 0 ? 0 : this.executors[j - 1]!.wasmIo!.output)) : [];
  }

  /** (Re)create the chain's views (memory growth detaches them). */
  private chainViews(): void {
    const k = this.chain!;
    this.chainIn = this.executors.map((e) => k.f32(e.wasmIo!.input, e.layer.inputSize));
    this.chainOut = this.executors.map((e) => k.f32(e.wasmIo!.output, e.layer.kind === 'linear' ? e.layer.outputSize : e.layer.hiddenSize));
    this.chainGen = k.generation;
  }

  /** The frame's values into dst, checked finite (one pass; a slow pass names the bad index). */
  private loadFrame(frame: ArrayLike<number>, at: number, dst: Float32Array | Float64Array): void {
    const I = this.inputSize;
    if (ArrayBuffer.isView(frame)) {
      // Typed arrays hold numbers: v - v is 0 for finite v and NaN otherwise, so one sum checks all.
      let bad = 0;
      for (let i = 0; i < I; i++) {
        const v = frame[at + i]!;
        dst[i] = v;
        bad += v - v;
      }
      if (bad === 0) return;
    }
    // Not a typed array, or a bad value in one: the check names it, then the copy.
    this.checkFinite(frame, at, 0);
    for (let i = 0; i < I; i++) dst[i] = frame[at + i]!;
  }

  /**
   * The frame at frame[at .. at + inputSize) holds finite numbers, or E_VALUE naming the element
   * and the step `t` steps ahead (run checks a whole call before any state changes; loadFrame
   * checks the one frame it copies).
   */
  private checkFinite(frame: ArrayLike<number>, at: number, t: number): void {
    const I = this.inputSize;
    if (ArrayBuffer.isView(frame)) {
      let bad = 0;
      for (let i = 0; i < I; i++) {
        const v = frame[at + i]!;
        bad += v - v;
      }
      if (bad === 0) return;
    }
    for (let i = 0; i < I; i++) {
      const v = frame[at + i]!;
      if (!Number.isFinite(v)) fail('E_VALUE', `frame: expected finite values, found ${v} at index ${i} (step ${this.steps + t})`);
    }
  }

  private checkFrame(frame: ArrayLike<number>): void {
    const I = this.inputSize;
    check(frame && typeof frame.length === 'number', 'E_SHAPE', () => `frame: expected an array of ${I} numbers, found ${typeof frame}`);
    check(frame.length === I, 'E_SHAPE', () => `frame: expected ${I} values, found ${frame.length}`);
  }

  /** One step on the frame's values at frame[at .. at + inputSize) (checked by the caller). */
  private stepAt(frame: ArrayLike<number>, at: number, out: Float32Array, outOffset: number): void {
    if (this.fusedChain && !this.traceOn && !this.onTrace) {
      if (this.chainGen !== this.chain!.generation) this.chainViews();
      const in0 = this.chainIn[0]!;
      // A typed frame is copied as it is (a float32 frame by memcpy) and checked by the first
      // kernel; other frames go through the checking loop.
      let check = 1;
      if (at === 0 && frame.length === in0.length && ArrayBuffer.isView(frame)) in0.set(frame as unknown as Float32Array);
      else {
        this.loadFrame(frame, at, in0);
        check = 0;
      }
      const exs = this.executors;
      for (let k = 0; k < exs.length; k++) {
        const ex = exs[k]!;
        if (ex.stepFused!(this.chainSrc[k]!, ex.layer.inputSize, check) < 0) {
          // Not finite in float32: the loop names the element (a float64 value beyond the float32
          // range passes it, as in every other path, and the step runs unchecked).
          this.loadFrame(frame, at, in0);
          ex.stepFused!(0, 0, 0);
        }
        check = 0;
        this.firedX[k]! += ex.lastFiredX;
        this.firedH[k]! += ex.lastFiredH;
      }
      this.steps++;
      // A few outputs (a readout) by a loop: there TypedArray.set's call costs more than the copy
      // (11 floats: 12 against 29 ns, Node 24); many (a recurrent layer's h) by set (768 floats:
      // the loop cost 0.8 us more).
      const y = this.chainOut[exs.length - 1]!;
      if (y.length <= 32) for (let o = 0; o < y.length; o++) out[outOffset + o] = y[o]!;
      else out.set(y, outOffset);
      return;
    }
    if (this.chain && !this.traceOn && !this.onTrace) {
      if (this.chainGen !== this.chain.generation) this.chainViews();
      this.loadFrame(frame, at, this.chainIn[0]!);
      const exs = this.executors;
      for (let k = 0; k < exs.length; k++) {
        const ex = exs[k]!;
        if (k > 0) this.chainIn[k]!.set(this.chainOut[k - 1]!);
        ex.stepWasm!();
        this.firedX[k]! += ex.lastFiredX;
        this.firedH[k]! += ex.lastFiredH;
        this.firedQ[k]! += ex.lastFiredQ ?? 0;
      }
      this.steps++;
      out.set(this.chainOut[exs.length - 1]!, outOffset);
      return;
    }
    if (this.traceOn) {
      check(this.traces.length < TRACE_MEMORY_LIMIT, 'E_LIMIT', () => `trace: true keeps at most ${TRACE_MEMORY_LIMIT} steps in memory; stream longer runs with the onTrace option (e.g. to a trace file)`);
    }
    const x = this.x;
    this.loadFrame(frame, at, x);
    let v: Float64Array = x;
    const step: StepTrace | null = this.traceOn || this.onTrace ? [] : null;
    for (let k = 0; k < this.executors.length; k++) {
      const ex = this.executors[k]!;
      v = ex.step(v);
      this.firedX[k]! += ex.lastFiredX;
      this.firedH[k]! += ex.lastFiredH;
      this.firedQ[k]! += ex.lastFiredQ ?? 0;
      if (step) {
        step.push(
          ex.delta
            ? {
                firedX: ex.firedXIdx.slice(0, ex.lastFiredX),
                firedH: ex.firedHIdx.slice(0, ex.lastFiredH),
                ...(ex.firedQIdx && ex.firedQIdx.length > 0 ? { firedQ: ex.firedQIdx.slice(0, ex.lastFiredQ ?? 0) } : {}),
              }
            : null,
        );
      }
    }
    if (step && this.traceOn) this.traces.push(step);
    this.steps++;
    if (step && this.onTrace) this.onTrace(step);
    for (let o = 0; o < this.outputSize; o++) out[outOffset + o] = v[o]!;
  }

  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ex of this.executors) ex.dispose?.();
    this.traces = [];
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private checkLive(): void {
    check(!this.disposed, 'E_OPTION', () => 'session: used after dispose()');
  }

  step(frame: ArrayLike<number>): Float32Array {
    this.checkLive();
    const out = new Float32Array(this.outputSize);
    this.checkFrame(frame);
    this.stepAt(frame, 0, out, 0);
    return out;
  }

  stepInto(frame: ArrayLike<number>, out: Float32Array, offset = 0): Float32Array {
    this.checkLive();
    this.checkFrame(frame);
    check(out instanceof Float32Array && Number.isInteger(offset) && offset >= 0 && offset + this.outputSize <= out.length, 'E_SHAPE', () => `stepInto: expected a Float32Array with room for ${this.outputSize} values at offset ${offset}, found ${out instanceof Float32Array ? `length ${out.length}` : typeof out}`);
    this.stepAt(frame, 0, out, offset);
    return out;
  }

  run(frames: ArrayLike<number> | ArrayLike<number>[]): Float32Array {
    this.checkLive();
    const I = this.inputSize;
    const O = this.outputSize;
    check(frames !== null && typeof frames === 'object' && typeof frames.length === 'number', 'E_SHAPE', () => `frames: expected a flat array of T x ${I} numbers or a list of frames, found ${frames === null ? 'null' : typeof frames}`);
    const list = Array.isArray(frames) && frames.length > 0 && typeof frames[0] === 'object';
    // Every frame is checked (shape, then values) before any state changes: a bad frame at step
    // t used to leave the session t steps further on, with no output returned for them.
    if (list) {
      const fs = frames as ArrayLike<number>[];
      fs.forEach((f) => this.checkFrame(f));
      fs.forEach((f, t) => this.checkFinite(f, 0, t));
      const out = new Float32Array(fs.length * O);
      fs.forEach((f, t) => this.stepAt(f, 0, out, t * O));
      return out;
    }
    const flat = frames as ArrayLike<number>;
    check(flat.length % I === 0, 'E_SHAPE', () => `frames: expected a multiple of the input size ${I} values, found ${flat.length}`);
    const T = flat.length / I;
    for (let t = 0; t < T; t++) this.checkFinite(flat, t * I, t);
    if (T > 1 && !this.traceOn && !this.onTrace && this.executors.some((e) => e.runSteps)) return this.runLayerMajor(flat, T);
    const out = new Float32Array(T * O);
    for (let t = 0; t < T; t++) this.stepAt(flat, t * I, out, t * O);
    return out;
  }

  /**
   * Run T frames one layer at a time: layer k's step t needs only its own state and layer k-1's
   * output at step t, so the order of (layer, step) pairs may change without changing any value.
   * Layers with runSteps (SRU, QRNN) then read their weights once per block of steps instead of
   * once per step; the others step through their T inputs.
   */
  private runLayerMajor(flat: ArrayLike<number>, T: number): Float32Array {
    // Every value was checked by run() before any state changes.
    // Blocks of LAYER_MAJOR_BLOCK steps: memory beyond the output is a few blocks' worth, not a
    // few copies of the whole input (it was ~9x the input for 10^6 frames). Each layer's state
    // carries from one block to the next, so the values are those of one long block.
    const I0 = this.inputSize;
    const out = new Float32Array(T * this.outputSize);
    for (let t0 = 0; t0 < T; t0 += LAYER_MAJOR_BLOCK) {
      const Tb = Math.min(LAYER_MAJOR_BLOCK, T - t0);
      let v = new Float64Array(Tb * I0);
      for (let i = 0; i < v.length; i++) v[i] = flat[t0 * I0 + i]!;
      for (let k = 0; k < this.executors.length; k++) {
        const ex = this.executors[k]!;
        const I = ex.layer.inputSize;
        const O = ex.layer.kind === 'linear' ? ex.layer.outputSize : ex.layer.hiddenSize;
        if (ex.runSteps) {
          v = Float64Array.from(ex.runSteps(v, Tb));
          this.firedX[k]! += Tb * I;
        } else {
          const next = new Float64Array(Tb * O);
          for (let t = 0; t < Tb; t++) {
            next.set(ex.step(v.subarray(t * I, (t + 1) * I)), t * O);
            this.firedX[k]! += ex.lastFiredX;
            this.firedH[k]! += ex.lastFiredH;
            this.firedQ[k]! += ex.lastFiredQ ?? 0;
          }
          v = next;
        }
      }
      out.set(v, t0 * this.outputSize);
    }
    this.steps += T;
    return out;
  }

  reset(): void {
    this.checkLive();
    for (const ex of this.executors) ex.reset();
    this.steps = 0;
    this.firedX.fill(0);
    this.firedH.fill(0);
    this.firedQ.fill(0);
    this.traces = [];
  }

  stats(): SessionStats {
    const layers: LayerStats[] = this.executors.map((ex, k) => {
      const l = ex.layer;
      const denseOps = this.denseOps[k]! * this.steps;
      const ops = ex.delta ? this.opsPerColumn[k]! * this.firedX[k]! + this.opsPerHColumn[k]! * this.firedH[k]! + this.opsPerQColumn[k]! * this.firedQ[k]! : denseOps;
      const q = this.opsPerQColumn[k]! > 0 ? { firedQ: this.firedQ[k]! } : {};
      return {
        ...q,
        kind: l.kind,
        delta: ex.delta,
        inputSize: l.inputSize,
        outputSize: l.kind === 'linear' ? l.outputSize : l.hiddenSize,
        firedX: this.firedX[k]!,
        firedH: this.firedH[k]!,
        denseOps,
        ops,
      };
    });
    let fx = 0;
    let fh = 0;
    let px = 0;
    let ph = 0;
    for (const s of layers) {
      if (!s.delta) continue;
      fx += s.firedX;
      fh += s.firedH;
      px += s.inputSize * this.steps;
      ph += s.outputSize * this.steps;
    }
    const denseOps = layers.reduce((a, s) => a + s.denseOps, 0);
    const ops = layers.reduce((a, s) => a + s.ops, 0);
    const occupancy = px + ph > 0 ? (fx + fh) / (px + ph) : 1;
    return {
      steps: this.steps,
      layers,
      denseOps,
      ops,
      occupancyX: px > 0 ? fx / px : 1,
      occupancyH: ph > 0 ? fh / ph : 1,
      occupancy,
      temporalSparsity: 1 - occupancy,
      opsSaving: ops > 0 ? denseOps / ops : denseOps > 0 ? Infinity : 1,
    };
  }

  trace(): StepTrace[] {
    check(this.traceOn, 'E_OPTION', () => 'trace(): the session was created without { trace: true }');
    return this.traces;
  }
}

/**
 * Create a streaming session. Without thresholds the network runs dense; giving thresholdX or
 * thresholdH (even 0) runs GRU/LSTM layers as delta layers.
 *
 * @example
 * const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.05 });
 * const y = s.step(frame);
 * console.log(s.stats().occupancy);
 */
export function createSession(model: Model, options: SessionOptions = {}): Session {
  return new StreamingSession(model, options);
}
