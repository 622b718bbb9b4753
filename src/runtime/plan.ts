/**
 * Weight layouts compiled once per model and shared by every session (no copy per session).
 *
 * The delta kernels want weights column-major: the product of a matrix with a sparse delta is
 * the sum of the columns of the fired elements, so each column (all gates of one
 * input element) must be contiguous. We cache the transposes by the identity of the source
 * array, so sessions created from the same Model reuse one copy.
 */
const columnMajorCache = new WeakMap<Float32Array, Float32Array>();

/**
 * The transpose of a row-major (rows, cols) matrix: column c occupies [c*rows, (c+1)*rows).
 *
 * @example const wT = columnMajor(layer.weightIh, 3 * H, I); // column i: wT.subarray(i*3H, (i+1)*3H)
 */
export function columnMajor(w: Float32Array, rows: number, cols: number): Float32Array {
  const cached = columnMajorCache.get(w);
  if (cached) return cached;
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) t[c * rows + r] = w[base + c]!;
  }
  columnMajorCache.set(w, t);
  return t;
}
