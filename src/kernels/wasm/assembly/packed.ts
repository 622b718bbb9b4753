// Packed mat-vec kernels: 8 rows interleaved in one contiguous block, 8 independent accumulators.
// References: src/kernels/ref/matvec.ts (matvecRef, matvecI8Ref) after packing with
// src/kernels/ref/pack.ts (packRows8F32, packRows8I8).
//
// Why 8 rows: with FMA (relaxed build) one accumulator chain is bound by the FMA latency (4
// cycles on Zen, 4 on Intel), so 4 chains leave half the FMA units idle; 8 chains cover the
// latency, and interleaving the 8 rows makes the weights of one column group a single contiguous
// 128-byte run (one sequential stream for the prefetcher instead of 8). V8 keeps 8 accumulators,
// the input vector and one weight vector in the 16 xmm registers; the weight load folds into the
// vfmadd as a memory operand.
//
// f32 layout (rows % 8 == 0, cols % 8 == 0): block b holds rows 8b..8b+7; inside it, column
// group g (4 columns) holds the 8 rows' 4 values one after the other:
//   wp[((b * cols/4 + g) * 8 + i) * 4 + j] = W[8b + i, 4g + j].
//
// int8 layout (rows % 8 == 0, cols % 16 == 0): the same with groups of 16 columns (16 bytes):
//   wp[((b * cols/16 + g) * 8 + i) * 16 + j] = W[8b + i, 16g + j].

import { madd } from './fma';

// @ts-ignore: decorator
@inline
export function hadd4(a: v128, b: v128, c: v128, d: v128): v128 {
  // Horizontal sums of four vectors into one: lane i = sum of the lanes of the i-th argument.
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

// One frame through an 8-row block: yo[0..8) = W_block x + add[0..8). gb: bytes of x (a column
// chunk; the block's column group g starts 128 g bytes from base).
// @ts-ignore: decorator
@inline
export function sweep8(base: usize, gb: usize, xt: usize, yo: usize, add: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
  // Column groups two at a time (cols % 8 == 0, chunks too).
  for (let o: usize = 0; o < gb; o += 32) {
    const p = base + (o << 3);
    let xv = v128.load(xt + o);
    a0 = madd(v128.load(p), xv, a0);
    a1 = madd(v128.load(p, 16), xv, a1);
    a2 = madd(v128.load(p, 32), xv, a2);
    a3 = madd(v128.load(p, 48), xv, a3);
    a4 = madd(v128.load(p, 64), xv, a4);
    a5 = madd(v128.load(p, 80), xv, a5);
    a6 = madd(v128.load(p, 96), xv, a6);
    a7 = madd(v128.load(p, 112), xv, a7);
    xv = v128.load(xt + o, 16);
    a0 = madd(v128.load(p, 128), xv, a0);
    a1 = madd(v128.load(p, 144), xv, a1);
    a2 = madd(v128.load(p, 160), xv, a2);
    a3 = madd(v128.load(p, 176), xv, a3);
    a4 = madd(v128.load(p, 192), xv, a4);
    a5 = madd(v128.load(p, 208), xv, a5);
    a6 = madd(v128.load(p, 224), xv, a6);
    a7 = madd(v128.load(p, 240), xv, a7);
  }
  v128.store(yo, f32x4.add(hadd4(a0, a1, a2, a3), v128.load(add)));
  v128.store(yo, f32x4.add(hadd4(a4, a5, a6, a7), v128.load(add, 16)), 16);
}

// @ts-ignore: decorator
@inline
function hadd4i(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}

// y = W x + b, W packed by 8 rows (see the layout above).
export function matvec_f32_p8(wp: usize, b: usize, rows: i32, cols: i32, x: usize, y: usize): void {
  const xBytes = (<usize>cols) << 2;
  const blockBytes = xBytes << 3;
  if (ASC_FEATURE_SIMD) {
    for (let r = 0; r < rows; r += 8) {
      const base = wp + (<usize>(r >> 3)) * blockBytes;
      // Two column groups per iteration: 16 multiply-adds per loop-control overhead.
      sweep8(base, xBytes, x, y + ((<usize>r) << 2), b + ((<usize>r) << 2));
    }
  } else {
    for (let r = 0; r < rows; r += 8) {
      const base = wp + (<usize>(r >> 3)) * blockBytes;
      for (let i = 0; i < 8; i++) {
        let acc: f32 = 0;
        for (let o: usize = 0; o < xBytes; o += 16) {
          const p = base + (o << 3) + ((<usize>i) << 4);
          acc += load<f32>(p) * load<f32>(x + o) + load<f32>(p, 4) * load<f32>(x + o, 4)
            + load<f32>(p, 8) * load<f32>(x + o, 8) + load<f32>(p, 12) * load<f32>(x + o, 12);
        }
        const ro = (<usize>(r + i)) << 2;
        store<f32>(y + ro, acc + load<f32>(b + ro));
      }
    }
  }
}

// Activation codes for the relaxed int8 dot: x quantised symmetrically to v = round(x / s) with
// s = max|x| / qmax (as quantize_i16), then shifted to unsigned 7-bit codes, which
// i32x4.relaxed_dot_i8x16_i7x16_add_s requires of its second operand (x86 reads bytes >= 128 as
// unsigned, ARM as signed):
//   planes 1 (7-bit activations, qmax <= 63): lo = v + 64;
//   planes 2 (14-bit, qmax <= 8191): u = v + 8192, hi = u >> 7, lo = u & 127.
// n % 16 == 0. Returns s. The offset is removed exactly by the kernel (offset x row sum).
export function quantize_codes(x: usize, n: i32, qmax: f32, planes: i32, hi: usize, lo: usize): f32 {
  const bytes = (<usize>n) << 2;
  let m: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let mv = f32x4.splat(0);
    for (let o: usize = 0; o < bytes; o += 16) mv = f32x4.max(mv, f32x4.abs(v128.load(x + o)));
    m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  } else {
    for (let o: usize = 0; o < bytes; o += 4) m = max(m, abs(load<f32>(x + o)));
  }
  const s: f32 = m > 0 ? m / qmax : <f32>1.0;
  const inv: f32 = <f32>1.0 / s;
  const off: i32 = planes == 2 ? 8192 : 64;
  if (ASC_FEATURE_SIMD) {
    const iv = f32x4.splat(inv);
    const ov = i32x4.splat(off);
    const m7 = i32x4.splat(127);
    for (let o: usize = 0; o < bytes; o += 64) {
      const c0 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + o), iv))), ov);
      const c1 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + o, 16), iv))), ov);
      const c2 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + o, 32), iv))), ov);
      const c3 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + o, 48), iv))), ov);
      const q = o >> 2;
      v128.store(lo + q, i8x16.narrow_i16x8_u(
        i16x8.narrow_i32x4_s(v128.and(c0, m7), v128.and(c1, m7)),
        i16x8.narrow_i32x4_s(v128.and(c2, m7), v128.and(c3, m7))));
      if (planes == 2) {
        v128.store(hi + q, i8x16.narrow_i16x8_u(
          i16x8.narrow_i32x4_s(i32x4.shr_u(c0, 7), i32x4.shr_u(c1, 7)),
          i16x8.narrow_i32x4_s(i32x4.shr_u(c2, 7), i32x4.shr_u(c3, 7))));
      }
    }
  } else {
    for (let o: usize = 0; o < bytes; o += 4) {
      const c = <i32>nearest<f32>(load<f32>(x + o) * inv) + off;
      store<u8>(lo + (o >> 2), <u8>(c & 127));
      if (planes == 2) store<u8>(hi + (o >> 2), <u8>(c >> 7));
    }
  }
  return s;
}

// int8 weights packed by 8 rows, activations as 7-bit codes (quantize_codes):
//   y[r] = scale[r] * xScale * (sum_c W[r,c] v[c]) + b[r],
// with sum_c W[r,c] v[c] = [128 *] sum W hi + sum W lo - offset * rowsum[r] computed in wrapping
// int32 arithmetic, which is exact whenever the true sum fits in int32 (the caller picks qmax so
// that 127 * qmax * cols < 2^31, as for matvec_i8). rowsum: int32 per row, sum_c W[r,c].
// The relaxed build multiplies with i32x4.relaxed_dot_i8x16_i7x16_add_s (vpdpbusd with AVX-VNNI,
// pmaddubsw + pmaddwd otherwise: 127 * 127 * 2 never saturates int16); the others widen to int16.
export function matvec_i8_p8(wp: usize, scale: usize, rowsum: usize, b: usize, rows: i32, cols: i32, planes: i32, hi: usize, lo: usize, xScale: f32, y: usize): void {
  const cb = <usize>cols;
  const blockBytes = cb << 3;
  const off: i32 = planes == 2 ? 8192 : 64;
  if (!ASC_FEATURE_RELAXED_SIMD) {
    // Portable path (the SIMD128 and scalar builds run the row-major matvec_i8 instead; this
    // keeps the export defined, and tested, on every build).
    for (let r = 0; r < rows; r += 8) {
      const base = wp + (<usize>(r >> 3)) * blockBytes;
      for (let i = 0; i < 8; i++) {
        let acc: i32 = 0;
        for (let c: usize = 0; c < cb; c += 16) {
          const p = base + (c << 3) + ((<usize>i) << 4);
          for (let j: usize = 0; j < 16; j++) {
            const u = planes == 2 ? (<i32>load<u8>(hi + c + j) << 7) + <i32>load<u8>(lo + c + j) : <i32>load<u8>(lo + c + j);
            acc += <i32>load<i8>(p + j) * u;
          }
        }
        const ro = (<usize>(r + i)) << 2;
        acc -= off * load<i32>(rowsum + ro);
        store<f32>(y + ro, <f32>acc * (load<f32>(scale + ro) * xScale) + load<f32>(b + ro));
      }
    }
    return;
  }
  const xs = f32x4.splat(xScale);
  const ov = i32x4.splat(off);
  for (let r = 0; r < rows; r += 8) {
    const base = wp + (<usize>(r >> 3)) * blockBytes;
    const ro = (<usize>r) << 2;
    let s0: v128, s1: v128;
    if (planes == 1) {
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      let a4 = i32x4.splat(0), a5 = i32x4.splat(0), a6 = i32x4.splat(0), a7 = i32x4.splat(0);
      for (let c: usize = 0; c < cb; c += 16) {
        const p = base + (c << 3);
        const xv = v128.load(lo + c);
        a0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p), xv, a0);
        a1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p, 16), xv, a1);
        a2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p, 32), xv, a2);
        a3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p, 48), xv, a3);
        a4 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p, 64), xv, a4);
        a5 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p, 80), xv, a5);
        a6 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p, 96), xv, a6);
        a7 = i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p, 112), xv, a7);
      }
      s0 = hadd4i(a0, a1, a2, a3);
      s1 = hadd4i(a4, a5, a6, a7);
    } else {
      s0 = planes2(base, cb, hi, lo, 0);
      s1 = planes2(base, cb, hi, lo, 64);
    }
    // Remove the code offset exactly: sum W v = sum W u - offset * rowsum (wrapping int32).
    s0 = i32x4.sub(s0, i32x4.mul(ov, v128.load(rowsum + ro)));
    s1 = i32x4.sub(s1, i32x4.mul(ov, v128.load(rowsum + ro, 16)));
    v128.store(y + ro, madd(f32x4.convert_i32x4_s(s0), f32x4.mul(v128.load(scale + ro), xs), v128.load(b + ro)));
    v128.store(y + ro, madd(f32x4.convert_i32x4_s(s1), f32x4.mul(v128.load(scale + ro, 16), xs), v128.load(b + ro, 16)), 16);
  }
}

// Two planes, 4 rows of the block (byte offset `ro` 0 or 64 in each 128-byte group) per pass:
// 8 accumulators (hi and lo per row). Returns 128 * sum W hi + sum W lo for the 4 rows.
// @ts-ignore: decorator
@inline
function planes2(base: usize, cb: usize, hi: usize, lo: usize, ro: usize): v128 {
  let h0 = i32x4.splat(0), h1 = i32x4.splat(0), h2 = i32x4.splat(0), h3 = i32x4.splat(0);
  let l0 = i32x4.splat(0), l1 = i32x4.splat(0), l2 = i32x4.splat(0), l3 = i32x4.splat(0);
  for (let c: usize = 0; c < cb; c += 16) {
    const p = base + (c << 3) + ro;
    const xh = v128.load(hi + c), xl = v128.load(lo + c);
    let w = v128.load(p);
    h0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xh, h0); l0 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xl, l0);
    w = v128.load(p, 16);
    h1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xh, h1); l1 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xl, l1);
    w = v128.load(p, 32);
    h2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xh, h2); l2 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xl, l2);
    w = v128.load(p, 48);
    h3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xh, h3); l3 = i32x4.relaxed_dot_i8x16_i7x16_add_s(w, xl, l3);
  }
  return i32x4.add(i32x4.shl(hadd4i(h0, h1, h2, h3), 7), hadd4i(l0, l1, l2, l3));
}
