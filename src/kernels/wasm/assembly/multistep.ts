// Multi-step matrix product for cells without a recurrent matrix (SRU, QRNN; the published designs, Sung & Park):
// Y[t, r] = W[r, :] . X[t, :] + b[r] for t < steps, in one pass over W.
// Reference: src/kernels/ref/matvec.ts matmatRef.
//
// Layout: W row-major (rows, cols), rows % 4 == 0, cols % 4 == 0; X: steps rows of cols floats;
// Y: steps rows of rows floats. Tiles of 2 weight rows x 4 steps (8 accumulators): each weight
// vector loaded feeds 4 steps; whole rows while X fits in L2, column blocks otherwise. W is streamed
// from memory once per call instead of once per step.

import { madd } from './fma';

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

export function matmat_f32(w: usize, b: usize, rows: i32, cols: i32, x: usize, steps: i32, y: usize): void {
  const stride = (<usize>cols) << 2;
  const ystride = (<usize>rows) << 2;
  // Y = bias, then accumulate column block by column block.
  for (let t = 0; t < steps; t++) memory.copy(y + <usize>t * ystride, b, ystride);
  if (ASC_FEATURE_SIMD) {
    // Whole rows while the X block (steps x cols floats) fits in L2 (256 KB): each weight row is
    // then read in one sequential sweep, which the hardware prefetcher streams. Blocking columns
    // to keep X in L1 made W's reads strided (kc floats per row, then the next row) and measured
    // 1.3-1.8x slower at T = 4..32 on a 38.5 MB SRU layer. Only a larger X falls back to column
    // blocks that keep X in L2. W is read exactly once in total either way.
    const kc = <i32>steps * cols <= 65536 ? cols : max<i32>(64, (65536 / steps) & ~3);
    for (let c0 = 0; c0 < cols; c0 += kc) {
      const ob = (<usize>c0) << 2;
      const oe = (<usize>min<i32>(cols, c0 + kc)) << 2;
      for (let r = 0; r < rows; r += 2) {
        const w0 = w + <usize>r * stride;
        const w1 = w0 + stride;
        let t = 0;
        for (; t + 4 <= steps; t += 4) {
          const x0 = x + <usize>t * stride;
          const x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
          let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
          let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
          for (let o = ob; o < oe; o += 16) {
            const v0 = v128.load(w0 + o), v1 = v128.load(w1 + o);
            const y0 = v128.load(x0 + o), y1 = v128.load(x1 + o), y2 = v128.load(x2 + o), y3 = v128.load(x3 + o);
            a00 = madd(v0, y0, a00); a01 = madd(v0, y1, a01);
            a02 = madd(v0, y2, a02); a03 = madd(v0, y3, a03);
            a10 = madd(v1, y0, a10); a11 = madd(v1, y1, a11);
            a12 = madd(v1, y2, a12); a13 = madd(v1, y3, a13);
          }
          const yo = y + <usize>t * ystride + ((<usize>r) << 2);
          addTo(yo, hsum(a00)); addTo(yo + 4, hsum(a10));
          addTo(yo + ystride, hsum(a01)); addTo(yo + ystride + 4, hsum(a11));
          addTo(yo + 2 * ystride, hsum(a02)); addTo(yo + 2 * ystride + 4, hsum(a12));
          addTo(yo + 3 * ystride, hsum(a03)); addTo(yo + 3 * ystride + 4, hsum(a13));
        }
        for (; t < steps; t++) {
          // Leftover steps: two rows, two chunks in flight (4 independent accumulators).
          const x0 = x + <usize>t * stride;
          let a0 = f32x4.splat(0), a1 = f32x4.splat(0), c0v = f32x4.splat(0), c1v = f32x4.splat(0);
          let o = ob;
          for (; o + 32 <= oe; o += 32) {
            const y0 = v128.load(x0 + o), y1 = v128.load(x0 + o, 16);
            a0 = madd(v128.load(w0 + o), y0, a0);
            a1 = madd(v128.load(w1 + o), y0, a1);
            c0v = madd(v128.load(w0 + o, 16), y1, c0v);
            c1v = madd(v128.load(w1 + o, 16), y1, c1v);
          }
          if (o < oe) {
            const y0 = v128.load(x0 + o);
            a0 = madd(v128.load(w0 + o), y0, a0);
            a1 = madd(v128.load(w1 + o), y0, a1);
          }
          const yo = y + <usize>t * ystride + ((<usize>r) << 2);
          addTo(yo, hsum(f32x4.add(a0, c0v)));
          addTo(yo + 4, hsum(f32x4.add(a1, c1v)));
        }
      }
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const wr = w + <usize>r * stride;
      for (let t = 0; t < steps; t++) {
        const xt = x + <usize>t * stride;
        let acc: f32 = 0;
        for (let o: usize = 0; o < stride; o += 4) acc += load<f32>(wr + o) * load<f32>(xt + o);
        addTo(y + <usize>t * ystride + ((<usize>r) << 2), acc);
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function addTo(p: usize, v: f32): void {
  store<f32>(p, load<f32>(p) + v);
}
