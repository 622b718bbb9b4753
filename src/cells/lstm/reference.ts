/**
 * LSTM, PyTorch form, float64, gates i, f, g, o:
 *   i, f, o = sigmoid(.), g = tanh(.), c' = f*c + i*g, h' = o*tanh(c')
 * With peepholes (ONNX P): i and f also add p_i*c, p_f*c (previous cell), o adds p_o*c' (new cell).
 */
import { cellFunctions } from '../activation.js';
import type { LstmLayer } from '../../model/types.js';
import { matVecRef } from '../linear/reference.js';

export interface LstmStateRef {
  h: Float64Array;
  c: Float64Array;
}

/** @example const s1 = lstmStepRef(layer, x, { h: new Float64Array(H), c: new Float64Array(H) }); */
export function lstmStepRef(layer: LstmLayer, x: ArrayLike<number>, state: LstmStateRef): LstmStateRef {
  const H = layer.hiddenSize;
  const gi = matVecRef(layer.weightIh, 4 * H, layer.inputSize, x, layer.biasIh);
  const gh = matVecRef(layer.weightHh, 4 * H, H, state.h, layer.biasHh);
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  const p = layer.peephole;
  // f = sigmoid, g = h = tanh unless the layer says otherwise (ONNX activations / clip).
  const [sigmoid, gAct, hAct] = cellFunctions('lstm', layer.activations, layer.clip) as Array<(x: number) => number>;
  for (let k = 0; k < H; k++) {
    const cp = state.c[k]!;
    const i = sigmoid!(gi[k]! + gh[k]! + (p ? p[k]! * cp : 0));
    const f = sigmoid!(gi[H + k]! + gh[H + k]! + (p ? p[H + k]! * cp : 0));
    const g = gAct!(gi[2 * H + k]! + gh[2 * H + k]!);
    c[k] = f * cp + i * g;
    const o = sigmoid!(gi[3 * H + k]! + gh[3 * H + k]! + (p ? p[2 * H + k]! * c[k]! : 0));
    h[k] = o * hAct!(c[k]!);
  }
  return { h, c };
}
