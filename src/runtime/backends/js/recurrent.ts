/**
 * What every js GRU/LSTM executor shares, dense or delta, whatever the weight storage: the
 * delta encoder, the memories and their biases, the gate activations. A subclass only says how
 * the fired columns are summed into the memories (dense column-major, CBTD-compressed, ...).
 *
 * Defined by the float64 references in src/cells/ (gruStepRef, deltaGruStepRef, lstmStepRef,
 * deltaLstmStepRef). Memory layouts:
 * - GRU  m = [Mr | Mz | Mnx | Mnh]: input columns (rows r, z, n) land on [Mr | Mz | Mnx], hidden
 *   columns on [Mr | Mz] and Mnh (kept apart because r multiplies only the hidden candidate).
 * - LSTM m = [i | f | g | o]: both input and hidden columns land on all 4H rows.
 * Dense mode is the same path with the memories reloaded from the biases and every element fired
 * with its full value, so there is one accumulation to get right. Accumulators are float64: over
 * long streams the delta memories then drift by ~1e-16 per step instead of float32's ~1e-7.
 */
import { sigmoid } from '../../../core/math.js';
import type { GruLayer, LstmLayer } from '../../../model/types.js';
import type { ExecutorConfig, LayerExecutor } from '../types.js';
import { encodeAll, encodeDeltas } from './encode.js';

/**
 * Memories after reset. GRU: cudnn puts b_hn in Mnh, edgedrnn (one bias per gate) in
 * Mnx; dense sessions always use the PyTorch (cudnn) placement. LSTM: b_ih + b_hh.
 */
export function initialMemories(layer: GruLayer | LstmLayer, config: ExecutorConfig): Float64Array {
  const H = layer.hiddenSize;
  const m0 = new Float64Array(4 * H);
  const bi = layer.biasIh;
  const bh = layer.biasHh;
  if (layer.kind === 'lstm') {
    for (let r = 0; r < 4 * H; r++) m0[r] = bi[r]! + bh[r]!;
    return m0;
  }
  const edgedrnn = config.delta && config.biasConvention === 'edgedrnn';
  for (let k = 0; k < H; k++) {
    m0[k] = bi[k]! + bh[k]!;
    m0[H + k] = bi[H + k]! + bh[H + k]!;
    m0[2 * H + k] = bi[2 * H + k]! + (edgedrnn ? bh[2 * H + k]! : 0);
    m0[3 * H + k] = edgedrnn ? 0 : bh[2 * H + k]!;
  }
  return m0;
}

export abstract class JsRecurrentExecutor implements LayerExecutor {
  readonly delta: boolean;
  abstract readonly path: string;
  lastFiredX = 0;
  lastFiredH = 0;
  readonly firedXIdx: Int32Array;
  readonly firedHIdx: Int32Array;
  protected readonly firedXDelta: Float64Array;
  protected readonly firedHDelta: Float64Array;
  /** The memories (4H, layout above). */
  protected readonly m: Float64Array;
  private readonly m0: Float64Array;
  private readonly xPrev: Float64Array;
  private readonly hPrev: Float64Array;
  private readonly h: Float64Array;
  private readonly c: Float64Array;

  constructor(
    readonly layer: GruLayer | LstmLayer,
    protected readonly config: ExecutorConfig,
  ) {
    const H = layer.hiddenSize;
    const I = layer.inputSize;
    this.delta = config.delta;
    this.firedXIdx = new Int32Array(I);
    this.firedHIdx = new Int32Array(H);
    this.firedXDelta = new Float64Array(I);
    this.firedHDelta = new Float64Array(H);
    this.m0 = initialMemories(layer, config);
    this.m = new Float64Array(4 * H);
    this.xPrev = new Float64Array(I);
    this.hPrev = new Float64Array(H);
    this.h = new Float64Array(H);
    this.c = new Float64Array(H);
    this.reset();
  }

  /** Add the fired input columns (first nx of firedXIdx/firedXDelta) and hidden columns to `m`. */
  protected abstract accumulate(nx: number, nh: number): void;

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
    this.accumulate(nx, nh);
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
