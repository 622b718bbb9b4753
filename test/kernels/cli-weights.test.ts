/** `deltakit run --backend --weights`: the wasm backend and int8 weights from the command line. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { encodeNpy, parseNpy } from '../../src/core/npy.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { main } from '../../src/cli/main.js';
import { encodeModel } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { DEFAULT_BUILD_EXPECTED, PATH_OF_BUILD } from '../helpers/builds.js';

const DEFAULT_PATH = PATH_OF_BUILD[DEFAULT_BUILD_EXPECTED];

async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(argv), err };
  } finally {
    o.mockRestore();
    e.mockRestore();
    process.exitCode = undefined;
  }
}

it('run --weights int8 on wasm, and the coded error for int8 on js', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deltakit-perf-'));
  const model = randomModel(3, 6, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 4 }]);
  writeFileSync(join(dir, 'm.safetensors'), encodeModel(model));
  const frames = smoothStream(5, 30, 6, 0.2);
  writeFileSync(join(dir, 'x.npy'), encodeNpy(frames, [30, 6]));
  const r = await cli('run', join(dir, 'm.safetensors'), '-i', join(dir, 'x.npy'), '-o', join(dir, 'y.npy'), '--weights', 'int8', '--backend', 'wasm');
  expect(r.code).toBe(0);
  expect(r.err).toContain(`${DEFAULT_PATH}-int8`);
  const y = parseNpy(readFileSync(join(dir, 'y.npy')));
  const err = maxAbsDiff(y.data, runModelRef(model, frames).outputs);
  expect(err).toBeGreaterThan(0);
  expect(err).toBeLessThan(0.05);
  const bad = await cli('run', join(dir, 'm.safetensors'), '-i', join(dir, 'x.npy'), '-o', join(dir, 'z.npy'), '--weights', 'int8', '--backend', 'js');
  expect(bad.code).toBe(1);
  expect(bad.err).toContain('E_UNSUPPORTED');
});

it('run --weights int8 --activation-bits 7 and 14 (the session option activationBits); coded errors for bad values and without int8', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'deltakit-bits-'));
  const model = randomModel(4, 16, [{ kind: 'gru', hiddenSize: 64 }, { kind: 'linear', outputSize: 4 }]);
  writeFileSync(join(dir, 'm.safetensors'), encodeModel(model));
  const frames = smoothStream(6, 60, 16, 0.3);
  writeFileSync(join(dir, 'x.npy'), encodeNpy(frames, [60, 16]));
  const ref = runModelRef(model, frames).outputs;
  const errs: Record<string, number> = {};
  for (const bits of ['7', '14']) {
    const r = await cli('run', join(dir, 'm.safetensors'), '-i', join(dir, 'x.npy'), '-o', join(dir, `y${bits}.npy`), '--weights', 'int8', '--activation-bits', bits);
    expect(r.code).toBe(0);
    errs[bits] = maxAbsDiff(parseNpy(readFileSync(join(dir, `y${bits}.npy`))).data, ref);
    expect(errs[bits]).toBeLessThan(0.3);
  }
  // 7-bit activations only exist on the relaxed build; elsewhere both run int16 activations.
  if (DEFAULT_BUILD_EXPECTED === 'relaxed-simd') expect(errs['7']!).toBeGreaterThan(errs['14']!);
  else expect(errs['7']).toBe(errs['14']);
  const bad = await cli('run', join(dir, 'm.safetensors'), '-i', join(dir, 'x.npy'), '-o', join(dir, 'z.npy'), '--weights', 'int8', '--activation-bits', '8');
  expect(bad.code).toBe(1);
  expect(bad.err).toContain('E_OPTION');
  const noInt8 = await cli('run', join(dir, 'm.safetensors'), '-i', join(dir, 'x.npy'), '-o', join(dir, 'z.npy'), '--backend', 'wasm', '--activation-bits', '7');
  expect(noInt8.code).toBe(1);
  expect(noInt8.err).toContain('E_OPTION');
});
