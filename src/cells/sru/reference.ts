/**
 * SRU, float64. No matrix product depends on h, which is what lets the multi-step
 * kernel read the weights once for T steps (Sung & Park):
 *   [xt; f~; r~; (p)] = W x,  f = sigmoid(f~ + b_f),  r = sigmoid(r~ + b_r)
 *   c' = f*c + (1-f)*xt,  h = r*tanh(c') + (1-r)*x'   with x' = x when I == H, else p = W_p x.
 */
import { sigmoid } from '../../core/math.js';
import type { SruLayer } from '../../model/types.js';
import { matVecRef } from '../linear/reference.js';

export interface SruStateRef {
  c: Float64Array;
}

/** One SRU step; returns h and the new state. @example const { h, state } = sruStepRef(layer, x, { c }); */
export function sruStepRef(layer: SruLayer, x: ArrayLike<number>, state: SruStateRef): { h: Float64Array; state: SruStateRef } {
  const H = layer.hiddenSize;
  const projected = layer.inputSize !== H;
  const u = matVecRef(layer.weight, (projected ? 4 : 3) * H, layer.inputSize, x);
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    const f = sigmoid(u[H + k]! + layer.bias[k]!);
    const r = sigmoid(u[2 * H + k]! + layer.bias[H + k]!);
    c[k] = f * state.c[k]! + (1 - f) * u[k]!;
    const skip = projected ? u[3 * H + k]! : x[k]!;
    h[k] = r * Math.tanh(c[k]!) + (1 - r) * skip;
  }
  return { h, state: { c } };
}
