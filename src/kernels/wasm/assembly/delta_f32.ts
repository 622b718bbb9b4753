// Delta accumulation, float32 weights: acc[r] += sum over fired k of W[r, idx[k]] * vals[k],
// for rows r0 <= r < r1. Reference: src/kernels/ref/delta.ts deltaAccumulateRef.
//
// Layout: W column-major, column j at w + j*ld floats (all gates of a column contiguous, so a
// fired element costs one contiguous read of its column), ld % 4 == 0, r0 % 4 == 0, r1 % 4 == 0.
// Four fired columns are added per pass over the accumulators, so acc is loaded and stored once
// per four columns instead of once per column. Columns that did not fire are never read.

import { madd } from './fma';

export function delta_f32(w: usize, ld: i32, r0: i32, r1: i32, idx: usize, vals: usize, n: i32, acc: usize): void {
  const colBytes = (<usize>ld) << 2;
  const o0 = (<usize>r0) << 2;
  const o1 = (<usize>r1) << 2;
  let k = 0;
  if (ASC_FEATURE_SIMD) {
    for (; k + 4 <= n; k += 4) {
      const ko = (<usize>k) << 2;
      const p0 = w + <usize>load<i32>(idx + ko) * colBytes;
      const p1 = w + <usize>load<i32>(idx + ko, 4) * colBytes;
      const p2 = w + <usize>load<i32>(idx + ko, 8) * colBytes;
      const p3 = w + <usize>load<i32>(idx + ko, 12) * colBytes;
      const c0 = f32x4.splat(load<f32>(vals + ko));
      const c1 = f32x4.splat(load<f32>(vals + ko, 4));
      const c2 = f32x4.splat(load<f32>(vals + ko, 8));
      const c3 = f32x4.splat(load<f32>(vals + ko, 12));
      for (let o = o0; o < o1; o += 16) {
        let a = v128.load(acc + o);
        // The four products are summed first, then added to the memory once: one rounding at the
        // memory's magnitude per four columns (a chain of four multiply-adds into the memory
        // rounded four times and measured 2.5x the drift in test/kernels/drift.test.ts).
        const t01 = madd(v128.load(p1 + o), c1, f32x4.mul(v128.load(p0 + o), c0));
        const t23 = madd(v128.load(p3 + o), c3, f32x4.mul(v128.load(p2 + o), c2));
        a = f32x4.add(a, f32x4.add(t01, t23));
        v128.store(acc + o, a);
      }
    }
    // The last 1-3 columns in one pass (one load, add and store of the memory per vector, one
    // rounding at its magnitude, as the passes of four), not one pass per column.
    const left = n - k;
    if (left == 3) {
      const ko = (<usize>k) << 2;
      const p0 = w + <usize>load<i32>(idx + ko) * colBytes;
      const p1 = w + <usize>load<i32>(idx + ko, 4) * colBytes;
      const p2 = w + <usize>load<i32>(idx + ko, 8) * colBytes;
      const c0 = f32x4.splat(load<f32>(vals + ko));
      const c1 = f32x4.splat(load<f32>(vals + ko, 4));
      const c2 = f32x4.splat(load<f32>(vals + ko, 8));
      for (let o = o0; o < o1; o += 16) {
        const t = madd(v128.load(p2 + o), c2, madd(v128.load(p1 + o), c1, f32x4.mul(v128.load(p0 + o), c0)));
        v128.store(acc + o, f32x4.add(v128.load(acc + o), t));
      }
    } else if (left == 2) {
      const ko = (<usize>k) << 2;
      const p0 = w + <usize>load<i32>(idx + ko) * colBytes;
      const p1 = w + <usize>load<i32>(idx + ko, 4) * colBytes;
      const c0 = f32x4.splat(load<f32>(vals + ko));
      const c1 = f32x4.splat(load<f32>(vals + ko, 4));
      for (let o = o0; o < o1; o += 16) {
        const t = madd(v128.load(p1 + o), c1, f32x4.mul(v128.load(p0 + o), c0));
        v128.store(acc + o, f32x4.add(v128.load(acc + o), t));
      }
    } else if (left == 1) {
      const ko = (<usize>k) << 2;
      const p = w + <usize>load<i32>(idx + ko) * colBytes;
      const c = f32x4.splat(load<f32>(vals + ko));
      for (let o = o0; o < o1; o += 16) {
        v128.store(acc + o, madd(v128.load(p + o), c, v128.load(acc + o)));
      }
    }
  } else {
    for (; k < n; k++) {
      const ko = (<usize>k) << 2;
      const p = w + <usize>load<i32>(idx + ko) * colBytes;
      const c = load<f32>(vals + ko);
      for (let o = o0; o < o1; o += 4) store<f32>(acc + o, load<f32>(acc + o) + load<f32>(p + o) * c);
    }
  }
}
