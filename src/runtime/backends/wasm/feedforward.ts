/**
 * Linear, SRU and QRNN executors on the WebAssembly kernels (dense; SRU and QRNN have no
 * recurrent matrix, so they have no delta variant). SRU and QRNN also run T steps at once
 * (`runSteps`): one pass over the weights for the whole block (matmat_f32_p8 on the 8-row packed
 * layout, published design, Sung & Park), then the element-wise recurrence step by step. A single
 * step is the same kernel with T = 1 (one 8-row sweep per block, the dense mat-vec).
 * Linear supports int8 weights (per-row scales).
 *
 * Defined by linearRef, sruStepRef, qrnnStepRef (src/cells/) through src/kernels/ref/.
 */
import type { LinearLayer, QrnnLayer, SruLayer } from '../../../model/types.js';
import type { WasmKernels } from '../../../kernels/wasm/loader.js';
import { int16QMax } from '../../../kernels/ref/matvec.js';
import { quantizeI8 } from '../../../kernels/ref/quantize.js';
import { CODE_QMAX, packRows8F32, packRows8I8, rowSums } from '../../../kernels/ref/pack.js';
import { check } from '../../../core/errors.js';
import type { LayerExecutor } from '../types.js';
import { Layout, Regions, StateSlot, padBlocks, padRows, roundUp, stateSlot, type SlotUser } from './memory.js';
import { denseLayout, type WasmExecutorOptions } from './recurrent.js';
import { CTL_BYTES, DESC_BYTES, OP_LINEAR, stepKind, writeCtl, writeDesc } from './step-desc.js';

/** Largest block `runSteps` processes in one pass (longer inputs are split). */
export const MAX_BLOCK_STEPS = 32;

/** Weights (and other constants) of one layer for one configuration, shared by all its executors. */
const constCache = new WeakMap<WasmKernels, WeakMap<object, Map<string, { holder: object; regions: Regions; ptrs: Record<string, number> }>>>();

/**
 * The layer's constants for `key`, placed once per kernels instance by `place` (which allocates
 * through the given Regions): every session of the layer reads the same weights.
 */
function layerConstants(k: WasmKernels, layer: object, key: string, place: (r: Regions) => Record<string, number>): Record<string, number> {
  let byLayer = constCache.get(k);
  if (!byLayer) constCache.set(k, (byLayer = new WeakMap()));
  let byKey = byLayer.get(layer);
  if (!byKey) byLayer.set(layer, (byKey = new Map()));
  let hit = byKey.get(key);
  if (!hit) {
    const holder = {};
    const regions = new Regions(k, holder);
    hit = { holder, regions, ptrs: place(regions) };
    byKey.set(key, hit);
  }
  return hit.ptrs;
}

abstract class WasmDense<L extends SruLayer | QrnnLayer | LinearLayer> implements LayerExecutor, SlotUser {
  readonly delta = false;
  readonly path: string;
  lastFiredX: number;
  lastFiredH = 0;
  readonly firedXIdx: Int32Array;
  readonly firedHIdx = new Int32Array(0);
  protected gen = -1;
  saved: Uint8Array | null = null;
  disposed = false;
  protected slot!: StateSlot;
  constructor(readonly layer: L, protected readonly k: WasmKernels, path: string) {
    this.path = path;
    this.lastFiredX = layer.inputSize;
    this.firedXIdx = Int32Array.from({ length: layer.inputSize }, (_, i) => i);
  }
  /** Give the layer's slot back: this executor will not run again. */
  dispose(): void {
    this.slot.release(this);
  }
  abstract reset(): void;
  abstract step(x: Float64Array): Float64Array;
}

export class WasmLinearExecutor extends WasmDense<LinearLayer> {
  private readonly rows: number;
  private readonly cols: number;
  private readonly pW: number;
  private readonly pS: number;
  private readonly pB: number;
  private readonly pX: number;
  private readonly pXq: number;
  private readonly pY: number;
  private readonly int8: boolean;
  private readonly out: Float64Array;
  private readonly qmax: number;
  /** Row-major or 8-row packed weights (denseLayout); packed int8 adds row sums and code planes. */
  private readonly layout: 'row' | 'p8';
  private readonly pRs: number;
  private readonly pHi: number;
  private readonly pLo: number;
  private readonly planes: 1 | 2;
  readonly wasmIo: { readonly kernels: WasmKernels; readonly input: number; readonly output: number };
  private readonly act: number;
  constructor(layer: LinearLayer, k: WasmKernels, opts: WasmExecutorOptions) {
    const int8 = opts.weights === 'int8';
    super(layer, k, int8 ? `${k.path}-int8` : k.path);
    this.int8 = int8;
    this.layout = denseLayout(k, opts.weights);
    const p8 = this.layout === 'p8';
    const O = layer.outputSize;
    const rows = (this.rows = roundUp(O, p8 ? 8 : 4));
    const cols = (this.cols = roundUp(layer.inputSize, int8 ? 16 : p8 ? 8 : 4));
    const c = layerConstants(k, layer, `${int8 ? 'int8' : 'f32'}/${this.layout}`, (r) => {
      const w = padRows(layer.weight, 1, O, layer.inputSize, rows, cols);
      let pW = 0;
      let pS = 0;
      let pRs = 0;
      if (int8) {
        const q = quantizeI8(w, rows, cols, 'row');
        const data = p8 ? packRows8I8(q.q, rows, cols) : q.q;
        pW = r.alloc(data.length);
        k.i8(pW, data.length).set(data);
        pS = r.f32(q.scale);
        if (p8) {
          pRs = r.alloc(rows * 4);
          k.i32(pRs, rows).set(rowSums(q.q, rows, cols));
        }
      } else {
        pW = r.f32(p8 ? packRows8F32(w, rows, cols) : w);
      }
      return { pW, pS, pRs, pB: r.f32(padBlocks(layer.bias, 1, O, rows)) };
    });
    this.pW = c['pW']!;
    this.pS = c['pS']!;
    this.pRs = c['pRs']!;
    this.pB = c['pB']!;
    // No state but the control block (this executor's activation bits, saved and restored with
    // the slot's owner); then scratch and the one-call step's descriptor.
    const L = new Layout();
    const oCtl = L.add(CTL_BYTES);
    const stateBytes = L.bytes;
    const oX = L.add(cols * 4);
    const oXq = L.add(cols * 2);
    const oY = L.add(rows * 4);
    const codes = int8 && p8;
    const oHi = codes ? L.add(cols) : 0;
    const oLo = codes ? L.add(cols) : 0;
    const oDesc = L.add(DESC_BYTES);
    const { slot, fresh } = stateSlot(k, layer, `${int8 ? 'int8' : 'f32'}/${this.layout}`, L, stateBytes);
    this.slot = slot;
    this.pX = this.slot.ptr + oX;
    this.pXq = this.slot.ptr + oXq;
    this.pY = this.slot.ptr + oY;
    this.pHi = codes ? this.slot.ptr + oHi : 0;
    this.pLo = codes ? this.slot.ptr + oLo : 0;
    this.out = new Float64Array(O);
    this.planes = opts.activationBits === 7 ? 1 : 2;
    this.qmax = codes ? Math.min(CODE_QMAX[this.planes], int16QMax(cols)) : int16QMax(cols);
    this.wasmIo = { kernels: k, input: this.pX, output: this.pY };
    this.act = layer.activation === 'relu' ? 1 : layer.activation === 'tanh' ? 2 : 0;
    this.desc = this.slot.ptr + oDesc;
    if (fresh) {
      writeDesc(k, this.desc, {
        OP: OP_LINEAR, CELL: this.act, KIND: stepKind(opts.weights, this.layout), I: cols, H: rows,
        X: this.pX, H_: this.pY, WIH: this.pW, SIH: this.pS, RSIH: this.pRs, BI: this.pB,
        XQ: codes ? this.pHi : this.pXq, XLO: this.pLo, CTL: this.slot.ptr + oCtl,
      });
    }
    // A new user of the slot initialises its state right after its first acquire.
    this.slot.acquire(this);
    writeCtl(k, this.slot.ptr + oCtl, { planes: this.planes, qmaxX: this.qmax });
  }
  /** Descriptor of the one-call step (layer_step). */
  private readonly desc: number;
  readonly fused = true;
  /** One step as one kernel call (see WasmRecurrentExecutor.stepFused). */
  stepFused(src: number, n: number, check: number): number {
    this.slot.acquire(this);
    return this.k.exports.layer_step(this.desc, src, n || this.layer.inputSize, check);
  }
  /** The reference of stepFused: the same kernels, one call each. */
  stepCalls(): void {
    this.slot.acquire(this);
    const e = this.k.exports;
    const p8 = this.layout === 'p8';
    if (this.int8 && p8) {
      const s = e.quantize_codes(this.pX, this.cols, this.qmax, this.planes, this.pHi, this.pLo);
      e.matvec_i8_p8(this.pW, this.pS, this.pRs, this.pB, this.rows, this.cols, this.planes, this.pHi, this.pLo, s, this.pY);
    } else if (this.int8) {
      const s = e.quantize_i16(this.pX, this.cols, this.qmax, this.pXq);
      e.matvec_i8(this.pW, this.pS, this.pB, this.rows, this.cols, this.pXq, s, this.pY);
    } else if (p8) {
      e.matvec_f32_p8(this.pW, this.pB, this.rows, this.cols, this.pX, this.pY);
    } else {
      e.matvec_f32(this.pW, this.pB, this.rows, this.cols, this.pX, this.pY);
    }
    e.activate(this.pY, this.rows, this.act);
  }
  reset(): void {}
  step(x: Float64Array): Float64Array {
    this.slot.acquire(this);
    const k = this.k;
    const l = this.layer;
    k.f32(this.pX, l.inputSize).set(x);
    this.stepWasm();
    const y = k.f32(this.pY, l.outputSize);
    for (let i = 0; i < l.outputSize; i++) this.out[i] = y[i]!;
    return this.out;
  }
  /** One step on the input at pX; the output is left at pY. One kernel call. */
  stepWasm(): void {
    this.stepFused(0, 0, 0);
  }
}

/**
 * Shared by SRU and QRNN: an 8-row packed weight matrix (rows padded to 8, columns to 8; on every
 * kernel build), a T-step input block, a T-step output block.
 */
abstract class WasmMultiStep<L extends SruLayer | QrnnLayer> extends WasmDense<L> {
  protected readonly hp: number;
  protected readonly rows: number;
  protected readonly cols: number;
  protected readonly pW: number;
  protected readonly pB: number;
  protected readonly pX: number;
  protected readonly pU: number;
  protected readonly pC: number;
  protected readonly pH: number;
  protected readonly consts: Record<string, number>;
  private readonly out: Float64Array;
  constructor(layer: L, k: WasmKernels, gates: number, colBlocks: number, w: Float32Array, bias: Float32Array, extra: (r: Regions) => Record<string, number> = () => ({})) {
    super(layer, k, k.path);
    const H = layer.hiddenSize;
    const hp = (this.hp = roundUp(H, 4));
    // Rows: the gate blocks (gates x hp), then zero rows up to a multiple of 8. Columns: colBlocks
    // blocks of ip (the QRNN window's [x_t | x_{t-1}]), then zero columns up to a multiple of 8.
    const rows = (this.rows = roundUp(gates * hp, 8));
    const ip = roundUp(layer.inputSize, 4);
    const cols = (this.cols = roundUp(ip * colBlocks, 8));
    this.consts = layerConstants(k, layer, 'f32/p8', (r) => {
      const rm = padRows(w, gates, H, layer.inputSize, hp, ip, colBlocks);
      const full = new Float32Array(rows * cols);
      for (let i = 0; i < gates * hp; i++) full.set(rm.subarray(i * ip * colBlocks, (i + 1) * ip * colBlocks), i * cols);
      const b = new Float32Array(rows);
      b.set(bias);
      return { pW: r.f32Line(packRows8F32(full, rows, cols)), pB: r.f32(b), ...extra(r) };
    });
    this.pW = this.consts['pW']!;
    this.pB = this.consts['pB']!;
    // State first (c), then the block buffers (scratch).
    const L = new Layout();
    const oC = L.add(hp * 4);
    const stateBytes = L.bytes;
    const oX = L.add(MAX_BLOCK_STEPS * cols * 4);
    const oU = L.add(MAX_BLOCK_STEPS * rows * 4);
    const oH = L.add(MAX_BLOCK_STEPS * hp * 4);
    this.slot = stateSlot(k, layer, 'f32', L, stateBytes).slot;
    this.pC = this.slot.ptr + oC;
    this.pX = this.slot.ptr + oX;
    this.pU = this.slot.ptr + oU;
    this.pH = this.slot.ptr + oH;
    this.out = new Float64Array(H);
    // Resident from the start with a zero state (StateSlot.acquire restores saved states only).
    this.slot.acquire(this);
    this.k.f32(this.pC, this.hp).fill(0);
  }
  reset(): void {
    this.slot.acquire(this);
    this.k.f32(this.pC, this.hp).fill(0);
  }
  /** Write input step t of the block into the X rows (cols floats per row). */
  protected abstract loadInput(x: ArrayLike<number>, offset: number, t: number): void;
  protected abstract recur(steps: number): void;

  step(x: Float64Array): Float64Array {
    this.slot.acquire(this);
    this.loadInput(x, 0, 0);
    this.k.exports.matmat_f32_p8(this.pW, this.pB, this.rows, this.cols, this.pX, 1, this.pU);
    this.recur(1);
    const h = this.k.f32(this.pH, this.layer.hiddenSize);
    for (let i = 0; i < h.length; i++) this.out[i] = h[i]!;
    this.afterBlock(1);
    return this.out;
  }

  /** Hook run after a block of steps (QRNN keeps the last input for its window). */
  protected afterBlock(_steps: number): void {}

  /**
   * T steps at once: `xs` holds T frames of inputSize values; returns T*hiddenSize outputs.
   * The weights are read once per block of up to 32 steps instead of once per step.
   *
   * @example const h = ex.runSteps(frames, 16); // same values as 16 step() calls
   */
  runSteps(xs: ArrayLike<number>, steps: number): Float32Array {
    const I = this.layer.inputSize;
    const H = this.layer.hiddenSize;
    check(xs.length === steps * I, 'E_SHAPE', () => `runSteps: expected ${steps} x ${I} = ${steps * I} values, found ${xs.length}`);
    const out = new Float32Array(steps * H);
    this.slot.acquire(this);
    for (let t0 = 0; t0 < steps; t0 += MAX_BLOCK_STEPS) {
      const T = Math.min(MAX_BLOCK_STEPS, steps - t0);
      for (let t = 0; t < T; t++) this.loadInput(xs, (t0 + t) * I, t);
      this.k.exports.matmat_f32_p8(this.pW, this.pB, this.rows, this.cols, this.pX, T, this.pU);
      this.recur(T);
      const h = this.k.f32(this.pH, T * this.hp);
      for (let t = 0; t < T; t++) out.set(h.subarray(t * this.hp, t * this.hp + H), (t0 + t) * H);
      this.afterBlock(T);
    }
    return out;
  }
}

export class WasmSruExecutor extends WasmMultiStep<SruLayer> {
  private readonly pBias: number;
  private readonly proj: boolean;
  constructor(layer: SruLayer, k: WasmKernels) {
    const proj = layer.inputSize !== layer.hiddenSize;
    // The matmat bias is zero: SRU adds b_f, b_r inside the recurrence.
    super(layer, k, proj ? 4 : 3, 1, layer.weight, new Float32Array((proj ? 4 : 3) * roundUp(layer.hiddenSize, 4)), (r) => ({
      pBias: r.f32(padBlocks(layer.bias, 2, layer.hiddenSize, roundUp(layer.hiddenSize, 4))),
    }));
    this.proj = proj;
    this.pBias = this.consts['pBias']!;
  }
  protected loadInput(x: ArrayLike<number>, offset: number, t: number): void {
    const v = this.k.f32(this.pX + t * this.cols * 4, this.layer.inputSize);
    for (let i = 0; i < v.length; i++) v[i] = x[offset + i]!;
  }
  protected recur(steps: number): void {
    // Highway input x' = x: the X rows (cols = hp floats apart when I == H).
    this.k.exports.sru_steps(this.pU, this.rows, this.pBias, this.pX, this.cols, this.proj ? 1 : 0, this.pC, this.pH, this.hp, this.hp, steps);
  }
}

export class WasmQrnnExecutor extends WasmMultiStep<QrnnLayer> {
  /** x_{t-1} for the first step of the next block (window 2). */
  private readonly prev: Float32Array;
  private readonly ip: number;
  constructor(layer: QrnnLayer, k: WasmKernels) {
    super(layer, k, 3, layer.window, layer.weight, padBlocks(layer.bias, 3, layer.hiddenSize, roundUp(layer.hiddenSize, 4)));
    this.ip = roundUp(layer.inputSize, 4);
    this.prev = new Float32Array(layer.inputSize);
  }
  override reset(): void {
    super.reset();
    this.prev.fill(0);
  }
  protected loadInput(x: ArrayLike<number>, offset: number, t: number): void {
    const I = this.layer.inputSize;
    const row = this.k.f32(this.pX + t * this.cols * 4, this.cols);
    for (let i = 0; i < I; i++) row[i] = x[offset + i]!;
    if (this.layer.window === 2) {
      // [x_t | x_{t-1}]: the previous row's x_t, or the remembered one for the block's first step.
      if (t === 0) row.set(this.prev, this.ip);
      else row.set(this.k.f32(this.pX + (t - 1) * this.cols * 4, I), this.ip);
    }
  }
  protected recur(steps: number): void {
    this.k.exports.qrnn_steps(this.pU, this.rows, this.pC, this.pH, this.hp, this.hp, steps);
  }
  protected override afterBlock(steps: number): void {
    this.prev.set(this.k.f32(this.pX + (steps - 1) * this.cols * 4, this.layer.inputSize));
  }
}
