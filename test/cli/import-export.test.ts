/** `deltakit info` / `convert` on Keras, TensorFlow.js and ONNX reset-before files, and `convert m.onnx`. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { encodeModel, loadModelFile } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';
import { cli } from '../helpers/cli.js';
import { writeFileSync } from 'node:fs';

const KERAS = join(import.meta.dirname, '..', 'fixtures', 'keras');
const ONNX = join(import.meta.dirname, '..', 'fixtures', 'onnx');

describe('CLI: info names the source format and the GRU variant', () => {
  it.each([
    [join(KERAS, 'gru_reset_before_x2_dense', 'model.keras'), /Keras 3 \(\.keras\)/, /layer 0 reset-before, layer 1 reset-before/],
    [join(KERAS, 'gru_reset_after_lstm_dense_relu', 'model.h5'), /Keras 2 HDF5/, /layer 0 reset-after/],
    [join(KERAS, 'gru_reset_before_x2_dense', 'tfjs-converter', 'model.json'), /TensorFlow\.js layers model/, /reset-before/],
    [join(ONNX, 'test_gru_defaults', 'model.onnx'), /ONNX/, /layer 0 reset-before/],
  ])('%s', async (file, kind, variant) => {
    const r = await cli('info', file);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(kind);
    expect(r.out).toMatch(variant);
  });
});

describe('CLI: convert to deltakit and to ONNX', () => {
  it('converts a Keras file to .safetensors keeping the reset-before form', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-conv-'));
    const out = join(dir, 'm.safetensors');
    const r = await cli('convert', join(KERAS, 'gru_reset_before_x2_dense', 'model.keras'), out);
    expect(r.code).toBe(0);
    const back = (await loadModelFile(out)).model;
    expect(back.layers[0]!.kind === 'gru' && back.layers[0]!.resetAfter).toBe(false);
    expect(back.meta.convertedFrom).toBe('keras');
  });

  it('exports m.safetensors to a streaming m.onnx that onnxruntime runs like deltakit; int8 as QDQ; no overwrite without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-onnx-'));
    const model = randomModel(9, 4, [{ kind: 'gru', hiddenSize: 8, resetAfter: false }, { kind: 'linear', outputSize: 3 }]);
    const src = join(dir, 'm.safetensors');
    writeFileSync(src, encodeModel(model));
    const out = join(dir, 'm.onnx');
    expect((await cli('convert', src, out)).code).toBe(0);
    expect(existsSync(out)).toBe(true);
    const again = await cli('convert', src, out);
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/E_EXISTS/);
    const sess = await ort.InferenceSession.create(new Uint8Array(readFileSync(out)));
    const frames = smoothStream(3, 12, 4, 0.4);
    let h: ort.Tensor = new ort.Tensor('float32', new Float32Array(8), [1, 1, 8]);
    const y: number[] = [];
    for (let t = 0; t < 12; t++) {
      const r = await sess.run({ x: new ort.Tensor('float32', frames.slice(4 * t, 4 * t + 4), [1, 1, 4]), h0: h });
      y.push(...(r.y!.data as Float32Array));
      h = r.h0_out as ort.Tensor;
    }
    expect(maxAbsDiff(y, runModelRef(model, frames).outputs)).toBeLessThan(1e-5);
    const f32Size = readFileSync(out).length;
    expect((await cli('convert', '--weights', 'int8', '--force', src, out)).code).toBe(0);
    expect(readFileSync(out).length).toBeLessThan(f32Size);
    expect(readFileSync(out).includes(Buffer.from('DequantizeLinear'))).toBe(true);
    const bad = await cli('convert', '--weights', 'int8', src, join(dir, 'x.safetensors'));
    expect(bad.err).toMatch(/E_OPTION/);
  });
});
