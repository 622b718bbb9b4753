/**
 * Fully connected layer, float64: y = act(W x + b). Also the matrix-vector product every
 * float reference is built on.
 */
import type { Activation, LinearLayer } from '../../model/types.js';

/**
 * y = W x + b for a row-major (rows, cols) matrix, accumulated in float64.
 *
 * @example const y = matVecRef(w, 2, 3, [1, 2, 3], bias);
 */
export function matVecRef(
  w: ArrayLike<number>,
  rows: number,
  cols: number,
  x: ArrayLike<number>,
  bias?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = bias ? bias[r]! : 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) s += w[base + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

export function applyActivation(v: number, act: Activation): number {
  switch (act) {
    case 'none':
      return v;
    case 'relu':
      return v > 0 ? v : 0;
    case 'tanh':
      return Math.tanh(v);
  }
}

/** @example const y = linearRef(layer, x); */
export function linearRef(layer: LinearLayer, x: ArrayLike<number>): Float64Array {
  const y = matVecRef(layer.weight, layer.outputSize, layer.inputSize, x, layer.bias);
  if (layer.activation !== 'none') for (let i = 0; i < y.length; i++) y[i] = applyActivation(y[i]!, layer.activation);
  return y;
}
