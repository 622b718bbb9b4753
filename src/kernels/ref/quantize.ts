/**
 * int8 weight quantisation for the wasm backend's `weights: 'int8'` option: symmetric,
 * q = roundHalfEven(w / scale), scale = max|w| / 127, one float scale per row (what the dense and
 * delta kernels use) or per column (kept for layouts whose unit of work is a column).
 */
import { roundHalfEven } from './matvec.js';

export interface QuantizedMatrix {
  /** int8 values, same layout as the input (row-major rows x cols). */
  q: Int8Array;
  /** One scale per row ('row') or per column ('column'). */
  scale: Float32Array;
}

/**
 * Quantise a row-major (rows, cols) matrix to int8 with per-row or per-column scales.
 *
 * @example const { q, scale } = quantizeI8(layer.weightIh, 3 * H, I, 'row');
 */
export function quantizeI8(w: ArrayLike<number>, rows: number, cols: number, axis: 'row' | 'column'): QuantizedMatrix {
  const q = new Int8Array(rows * cols);
  const n = axis === 'row' ? rows : cols;
  const scale = new Float32Array(n);
  const maxAbs = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = axis === 'row' ? r : c;
      maxAbs[k] = Math.max(maxAbs[k]!, Math.abs(w[r * cols + c]!));
    }
  }
  for (let k = 0; k < n; k++) scale[k] = maxAbs[k]! > 0 ? maxAbs[k]! / 127 : 1;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = scale[axis === 'row' ? r : c]!;
      q[r * cols + c] = Math.max(-127, Math.min(127, roundHalfEven(w[r * cols + c]! / s)));
    }
  }
  return { q, scale };
}

/** The float matrix an int8 matrix stands for (what the int8 kernels multiply by, exactly). */
export function dequantizeI8(m: QuantizedMatrix, rows: number, cols: number, axis: 'row' | 'column'): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = m.q[r * cols + c]! * m.scale[axis === 'row' ? r : c]!;
  }
  return out;
}
