/**
 * The committed base64 modules are what the AssemblyScript sources compile to: a stale
 * generated file would run kernels that no longer match their sources.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { FLAVORS, compileKernels, generatedModule, generatedPath } from '../../src/kernels/wasm/build.js';

it.each(FLAVORS)('src/kernels/wasm/generated/kernels-%s.ts is up to date (run npm run build:wasm)', async (flavor) => {
  const text = generatedModule(flavor, await compileKernels(flavor));
  expect(readFileSync(generatedPath(flavor), 'utf8') === text).toBe(true);
});
