/**
 * GRU, float64: the definition every GRU path is tested against. Both formulations
 * (src/cells/gru/definition.ts); the PyTorch form unless the layer says resetAfter: false.
 *
 *   r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *   z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *   n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))      reset-after (PyTorch)
 *   n  = tanh(W_in x + b_in + W_hn (r * h) + b_hn)      reset-before (Cho et al. 2014, ONNX default, Keras reset_after=False)
 *   h' = (1 - z) * n + z * h
 */
import type { GruLayer } from '../../model/types.js';
import { matVecRef } from '../linear/reference.js';
import { isResetAfter } from './definition.js';
import { cellFunctions } from '../activation.js';

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
  // f = sigmoid, g = tanh unless the layer says otherwise (ONNX activations / clip).
  const [sigmoid, tanh] = cellFunctions('gru', layer.activations, layer.clip) as [(x: number) => number, (x: number) => number];
  if (isResetAfter(layer)) {
    for (let k = 0; k < H; k++) {
      const r = sigmoid(gi[k]! + gh[k]!);
      const z = sigmoid(gi[H + k]! + gh[H + k]!);
      const n = tanh(gi[2 * H + k]! + r * gh[2 * H + k]!);
      out[k] = (1 - z) * n + z * h[k]!;
    }
    return out;
  }
  // Reset-before: r must be known before the candidate's hidden product W_hn (r * h).
  const q = new Float64Array(H);
  const r = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    r[k] = sigmoid(gi[k]! + gh[k]!);
    q[k] = r[k]! * h[k]!;
  }
  for (let k = 0; k < H; k++) {
    const z = sigmoid(gi[H + k]! + gh[H + k]!);
    let a = gi[2 * H + k]! + layer.biasHh[2 * H + k]!;
    const row = (2 * H + k) * H;
    for (let j = 0; j < H; j++) a += layer.weightHh[row + j]! * q[j]!;
    out[k] = (1 - z) * tanh(a) + z * h[k]!;
  }
  return out;
}
