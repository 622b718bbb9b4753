/**
 * The kernel builds the test suite must exercise on this engine. On Node 22+ (and current
 * browsers) the relaxed-SIMD build must load: if its detection broke, these tests fail instead of
 * silently testing only the fallbacks. On Node 20 the self-test must reject it (its baseline
 * compiler computes the relaxed int8 dot wrongly, see loader.ts), leaving SIMD128 and scalar.
 */
import { relaxedSimdSupported, type KernelBuild, type KernelPath } from '../../src/kernels/wasm/loader.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/** The build that must load by default here (DELTAKIT_KERNEL_BUILD, if set, overrides it). */
export const DEFAULT_BUILD_EXPECTED: KernelBuild = (process.env.DELTAKIT_KERNEL_BUILD as KernelBuild | undefined) || (NODE_MAJOR >= 22 ? 'relaxed-simd' : 'simd128');

/** Every build this engine runs: relaxed SIMD only where it must be supported (and is). */
export const BUILDS_HERE: KernelBuild[] = [...(NODE_MAJOR >= 22 || relaxedSimdSupported() ? ['relaxed-simd' as const] : []), 'simd128', 'scalar'];

export const PATH_OF_BUILD: Record<KernelBuild, KernelPath> = { 'relaxed-simd': 'wasm-relaxed', simd128: 'wasm-simd', scalar: 'wasm-scalar' };
