/**
 * Packed weight layouts of the mat-vec kernels (wasm `matvec_f32_p8`, `matvec_i8_p8`): 8 rows
 * interleaved per block, so one column group of all 8 rows is one contiguous run and the kernel
 * keeps 8 independent accumulators (see src/kernels/wasm/assembly/packed.ts for why).
 * These are the definitions the kernels are tested against, and what the executors use to lay
 * the weights out once per model.
 */

/** Columns per group of the packed layouts: 4 floats (one f32x4) or 16 int8 (one i8x16). */
export const PACK_GROUP = { f32: 4, i8: 16 } as const;
export const PACK_ROWS = 8;

/**
 * Pack a row-major (rows, cols) float matrix: rows % 8 == 0, cols % 8 == 0.
 * wp[((b * cols/4 + g) * 8 + i) * 4 + j] = W[8b + i, 4g + j].
 *
 * @example packRows8F32(w, 8, 8) // 64 values, rows interleaved 4 columns at a time
 */
export function packRows8F32(w: ArrayLike<number>, rows: number, cols: number): Float32Array {
  return pack(w, rows, cols, 4, new Float32Array(rows * cols)) as Float32Array;
}

/** Pack a row-major (rows, cols) int8 matrix: rows % 8 == 0, cols % 16 == 0, groups of 16 columns. */
export function packRows8I8(q: ArrayLike<number>, rows: number, cols: number): Int8Array {
  return pack(q, rows, cols, 16, new Int8Array(rows * cols)) as Int8Array;
}

function pack(w: ArrayLike<number>, rows: number, cols: number, group: number, out: Float32Array | Int8Array): Float32Array | Int8Array {
  if (rows % PACK_ROWS !== 0 || cols % (group === 4 ? 8 : 16) !== 0) throw new RangeError(`pack: rows ${rows} must be a multiple of 8 and cols ${cols} of ${group === 4 ? 8 : 16}`);
  const groups = cols / group;
  let o = 0;
  for (let b = 0; b < rows / PACK_ROWS; b++) {
    for (let g = 0; g < groups; g++) {
      for (let i = 0; i < PACK_ROWS; i++) {
        const src = (b * PACK_ROWS + i) * cols + g * group;
        for (let j = 0; j < group; j++) out[o++] = w[src + j]!;
      }
    }
  }
  return out;
}

/** Per-row sums of an int8 (rows, cols) row-major matrix: the exact offset correction of `matvec_i8_p8`. */
export function rowSums(q: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const s = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let a = 0;
    for (let c = 0; c < cols; c++) a += q[r * cols + c]!;
    s[r] = a;
  }
  return s;
}

/** Largest activation magnitude of the 7-bit (planes 1) and 14-bit (planes 2) codes. */
export const CODE_QMAX = { 1: 63, 2: 8191 } as const;

/**
 * Unsigned 7-bit activation codes of quantised values v (|v| <= CODE_QMAX[planes]), as wasm
 * `quantize_codes` writes them: planes 1: lo = v + 64; planes 2: u = v + 8192, hi = u >> 7,
 * lo = u & 127. Then sum W v = [128 sum W hi +] sum W lo - offset * rowsum.
 */
export function activationCodesRef(v: ArrayLike<number>, planes: 1 | 2): { hi: Uint8Array; lo: Uint8Array; offset: number } {
  const offset = planes === 2 ? 8192 : 64;
  const hi = new Uint8Array(v.length);
  const lo = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const u = v[i]! + offset;
    if (u < 0 || u > (planes === 2 ? 16383 : 127)) throw new RangeError(`activationCodesRef: value ${v[i]} out of range for ${planes} plane(s)`);
    lo[i] = u & 127;
    hi[i] = planes === 2 ? u >> 7 : 0;
  }
  return { hi, lo, offset };
}
