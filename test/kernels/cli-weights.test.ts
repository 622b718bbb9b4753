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
