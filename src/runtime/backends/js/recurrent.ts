/**
 * What every js GRU/LSTM executor shares, dense or delta, whatever the weight storage: the
 * delta encoder, the memories and their biases, the gate activations. A subclass only says how
 * the fired columns are summed into the memories (dense column-major, CBTD-compressed, ...).
 *
 * Defined by the float64 references in src/cells/ (gruStepRef, deltaGruStepRef, lstmStepRef,
 * deltaLstmStepRef). Memory layouts:
 * - GRU  m = [Mr | Mz | Mnx | Mnh]: input columns (rows r, z, n) land on [Mr | Mz | Mnx], hidden
 *   columns on [Mr | Mz] and Mnh (kept apart because r multiplies only the hidden candidate).
 * - GRU reset-before (resetAfter: false): hidden columns land on [Mr | Mz] only; after r is known,
 *   q = r * h is encoded against its remembered copy (thresholdH) and W_hn's fired columns land
 *   on Mnh (deltaGruStepRef's second pass); n = tanh(Mnx + Mnh).
 * - LSTM m = [i | f | g | o]: both input and hidden columns land on all 4H rows.
 * Dense mode is the same path with the memories reloaded from the biases and every element fired
 * with its full value, so there is one accumulation to get right. Accumulators are float64: over
 * long streams the delta memories then drift by ~1e-16 per step instead of float32's ~1e-7.
 */
import { sigmoid } from '../../../core/math.js';
import type { GruLayer, LstmLayer } from '../../../model/types.js';
import type { ExecutorConfig, LayerExecutor } from '../types.js';
import { isResetAfter } from '../../../cells/gru/definition.js';
import { cellFunctions, hasDefaultActivations } from '../../../cells/activation.js';
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
  // Reset-before: b_hn is inside the tanh beside b_in, Mnh starts at b_hn under both conventions.
  const edgedrnn = config.delta && config.biasConvention === 'edgedrnn' && isResetAfter(layer);
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
  /** Reset-before GRU: fired q = r * h elements of the last step (0 otherwise). */
  lastFiredQ = 0;
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
  /** Reset-before GRU only: q = r * h, its remembered copy, and its fired elements. */
  protected readonly resetBefore: boolean;
  private readonly q: Float64Array;
  private readonly qPrev: Float64Array;
  readonly firedQIdx: Int32Array;
  protected readonly firedQDelta: Float64Array;
  /** Non-default activations / clip: the cell's functions (null on the default fast loops). */
  private readonly fns: Array<(x: number) => number> | null;

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
    this.resetBefore = layer.kind === 'gru' && !isResetAfter(layer);
    const QH = this.resetBefore ? H : 0;
    this.q = new Float64Array(QH);
    this.qPrev = new Float64Array(QH);
    this.firedQIdx = new Int32Array(QH);
    this.firedQDelta = new Float64Array(QH);
    this.fns = hasDefaultActivations(layer) ? null : cellFunctions(layer.kind, layer.activations, layer.clip);
    this.reset();
  }

  /** Add the fired input columns (first nx of firedXIdx/firedXDelta) and hidden columns to `m`. */
  protected abstract accumulate(nx: number, nh: number): void;

  /**
   * Gates with non-default activations or clip (ONNX activations / clip), every variant: the same
   * equations as the fast loops above with f, g, h from the layer (cellFunctions).
   */
  private gatesGeneric(): void {
    const H = this.layer.hiddenSize;
    const m = this.m;
    const h = this.h;
    const [f, g, hf] = this.fns!;
    if (this.resetBefore) {
      const q = this.q;
      for (let k = 0; k < H; k++) q[k] = f!(m[k]!) * h[k]!;
      const nq = this.delta ? encodeDeltas(q, this.qPrev, this.config.thresholdH, this.firedQIdx, this.firedQDelta) : encodeAll(q, this.firedQIdx, this.firedQDelta);
      this.accumulateCandidate(nq);
      for (let k = 0; k < H; k++) {
        const z = f!(m[H + k]!);
        h[k] = (1 - z) * g!(m[2 * H + k]! + m[3 * H + k]!) + z * h[k]!;
      }
      this.lastFiredQ = nq;
    } else if (this.layer.kind === 'gru') {
      for (let k = 0; k < H; k++) {
        const r = f!(m[k]!);
        const z = f!(m[H + k]!);
        h[k] = (1 - z) * g!(m[2 * H + k]! + r * m[3 * H + k]!) + z * h[k]!;
      }
    } else {
      const c = this.c;
      const p = this.layer.peephole;
      for (let k = 0; k < H; k++) {
        const cp = c[k]!;
        const i = f!(m[k]! + (p ? p[k]! * cp : 0));
        const fg = f!(m[H + k]! + (p ? p[H + k]! * cp : 0));
        c[k] = fg * cp + i * g!(m[2 * H + k]!);
        const o = f!(m[3 * H + k]! + (p ? p[2 * H + k]! * c[k]! : 0));
        h[k] = o * hf!(c[k]!);
      }
    }
  }

  /** Reset-before GRU: add W_hn's fired columns (first nq of firedQIdx/firedQDelta) to Mnh. */
  protected accumulateCandidate(_nq: number): void {
    throw new Error('unreachable: a reset-before GRU executor must override accumulateCandidate');
  }

  reset(): void {
    this.m.set(this.m0);
    this.xPrev.fill(0);
    this.hPrev.fill(0);
    this.h.fill(0);
    this.c.fill(0);
    // A state after reset (ONNX initial_h / initial_c), remembered as 0 so it fires on step 1.
    if (this.layer.initialH) this.h.set(this.layer.initialH);
    if (this.layer.kind === 'lstm' && this.layer.initialC) this.c.set(this.layer.initialC);
    this.qPrev.fill(0);
    this.lastFiredQ = 0;
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
    if (this.fns) {
      this.gatesGeneric();
    } else if (this.resetBefore) {
      const q = this.q;
      for (let k = 0; k < H; k++) q[k] = sigmoid(m[k]!) * h[k]!;
      const nq = this.delta ? encodeDeltas(q, this.qPrev, this.config.thresholdH, this.firedQIdx, this.firedQDelta) : encodeAll(q, this.firedQIdx, this.firedQDelta);
      this.accumulateCandidate(nq);
      for (let k = 0; k < H; k++) {
        const z = sigmoid(m[H + k]!);
        const n = Math.tanh(m[2 * H + k]! + m[3 * H + k]!);
        h[k] = (1 - z) * n + z * h[k]!;
      }
      this.lastFiredQ = nq;
    } else if (this.layer.kind === 'gru') {
      for (let k = 0; k < H; k++) {
        const r = sigmoid(m[k]!);
        const z = sigmoid(m[H + k]!);
        const n = Math.tanh(m[2 * H + k]! + r * m[3 * H + k]!);
        h[k] = (1 - z) * n + z * h[k]!;
      }
    } else {
      const c = this.c;
      const p = this.layer.peephole;
      if (p) {
        // Peepholes (ONNX P): i, f see the previous cell state, o the new one.
        for (let k = 0; k < H; k++) {
          const cp = c[k]!;
          const i = sigmoid(m[k]! + p[k]! * cp);
          const f = sigmoid(m[H + k]! + p[H + k]! * cp);
          const g = Math.tanh(m[2 * H + k]!);
          c[k] = f * cp + i * g;
          const o = sigmoid(m[3 * H + k]! + p[2 * H + k]! * c[k]!);
          h[k] = o * Math.tanh(c[k]!);
        }
      } else {
        for (let k = 0; k < H; k++) {
          const i = sigmoid(m[k]!);
          const f = sigmoid(m[H + k]!);
          const g = Math.tanh(m[2 * H + k]!);
          const o = sigmoid(m[3 * H + k]!);
          c[k] = f * c[k]! + i * g;
          h[k] = o * Math.tanh(c[k]!);
        }
      }
    }
    this.lastFiredX = nx;
    this.lastFiredH = nh;
    return h;
  }
}
