// Delta accumulation, int8 weights with one scale per column:
// acc[r] += sum over fired k of W[r, j] * (scale[j] * vals[k]), j = idx[k], rows r0 <= r < r1.
// Reference: src/kernels/ref/delta.ts deltaAccumulateI8Ref.
//
// Layout: W column-major int8, column j at w + j*ld bytes, ld % 16 == 0, r0 % 16 == 0,
// r1 % 16 == 0. A per-column scale folds into the fired element's coefficient, so the inner loop
// is the float kernel's on widened weights; the memory read per fired column is a quarter of
// float32. Four columns per pass over the float32 accumulators.

// int8 lanes 0-3, 4-7, 8-11, 12-15 of v as float32x4.
// @ts-ignore: decorator
@inline
function lane0(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v))); }
// @ts-ignore: decorator
@inline
function lane1(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_low_i8x16_s(v))); }
// @ts-ignore: decorator
@inline
function lane2(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_high_i8x16_s(v))); }
// @ts-ignore: decorator
@inline
function lane3(v: v128): v128 { return f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(i16x8.extend_high_i8x16_s(v))); }

// @ts-ignore: decorator
@inline
function add4(acc: usize, a: v128, b: v128, c: v128, d: v128, c0: v128, c1: v128, c2: v128, c3: v128): void {
  let s = v128.load(acc);
  s = f32x4.add(s, f32x4.add(f32x4.mul(a, c0), f32x4.mul(b, c1)));
  s = f32x4.add(s, f32x4.add(f32x4.mul(c, c2), f32x4.mul(d, c3)));
  v128.store(acc, s);
}

export function delta_i8(w: usize, ld: i32, r0: i32, r1: i32, scale: usize, idx: usize, vals: usize, n: i32, acc: usize): void {
  const colBytes = <usize>ld;
  const o0 = (<usize>r0) << 2; // byte offsets into the float32 accumulators
  const o1 = (<usize>r1) << 2;
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    for (; k + 4 <= n; k += 4) {
      const ko = (<usize>k) << 2;
      const j0 = <usize>load<i32>(idx + ko);
      const j1 = <usize>load<i32>(idx + ko, 4);
      const j2 = <usize>load<i32>(idx + ko, 8);
      const j3 = <usize>load<i32>(idx + ko, 12);
      const p0 = w + j0 * colBytes, p1 = w + j1 * colBytes, p2 = w + j2 * colBytes, p3 = w + j3 * colBytes;
      const c0 = f32x4.splat(load<f32>(vals + ko) * load<f32>(scale + (j0 << 2)));
      const c1 = f32x4.splat(load<f32>(vals + ko, 4) * load<f32>(scale + (j1 << 2)));
      const c2 = f32x4.splat(load<f32>(vals + ko, 8) * load<f32>(scale + (j2 << 2)));
      const c3 = f32x4.splat(load<f32>(vals + ko, 12) * load<f32>(scale + (j3 << 2)));
      for (let o = o0; o < o1; o += 64) {
        const q = o >> 2;
        const v0 = v128.load(p0 + q), v1 = v128.load(p1 + q), v2 = v128.load(p2 + q), v3 = v128.load(p3 + q);
        add4(acc + o, lane0(v0), lane0(v1), lane0(v2), lane0(v3), c0, c1, c2, c3);
        add4(acc + o + 16, lane1(v0), lane1(v1), lane1(v2), lane1(v3), c0, c1, c2, c3);
        add4(acc + o + 32, lane2(v0), lane2(v1), lane2(v2), lane2(v3), c0, c1, c2, c3);
        add4(acc + o + 48, lane3(v0), lane3(v1), lane3(v2), lane3(v3), c0, c1, c2, c3);
      }
    }
    for (; k < n; k++) {
      const ko = (<usize>k) << 2;
      const j = <usize>load<i32>(idx + ko);
      const p = w + j * colBytes;
      const c = f32x4.splat(load<f32>(vals + ko) * load<f32>(scale + (j << 2)));
      for (let o = o0; o < o1; o += 64) {
        const v = v128.load(p + (o >> 2));
        const a = acc + o;
        v128.store(a, f32x4.add(v128.load(a), f32x4.mul(lane0(v), c)));
        v128.store(a, f32x4.add(v128.load(a, 16), f32x4.mul(lane1(v), c)), 16);
        v128.store(a, f32x4.add(v128.load(a, 32), f32x4.mul(lane2(v), c)), 32);
        v128.store(a, f32x4.add(v128.load(a, 48), f32x4.mul(lane3(v), c)), 48);
      }
    }
  } else {
    for (; k < n; k++) {
      const ko = (<usize>k) << 2;
      const j = <usize>load<i32>(idx + ko);
      const p = w + j * colBytes;
      const c = load<f32>(vals + ko) * load<f32>(scale + (j << 2));
      for (let o = o0; o < o1; o += 4) store<f32>(acc + o, load<f32>(acc + o) + <f32>load<i8>(p + (o >> 2)) * c);
    }
  }
}
