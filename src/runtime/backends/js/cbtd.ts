/**
 * Delta GRU / LSTM executor that runs straight from CBTD-compressed storage (values plus
 * per-PE local row indices, src/compress/cbtd/storage.ts), the layout a Spartus-like array
 * keeps. A fired column costs N*K multiply-accumulates instead of G*H, so a CBTD-pruned model
 * at 93.75 % sparsity does 16x less work per fired column than the dense delta executor.
 *
 * Defined by the dense delta executors (gru.ts, lstm.ts, themselves defined by the float64
 * references in src/cells/): the same memories, the same encoder, only the column sums come
 * from the compressed storage. Padding slots hold 0 and add nothing.
 */
import { sigmoid } from '../../../core/math.js';
import type { GruLayer, Layer, LstmLayer } from '../../../model/types.js';
import { cbtdCached, type CbtdMatrix } from '../../../compress/cbtd/storage.js';
import type { ExecutorConfig, ExecutorFactory, LayerExecutor } from '../types.js';
import { encodeAll, encodeDeltas } from './encode.js';
import { createJsExecutor } from './index.js';

/** PEs per array used to lay out the storage when a session does not say (Spartus, SPEC §5). */
export const DEFAULT_CBTD_PES = 64;

/**
 * The memory slot of every storage slot: target[p + N * localRow] (padding slots point at a
 * valid row and carry 0). Computed once per (storage, row map) and cached, as the dense path
 * caches its column-major transpose: the per-PE local indices stay the stored format.
 */
const slotTargets = new WeakMap<CbtdMatrix, Map<string, Int32Array>>();
function targetsOf(m: CbtdMatrix, target: Int32Array, key: string): Int32Array {
  let byKey = slotTargets.get(m);
  if (!byKey) slotTargets.set(m, (byKey = new Map()));
  let t = byKey.get(key);
  if (!t) {
    t = new Int32Array(m.values.length);
    const N = m.pes;
    const K = m.k;
    for (let j = 0, idx = 0; j < m.cols; j++) {
      for (let p = 0; p < N; p++) for (let s = 0; s < K; s++, idx++) t[idx] = target[p + N * m.localRows[idx]!]!;
    }
    byKey.set(key, t);
  }
  return t;
}

/** acc[slotTarget] += value * delta over the fired columns: the CBTD form of accumulateColumns. */
function accumulateCbtd(
  m: CbtdMatrix,
  targets: Int32Array,
  firedIdx: Int32Array,
  firedDelta: Float64Array,
  nFired: number,
  acc: Float64Array,
): void {
  const stride = m.pes * m.k;
  const values = m.values;
  for (let f = 0; f < nFired; f++) {
    const d = firedDelta[f]!;
    const base = firedIdx[f]! * stride;
    const end = base + stride;
    for (let idx = base; idx < end; idx++) acc[targets[idx]!]! += values[idx]! * d;
  }
}

/** Executor of a GRU or LSTM layer from CBTD storage; `path` is 'js-cbtd'. */
export class JsCbtdExecutor implements LayerExecutor {
  readonly delta: boolean;
  readonly path = 'js-cbtd';
  lastFiredX = 0;
  lastFiredH = 0;
  readonly firedXIdx: Int32Array;
  readonly firedHIdx: Int32Array;
  /** The storages this executor reads (exposed so callers can report K and sparsity). */
  readonly ih: CbtdMatrix;
  readonly hh: CbtdMatrix;
  private readonly firedXDelta: Float64Array;
  private readonly firedHDelta: Float64Array;
  private readonly slotsIh: Int32Array;
  private readonly slotsHh: Int32Array;
  private readonly m: Float64Array;
  private readonly m0: Float64Array;
  private readonly xPrev: Float64Array;
  private readonly hPrev: Float64Array;
  private readonly h: Float64Array;
  private readonly c: Float64Array;

  constructor(
    readonly layer: GruLayer | LstmLayer,
    private readonly config: ExecutorConfig,
    pes: number = DEFAULT_CBTD_PES,
  ) {
    const H = layer.hiddenSize;
    const I = layer.inputSize;
    const G = layer.kind === 'gru' ? 3 : 4;
    const R = G * H;
    const N = Math.min(pes, R);
    this.delta = config.delta;
    this.ih = cbtdCached(layer.weightIh, R, I, N);
    this.hh = cbtdCached(layer.weightHh, R, H, N);
    this.firedXIdx = new Int32Array(I);
    this.firedHIdx = new Int32Array(H);
    this.firedXDelta = new Float64Array(I);
    this.firedHDelta = new Float64Array(H);
    const targetIh = new Int32Array(R);
    const targetHh = new Int32Array(R);
    for (let r = 0; r < R; r++) {
      targetIh[r] = r;
      // GRU memories [Mr | Mz | Mnx | Mnh]: the hidden n rows go to Mnh (r multiplies it).
      targetHh[r] = layer.kind === 'gru' && r >= 2 * H ? r + H : r;
    }
    this.slotsIh = targetsOf(this.ih, targetIh, 'ih');
    this.slotsHh = targetsOf(this.hh, targetHh, layer.kind === 'gru' ? 'hh-gru' : 'hh');
    this.m = new Float64Array(4 * H);
    this.m0 = new Float64Array(4 * H);
    if (layer.kind === 'gru') {
      const edgedrnn = config.delta && config.biasConvention === 'edgedrnn';
      for (let k = 0; k < H; k++) {
        this.m0[k] = layer.biasIh[k]! + layer.biasHh[k]!;
        this.m0[H + k] = layer.biasIh[H + k]! + layer.biasHh[H + k]!;
        this.m0[2 * H + k] = layer.biasIh[2 * H + k]! + (edgedrnn ? layer.biasHh[2 * H + k]! : 0);
        this.m0[3 * H + k] = edgedrnn ? 0 : layer.biasHh[2 * H + k]!;
      }
    } else {
      for (let r = 0; r < 4 * H; r++) this.m0[r] = layer.biasIh[r]! + layer.biasHh[r]!;
    }
    this.xPrev = new Float64Array(I);
    this.hPrev = new Float64Array(H);
    this.h = new Float64Array(H);
    this.c = new Float64Array(H);
    this.reset();
  }

  reset(): void {
    this.m.set(this.m0);
    this.xPrev.fill(0);
    this.hPrev.fill(0);
    this.h.fill(0);
    this.c.fill(0);
  }

  step(x: Float64Array): Float64Array {
    const H = this.layer.hiddenSize;
    const m = this.m;
    let nx: number;
    let nh: number;
    if (this.delta) {
      nx = encodeDeltas(x, this.xPrev, this.config.thresholdX, this.firedXIdx, this.firedXDelta);
      nh = encodeDeltas(this.h, this.hPrev, this.config.thresholdH, this.firedHIdx, this.firedHDelta);
    } else {
      m.set(this.m0);
      nx = encodeAll(x, this.firedXIdx, this.firedXDelta);
      nh = encodeAll(this.h, this.firedHIdx, this.firedHDelta);
    }
    accumulateCbtd(this.ih, this.slotsIh, this.firedXIdx, this.firedXDelta, nx, m);
    accumulateCbtd(this.hh, this.slotsHh, this.firedHIdx, this.firedHDelta, nh, m);
    const h = this.h;
    if (this.layer.kind === 'gru') {
      for (let k = 0; k < H; k++) {
        const r = sigmoid(m[k]!);
        const z = sigmoid(m[H + k]!);
        const n = Math.tanh(m[2 * H + k]! + r * m[3 * H + k]!);
        h[k] = (1 - z) * n + z * h[k]!;
      }
    } else {
      const c = this.c;
      for (let k = 0; k < H; k++) {
        const i = sigmoid(m[k]!);
        const f = sigmoid(m[H + k]!);
        const g = Math.tanh(m[2 * H + k]!);
        const o = sigmoid(m[3 * H + k]!);
        c[k] = f * c[k]! + i * g;
        h[k] = o * Math.tanh(c[k]!);
      }
    }
    this.lastFiredX = nx;
    this.lastFiredH = nh;
    return h;
  }
}

/**
 * Executor factory for CBTD storage: GRU and LSTM layers run from the compressed storage,
 * other layers (SRU, QRNN, linear) on the plain js executors.
 *
 * @example const factory = cbtdExecutorFactory(64); const ex = factory(layer, config);
 */
export function cbtdExecutorFactory(pes: number = DEFAULT_CBTD_PES): ExecutorFactory {
  return (layer: Layer, config: ExecutorConfig): LayerExecutor =>
    layer.kind === 'gru' || layer.kind === 'lstm' ? new JsCbtdExecutor(layer, config, pes) : createJsExecutor(layer, config);
}
