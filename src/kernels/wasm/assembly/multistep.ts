// Multi-step matrix product for cells without a recurrent matrix (SRU, QRNN; SPEC §6, Sung & Park):
// Y[t, r] = W[r, :] . X[t, :] + b[r] for t < steps, in one pass over W.
// Reference: src/kernels/ref/matvec.ts matmatRef.
//
// Layout: W row-major (rows, cols), rows % 4 == 0, cols % 4 == 0; X: steps rows of cols floats;
// Y: steps rows of rows floats. Tiles of 2 weight rows x 4 steps (8 accumulators): each weight
// vector loaded from memory feeds 4 steps, and a 2-row strip of W stays in L1 while all step
// groups run over it, so W is streamed from DRAM once per call instead of once per step.

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  const s = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

export function matmat_f32(w: usize, b: usize, rows: i32, cols: i32, x: usize, steps: i32, y: usize): void {
  const stride = (<usize>cols) << 2;
  const ystride = (<usize>rows) << 2;
  if (ASC_FEATURE_SIMD) {
    for (let r = 0; r < rows; r += 2) {
      const w0 = w + <usize>r * stride;
      const w1 = w0 + stride;
      const b0: f32 = load<f32>(b + ((<usize>r) << 2));
      const b1: f32 = load<f32>(b + ((<usize>r) << 2), 4);
      let t = 0;
      for (; t + 4 <= steps; t += 4) {
        const x0 = x + <usize>t * stride;
        const x1 = x0 + stride, x2 = x1 + stride, x3 = x2 + stride;
        let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
        let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
        for (let o: usize = 0; o < stride; o += 16) {
          const v0 = v128.load(w0 + o), v1 = v128.load(w1 + o);
          const y0 = v128.load(x0 + o), y1 = v128.load(x1 + o), y2 = v128.load(x2 + o), y3 = v128.load(x3 + o);
          a00 = f32x4.add(a00, f32x4.mul(v0, y0)); a01 = f32x4.add(a01, f32x4.mul(v0, y1));
          a02 = f32x4.add(a02, f32x4.mul(v0, y2)); a03 = f32x4.add(a03, f32x4.mul(v0, y3));
          a10 = f32x4.add(a10, f32x4.mul(v1, y0)); a11 = f32x4.add(a11, f32x4.mul(v1, y1));
          a12 = f32x4.add(a12, f32x4.mul(v1, y2)); a13 = f32x4.add(a13, f32x4.mul(v1, y3));
        }
        const yo = y + <usize>t * ystride + ((<usize>r) << 2);
        store<f32>(yo, hsum(a00) + b0); store<f32>(yo, hsum(a10) + b1, 4);
        store<f32>(yo + ystride, hsum(a01) + b0); store<f32>(yo + ystride, hsum(a11) + b1, 4);
        store<f32>(yo + 2 * ystride, hsum(a02) + b0); store<f32>(yo + 2 * ystride, hsum(a12) + b1, 4);
        store<f32>(yo + 3 * ystride, hsum(a03) + b0); store<f32>(yo + 3 * ystride, hsum(a13) + b1, 4);
      }
      for (; t < steps; t++) {
        const x0 = x + <usize>t * stride;
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
        for (let o: usize = 0; o < stride; o += 16) {
          const y0 = v128.load(x0 + o);
          a0 = f32x4.add(a0, f32x4.mul(v128.load(w0 + o), y0));
          a1 = f32x4.add(a1, f32x4.mul(v128.load(w1 + o), y0));
        }
        const yo = y + <usize>t * ystride + ((<usize>r) << 2);
        store<f32>(yo, hsum(a0) + b0);
        store<f32>(yo, hsum(a1) + b1, 4);
      }
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const wr = w + <usize>r * stride;
      const br = load<f32>(b + ((<usize>r) << 2));
      for (let t = 0; t < steps; t++) {
        const xt = x + <usize>t * stride;
        let acc: f32 = 0;
        for (let o: usize = 0; o < stride; o += 4) acc += load<f32>(wr + o) * load<f32>(xt + o);
        store<f32>(y + <usize>t * ystride + ((<usize>r) << 2), acc + br);
      }
    }
  }
}
