/**
 * Gate reordering shared by the importers. deltakit keeps PyTorch's gate order (GRU r, z, n; LSTM
 * i, f, g, o) with row-major (G*H, C) matrices; ONNX stores rows z, r, h / i, o, f, c, and Keras
 * and TensorFlow.js store the transpose, (C, G*H) with gate columns z, r, h / i, f, c, o.
 */

/** Our gate block k comes from the source's block order[k]. */
export const GATE_ORDER = {
  onnxGru: [1, 0, 2],
  onnxLstm: [0, 2, 3, 1],
  kerasGru: [1, 0, 2],
  kerasLstm: [0, 1, 2, 3],
} as const;

/** Rows of a row-major (G*H, cols) matrix (or a (G*H) vector with cols = 1) reordered by gate block. */
export function reorderGateRows(src: ArrayLike<number>, offset: number, H: number, cols: number, order: readonly number[]): Float32Array {
  const out = new Float32Array(order.length * H * cols);
  order.forEach((from, to) => {
    for (let r = 0; r < H * cols; r++) out[to * H * cols + r] = src[offset + from * H * cols + r]!;
  });
  return out;
}

/**
 * A Keras (C, G*H) kernel (row-major, gate columns in the source's order) as our row-major
 * (G*H, C) matrix in our gate order.
 */
export function kerasKernelToRows(k: ArrayLike<number>, C: number, H: number, order: readonly number[]): Float32Array {
  const G = order.length;
  const out = new Float32Array(G * H * C);
  order.forEach((from, to) => {
    for (let u = 0; u < H; u++) {
      const col = from * H + u;
      const row = (to * H + u) * C;
      for (let c = 0; c < C; c++) out[row + c] = k[c * G * H + col]!;
    }
  });
  return out;
}
