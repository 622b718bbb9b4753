// Vector and scalar activations shared by the gate kernels.
//
// exp follows Cephes expf: n = round(x log2 e), r = x - n ln2 (ln2 split in two so the product is
// exact), a degree-6 polynomial for e^r on |r| <= ln2/2, and 2^n built in the exponent bits.
// Relative error about 2e-7 over the clamped range [-87, 88], which keeps sigmoid and tanh within
// 3e-7 absolute of float64: the gate kernels' tolerance in the differential tests.

import { madd } from './fma';

// Constants as splatted vectors in a static table. V8 rebuilds a v128.const from immediates
// each time it is used (several instructions), and 50 of them sat in the gate loops; a load from
// this table is one instruction (usually folded into the arithmetic).
const K: usize = memory.data<f32>([
  -87.0, -87.0, -87.0, -87.0, // 0: lower clamp
  88.0, 88.0, 88.0, 88.0, // 16: upper clamp
  12582912.0, 12582912.0, 12582912.0, 12582912.0, // 32: 1.5 * 2^23
  1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341, // 48: log2 e
  0.693359375, 0.693359375, 0.693359375, 0.693359375, // 64: ln 2, high part
  -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, // 80: ln 2, low part
  1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, // 96: p0
  1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, // 112: p1
  8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, // 128: p2
  4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, // 144: p3
  1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, // 160: p4
  5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, // 176: p5
  1.0, 1.0, 1.0, 1.0, // 192: one
  2.0, 2.0, 2.0, 2.0, // 208: two
  -2.0, -2.0, -2.0, -2.0, // 224: minus two
], 16);
// 127 - bits(1.5 * 2^23): turns the rounded sum's bits into the biased exponent n + 127.
const KI: usize = memory.data<i32>([127 - 0x4b400000, 127 - 0x4b400000, 127 - 0x4b400000, 127 - 0x4b400000], 16);

// @ts-ignore: decorator
@inline
function k(off: usize): v128 {
  return v128.load(K + off);
}

// @ts-ignore: decorator
@inline
export function vexp(x: v128): v128 {
  // pmin / pmax map to single minps / maxps (f32x4.min / max need extra NaN handling; NaN
  // never reaches the kernels: sessions reject non-finite frames).
  x = f32x4.pmin(f32x4.pmax(x, k(0)), k(16));
  // Round x log2 e to an integer by adding 1.5 * 2^23: the sum's low mantissa bits then hold the
  // integer (round half to even), which gives both n as a float and the exponent bits without
  // f32x4.nearest or i32x4.trunc_sat (a long sequence on x64).
  const t = madd(x, k(48), k(32));
  const n = f32x4.sub(t, k(32));
  let r = f32x4.sub(x, f32x4.mul(n, k(64)));
  r = f32x4.sub(r, f32x4.mul(n, k(80)));
  let p = k(96);
  p = madd(p, r, k(112));
  p = madd(p, r, k(128));
  p = madd(p, r, k(144));
  p = madd(p, r, k(160));
  p = madd(p, r, k(176));
  const y = f32x4.add(madd(p, f32x4.mul(r, r), r), k(192));
  // 2^n: (n + 127) << 23, with n = bits(t) - bits(1.5 * 2^23).
  const e = i32x4.shl(i32x4.add(t, v128.load(KI)), 23);
  return f32x4.mul(y, e);
}

// @ts-ignore: decorator
@inline
export function vsigmoid(x: v128): v128 {
  return f32x4.div(k(192), f32x4.add(k(192), vexp(f32x4.neg(x))));
}

// tanh(x) = 2 sigmoid(2x) - 1: one exp, and saturates cleanly to +-1 for large |x|.
// @ts-ignore: decorator
@inline
export function vtanh(x: v128): v128 {
  const s = f32x4.div(k(208), f32x4.add(k(192), vexp(f32x4.mul(x, k(224)))));
  return f32x4.sub(s, k(192));
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
