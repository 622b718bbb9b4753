/**
 * QRNN, the paper's form ("fo-pooling"), float64:
 *   [Z; F; O] = W [x_t; x_{t-1}] + b,  z = tanh(Z), f = sigmoid(F), o = sigmoid(O)
 *   c = f*c + (1-f)*z,  h = o*c
 * Window 1 drops the x_{t-1} block. x_{-1} = 0 after a reset. We keep h = o*c (the paper's
 * output gate on c itself, not on tanh(c)) [an open choice, documented here and in the docs].
 */
import { sigmoid } from '../../core/math.js';
import type { QrnnLayer } from '../../model/types.js';
import { matVecRef } from '../linear/reference.js';

export interface QrnnStateRef {
  c: Float64Array;
  /** The previous input (window 2 only). */
  xPrev: Float64Array;
}

/** @example const { h, state } = qrnnStepRef(layer, x, { c, xPrev }); */
export function qrnnStepRef(layer: QrnnLayer, x: ArrayLike<number>, state: QrnnStateRef): { h: Float64Array; state: QrnnStateRef } {
  const H = layer.hiddenSize;
  const I = layer.inputSize;
  const xin = new Float64Array(layer.window * I);
  for (let i = 0; i < I; i++) xin[i] = x[i]!;
  if (layer.window === 2) xin.set(state.xPrev, I);
  const u = matVecRef(layer.weight, 3 * H, layer.window * I, xin, layer.bias);
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    const z = Math.tanh(u[k]!);
    const f = sigmoid(u[H + k]!);
    const o = sigmoid(u[2 * H + k]!);
    c[k] = f * state.c[k]! + (1 - f) * z;
    h[k] = o * c[k]!;
  }
  return { h, state: { c, xPrev: Float64Array.from({ length: I }, (_, i) => x[i]!) } };
}
