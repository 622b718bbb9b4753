// Multi-step matrix product for cells without a recurrent matrix (SRU, QRNN; the published designs, Sung & Park):
// Y[t, r] = W[r, :] . X[t, :] + b[r] for t < steps, in one pass over W.
// Reference: src/kernels/ref/matvec.ts matmatRef.
//
// Layout: W row-major (rows, cols), rows % 4 == 0, cols % 4 == 0; X: steps rows of cols floats;
// Y: steps rows of rows floats. Tiles of 2 weight rows x 4 steps (8 accumulators): each weight
// vector loaded feeds 4 steps; whole rows while X fits in L2, column blocks otherwise. W is streamed
// from memory once per call instead of once per step.

import { madd } from './fma';
import { hadd4, sweep8 } from './packed';

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

// Multi-step product on the 8-row packed layout (matvec_f32_p8's, src/kernels/ref/pack.ts
// packRows8F32): Y[t, r] = W[r, :] . X[t, :] + b[r] for t < steps. rows % 8 == 0, cols % 8 == 0;
// X: steps rows of cols floats; Y: steps rows of rows floats. Reference: matmatRef after packing.
//
// The micro-kernel, chosen by measurement (docs/performance.md, "Multi-step SRU/QRNN"): for each
// block of 8 rows (one contiguous run of 32 * cols bytes),
//   1. frame 0 by an 8-row sweep (8 accumulators, the weight loads folded into the FMAs): the
//      block is streamed from memory once, at the rate of a single mat-vec;
//   2. the other frames two at a time by 4-row x 2-frame register tiles (4 weight vectors held in
//      registers, each multiplied into 2 frames: 8 accumulators) on the block, now in L2;
//   3. an odd frame left over by one more 8-row sweep.
// Tiles of 4 x 2 fit V8's 16 xmm registers (8 accumulators, 4 weights, 1 input, scratch). Measured
// side by side on a 38.5 MB SRU layer (Node 24, relaxed build): the tiles 2 x 4, 2 x 6, 4 x 3,
// 4 x 4, 1 x 8 and 8 x 1 were all slower at T = 16, and tiling frame 0 as well slowed T = 4 (the
// weight stream then waits on arithmetic: wasm has no prefetch instruction). A block of 8 rows stays in L2 while
// cols <= MS_KC; wider matrices are cut into column chunks of MS_KC, the partial sums added to Y.
const MS_KC: usize = 8192;

// Two frames through 4 rows of an 8-row block (base points at row 0 or row 4 of the block):
// y0[0..4) = W x0 + add0, y1[0..4) = W x1 + add1.
// @ts-ignore: decorator
@inline
function tile4x2(base: usize, gb: usize, x0: usize, x1: usize, y0: usize, y1: usize, add0: usize, add1: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let o: usize = 0; o < gb; o += 16) {
    const p = base + (o << 3);
    const w0 = v128.load(p), w1 = v128.load(p, 16), w2 = v128.load(p, 32), w3 = v128.load(p, 48);
    a0 = madd(v128.load(x0 + o), w0, a0);
    a1 = madd(v128.load(x0 + o), w1, a1);
    a2 = madd(v128.load(x0 + o), w2, a2);
    a3 = madd(v128.load(x0 + o), w3, a3);
    c0 = madd(v128.load(x1 + o), w0, c0);
    c1 = madd(v128.load(x1 + o), w1, c1);
    c2 = madd(v128.load(x1 + o), w2, c2);
    c3 = madd(v128.load(x1 + o), w3, c3);
  }
  v128.store(y0, f32x4.add(hadd4(a0, a1, a2, a3), v128.load(add0)));
  v128.store(y1, f32x4.add(hadd4(c0, c1, c2, c3), v128.load(add1)));
}

export function matmat_f32_p8(wp: usize, b: usize, rows: i32, cols: i32, x: usize, steps: i32, y: usize): void {
  const xs = (<usize>cols) << 2;
  const ys = (<usize>rows) << 2;
  const blockBytes = xs << 3;
  if (ASC_FEATURE_SIMD) {
    for (let r = 0; r < rows; r += 8) {
      const base = wp + (<usize>(r >> 3)) * blockBytes;
      const ro = (<usize>r) << 2;
      const yr = y + ro;
      for (let c0: usize = 0; c0 < xs; c0 += MS_KC << 2) {
        const gb = min<usize>(MS_KC << 2, xs - c0);
        const bc = base + (c0 << 3);
        const xc = x + c0;
        // The first chunk adds the bias, later chunks add to Y (the partial sums so far).
        const first = c0 == 0;
        sweep8(bc, gb, xc, yr, first ? b + ro : yr);
        let t = 1;
        for (; t + 2 <= steps; t += 2) {
          const x0 = xc + <usize>t * xs, y0 = yr + <usize>t * ys;
          const y1 = y0 + ys;
          tile4x2(bc, gb, x0, x0 + xs, y0, y1, first ? b + ro : y0, first ? b + ro : y1);
          tile4x2(bc + 64, gb, x0, x0 + xs, y0 + 16, y1 + 16, first ? b + ro + 16 : y0 + 16, first ? b + ro + 16 : y1 + 16);
        }
        if (t < steps) {
          const yt = yr + <usize>t * ys;
          sweep8(bc, gb, xc + <usize>t * xs, yt, first ? b + ro : yt);
        }
      }
    }
  } else {
    // Scalar: the same order (block by block, frame by frame), one row at a time.
    for (let r = 0; r < rows; r += 8) {
      const base = wp + (<usize>(r >> 3)) * blockBytes;
      for (let t = 0; t < steps; t++) {
        const xt = x + <usize>t * xs;
        for (let i = 0; i < 8; i++) {
          let acc: f32 = 0;
          for (let o: usize = 0; o < xs; o += 16) {
            const p = base + (o << 3) + ((<usize>i) << 4);
            acc += load<f32>(p) * load<f32>(xt + o) + load<f32>(p, 4) * load<f32>(xt + o, 4)
              + load<f32>(p, 8) * load<f32>(xt + o, 8) + load<f32>(p, 12) * load<f32>(xt + o, 12);
          }
          const ro = (<usize>(r + i)) << 2;
          store<f32>(y + <usize>t * ys + ro, acc + load<f32>(b + ro));
        }
      }
    }
  }
}
