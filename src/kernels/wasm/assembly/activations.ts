// Vector and scalar activations shared by the gate kernels.
//
// Vector tanh is a rational minimax approximation, x P(x^2) / Q(x^2) with P of degree 6 and Q of
// degree 3 in x^2 (the coefficients of Eigen's float tanh), on x clamped to +-7.9053: 11 fused
// multiply-adds and one division, no exponential. sigmoid(x) = 0.5 + 0.5 tanh(x / 2). Measured
// against float64 on 65536 points in [-12, 12]: tanh within 2.4e-7, sigmoid within 1.5e-7 (the
// gate kernels' differential tests allow 2e-6). It replaced a Cephes-style exp (range reduction,
// degree-6 polynomial, 2^n in the exponent bits; 1.8e-7): the gate kernels are bound by
// instruction throughput, and this form has about 40 % fewer instructions per gate (GRU gates,
// 64 units, Node 24: 252 against 421 ns; docs/performance.md).

import { madd } from './fma';

// Constants as splatted vectors in a static table. V8 rebuilds a v128.const from immediates
// each time it is used (several instructions); a load from this table is one instruction (and
// V8 keeps the loop-invariant ones in registers).
const K: usize = memory.data<f32>([
  -7.90531110763549805, -7.90531110763549805, -7.90531110763549805, -7.90531110763549805, // 0: lower clamp
  7.90531110763549805, 7.90531110763549805, 7.90531110763549805, 7.90531110763549805, // 16: upper clamp
  -2.76076847742355e-16, -2.76076847742355e-16, -2.76076847742355e-16, -2.76076847742355e-16, // 32: a13
  2.00018790482477e-13, 2.00018790482477e-13, 2.00018790482477e-13, 2.00018790482477e-13, // 48: a11
  -8.60467152213735e-11, -8.60467152213735e-11, -8.60467152213735e-11, -8.60467152213735e-11, // 64: a9
  5.12229709037114e-8, 5.12229709037114e-8, 5.12229709037114e-8, 5.12229709037114e-8, // 80: a7
  1.48572235717979e-5, 1.48572235717979e-5, 1.48572235717979e-5, 1.48572235717979e-5, // 96: a5
  6.37261928875436e-4, 6.37261928875436e-4, 6.37261928875436e-4, 6.37261928875436e-4, // 112: a3
  4.89352455891786e-3, 4.89352455891786e-3, 4.89352455891786e-3, 4.89352455891786e-3, // 128: a1
  1.19825839466702e-6, 1.19825839466702e-6, 1.19825839466702e-6, 1.19825839466702e-6, // 144: b6
  1.18534705686654e-4, 1.18534705686654e-4, 1.18534705686654e-4, 1.18534705686654e-4, // 160: b4
  2.26843463243900e-3, 2.26843463243900e-3, 2.26843463243900e-3, 2.26843463243900e-3, // 176: b2
  4.89352518554385e-3, 4.89352518554385e-3, 4.89352518554385e-3, 4.89352518554385e-3, // 192: b0
  0.5, 0.5, 0.5, 0.5, // 208: one half
], 16);

// @ts-ignore: decorator
@inline
function k(off: usize): v128 {
  return v128.load(K + off);
}

// @ts-ignore: decorator
@inline
export function vtanh(x: v128): v128 {
  // pmin / pmax map to single minps / maxps (f32x4.min / max need extra NaN handling; NaN
  // never reaches the kernels: sessions reject non-finite frames).
  x = f32x4.pmin(f32x4.pmax(x, k(0)), k(16));
  const x2 = f32x4.mul(x, x);
  let p = madd(x2, k(32), k(48));
  p = madd(x2, p, k(64));
  p = madd(x2, p, k(80));
  p = madd(x2, p, k(96));
  p = madd(x2, p, k(112));
  p = madd(x2, p, k(128));
  let q = madd(x2, k(144), k(160));
  q = madd(x2, q, k(176));
  q = madd(x2, q, k(192));
  return f32x4.div(f32x4.mul(x, p), q);
}

// @ts-ignore: decorator
@inline
export function vsigmoid(x: v128): v128 {
  const h = k(208);
  return madd(h, vtanh(f32x4.mul(x, h)), h);
}

// @ts-ignore: decorator
@inline
export function ssigmoid(x: f32): f32 {
  return <f32>1.0 / (<f32>1.0 + Mathf.exp(-x));
}

// @ts-ignore: decorator
@inline
export function stanh(x: f32): f32 {
  // Clamp so exp never overflows; tanh(+-20) is +-1 in f32.
  const c = x < -20 ? <f32>-20 : x > 20 ? <f32>20 : x;
  return <f32>2.0 / (<f32>1.0 + Mathf.exp(<f32>-2.0 * c)) - <f32>1.0;
}
