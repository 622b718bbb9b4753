// The relaxed-SIMD self-test module (compiled alone, a few hundred bytes, so every engine can
// compile it synchronously, even a browser's main thread). The loader writes inputs at p, calls
// probe(p) and checks the results: engines that validate relaxed SIMD but compute it wrongly
// (Node 20's baseline compiler drops the added term of the int8 dot) then get the SIMD128 build.
//   p+48  = f32x4.relaxed_madd(p, p+16, p+32)
//   p+112 = i32x4.relaxed_dot_i8x16_i7x16_add_s(p+64, p+80, p+96)
export function probe(p: usize): void {
  v128.store(p, f32x4.relaxed_madd(v128.load(p), v128.load(p, 16), v128.load(p, 32)), 48);
  v128.store(p, i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p, 64), v128.load(p, 80), v128.load(p, 96)), 112);
}
