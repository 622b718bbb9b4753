// Delta encoder: for each i, d = x[i] - prev[i]; it fires when |d| >= th (inclusive);
// a fired element appends (i, d) to (idx, vals) and sets prev[i] = x[i]. Returns the count.
// Reference: src/kernels/ref/delta.ts deltaEncodeRef. Any n (a scalar tail handles n % 4); the
// executor passes the unpadded size so padding never counts as fired.
//
// The SIMD path tests four elements at once and skips a group with one branch when none fired,
// which is the common case at low occupancy. A group where something fired is written without
// a branch per element: a table turns the 4-bit fired mask into the byte shuffle that moves the
// fired lanes to the front (in order), the deltas and indices are stored shuffled at the list's
// end (up to 3 lanes of padding past it, overwritten by the next group or beyond the count),
// prev takes x where fired (bitselect) and the count grows by the mask's popcount. The per-lane
// branches mispredicted at about one fired element in ten.

// COMPACT[m]: for fired mask m (lane l fired: bit l), the i8x16.swizzle indices that gather the
// fired 4-byte lanes to the front; 255 (out of range) gives zero bytes.
const COMPACT: usize = memory.data<u8>([
  255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 0000
  0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 1000
  4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 0100
  0, 1, 2, 3, 4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 1100
  8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 0010
  0, 1, 2, 3, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 1010
  4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 0110
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, // lanes 1110
  12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 0001
  0, 1, 2, 3, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 1001
  4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 0101
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, // lanes 1101
  8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, // lanes 0011
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, // lanes 1011
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, // lanes 0111
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, // lanes 1111
], 16);
const IOTA: usize = memory.data<i32>([0, 1, 2, 3], 16);

export function delta_encode(x: usize, prev: usize, n: i32, th: f32, idx: usize, vals: usize): i32 {
  let count = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const tv = f32x4.splat(th);
    for (; i + 4 <= n; i += 4) {
      const o = (<usize>i) << 2;
      const xv = v128.load(x + o);
      const pv = v128.load(prev + o);
      const d = f32x4.sub(xv, pv);
      const fire = f32x4.ge(f32x4.abs(d), tv);
      const mask = i32x4.bitmask(fire);
      if (mask == 0) continue;
      const sh = v128.load(COMPACT + ((<usize>mask) << 4));
      const co = (<usize>count) << 2;
      v128.store(vals + co, i8x16.swizzle(d, sh));
      v128.store(idx + co, i8x16.swizzle(i32x4.add(i32x4.splat(i), v128.load(IOTA)), sh));
      v128.store(prev + o, v128.bitselect(xv, pv, fire));
      count += <i32>popcnt<u32>(<u32>mask);
    }
  }
  for (; i < n; i++) {
    const e = (<usize>i) << 2;
    const xv = load<f32>(x + e);
    const d = xv - load<f32>(prev + e);
    if (abs(d) >= th) {
      store<i32>(idx + ((<usize>count) << 2), i);
      store<f32>(vals + ((<usize>count) << 2), d);
      store<f32>(prev + e, xv);
      count++;
    }
  }
  return count;
}
