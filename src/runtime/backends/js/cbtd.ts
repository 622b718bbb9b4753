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
import type { GruLayer, Layer, LstmLayer } from '../../../model/types.js';
import { cbtdCached, type CbtdMatrix } from '../../../compress/cbtd/storage.js';
import type { ExecutorConfig, ExecutorFactory, LayerExecutor } from '../types.js';
import { createJsExecutor } from './index.js';
import { requireResetAfter } from '../../../cells/gru/definition.js';
import { requireNoPeephole } from '../../../cells/lstm/definition.js';
import { requireDefaultActivations } from '../../../cells/activation.js';
import { JsRecurrentExecutor } from './recurrent.js';

/** PEs per array used to lay out the storage when a session does not say (Spartus). */
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
export class JsCbtdExecutor extends JsRecurrentExecutor {
  readonly path = 'js-cbtd';
  /** The storages this executor reads (exposed so callers can report K and sparsity). */
  readonly ih: CbtdMatrix;
  readonly hh: CbtdMatrix;
  private readonly slotsIh: Int32Array;
  private readonly slotsHh: Int32Array;

  constructor(layer: GruLayer | LstmLayer, config: ExecutorConfig, pes: number = DEFAULT_CBTD_PES) {
    super(layer, config);
    const H = layer.hiddenSize;
    const R = (layer.kind === 'gru' ? 3 : 4) * H;
    const N = Math.min(pes, R);
    this.ih = cbtdCached(layer.weightIh, R, layer.inputSize, N);
    this.hh = cbtdCached(layer.weightHh, R, H, N);
    const targetIh = new Int32Array(R);
    const targetHh = new Int32Array(R);
    for (let r = 0; r < R; r++) {
      targetIh[r] = r;
      // GRU memories [Mr | Mz | Mnx | Mnh]: the hidden n rows go to Mnh (r multiplies it).
      targetHh[r] = layer.kind === 'gru' && r >= 2 * H ? r + H : r;
    }
    this.slotsIh = targetsOf(this.ih, targetIh, 'ih');
    this.slotsHh = targetsOf(this.hh, targetHh, layer.kind === 'gru' ? 'hh-gru' : 'hh');
  }

  protected accumulate(nx: number, nh: number): void {
    accumulateCbtd(this.ih, this.slotsIh, this.firedXIdx, this.firedXDelta, nx, this.m);
    accumulateCbtd(this.hh, this.slotsHh, this.firedHIdx, this.firedHDelta, nh, this.m);
  }
}

/**
 * Executor factory for CBTD storage: GRU and LSTM layers run from the compressed storage,
 * other layers (SRU, QRNN, linear) on the plain js executors.
 *
 * @example const factory = cbtdExecutorFactory(64); const ex = factory(layer, config);
 */
export function cbtdExecutorFactory(pes: number = DEFAULT_CBTD_PES): ExecutorFactory {
  return (layer: Layer, config: ExecutorConfig): LayerExecutor => {
    if (layer.kind === 'gru') requireResetAfter(layer, "weightStorage 'cbtd'");
    if (layer.kind === 'lstm') requireNoPeephole(layer, "weightStorage 'cbtd'");
    if (layer.kind === 'gru' || layer.kind === 'lstm') requireDefaultActivations(layer, "weightStorage 'cbtd'");
    return layer.kind === 'gru' || layer.kind === 'lstm' ? new JsCbtdExecutor(layer, config, pes) : createJsExecutor(layer, config);
  };
}
