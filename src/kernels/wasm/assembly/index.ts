// deltakit WebAssembly kernels (AssemblyScript). Compiled by src/kernels/wasm/build.ts (npm run
// build:wasm) into three builds from these sources: relaxed SIMD (ASC_FEATURE_RELAXED_SIMD: fused
// multiply-add and the int8 relaxed dot), SIMD128 (ASC_FEATURE_SIMD) and scalar (neither), plus
// the SIMD128 build on shared memory for threads. `if (ASC_FEATURE_...)` is resolved at compile time.
//
// Memory: the host (src/kernels/wasm/loader.ts) owns allocation in the exported linear memory,
// starting at heap_base(); kernels only read and write the regions they are given.

export { matvec_f32 } from './matvec_f32';
export { matvec_i8, quantize_i16 } from './matvec_i8';
export { delta_f32 } from './delta_f32';
export { delta_i8, delta_i8_wide_passes } from './delta_i8';
export { delta_encode } from './encode';
export { gru_gates, lstm_gates, sru_steps, qrnn_steps, activate, gru_gates_keep, gru_blend, lstm_gates_keep, lstm_blend } from './gates';
export { matmat_f32, matmat_f32_p8 } from './multistep';
export { matvec_f32_p8, matvec_i8_p8, quantize_codes } from './packed';
export { layer_step, layer_steps } from './step';

export function heap_base(): usize {
  return __heap_base;
}

// 1 when compiled with SIMD: the loader reports it so tests can prove which build ran.
export function simd_build(): i32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

// 1 when compiled with relaxed SIMD.
export function relaxed_build(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
