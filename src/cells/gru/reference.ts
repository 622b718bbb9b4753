/**
 * GRU, PyTorch form, float64: the definition every GRU path is tested against.
 *
 *   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))      (reset applied after the hidden product)
 *   h' = (1 - z) * n + z * h
 */
import { sigmoid } from '../../core/math.js';
import type { GruLayer } from '../../model/types.js';
import { matVecRef } from '../linear/reference.js';

/**
 * One GRU step. Returns the new hidden state (a new array).
 *
 * @example const h1 = gruStepRef(layer, x, new Float64Array(layer.hiddenSize));
 */
export function gruStepRef(layer: GruLayer, x: ArrayLike<number>, h: ArrayLike<number>): Float64Array {
  const H = layer.hiddenSize;
  const gi = matVecRef(layer.weightIh, 3 * H, layer.inputSize, x, layer.biasIh);
  const gh = matVecRef(layer.weightHh, 3 * H, H, h, layer.biasHh);
  const out = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    const r = sigmoid(gi[k]! + gh[k]!);
    const z = sigmoid(gi[H + k]! + gh[H + k]!);
    const n = Math.tanh(gi[2 * H + k]! + r * gh[2 * H + k]!);
    out[k] = (1 - z) * n + z * h[k]!;
  }
  return out;
}
