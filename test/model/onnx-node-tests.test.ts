/**
 * ONNX's own GRU and LSTM backend node tests (recast to batch 1, expected outputs from the upstream
 * numpy reference) and fresh tf2onnx-shaped graphs with reset-before GRUs and peephole LSTMs.
 * Fixtures and their generator: test/fixtures/onnx/make_onnx_fixtures.py. Each file also runs in
 * onnxruntime-node, so the expected numbers are checked against a second implementation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { decodeModelFile } from '../../src/model/io.js';
import type { GruLayer } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/index.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'onnx');
const CASES = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

interface Expected { T: number; I: number; output: 'all' | 'last'; x: number[]; expected: number[] }
const load = (c: string) => ({
  bytes: new Uint8Array(readFileSync(join(DIR, c, 'model.onnx'))),
  exp: JSON.parse(readFileSync(join(DIR, c, 'expected.json'), 'utf8')) as Expected,
});
/** The part of a (T, O) run the fixture's output holds: every step, or the last one (Y_h). */
const pick = (y: ArrayLike<number>, e: Expected) => (e.output === 'all' ? Array.from(y) : Array.from(y).slice(y.length - e.expected.length));

describe('ONNX backend node tests (upstream generators, batch 1) and tf2onnx-shaped graphs', () => {
  it('has all eight upstream GRU/LSTM node tests', () => {
    for (const t of ['test_gru_defaults', 'test_gru_with_initial_bias', 'test_gru_seq_length', 'test_gru_batchwise', 'test_lstm_defaults', 'test_lstm_with_initial_bias', 'test_lstm_with_peepholes', 'test_lstm_batchwise']) {
      expect(CASES).toContain(t);
    }
  });

  for (const c of CASES) {
    it(`${c}: deltakit matches the expected output within 1e-5 (reference and js session)`, () => {
      const { bytes, exp } = load(c);
      const { model, kind } = decodeModelFile(bytes);
      expect(kind).toBe('onnx');
      const ref = runModelRef(model, exp.x);
      expect(maxAbsDiff(pick(ref.outputs, exp), exp.expected)).toBeLessThan(1e-5);
      const y = createSession(model, { backend: 'js' }).run(exp.x);
      expect(maxAbsDiff(pick(y, exp), exp.expected)).toBeLessThan(1e-5);
      // Delta with thresholds 0 is the dense network; with small thresholds it matches the delta reference.
      expect(maxAbsDiff(pick(createSession(model, { backend: 'js', thresholdX: 0, thresholdH: 0 }).run(exp.x), exp), exp.expected)).toBeLessThan(1e-5);
      const opts = { thresholdX: 0.02, thresholdH: 0.01 };
      expect(maxAbsDiff(createSession(model, { ...opts, backend: 'js' }).run(exp.x), runModelRef(model, exp.x, opts).outputs)).toBeLessThan(1e-3);
    });

    // onnxruntime's CPU GRU/LSTM kernels refuse layout = 1 ("Batchwise recurrent operations are
    // not supported"): the batchwise node tests are checked against the upstream numpy reference only.
    if (c.includes('batchwise')) continue;
    it(`${c}: onnxruntime agrees with the expected output within 1e-5`, async () => {
      const { bytes, exp } = load(c);
      const sess = await ort.InferenceSession.create(bytes);
      const H = (decodeModelFile(bytes).model.layers[0] as GruLayer).hiddenSize;
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of sess.inputNames) {
        // The first input is the frames (tf2onnx-shaped graphs are batch-major); the others are
        // initial states, fed as zeros.
        if (name === sess.inputNames[0]) feeds[name] = new ort.Tensor('float32', Float32Array.from(exp.x), name === 'input' ? [1, exp.T, exp.I] : [exp.T, 1, exp.I]);
        else feeds[name] = new ort.Tensor('float32', new Float32Array(H), [1, 1, H]);
      }
      const out = await sess.run(feeds);
      const y = out[sess.outputNames[0]!]!.data as Float32Array;
      expect(maxAbsDiff(pick(y, exp), exp.expected)).toBeLessThan(1e-5);
    });
  }

  it('imports linear_before_reset = 0 as reset-before and 1 as reset-after, layer by layer', () => {
    const m = decodeModelFile(load('fresh_gru_mixed_variants').bytes).model;
    expect(m.layers.map((l) => (l.kind === 'gru' ? l.resetAfter !== false : null))).toEqual([false, true, null]);
    const d = decodeModelFile(load('test_gru_defaults').bytes).model;
    expect((d.layers[0] as GruLayer).resetAfter).toBe(false);
  });
});
