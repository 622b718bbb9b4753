// Multiply-add shared by every float kernel: a * b + c.
//
// The relaxed-SIMD build (ASC_FEATURE_RELAXED_SIMD) uses f32x4.relaxed_madd, which engines lower
// to one fused vfmadd where the CPU has FMA (Node 22+, Chrome 114+) and to mul + add elsewhere: the
// result is either the fused or the unfused rounding, both within the differential tests'
// tolerance (the loader's self-test accepts both). The SIMD128 build keeps mul + add.
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
