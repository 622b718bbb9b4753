/**
 * Kernel build selection: the relaxed-SIMD build is chosen only where the engine validates it and
 * computes it correctly (numeric self-test), DELTAKIT_KERNEL_BUILD and `loadKernels({ build })`
 * force a build, and a forced build the engine cannot run is refused with a coded error.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { kernelBuild, loadKernels, relaxedSelfTest, relaxedSimdSupported } from '../../src/kernels/wasm/loader.js';
import { codeOf } from '../helpers/errors.js';
import { DEFAULT_BUILD_EXPECTED } from '../helpers/builds.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const ROOT = new URL('../..', import.meta.url).pathname;

/** kernelBuild() in a fresh Node process with extra V8 flags and environment. */
function buildIn(flags: string[], env: Record<string, string> = {}): string {
  const script = "import('./src/kernels/wasm/loader.ts').then((m) => { try { console.log(m.kernelBuild() + ' ' + m.loadKernels().path); } catch (e) { console.log(e.code); } })";
  const { DELTAKIT_KERNEL_BUILD: _, ...base } = process.env;
  return execFileSync(process.execPath, [...flags, '--import', 'tsx', '-e', script], { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8' }).trim();
}

it('the default build is the fastest the engine runs correctly', () => {
  expect(kernelBuild()).toBe(DEFAULT_BUILD_EXPECTED);
  if (NODE_MAJOR >= 22) expect(relaxedSimdSupported()).toBe(true);
});

describe('the self-test', () => {
  const fakeMemory = (): WebAssembly.Memory => new WebAssembly.Memory({ initial: 1 });
  /** A software probe; `dropDotAddend` / `dropMaddAddend` emulate broken engines. */
  const emulate = (m: WebAssembly.Memory, fused: boolean, dropDotAddend = false, dropMaddAddend = false) => (p: number): void => {
    const f = new Float32Array(m.buffer, p, 16);
    for (let i = 0; i < 4; i++) {
      const c = dropMaddAddend ? 0 : f[8 + i]!;
      f[12 + i] = fused ? Math.fround(f[i]! * f[4 + i]! + c) : Math.fround(Math.fround(f[i]! * f[4 + i]!) + c);
    }
    const a = new Int8Array(m.buffer, p + 64, 16), b = new Uint8Array(m.buffer, p + 80, 16), c = new Int32Array(m.buffer, p + 96, 4), d = new Int32Array(m.buffer, p + 112, 4);
    for (let l = 0; l < 4; l++) {
      let s = dropDotAddend ? 0 : c[l]!;
      for (let j = 4 * l; j < 4 * l + 4; j++) s += a[j]! * b[j]!;
      d[l] = s;
    }
  };
  it('accepts a fused and an unfused multiply-add', () => {
    for (const fused of [true, false]) {
      const m = fakeMemory();
      expect(relaxedSelfTest(emulate(m, fused), m)).toBe(true);
    }
  });
  it('rejects an int8 dot that drops its added term (Node 20 Liftoff), and a multiply-add that drops its addend', () => {
    const m = fakeMemory();
    expect(relaxedSelfTest(emulate(m, true, true), m)).toBe(false);
    const m2 = fakeMemory();
    expect(relaxedSelfTest(emulate(m2, true, false, true), m2)).toBe(false);
  });
});

it('loadKernels({ build }) and DELTAKIT_KERNEL_BUILD force a build', () => {
  expect(loadKernels({ build: 'simd128' }).path).toBe('wasm-simd');
  expect(loadKernels({ build: 'scalar' }).path).toBe('wasm-scalar');
  expect(codeOf(() => loadKernels({ build: 'avx' as never }))).toBe('E_OPTION');
  expect(buildIn([], { DELTAKIT_KERNEL_BUILD: 'simd128' })).toBe('simd128 wasm-simd');
  expect(buildIn([], { DELTAKIT_KERNEL_BUILD: 'scalar' })).toBe('scalar wasm-scalar');
  expect(buildIn([], { DELTAKIT_KERNEL_BUILD: 'fast' })).toBe('E_OPTION');
  if (NODE_MAJOR >= 22) expect(buildIn([], { DELTAKIT_KERNEL_BUILD: 'relaxed-simd' })).toBe('relaxed-simd wasm-relaxed');
  else expect(buildIn([], { DELTAKIT_KERNEL_BUILD: 'relaxed-simd' })).toBe('E_UNSUPPORTED');
}, 60_000);

// Node 20 validates relaxed SIMD behind a flag, and its baseline compiler (Liftoff) computes
// relaxed_dot_i8x16_i7x16_add_s without the added term: validation alone would pick a wrong build.
it.runIf(NODE_MAJOR === 20)('Node 20: with relaxed SIMD enabled by flag, the self-test rejects Liftoff and accepts the optimising compiler', () => {
  expect(buildIn(['--experimental-wasm-relaxed-simd'])).toBe('simd128 wasm-simd');
  expect(buildIn(['--experimental-wasm-relaxed-simd', '--no-liftoff'])).toBe('relaxed-simd wasm-relaxed');
}, 60_000);
