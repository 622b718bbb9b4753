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
 *
 * Reset-before form (resetAfter: false, src/cells/gru/definition.ts): the candidate's hidden
 * product W_hn (r * h) is linear in q = r * h, so q is delta-encoded against its own remembered
 * copy qPrev with the hidden threshold (same inclusive rule), and W_hn's fired columns accumulate
 * into Mnh (at b_hn after reset):
 *   Mr += W_ir dx + W_hr dh;  Mz += W_iz dx + W_hz dh;  Mnx += W_in dx
 *   r = sigmoid(Mr); z = sigmoid(Mz); q = r * h
 *   dq = q - qPrev, dq[|dq| < thresholdH] = 0, qPrev = fired ? q : qPrev;  Mnh += W_hn dq
 *   n = tanh(Mnx + Mnh); h = (1-z)*n + z*h
 * Extra cost against the reset-after form: one more remembered vector (qPrev, H values), and a
 * second, dependent pass per step (r must be known before W_hn's columns can be chosen), which
 * reads W_hn's columns for fired q elements instead of fired h elements. q moves when either r
 * or h moves, so its occupancy is measured separately (firedQ) rather than assumed equal to h's.
 */
import type { GruLayer } from '../../model/types.js';
import type { BiasConvention } from '../../runtime/types.js';
import { isResetAfter } from './definition.js';
import { cellFunctions } from '../activation.js';

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
  /** Reset-before only: remembered r * h (empty for the reset-after form). */
  qPrev: Float64Array;
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
    // The state after reset (initialH, an ONNX initial_h), remembered as 0: it fires on step 1.
    h: layer.initialH ? Float64Array.from(layer.initialH) : new Float64Array(H),
    mr: new Float64Array(H),
    mz: new Float64Array(H),
    mnx: new Float64Array(H),
    mnh: new Float64Array(H),
    qPrev: new Float64Array(isResetAfter(layer) ? 0 : H),
  };
  const before = !isResetAfter(layer);
  const bi = layer.biasIh;
  const bh = layer.biasHh;
  for (let k = 0; k < H; k++) {
    s.mr[k] = bi[k]! + bh[k]!;
    s.mz[k] = bi[H + k]! + bh[H + k]!;
    if (biasConvention === 'cudnn' || before) {
      // Reset-before: b_hn sits beside b_in inside the tanh, so both conventions agree.
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
 * One DeltaGRU step; mutates `state`. Returns the indices of the fired input and hidden elements
 * (and, reset-before form, of the fired q = r * h elements; empty otherwise).
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
): { firedX: number[]; firedH: number[]; firedQ: number[] } {
  const H = layer.hiddenSize;
  const after = isResetAfter(layer);
  const [sigmoid, tanh] = cellFunctions('gru', layer.activations, layer.clip) as [(x: number) => number, (x: number) => number];
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
      if (after) state.mnh[k]! += layer.weightHh[(2 * H + k) * H + j]! * d;
    }
  }
  if (after) {
    for (let k = 0; k < H; k++) {
      const r = sigmoid(state.mr[k]!);
      const z = sigmoid(state.mz[k]!);
      const n = tanh(state.mnx[k]! + r * state.mnh[k]!);
      state.h[k] = (1 - z) * n + z * state.h[k]!;
    }
    return { firedX: ex.fired, firedH: eh.fired, firedQ: [] };
  }
  const q = new Float64Array(H);
  for (let k = 0; k < H; k++) q[k] = sigmoid(state.mr[k]!) * state.h[k]!;
  const eq = deltaEncode(q, state.qPrev, thresholdH);
  for (const j of eq.fired) {
    const d = eq.delta[j]!;
    for (let k = 0; k < H; k++) state.mnh[k]! += layer.weightHh[(2 * H + k) * H + j]! * d;
  }
  for (let k = 0; k < H; k++) {
    const z = sigmoid(state.mz[k]!);
    const n = tanh(state.mnx[k]! + state.mnh[k]!);
    state.h[k] = (1 - z) * n + z * state.h[k]!;
  }
  return { firedX: ex.fired, firedH: eh.fired, firedQ: eq.fired };
}
