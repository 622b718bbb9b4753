// Dense matrix-vector product, float32 weights: y = W x + b.
// Reference: src/kernels/ref/matvec.ts matvecRef.
//
// Layout: W row-major (rows, cols), rows % 4 == 0, cols % 4 == 0 (zero padded by the plan), all
// pointers 16-byte aligned. Four rows share every load of x; four accumulators (one per row)
// leave registers free, so V8 spills nothing (8 accumulators measured 15 % slower because of
// spills). The main loop covers 16 columns with immediate load offsets: V8 puts a stack check
// and index arithmetic on every loop iteration, so fewer, longer iterations spend more of the
// instructions on arithmetic.

import { madd } from './fma';

export function matvec_f32(w: usize, b: usize, rows: i32, cols: i32, x: usize, y: usize): void {
  const stride = (<usize>cols) << 2;
  if (ASC_FEATURE_SIMD) {
    for (let r = 0; r < rows; r += 4) {
      const w0 = w + <usize>r * stride;
      const w1 = w0 + stride;
      const w2 = w1 + stride;
      const w3 = w2 + stride;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let o: usize = 0;
      const end16 = (<usize>(cols & ~15)) << 2;
      for (; o < end16; o += 64) {
        let xv = v128.load(x + o);
        a0 = madd(v128.load(w0 + o), xv, a0);
        a1 = madd(v128.load(w1 + o), xv, a1);
        a2 = madd(v128.load(w2 + o), xv, a2);
        a3 = madd(v128.load(w3 + o), xv, a3);
        xv = v128.load(x + o, 16);
        a0 = madd(v128.load(w0 + o, 16), xv, a0);
        a1 = madd(v128.load(w1 + o, 16), xv, a1);
        a2 = madd(v128.load(w2 + o, 16), xv, a2);
        a3 = madd(v128.load(w3 + o, 16), xv, a3);
        xv = v128.load(x + o, 32);
        a0 = madd(v128.load(w0 + o, 32), xv, a0);
        a1 = madd(v128.load(w1 + o, 32), xv, a1);
        a2 = madd(v128.load(w2 + o, 32), xv, a2);
        a3 = madd(v128.load(w3 + o, 32), xv, a3);
        xv = v128.load(x + o, 48);
        a0 = madd(v128.load(w0 + o, 48), xv, a0);
        a1 = madd(v128.load(w1 + o, 48), xv, a1);
        a2 = madd(v128.load(w2 + o, 48), xv, a2);
        a3 = madd(v128.load(w3 + o, 48), xv, a3);
      }
      for (; o < stride; o += 16) {
        const xv = v128.load(x + o);
        a0 = madd(v128.load(w0 + o), xv, a0);
        a1 = madd(v128.load(w1 + o), xv, a1);
        a2 = madd(v128.load(w2 + o), xv, a2);
        a3 = madd(v128.load(w3 + o), xv, a3);
      }
      const s01 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
      const s23 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
      const s = f32x4.add(v128.shuffle<f32>(s01, s23, 0, 1, 4, 5), v128.shuffle<f32>(s01, s23, 2, 3, 6, 7));
      const ro = (<usize>r) << 2;
      v128.store(y + ro, f32x4.add(s, v128.load(b + ro)));
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const wr = w + <usize>r * stride;
      let acc: f32 = 0;
      for (let o: usize = 0; o < stride; o += 4) acc += load<f32>(wr + o) * load<f32>(x + o);
      store<f32>(y + ((<usize>r) << 2), acc + load<f32>(b + ((<usize>r) << 2)));
    }
  }
}
