/**
 * DeltaGRU, float64 reference: the definition of every delta GRU path.
 *
 * Per step:
 *   dx = x - xPrev, dx[|dx| < thresholdX] = 0, xPrev = fired ? x : xPrev
 *   dh = h - hPrev, dh[|dh| < thresholdH] = 0, hPrev = fired ? h : hPrev
 *   Mr += W_ir dx + W_hr dh;  Mz += W_iz dx + W_hz dh;  Mnx += W_in dx;  Mnh += W_hn dh
 *   r = sigmoid(Mr); z = sigmoid(Mz); n = tanh(Mnx + r * Mnh); h = (1-z)*n + z*h
 * An element fires when |delta| >= threshold (inclusive, as the authors' code and RTL do).
 * Mnh is kept apart from Mnx because r multiplies only the hidden part of the candidate.
 */
import { sigmoid } from '../../core/math.js';
import type { GruLayer } from '../../model/types.js';
import type { BiasConvention } from '../../runtime/types.js';

export interface DeltaGruState {
  /** Remembered input (the value of each element when it last fired). */
  xPrev: Float64Array;
  /** Remembered hidden state. */
  hPrev: Float64Array;
  /** Current hidden state. */
  h: Float64Array;
  /** Delta memories: accumulated pre-activations. */
  mr: Float64Array;
  mz: Float64Array;
  mnx: Float64Array;
  mnh: Float64Array;
}

/**
 * The state after reset: xPrev = h = hPrev = 0, memories at the biases of the convention
 * (cudnn: Mnx = b_in, Mnh = b_hn; edgedrnn: one bias per gate, Mnx = b_in + b_hn, Mnh = 0).
 */
export function createDeltaGruState(layer: GruLayer, biasConvention: BiasConvention = 'cudnn'): DeltaGruState {
  const H = layer.hiddenSize;
  const s: DeltaGruState = {
    xPrev: new Float64Array(layer.inputSize),
    hPrev: new Float64Array(H),
    h: new Float64Array(H),
    mr: new Float64Array(H),
    mz: new Float64Array(H),
    mnx: new Float64Array(H),
    mnh: new Float64Array(H),
  };
  const bi = layer.biasIh;
  const bh = layer.biasHh;
  for (let k = 0; k < H; k++) {
    s.mr[k] = bi[k]! + bh[k]!;
    s.mz[k] = bi[H + k]! + bh[H + k]!;
    if (biasConvention === 'cudnn') {
      s.mnx[k] = bi[2 * H + k]!;
      s.mnh[k] = bh[2 * H + k]!;
    } else {
      s.mnx[k] = bi[2 * H + k]! + bh[2 * H + k]!;
      s.mnh[k] = 0;
    }
  }
  return s;
}

/**
 * Threshold a delta vector in place of the remembered values: returns the thresholded deltas
 * and the indices that fired, and updates `prev` where an element fired.
 */
export function deltaEncode(
  value: ArrayLike<number>,
  prev: Float64Array,
  threshold: number,
): { delta: Float64Array; fired: number[] } {
  const delta = new Float64Array(prev.length);
  const fired: number[] = [];
  for (let i = 0; i < prev.length; i++) {
    const d = value[i]! - prev[i]!;
    if (Math.abs(d) >= threshold) {
      delta[i] = d;
      prev[i] = value[i]!;
      fired.push(i);
    }
  }
  return { delta, fired };
}

/**
 * One DeltaGRU step; mutates `state`. Returns the indices of the fired input and hidden elements.
 *
 * @example
 * const st = createDeltaGruState(layer);
 * const { firedX, firedH } = deltaGruStepRef(layer, st, x, 0.1, 0.05); // st.h is the output
 */
export function deltaGruStepRef(
  layer: GruLayer,
  state: DeltaGruState,
  x: ArrayLike<number>,
  thresholdX: number,
  thresholdH: number,
): { firedX: number[]; firedH: number[] } {
  const H = layer.hiddenSize;
  const I = layer.inputSize;
  const ex = deltaEncode(x, state.xPrev, thresholdX);
  const eh = deltaEncode(state.h, state.hPrev, thresholdH);
  for (const i of ex.fired) {
    const d = ex.delta[i]!;
    for (let k = 0; k < H; k++) {
      state.mr[k]! += layer.weightIh[k * I + i]! * d;
      state.mz[k]! += layer.weightIh[(H + k) * I + i]! * d;
      state.mnx[k]! += layer.weightIh[(2 * H + k) * I + i]! * d;
    }
  }
  for (const j of eh.fired) {
    const d = eh.delta[j]!;
    for (let k = 0; k < H; k++) {
      state.mr[k]! += layer.weightHh[k * H + j]! * d;
      state.mz[k]! += layer.weightHh[(H + k) * H + j]! * d;
      state.mnh[k]! += layer.weightHh[(2 * H + k) * H + j]! * d;
    }
  }
  for (let k = 0; k < H; k++) {
    const r = sigmoid(state.mr[k]!);
    const z = sigmoid(state.mz[k]!);
    const n = Math.tanh(state.mnx[k]! + r * state.mnh[k]!);
    state.h[k] = (1 - z) * n + z * state.h[k]!;
  }
  return { firedX: ex.fired, firedH: eh.fired };
}
