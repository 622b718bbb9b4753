/**
 * Reference matrix kernels in float64: the definitions the WebAssembly kernels are tested against.
 * Layouts are the same as the fast kernels' (row-major, padded sizes given explicitly).
 */

/**
 * y = W x + b for a row-major (rows, cols) W. Defines wasm `matvec_f32`.
 *
 * @example matvecRef(new Float32Array([1, 2, 3, 4]), new Float32Array(2), 2, 2, [1, 1]) // [3, 7]
 */
export function matvecRef(w: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc += w[base + c]! * x[c]!;
    y[r] = acc + b[r]!;
  }
  return y;
}

/**
 * int8 weights with one scale per row, int16 input with one scale:
 * y[r] = scale[r] * xScale * sum_c W[r,c] xq[c] + b[r]. The integer sum is exact (it is what
 * the SIMD kernel computes bit for bit); only the final scaling is floating point.
 * Defines wasm `matvec_i8`.
 */
export function matvecI8Ref(
  w: Int8Array, scale: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number, xq: Int16Array, xScale: number,
): { y: Float64Array; acc: Int32Array } {
  const y = new Float64Array(rows);
  const acc = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) s += w[base + c]! * xq[c]!;
    acc[r] = s;
    y[r] = s * scale[r]! * xScale + b[r]!;
  }
  return { y, acc };
}

/** Largest int16 magnitude for quantised inputs that keeps the int32 sums of `cols` int8 products exact. */
export function int16QMax(cols: number): number {
  // The row's total (the lanes of i32x4.dot_i16x8_s are summed in int32 too) is at most
  // cols * 127 * qmax in magnitude: keep it below 2^31. Full 16-bit range up to 516 columns,
  // about 14 bits at 2048.
  return Math.max(1, Math.min(32767, Math.floor((2 ** 31 - 1) / (127 * cols))));
}

/**
 * Symmetric int16 quantisation in float32 arithmetic, exactly as wasm `quantize_i16` does it:
 * s = f32(max|x| / qmax) (1 if x is all zero), xq = roundHalfEven(f32(x * f32(1 / s))).
 */
export function quantizeI16Ref(x: Float32Array, qmax: number): { xq: Int16Array; scale: number } {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  const f = Math.fround;
  const s = m > 0 ? f(f(m) / f(qmax)) : 1;
  const inv = f(1 / s);
  const xq = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) xq[i] = roundHalfEven(f(x[i]! * inv));
  return { xq, scale: s };
}

export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  // Math.round rounds .5 up; make ties go to the even neighbour.
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Y[t, r] = W[r, :] . X[t, :] + b[r] for t < steps: the multi-step product of SRU and QRNN
 *. Defines wasm `matmat_f32`.
 */
export function matmatRef(w: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number, x: ArrayLike<number>, steps: number): Float64Array {
  const y = new Float64Array(steps * rows);
  for (let t = 0; t < steps; t++) {
    for (let r = 0; r < rows; r++) {
      let acc = 0;
      for (let c = 0; c < cols; c++) acc += w[r * cols + c]! * x[t * cols + c]!;
      y[t * rows + r] = acc + b[r]!;
    }
  }
  return y;
}
