import { roundHalfEven } from './matvec.js';

/**
 * Reference delta kernels in float64: the encoder and the column accumulation.
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
 * j*ld). Defines wasm `delta_f32`.
 */
export function deltaAccumulateRef(
  w: ArrayLike<number>, ld: number, r0: number, r1: number, idx: ArrayLike<number>, vals: ArrayLike<number>, n: number, acc: Float64Array,
): void {
  for (let k = 0; k < n; k++) {
    const j = idx[k]!;
    const c = vals[k]!;
    for (let r = r0; r < r1; r++) acc[r]! += w[j * ld + r]! * c;
  }
}

/** Fired columns per exact int32 pass of `delta_i8` (127 * 32767 * 512 < 2^31). */
export const DELTA_I8_CHUNK = 512;

/**
 * int8 weights with one scale per row: acc[r] += scale[r] * sum_k W[r, idx[k]] * c_k * sigma.
 * Defines wasm `delta_i8`, including its quantisation of the step's deltas with error feedback:
 * v_k = vals[k] + err[j] (j = idx[k]), one step scale sigma = f32(max|v| / 32767), coefficients
 * c_k = roundHalfEven(f32(v_k * f32(1 / sigma))) (int16), err[j] = f32(v_k - c_k * sigma), exact
 * integer sums per chunk of 512 columns, then acc[r] += tmp[r] * scale[r] * sigma.
 * Returns the integer sums of the last chunk (compared bit for bit in the tests); updates err.
 */
export function deltaAccumulateI8Ref(
  q: Int8Array, ld: number, r0: number, r1: number, scale: ArrayLike<number>, idx: ArrayLike<number>, vals: ArrayLike<number>, n: number,
  acc: Float64Array, err: Float32Array,
): Int32Array {
  const f = Math.fround;
  const tmp = new Int32Array(ld);
  let m = 0;
  for (let k = 0; k < n; k++) m = Math.max(m, Math.abs(f(f(vals[k]!) + err[idx[k]!]!)));
  if (n <= 0 || m === 0) return tmp;
  const sigma = f(m / 32767);
  const inv = f(1 / sigma);
  for (let k0 = 0; k0 < n; k0 += DELTA_I8_CHUNK) {
    tmp.fill(0);
    for (let k = k0; k < Math.min(n, k0 + DELTA_I8_CHUNK); k++) {
      const j = idx[k]!;
      const v = f(f(vals[k]!) + err[j]!);
      const c = roundHalfEven(f(v * inv));
      err[j] = v - f(c * sigma);
      for (let r = r0; r < r1; r++) tmp[r] = tmp[r]! + q[j * ld + r]! * c;
    }
    for (let r = r0; r < r1; r++) acc[r]! += tmp[r]! * scale[r]! * sigma;
  }
  return tmp;
}
