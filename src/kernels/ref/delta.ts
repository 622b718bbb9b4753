/**
 * Reference delta kernels (SPEC §3) in float64: the encoder and the column accumulation.
 */

/**
 * For each i: d = x[i] - prev[i]; fires when |d| >= threshold (inclusive); a fired element is
 * appended as (i, d) and prev[i] = x[i]. Returns the fired indices and deltas. Defines wasm
 * `delta_encode` (which computes d in float32).
 *
 * @example deltaEncodeRef([1, 0.01], new Float64Array(2), 0.1) // { idx: [0], vals: [1] }
 */
export function deltaEncodeRef(x: ArrayLike<number>, prev: Float64Array | Float32Array, threshold: number): { idx: number[]; vals: number[] } {
  const idx: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < prev.length; i++) {
    const d = x[i]! - prev[i]!;
    if (Math.abs(d) >= threshold) {
      idx.push(i);
      vals.push(d);
      prev[i] = x[i]!;
    }
  }
  return { idx, vals };
}

/**
 * acc[r] += sum_k W[r, idx[k]] * vals[k] for r0 <= r < r1, with W column-major (column j at
 * j*ld). Defines wasm `delta_f32`; with `colScale` (W int8), the coefficient is
 * colScale[j] * vals[k] and it defines wasm `delta_i8`.
 */
export function deltaAccumulateRef(
  w: ArrayLike<number>, ld: number, r0: number, r1: number, idx: ArrayLike<number>, vals: ArrayLike<number>, n: number,
  acc: Float64Array, colScale?: ArrayLike<number>,
): void {
  for (let k = 0; k < n; k++) {
    const j = idx[k]!;
    const c = vals[k]! * (colScale ? colScale[j]! : 1);
    for (let r = r0; r < r1; r++) acc[r]! += w[j * ld + r]! * c;
  }
}
