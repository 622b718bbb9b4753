// Delta encoder: for each i, d = x[i] - prev[i]; it fires when |d| >= th (inclusive);
// a fired element appends (i, d) to (idx, vals) and sets prev[i] = x[i]. Returns the count.
// Reference: src/kernels/ref/delta.ts deltaEncodeRef. Any n (a scalar tail handles n % 4); the
// executor passes the unpadded size so padding never counts as fired.
//
// The SIMD path tests four elements at once and skips a group with one branch when none fired,
// which is the common case at low occupancy.

export function delta_encode(x: usize, prev: usize, n: i32, th: f32, idx: usize, vals: usize): i32 {
  let count = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const tv = f32x4.splat(th);
    for (; i + 4 <= n; i += 4) {
      const o = (<usize>i) << 2;
      const d = f32x4.sub(v128.load(x + o), v128.load(prev + o));
      const mask = i32x4.bitmask(f32x4.ge(f32x4.abs(d), tv));
      if (mask == 0) continue;
      for (let l = 0; l < 4; l++) {
        if ((mask >> l) & 1) {
          const e = o + ((<usize>l) << 2);
          const xv = load<f32>(x + e);
          store<i32>(idx + ((<usize>count) << 2), i + l);
          store<f32>(vals + ((<usize>count) << 2), xv - load<f32>(prev + e));
          store<f32>(prev + e, xv);
          count++;
        }
      }
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
