/**
 * GRU and LSTM executors on the WebAssembly kernels, dense or delta, float32 or int8 weights.
 *
 * Dense: gi = W_ih x + b_ih and gh = W_hh h + b_hh by row-major mat-vec (matvec_f32, or
 * matvec_i8 with per-row scales and the input quantised to int16 each step), then the fused gate
 * kernel. Delta: the memories are kept as the same two vectors, gi = input part
 * (Mr, Mz, Mnx) and gh = hidden part (Mr, Mz, Mnh), so one gate kernel serves both modes; the
 * encoder emits fired indices and deltas, and the delta kernel adds only fired columns from
 * column-major weights (int8: per-row scales, deltas quantised to int16 per step).
 *
 * int8 delta layers quantise each step's deltas to int16 (delta_i8) with error feedback: the
 * rounding error of an element is carried into its next delta, so the memories hold
 * b + W (xPrev - err) with |err| below half a quantisation step, and rounding never accumulates.
 *
 * Drift: the memories are float32 and accumulate rounding error step after step. Every
 * `syncEvery` steps a band of 16 rows is recomputed exactly from the remembered xPrev / hPrev
 * (bias + W xPrev, bias + W hPrev: what the memories would hold in exact arithmetic), so every
 * row is re-synchronised once per `resyncPeriod` steps (default 4096) at a cost of about
 * 1/resyncPeriod of a dense step. Error then stays at the level of a few thousand float32
 * accumulations instead of growing with the stream length (test/kernels/drift.test.ts runs 10^6 steps).
 *
 * Reset-before GRU (resetAfter: false): W_hh's r, z rows (the first 2hp) multiply h, its n rows
 * multiply q = r * h, computed once r is known (a second, dependent mat-vec or delta pass over the
 * n rows, with q's own encoder, remembered copy and, for int8, error feedback). Its gate blocks are
 * hp = H rounded up to 8, so the n rows start at a multiple of 16 (the int8 delta kernel's row
 * granularity) and on an 8-row block of the packed dense layouts (the second pass runs the same
 * _p8 kernel on the n blocks). The gates then run through the same fused kernel with the n block
 * folded: gi_n + gh_n in gi and 0 in gh, so tanh(gi_n + r * 0 + ...) is tanh(Mnx + Mnh). It runs
 * through stepWasm like the other layers, so chained sessions keep it in wasm memory; r and q are
 * computed in JavaScript on the float32 views between the kernel calls (H sigmoids per step).
 *
 * Defined by gruStepRef / deltaGruStepRef and lstmStepRef / deltaLstmStepRef (src/cells/),
 * through the kernels' references in src/kernels/ref/.
 */
import { isResetAfter } from '../../../cells/gru/definition.js';
import type { GruLayer, LstmLayer } from '../../../model/types.js';
import type { WasmKernels } from '../../../kernels/wasm/loader.js';
import { int16QMax } from '../../../kernels/ref/matvec.js';
import { quantizeI8 } from '../../../kernels/ref/quantize.js';
import { CODE_QMAX, packRows8F32, packRows8I8, rowSums } from '../../../kernels/ref/pack.js';
import type { ExecutorConfig, LayerExecutor } from '../types.js';
import { Layout, Regions, StateSlot, type SlotUser, padBlocks, padRows, roundUp, stateSlot } from './memory.js';
import type { WasmThreadPool } from './threads.js';
import { CTL, CTL_BYTES, DESC_BYTES, OP_DELTA, OP_DENSE, stepKind, writeCtl, writeDesc } from './step-desc.js';

export type WeightFormat = 'f32' | 'int8';

export interface WasmExecutorOptions {
  weights: WeightFormat;
  /** 2-thread mode for dense float32 layers (its kernels must be the ones the executor uses). */
  pool?: WasmThreadPool;
  /** Steps within which every delta memory row is recomputed exactly (default 4096; 0 disables). */
  resyncPeriod?: number;
  /**
   * int8 dense layers on the relaxed-SIMD build: bits of the quantised activations, 14 (default:
   * two 7-bit planes, about the int16 path's accuracy) or 7 (one plane, about twice as fast;
   * BENCHMARKS.md measures the accuracy cost). Other builds always quantise activations to int16.
   */
  activationBits?: 7 | 14;
}

/**
 * Dense mat-vec layout per build, chosen by measurement (BENCHMARKS.md, "relaxed against
 * SIMD128"): the 8-row packed layout (matvec_f32_p8) beat the row-major 4-row kernel on both SIMD
 * builds; int8 uses the packed relaxed dot only where relaxed SIMD runs.
 */
export function denseLayout(k: WasmKernels, weights: WeightFormat): 'row' | 'p8' {
  // The 2-thread pool splits row-major matrices by rows: its shared kernels keep that layout.
  if (k.path === 'wasm-simd-shared') return 'row';
  if (weights === 'f32') return k.build === 'scalar' ? 'row' : 'p8';
  return k.build === 'relaxed-simd' ? 'p8' : 'row';
}

/** Weights of one layer laid out for one kernel build, shared by all executors of the layer. */
interface RecurrentPlan {
  /** The plan's memory is freed when this object (held only by the plan) is collected. */
  owner: object;
  regions: Regions;
  gates: number;
  H: number;
  I: number;
  /** Gate block stride (H rounded up to 4). */
  hp: number;
  /** Rows of the memories (gates*hp, rounded up to 16 for int8 column-major). */
  ld: number;
  /** Padded input / hidden lengths (columns of the row-major matrices). */
  ip: number;
  hc: number;
  wIh: number;
  wHh: number;
  /** int8: one scale per row (padded to ld for delta layers). */
  sIh: number;
  sHh: number;
  /** Dense layout: row-major (matvec_f32 / matvec_i8) or 8-row packed (the _p8 kernels). */
  layout: 'row' | 'p8';
  /** int8 packed: int32 row sums of the weights (the exact offset correction of the 7-bit codes). */
  rsIh: number;
  rsHh: number;
  /** Reset-before GRU: W_hh's n rows (from row 2hp) multiply q = r * h. */
  before: boolean;
}

/** Plans per kernels instance (each has its own memory), then per layer, then per layout. */
const planCache = new WeakMap<WasmKernels, WeakMap<object, Map<string, RecurrentPlan>>>();

function recurrentPlan(k: WasmKernels, layer: GruLayer | LstmLayer, delta: boolean, weights: WeightFormat): RecurrentPlan {
  const layout = delta ? 'row' : denseLayout(k, weights);
  const before = layer.kind === 'gru' && !isResetAfter(layer);
  const key = `${delta ? 'col' : layout}/${weights}/${before ? 'rb' : 'ra'}`;
  let byLayer = planCache.get(k);
  if (!byLayer) planCache.set(k, (byLayer = new WeakMap()));
  let byKey = byLayer.get(layer);
  if (!byKey) byLayer.set(layer, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) return hit;
  const gates = layer.kind === 'gru' ? 3 : 4;
  const H = layer.hiddenSize;
  const I = layer.inputSize;
  // Reset-before: hp a multiple of 8, so the n rows (from 2hp) start on a 16-row boundary (int8
  // delta kernel) and on an 8-row block (packed dense layouts).
  const hp = roundUp(H, before ? 8 : 4);
  const colAlign = weights === 'int8' ? 16 : layout === 'p8' ? 8 : 4;
  // Dense packed layouts take rows in blocks of 8: the memories / outputs get the padded rows too.
  const ld = delta ? roundUp(gates * hp, weights === 'int8' ? 16 : 4) : layout === 'p8' ? roundUp(gates * hp, 8) : gates * hp;
  const ip = delta ? I : roundUp(I, colAlign);
  const hc = delta ? H : roundUp(H, colAlign);
  const owner = {};
  const regions = new Regions(k, owner);
  const plan: RecurrentPlan = { owner, regions, gates, H, I, hp, ld, ip, hc, wIh: 0, wHh: 0, sIh: 0, sHh: 0, layout, rsIh: 0, rsHh: 0, before };
  const place = (w: Float32Array, cols: number, colsPad: number): [number, number, number] => {
    // (gates*hp, colsPad), plus zero rows up to ld for the packed layouts.
    const rowMajor = padRows(w, gates, H, cols, hp, colsPad);
    const rows = gates * hp;
    if (!delta) {
      let full = rowMajor;
      if (ld > rows) {
        full = new Float32Array(ld * colsPad);
        full.set(rowMajor);
      }
      if (weights === 'f32') return [regions.f32(layout === 'p8' ? packRows8F32(full, ld, colsPad) : full), 0, 0];
      const q = quantizeI8(full, ld, colsPad, 'row');
      const data = layout === 'p8' ? packRows8I8(q.q, ld, colsPad) : q.q;
      const p = regions.alloc(data.length);
      k.i8(p, data.length).set(data);
      let rs = 0;
      if (layout === 'p8') {
        rs = regions.alloc(ld * 4);
        k.i32(rs, ld).set(rowSums(q.q, ld, colsPad));
      }
      return [p, regions.f32(q.scale), rs];
    }
    // Column-major: column c holds rows 0..rows-1 contiguous, ld apart.
    if (weights === 'f32') {
      const t = new Float32Array(cols * ld);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * ld + r] = rowMajor[r * colsPad + c]!;
      return [regions.f32(t), 0, 0];
    }
    // int8: per-row scales (the delta kernel sums columns in int32, then scales each row).
    const q = quantizeI8(rowMajor, rows, colsPad, 'row');
    const t = new Int8Array(cols * ld);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * ld + r] = q.q[r * colsPad + c]!;
    const p = regions.alloc(t.length);
    k.i8(p, t.length).set(t);
    return [p, regions.f32(q.scale, ld), 0];
  };
  [plan.wIh, plan.sIh, plan.rsIh] = place(layer.weightIh, I, ip);
  [plan.wHh, plan.sHh, plan.rsHh] = place(layer.weightHh, H, hc);
  byKey.set(key, plan);
  return plan;
}

/** The memories as the wasm GRU/LSTM executors hold them, for tests and drift checks. */
export interface RecurrentSnapshot {
  /** Input-part memory (or dense gi), gates*hp values. */
  gi: Float32Array;
  /** Hidden-part memory (or dense gh). */
  gh: Float32Array;
  xPrev: Float32Array;
  hPrev: Float32Array;
  h: Float32Array;
  c: Float32Array | null;
  hp: number;
}

export class WasmRecurrentExecutor implements LayerExecutor, SlotUser {
  readonly delta: boolean;
  readonly path: string;
  lastFiredX = 0;
  lastFiredH = 0;
  /** Reset-before GRU: fired q = r * h elements of the last step. */
  lastFiredQ = 0;
  private readonly k: WasmKernels;
  private readonly plan: RecurrentPlan;
  private readonly weights: WeightFormat;
  private readonly thx: number;
  private readonly thh: number;
  // State pointers.
  private readonly pX: number;
  private readonly pXPrev: number;
  private readonly pH: number;
  private readonly pHPrev: number;
  private readonly pC: number;
  private readonly pGi: number;
  private readonly pGh: number;
  private readonly pIdxX: number;
  private readonly pValsX: number;
  private readonly pIdxH: number;
  private readonly pValsH: number;
  private readonly pAll: number;
  private readonly pXq: number;
  private readonly pHq: number;
  /** int8 packed (relaxed build): 7-bit activation code planes of x and h. */
  private readonly pXhi: number;
  private readonly pXlo: number;
  private readonly pHhi: number;
  private readonly pHlo: number;
  private readonly planes: 1 | 2;
  private readonly codeQmaxX: number;
  private readonly codeQmaxH: number;
  /** int32 scratch of the int8 delta kernel. */
  private readonly pTmp: number;
  /** int8 delta: quantisation error carried per input / hidden element (error feedback). */
  private readonly pErrX: number;
  private readonly pErrH: number;
  /** Scratch of the int8 re-synchronisation. */
  private readonly pResid: number;
  private readonly pScratchA: number;
  private readonly pScratchB: number;
  private readonly pBi: number;
  private readonly pBh: number;
  private readonly qmaxX: number;
  private readonly qmaxH: number;
  // Resync schedule: a band of `syncRows` rows every `syncEvery` steps.
  private readonly syncRows: number;
  private readonly syncEvery: number;
  private syncRow = 0;
  private stepsSinceSync = 0;
  /** Delta: the gate values of the last full gate pass (GRU z, n; LSTM f, i g, o), and whether they match the memories. */
  private readonly pKeep: number;
  /** Control block (step-desc.ts CTL): in the saved state, so every executor of a shared slot keeps its own. */
  private readonly pCtl: number;
  /** Descriptor of the one-call step (layer_step), 0 where the layer steps through separate kernel calls. */
  private readonly desc: number;
  private vCtl!: Int32Array;
  private gen = -1;
  private vX!: Float32Array;
  private vH!: Float32Array;
  private vIdxX!: Int32Array;
  private vIdxH!: Int32Array;
  private readonly out: Float64Array;
  private readonly pool: WasmThreadPool | null;
  readonly wasmIo: { readonly kernels: WasmKernels; readonly input: number; readonly output: number };
  private readonly slot: StateSlot;
  // Reset-before GRU: q = r * h, its remembered copy, encoder output, int16 copy, error feedback,
  // and the folded gate inputs (0 for other layers).
  private readonly pQ: number;
  private readonly pQPrev: number;
  private readonly pIdxQ: number;
  private readonly pValsQ: number;
  private readonly pQq: number;
  private readonly pErrQ: number;
  private readonly pTGi: number;
  private readonly pTGh: number;
  saved: Uint8Array | null = null;
  disposed = false;

  constructor(readonly layer: GruLayer | LstmLayer, config: ExecutorConfig, k: WasmKernels, opts: WasmExecutorOptions) {
    this.k = k;
    this.delta = config.delta;
    this.weights = opts.weights;
    // The 2-thread pool runs both mat-vecs at once; a reset-before GRU's second pass depends on
    // the first, so it steps on one thread.
    const before = layer.kind === 'gru' && !isResetAfter(layer);
    this.pool = opts.pool && !config.delta && opts.weights === 'f32' && !before ? opts.pool : null;
    this.path = opts.weights === 'int8' ? `${k.path}-int8` : this.pool ? `${k.path}-2t` : k.path;
    this.plan = recurrentPlan(k, layer, config.delta, opts.weights);
    this.thx = config.thresholdX;
    this.thh = config.thresholdH;
    const p = this.plan;
    const H = layer.hiddenSize;
    const I = layer.inputSize;
    // The state lives in the layer's slot of the shared instance (see StateSlot): this executor
    // owns no wasm memory, so a dropped session is reclaimed by the garbage collector alone.
    const L = new Layout();
    const xLen = roundUp(Math.max(I, p.ip), 16);
    const hLen = roundUp(Math.max(H, p.hc, p.hp), 16);
    // State (copied when another session of this layer steps); the control block first (this
    // executor's thresholds and activation bits, the kept activations' validity, fired counts).
    const oCtl = L.add(CTL_BYTES);
    const oH = L.add(hLen * 4);
    const oHPrev = L.add(hLen * 4);
    const oC = L.add(hLen * 4);
    const oGi = L.add(p.ld * 4);
    const oGh = L.add(p.ld * 4);
    const oXPrev = L.add(xLen * 4);
    const oErrX = L.add(xLen * 4);
    const oErrH = L.add(hLen * 4);
    // Delta: the kept gate activations belong to this executor's state too.
    const oKeep = config.delta ? L.add(3 * p.hp * 4) : 0;
    // Reset-before GRU: q's remembered copy and error feedback are state too.
    const oQPrev = p.before ? L.add(hLen * 4) : 0;
    const oErrQ = p.before ? L.add(hLen * 4) : 0;
    const stateBytes = L.bytes;
    // Scratch, rewritten by every step before it is read.
    const oX = L.add(xLen * 4);
    const oIdxX = L.add(xLen * 4);
    const oValsX = L.add(xLen * 4);
    const oIdxH = L.add(hLen * 4);
    const oValsH = L.add(hLen * 4);
    const oXq = L.add(xLen * 2);
    const oHq = L.add(hLen * 2);
    const oTmp = L.add(p.ld * 4);
    const oResid = L.add(Math.max(xLen, hLen) * 4);
    const oScratchA = L.add(Math.max(xLen, hLen) * 4);
    const oScratchB = L.add(Math.max(xLen, hLen) * 4);
    // int8 packed (relaxed build): the activation code planes of x and h.
    const codes = !config.delta && p.layout === 'p8' && opts.weights === 'int8';
    const oXhi = codes ? L.add(xLen) : 0;
    const oXlo = codes ? L.add(xLen) : 0;
    const oHhi = codes ? L.add(hLen) : 0;
    const oHlo = codes ? L.add(hLen) : 0;
    const oQ = p.before ? L.add(hLen * 4) : 0;
    const oIdxQ = p.before ? L.add(hLen * 4) : 0;
    const oValsQ = p.before ? L.add(hLen * 4) : 0;
    const oQq = p.before ? L.add(hLen * 2) : 0;
    const oTGi = p.before ? L.add(p.ld * 4) : 0;
    const oTGh = p.before ? L.add(p.ld * 4) : 0;
    // Constants of this layer and configuration.
    const oAll = L.add(Math.max(xLen, hLen) * 4);
    const oBi = L.add(p.ld * 4);
    const oBh = L.add(p.ld * 4);
    const oDesc = L.add(DESC_BYTES);
    const key = `${config.delta ? 'delta' : 'dense'}/${opts.weights}/${config.biasConvention}/${this.pool ? '2t' : '1t'}`;
    const { slot, fresh } = stateSlot(k, layer, key, L, stateBytes);
    this.slot = slot;
    const b = slot.ptr;
    [this.pH, this.pHPrev, this.pC, this.pGi, this.pGh, this.pXPrev, this.pErrX, this.pErrH] = [b + oH, b + oHPrev, b + oC, b + oGi, b + oGh, b + oXPrev, b + oErrX, b + oErrH];
    [this.pX, this.pIdxX, this.pValsX, this.pIdxH, this.pValsH, this.pXq, this.pHq, this.pTmp] = [b + oX, b + oIdxX, b + oValsX, b + oIdxH, b + oValsH, b + oXq, b + oHq, b + oTmp];
    [this.pResid, this.pScratchA, this.pScratchB, this.pAll, this.pBi, this.pBh] = [b + oResid, b + oScratchA, b + oScratchB, b + oAll, b + oBi, b + oBh];
    this.pKeep = config.delta ? b + oKeep : 0;
    [this.pXhi, this.pXlo, this.pHhi, this.pHlo] = codes ? [b + oXhi, b + oXlo, b + oHhi, b + oHlo] : [0, 0, 0, 0];
    [this.pQ, this.pQPrev, this.pIdxQ, this.pValsQ, this.pQq, this.pErrQ, this.pTGi, this.pTGh] = p.before
      ? [b + oQ, b + oQPrev, b + oIdxQ, b + oValsQ, b + oQq, b + oErrQ, b + oTGi, b + oTGh]
      : [0, 0, 0, 0, 0, 0, 0, 0];
    this.planes = opts.activationBits === 7 ? 1 : 2;
    this.codeQmaxX = Math.min(CODE_QMAX[this.planes], int16QMax(p.ip));
    this.codeQmaxH = Math.min(CODE_QMAX[this.planes], int16QMax(p.hc));
    this.qmaxX = int16QMax(p.ip);
    this.qmaxH = int16QMax(p.hc);
    this.pCtl = b + oCtl;
    // The one-call step (layer_step) covers every layer but the reset-before GRU (q = r * h is
    // computed between its kernels) and the 2-thread mode (the pool splits the mat-vecs).
    this.desc = p.before || this.pool ? 0 : b + oDesc;
    if (fresh && this.desc) {
      writeDesc(k, this.desc, {
        OP: config.delta ? OP_DELTA : OP_DENSE, CELL: layer.kind === 'lstm' ? 1 : 0, KIND: stepKind(opts.weights, p.layout),
        I, H, HP: p.hp, LD: p.ld, IP: p.ip, HC: p.hc,
        X: this.pX, XPREV: this.pXPrev, H_: this.pH, HPREV: this.pHPrev, C: this.pC, GI: this.pGi, GH: this.pGh,
        WIH: p.wIh, WHH: p.wHh, SIH: p.sIh, SHH: p.sHh, BI: this.pBi, BH: this.pBh, RSIH: p.rsIh, RSHH: p.rsHh,
        IDXX: this.pIdxX, VALSX: this.pValsX, IDXH: this.pIdxH, VALSH: this.pValsH, KEEP: this.pKeep, TMP: this.pTmp,
        ERRX: this.pErrX, ERRH: this.pErrH, XQ: codes ? this.pXhi : this.pXq, HQ: codes ? this.pHhi : this.pHq, XLO: this.pXlo, HLO: this.pHlo,
        CTL: this.pCtl,
      });
    }
    if (fresh) {
      k.i32(this.pAll, Math.max(xLen, hLen)).set(Int32Array.from({ length: Math.max(xLen, hLen) }, (_, i) => i));
      // Initial memories / biases (dense mode uses the PyTorch placement).
      const G = p.gates;
      const bi = padBlocks(layer.biasIh, G, H, p.hp);
      const bh = padBlocks(layer.biasHh, G, H, p.hp);
      if (config.delta && layer.kind === 'gru' && config.biasConvention === 'edgedrnn') {
        for (let j = 0; j < p.hp * G; j++) bi[j] = bi[j]! + bh[j]!;
        bh.fill(0);
      }
      k.f32(this.pBi, bi.length).set(bi);
      k.f32(this.pBh, bh.length).set(bh);
    }
    const period = opts.resyncPeriod ?? 4096;
    const band = 16;
    const bands = Math.ceil(p.ld / band);
    this.syncRows = band;
    this.syncEvery = period > 0 ? Math.max(1, Math.floor(period / bands)) : Infinity;
    this.out = new Float64Array(H);
    this.wasmIo = { kernels: k, input: this.pX, output: this.pH };
    this.reset();
  }

  private views(): void {
    if (this.gen === this.k.generation) return;
    const p = this.plan;
    const k = this.k;
    this.vX = k.f32(this.pX, roundUp(Math.max(p.I, p.ip), 16));
    this.vH = k.f32(this.pH, p.H);
    this.vIdxX = k.i32(this.pIdxX, p.I);
    this.vIdxH = k.i32(this.pIdxH, p.H);
    this.vCtl = k.i32(this.pCtl, CTL_BYTES / 4);
    this.gen = k.generation;
  }

  get firedXIdx(): Int32Array {
    this.views();
    return this.delta ? this.vIdxX : this.k.i32(this.pAll, this.plan.I);
  }

  get firedHIdx(): Int32Array {
    this.views();
    return this.delta ? this.vIdxH : this.k.i32(this.pAll, this.plan.H);
  }

  /** Reset-before GRU only: indices of the fired q elements (first lastFiredQ valid). */
  get firedQIdx(): Int32Array | undefined {
    if (!this.plan.before) return undefined;
    return this.delta ? this.k.i32(this.pIdxQ, this.plan.H) : this.k.i32(this.pAll, this.plan.H);
  }

  /** Give the layer's slot back: this executor will not run again. */
  dispose(): void {
    this.slot.release(this);
  }

  reset(): void {
    this.slot.acquire(this);
    const p = this.plan;
    const k = this.k;
    const hLen = roundUp(Math.max(p.H, p.hc, p.hp), 16);
    for (const q of [this.pH, this.pHPrev, this.pC, this.pErrH]) k.f32(q, hLen).fill(0);
    for (const q of [this.pXPrev, this.pErrX]) k.f32(q, roundUp(Math.max(p.I, p.ip), 16)).fill(0);
    if (p.before) for (const q of [this.pQ, this.pQPrev, this.pErrQ]) k.f32(q, hLen).fill(0);
    // A state after reset (ONNX initial_h / initial_c), remembered as 0 so it fires on step 1.
    if (this.layer.initialH) k.f32(this.pH, p.H).set(this.layer.initialH);
    if (this.layer.kind === 'lstm' && this.layer.initialC) k.f32(this.pC, p.H).set(this.layer.initialC);
    this.lastFiredQ = 0;
    k.f32(this.pGi, p.ld).set(k.f32(this.pBi, p.ld));
    k.f32(this.pGh, p.ld).set(k.f32(this.pBh, p.ld));
    this.syncRow = 0;
    this.stepsSinceSync = 0;
    const codes = !this.delta && p.layout === 'p8' && this.weights === 'int8';
    writeCtl(k, this.pCtl, {
      thx: this.thx, thh: this.thh, planes: this.planes,
      qmaxX: codes ? this.codeQmaxX : this.qmaxX, qmaxH: codes ? this.codeQmaxH : this.qmaxH,
    });
  }

  step(x: Float64Array): Float64Array {
    this.slot.acquire(this);
    this.views();
    const p = this.plan;
    const vx = this.vX;
    for (let i = 0; i < p.I; i++) vx[i] = x[i]!;
    this.stepWasm();
    if (this.gen !== this.k.generation) this.views();
    const vh = this.vH;
    const out = this.out;
    for (let j = 0; j < p.H; j++) out[j] = vh[j]!;
    return out;
  }

  /** One step on the input at pX (float32 in wasm memory); h is left at pH. Kernel calls only. */
  stepWasm(): void {
    if (this.desc) this.stepFused(0, 0, 0);
    else this.stepCalls();
  }

  /** Whether this executor steps with one kernel call (layer_step); else stepCalls. */
  get fused(): boolean {
    return this.desc !== 0;
  }

  /**
   * One step as one kernel call (layer_step): from the input at pX, or first copying `n` floats
   * from `src` there (src != 0); check != 0 refuses a non-finite input before any state
   * changes and returns -1. Returns 0 after a step. Only where `fused`.
   */
  stepFused(src: number, n: number, check: number): number {
    this.slot.acquire(this);
    if (this.k.exports.layer_step(this.desc, src, n || this.plan.I, check) < 0) return -1;
    if (!this.delta) {
      this.lastFiredX = this.plan.I;
      this.lastFiredH = this.plan.H;
      return 0;
    }
    if (this.gen !== this.k.generation) this.views();
    const ctl = this.vCtl;
    this.lastFiredX = ctl[CTL.NX]!;
    this.lastFiredH = ctl[CTL.NH]!;
    // Re-synchronisation after the step, as in stepCalls; the next step then runs the full gate pass.
    if (++this.stepsSinceSync >= this.syncEvery) {
      this.resyncBand();
      ctl[CTL.KEEP_VALID] = 0;
    }
    return 0;
  }

  /**
   * One step through the separate kernels (encoders, delta or dense mat-vecs, gates), each one
   * call: the reference of the one-call step (tests compare them), and the path of the
   * reset-before GRU and the 2-thread mode.
   */
  stepCalls(): void {
    this.slot.acquire(this);
    this.views();
    const p = this.plan;
    const e = this.k.exports;
    const int8 = this.weights === 'int8';
    // Reset-before: the hidden pass covers the r, z rows only; the n rows follow on q. hRows is a
    // multiple of 16 there, so the n rows start on a row, 8-row block and int8 block boundary.
    const hRows = p.before ? 2 * p.hp : p.ld;
    if (!this.delta) {
      if (int8 && p.layout === 'p8') {
        const sx = e.quantize_codes(this.pX, p.ip, this.codeQmaxX, this.planes, this.pXhi, this.pXlo);
        e.matvec_i8_p8(p.wIh, p.sIh, p.rsIh, this.pBi, p.ld, p.ip, this.planes, this.pXhi, this.pXlo, sx, this.pGi);
        const sh = e.quantize_codes(this.pH, p.hc, this.codeQmaxH, this.planes, this.pHhi, this.pHlo);
        e.matvec_i8_p8(p.wHh, p.sHh, p.rsHh, this.pBh, hRows, p.hc, this.planes, this.pHhi, this.pHlo, sh, this.pGh);
        if (p.before) {
          // Packed 8-row blocks: the n rows' block starts hRows * hc bytes in; h's code planes are free again.
          this.computeQ();
          const sq = e.quantize_codes(this.pQ, p.hc, this.codeQmaxH, this.planes, this.pHhi, this.pHlo);
          e.matvec_i8_p8(p.wHh + hRows * p.hc, p.sHh + hRows * 4, p.rsHh + hRows * 4, this.pBh + hRows * 4, p.ld - hRows, p.hc, this.planes, this.pHhi, this.pHlo, sq, this.pGh + hRows * 4);
        }
      } else if (int8) {
        const sx = e.quantize_i16(this.pX, p.ip, this.qmaxX, this.pXq);
        e.matvec_i8(p.wIh, p.sIh, this.pBi, p.ld, p.ip, this.pXq, sx, this.pGi);
        const sh = e.quantize_i16(this.pH, p.hc, this.qmaxH, this.pHq);
        e.matvec_i8(p.wHh, p.sHh, this.pBh, hRows, p.hc, this.pHq, sh, this.pGh);
        if (p.before) {
          this.computeQ();
          const sq = e.quantize_i16(this.pQ, p.hc, this.qmaxH, this.pQq);
          e.matvec_i8(p.wHh + hRows * p.hc, p.sHh + hRows * 4, this.pBh + hRows * 4, p.ld - hRows, p.hc, this.pQq, sq, this.pGh + hRows * 4);
        }
      } else if (p.before) {
        const mv = p.layout === 'p8' ? e.matvec_f32_p8 : e.matvec_f32;
        mv(p.wIh, this.pBi, p.ld, p.ip, this.pX, this.pGi);
        mv(p.wHh, this.pBh, hRows, p.hc, this.pH, this.pGh);
        this.computeQ();
        mv(p.wHh + hRows * p.hc * 4, this.pBh + hRows * 4, p.ld - hRows, p.hc, this.pQ, this.pGh + hRows * 4);
      } else if (this.pool) {
        this.pool.matvec2(p.wIh, this.pBi, p.ld, p.ip, this.pX, this.pGi, p.wHh, this.pBh, p.ld, p.hc, this.pH, this.pGh);
      } else if (p.layout === 'p8') {
        e.matvec_f32_p8(p.wIh, this.pBi, p.ld, p.ip, this.pX, this.pGi);
        e.matvec_f32_p8(p.wHh, this.pBh, p.ld, p.hc, this.pH, this.pGh);
      } else {
        e.matvec_f32(p.wIh, this.pBi, p.ld, p.ip, this.pX, this.pGi);
        e.matvec_f32(p.wHh, this.pBh, p.ld, p.hc, this.pH, this.pGh);
      }
      this.lastFiredX = p.I;
      this.lastFiredH = p.H;
      if (p.before) this.lastFiredQ = p.H;
    } else {
      const nx = e.delta_encode(this.pX, this.pXPrev, p.I, this.thx, this.pIdxX, this.pValsX);
      const nh = e.delta_encode(this.pH, this.pHPrev, p.H, this.thh, this.pIdxH, this.pValsH);
      if (int8) {
        e.delta_i8(p.wIh, p.ld, 0, p.ld, p.sIh, this.pIdxX, this.pValsX, nx, this.pGi, this.pTmp, this.pErrX);
        e.delta_i8(p.wHh, p.ld, 0, hRows, p.sHh, this.pIdxH, this.pValsH, nh, this.pGh, this.pTmp, this.pErrH);
      } else {
        e.delta_f32(p.wIh, p.ld, 0, p.ld, this.pIdxX, this.pValsX, nx, this.pGi);
        e.delta_f32(p.wHh, p.ld, 0, hRows, this.pIdxH, this.pValsH, nh, this.pGh);
      }
      let nq = 0;
      if (p.before) {
        // Second pass: q = r * h against its remembered copy; W_hn's fired columns into Mnh.
        this.computeQ();
        nq = e.delta_encode(this.pQ, this.pQPrev, p.H, this.thh, this.pIdxQ, this.pValsQ);
        if (int8) e.delta_i8(p.wHh, p.ld, hRows, p.ld, p.sHh, this.pIdxQ, this.pValsQ, nq, this.pGh, this.pTmp, this.pErrQ);
        else e.delta_f32(p.wHh, p.ld, hRows, p.ld, this.pIdxQ, this.pValsQ, nq, this.pGh);
        this.lastFiredQ = nq;
      }
      this.lastFiredX = nx;
      this.lastFiredH = nh;
      // A reset-before GRU's n memory moves with q as well: a q firing is a change.
      let changed = nx + nh + nq > 0;
      if (++this.stepsSinceSync >= this.syncEvery) {
        this.resyncBand();
        changed = true;
      }
      // Nothing fired and no re-synchronisation: the memories, hence the gate activations, are
      // those of the last step; only the state update runs (the same arithmetic, bit for bit).
      if (!changed && this.vCtl[CTL.KEEP_VALID] !== 0) {
        if (this.layer.kind === 'gru') e.gru_blend(this.pKeep, this.pH, p.hp);
        else e.lstm_blend(this.pKeep, this.pC, this.pH, p.hp);
      } else {
        if (p.before) {
          this.foldN();
          e.gru_gates_keep(this.pTGi, this.pTGh, this.pH, p.hp, this.pKeep);
        }
        else if (this.layer.kind === 'gru') e.gru_gates_keep(this.pGi, this.pGh, this.pH, p.hp, this.pKeep);
        else e.lstm_gates_keep(this.pGi, this.pGh, this.pC, this.pH, p.hp, this.pKeep);
        this.vCtl[CTL.KEEP_VALID] = 1;
      }
      return;
    }
    if (p.before) {
      this.foldN();
      e.gru_gates(this.pTGi, this.pTGh, this.pH, p.hp);
    } else if (this.layer.kind === 'gru') e.gru_gates(this.pGi, this.pGh, this.pH, p.hp);
    else e.lstm_gates(this.pGi, this.pGh, this.pC, this.pH, p.hp);
  }

  /** q = sigmoid(gi_r + gh_r) * h (reset-before GRU), written to pQ (zero beyond H). */
  private computeQ(): void {
    const p = this.plan;
    const k = this.k;
    const gi = k.f32(this.pGi, p.H);
    const gh = k.f32(this.pGh, p.H);
    const h = k.f32(this.pH, p.H);
    const q = k.f32(this.pQ, p.H);
    for (let j = 0; j < p.H; j++) {
      const a = gi[j]! + gh[j]!;
      const r = a >= 0 ? 1 / (1 + Math.exp(-a)) : Math.exp(a) / (1 + Math.exp(a));
      q[j] = r * h[j]!;
    }
  }

  /** Fold the n block (see the header) into pTGi / pTGh: gate inputs gi_n + gh_n and 0, memories untouched. */
  private foldN(): void {
    const p = this.plan;
    const k = this.k;
    const n = p.gates * p.hp;
    const gi = k.f32(this.pGi, n);
    const gh = k.f32(this.pGh, n);
    const tgi = k.f32(this.pTGi, n);
    const tgh = k.f32(this.pTGh, n);
    tgi.set(gi);
    tgh.set(gh);
    for (let j = 2 * p.hp; j < n; j++) {
      tgi[j] = gi[j]! + gh[j]!;
      tgh[j] = 0;
    }
  }

  /**
   * Recompute one band of memory rows exactly from the remembered values: bias + W xPrev and
   * bias + W hPrev (a reset-before GRU's n rows: bias + W_hn qPrev), summing every column (the
   * delta kernel with all columns "fired").
   */
  private resyncBand(): void {
    const p = this.plan;
    const e = this.k.exports;
    const r0 = this.syncRow;
    const r1 = Math.min(p.ld, r0 + this.syncRows);
    const gi = this.k.f32(this.pGi, p.ld);
    const gh = this.k.f32(this.pGh, p.ld);
    gi.set(this.k.f32(this.pBi + r0 * 4, r1 - r0), r0);
    gh.set(this.k.f32(this.pBh + r0 * 4, r1 - r0), r0);
    if (p.before) {
      this.resyncBandBefore(r0, r1);
    } else if (this.weights === 'int8') {
      // The int8 kernel's memories hold b + W (prev - err) (err: the quantisation error carried
      // per element, below half a step). Recompute exactly that: one pass quantises the values
      // to 16 bits and leaves its residuals in a scratch err, a second pass adds the residuals.
      this.resyncRowsInt8(p.wIh, p.sIh, this.pXPrev, this.pErrX, p.I, this.pGi, r0, r1);
      this.resyncRowsInt8(p.wHh, p.sHh, this.pHPrev, this.pErrH, p.H, this.pGh, r0, r1);
    } else {
      e.delta_f32(p.wIh, p.ld, r0, r1, this.pAll, this.pXPrev, p.I, this.pGi);
      e.delta_f32(p.wHh, p.ld, r0, r1, this.pAll, this.pHPrev, p.H, this.pGh);
    }
    this.syncRow = r1 >= p.ld ? 0 : r1;
    this.stepsSinceSync = 0;
  }

  /**
   * Rows [from, to) of an int8 matrix's memory `acc` recomputed as b + W (prev - err): the values
   * quantised to 16 bits with their residuals left in a scratch err, then the residuals added.
   */
  private resyncRowsInt8(w: number, s: number, prev: number, err: number, n: number, acc: number, from: number, to: number): void {
    const k = this.k;
    const e = k.exports;
    const ld = this.plan.ld;
    const v = k.f32(this.pResid, n);
    const pv = k.f32(prev, n);
    const ev = k.f32(err, n);
    for (let i = 0; i < n; i++) v[i] = pv[i]! - ev[i]!;
    k.f32(this.pScratchA, n).fill(0);
    e.delta_i8(w, ld, from, to, s, this.pAll, this.pResid, n, acc, this.pTmp, this.pScratchA);
    k.f32(this.pScratchB, n).fill(0);
    e.delta_i8(w, ld, from, to, s, this.pAll, this.pScratchA, n, acc, this.pTmp, this.pScratchB);
  }

  /** resyncBand for a reset-before GRU: gh rows below 2hp from hPrev, the n rows from qPrev. */
  private resyncBandBefore(r0: number, r1: number): void {
    const p = this.plan;
    const e = this.k.exports;
    const split = 2 * p.hp;
    // [w, scale, prev, err, n, acc, from, to] for each (matrix, row range) in the band.
    const parts: Array<[number, number, number, number, number, number, number, number]> = [
      [p.wIh, p.sIh, this.pXPrev, this.pErrX, p.I, this.pGi, r0, r1],
      [p.wHh, p.sHh, this.pHPrev, this.pErrH, p.H, this.pGh, r0, Math.min(r1, split)],
      [p.wHh, p.sHh, this.pQPrev, this.pErrQ, p.H, this.pGh, Math.max(r0, split), r1],
    ];
    for (const [w, s, prev, err, n, acc, from, to] of parts) {
      if (to <= from) continue;
      if (this.weights === 'int8') {
        this.resyncRowsInt8(w, s, prev, err, n, acc, from, to);
      } else {
        e.delta_f32(w, p.ld, from, to, this.pAll, prev, n, acc);
      }
    }
  }

  /** Copies of the internal state (tests: drift and layout checks). */
  snapshot(): RecurrentSnapshot {
    this.slot.acquire(this);
    const p = this.plan;
    const k = this.k;
    return {
      gi: k.f32(this.pGi, p.ld).slice(),
      gh: k.f32(this.pGh, p.ld).slice(),
      xPrev: k.f32(this.pXPrev, p.I).slice(),
      hPrev: k.f32(this.pHPrev, p.H).slice(),
      h: k.f32(this.pH, p.H).slice(),
      c: this.layer.kind === 'lstm' ? k.f32(this.pC, p.H).slice() : null,
      hp: p.hp,
    };
  }
}
