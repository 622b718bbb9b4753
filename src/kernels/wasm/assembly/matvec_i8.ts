// Dense matrix-vector product, int8 weights with one scale per row, input quantised to int16:
// y[r] = scale[r] * xScale * sum_c W[r,c] xq[c] + b[r].
// Reference: src/kernels/ref/matvec.ts matvecI8Ref (exact integer sums, then the same scaling).
//
// Layout: W row-major int8 (rows, cols), rows % 4 == 0, cols % 16 == 0; xq int16 (cols).
// i32x4.dot_i16x8_s multiplies 8 int16 pairs and adds neighbours into 4 int32 lanes; the int8
// weights are widened to int16 first. Integer sums are exact as long as
// 127 * qmax * cols < 2^31, which the caller guarantees when choosing qmax (int16QMax).

export function matvec_i8(w: usize, scale: usize, b: usize, rows: i32, cols: i32, xq: usize, xScale: f32, y: usize): void {
  const stride = <usize>cols;
  if (ASC_FEATURE_SIMD) {
    const xs = f32x4.splat(xScale);
    for (let r = 0; r < rows; r += 4) {
      const w0 = w + <usize>r * stride;
      const w1 = w0 + stride;
      const w2 = w1 + stride;
      const w3 = w2 + stride;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let c: usize = 0; c < stride; c += 16) {
        const xlo = v128.load(xq + (c << 1));
        const xhi = v128.load(xq + (c << 1), 16);
        let v = v128.load(w0 + c);
        a0 = i32x4.add(a0, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), xlo), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), xhi)));
        v = v128.load(w1 + c);
        a1 = i32x4.add(a1, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), xlo), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), xhi)));
        v = v128.load(w2 + c);
        a2 = i32x4.add(a2, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), xlo), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), xhi)));
        v = v128.load(w3 + c);
        a3 = i32x4.add(a3, i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v), xlo), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v), xhi)));
      }
      const s01 = i32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 1, 5), v128.shuffle<i32>(a0, a1, 2, 6, 3, 7));
      const s23 = i32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 1, 5), v128.shuffle<i32>(a2, a3, 2, 6, 3, 7));
      const s = i32x4.add(v128.shuffle<i32>(s01, s23, 0, 1, 4, 5), v128.shuffle<i32>(s01, s23, 2, 3, 6, 7));
      const ro = (<usize>r) << 2;
      const f = f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(v128.load(scale + ro), xs));
      v128.store(y + ro, f32x4.add(f, v128.load(b + ro)));
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const wr = w + <usize>r * stride;
      let acc: i32 = 0;
      for (let c: usize = 0; c < stride; c++) acc += <i32>load<i8>(wr + c) * <i32>load<i16>(xq + (c << 1));
      const ro = (<usize>r) << 2;
      store<f32>(y + ro, <f32>acc * (load<f32>(scale + ro) * xScale) + load<f32>(b + ro));
    }
  }
}

// Symmetric int16 quantisation of x (n values, n % 16 == 0): xq = round(x / s) with
// s = max|x| / qmax (s = 1 when x is all zeros). Returns s. Round half to even (f32 nearest).
export function quantize_i16(x: usize, n: i32, qmax: f32, xq: usize): f32 {
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
  if (ASC_FEATURE_SIMD) {
    const iv = f32x4.splat(inv);
    for (let o: usize = 0; o < bytes; o += 32) {
      const lo = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + o), iv)));
      const hi = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(x + o, 16), iv)));
      v128.store(xq + (o >> 1), i16x8.narrow_i32x4_s(lo, hi));
    }
  } else {
    for (let o: usize = 0; o < bytes; o += 4) {
      store<i16>(xq + (o >> 1), <i16><i32>nearest<f32>(load<f32>(x + o) * inv));
    }
  }
  return s;
}
