// Vector and scalar activations shared by the gate kernels.
//
// exp follows Cephes expf: n = round(x log2 e), r = x - n ln2 (ln2 split in two so the product is
// exact), a degree-6 polynomial for e^r on |r| <= ln2/2, and 2^n built in the exponent bits.
// Relative error about 2e-7 over the clamped range [-87, 88], which keeps sigmoid and tanh within
// 3e-7 absolute of float64: the gate kernels' tolerance in the differential tests.

// @ts-ignore: decorator
@inline
export function vexp(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, e);
}

// @ts-ignore: decorator
@inline
export function vsigmoid(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(x))));
}

// tanh(x) = 2 sigmoid(2x) - 1: one exp, and saturates cleanly to +-1 for large |x|.
// @ts-ignore: decorator
@inline
export function vtanh(x: v128): v128 {
  const one = f32x4.splat(1.0);
  const s = f32x4.div(f32x4.splat(2.0), f32x4.add(one, vexp(f32x4.mul(x, f32x4.splat(-2.0)))));
  return f32x4.sub(s, one);
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
