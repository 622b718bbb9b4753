/**
 * Layers with a state after reset (ONNX initial_h / initial_c constants): every engine that runs
 * them starts from it, the file keeps it, the ONNX export says what to feed first.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { exportOnnx } from '../../src/model/export/onnx/export.js';
import { importOnnx } from '../../src/model/import/onnx.js';
import { decodeModelFile, encodeModel } from '../../src/model/io.js';
import { modelSpec } from '../../src/model/format.js';
import type { Model } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/index.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';
import { expectCode } from '../helpers/errors.js';
import { trainableParts } from '../../src/train/net.js';

function withInitial(): Model {
  const m = randomModel(8, 4, [{ kind: 'gru', hiddenSize: 6 }, { kind: 'lstm', hiddenSize: 5 }, { kind: 'linear', outputSize: 2 }]);
  for (const l of m.layers) {
    if (l.kind === 'gru') l.initialH = Float32Array.from({ length: 6 }, (_, i) => 0.8 * Math.sin(i + 1));
    if (l.kind === 'lstm') {
      l.initialH = Float32Array.from({ length: 5 }, (_, i) => 0.5 * Math.cos(i));
      l.initialC = Float32Array.from({ length: 5 }, (_, i) => -0.7 + 0.3 * i);
    }
  }
  return m;
}

describe('initial states', () => {
  const m = withInitial();
  const frames = smoothStream(4, 30, 4, 0.3);

  it('change the output, and every backend starts from them (dense and delta, js and wasm, after reset too)', () => {
    const zero = { ...m, layers: m.layers.map((l) => (l.kind === 'linear' ? l : { ...l, initialH: undefined, initialC: undefined })) } as Model;
    const ref = runModelRef(m, frames).outputs;
    expect(maxAbsDiff(ref.subarray(0, 2), runModelRef(zero, frames).outputs.subarray(0, 2))).toBeGreaterThan(1e-3);
    for (const backend of ['js', 'wasm'] as const) {
      const s = createSession(m, { backend });
      expect(maxAbsDiff(s.run(frames), ref), backend).toBeLessThan(2e-5);
      s.reset();
      expect(maxAbsDiff(s.run(frames), ref), `${backend} after reset`).toBeLessThan(2e-5);
      expect(maxAbsDiff(createSession(m, { backend, thresholdX: 0, thresholdH: 0 }).run(frames), ref)).toBeLessThan(2e-5);
      const opts = { thresholdX: 0.05, thresholdH: 0.02 };
      expect(maxAbsDiff(createSession(m, { ...opts, backend }).run(frames), runModelRef(m, frames, opts).outputs)).toBeLessThan(2e-5);
    }
  });

  it('round-trip through the model file (initialState: true, tensors initial_h / initial_c)', () => {
    expect(modelSpec(m).layers[1]).toMatchObject({ kind: 'lstm', initialState: true });
    const back = decodeModelFile(encodeModel(m)).model;
    expect(maxAbsDiff(runModelRef(back, frames).outputs, runModelRef(m, frames).outputs)).toBe(0);
  });

  it('ONNX export names the first values to feed; onnxruntime fed them matches', async () => {
    const ex = exportOnnx(m);
    expect(ex.states.find((s) => s.name === 'c1')!.initial!.length).toBe(5);
    const sess = await ort.InferenceSession.create(ex.bytes);
    let st: Record<string, ort.Tensor> = Object.fromEntries(ex.states.map((s) => [s.name, new ort.Tensor('float32', Float32Array.from(s.initial ?? new Array(s.size).fill(0)), [1, 1, s.size])]));
    const y: number[] = [];
    for (let t = 0; t < 30; t++) {
      const r = await sess.run({ x: new ort.Tensor('float32', frames.slice(4 * t, 4 * t + 4), [1, 1, 4]), ...st });
      y.push(...(r.y!.data as Float32Array));
      st = Object.fromEntries(ex.states.map((s) => [s.name, r[`${s.name}_out`]!]));
    }
    expect(maxAbsDiff(y, runModelRef(m, frames).outputs)).toBeLessThan(1e-5);
    // The export takes states as inputs, so re-importing it starts from zero (inputs are fed by the caller).
    expect(importOnnx(ex.bytes).layers[0]!.kind).toBe('gru');
  });

  it('the trainer refuses them with E_UNSUPPORTED', () => {
    expectCode(() => trainableParts(m), 'E_UNSUPPORTED', /initial state/);
  });
});

describe('the C export refuses cell options its fixed-point cell does not implement', () => {
  it('initial states, activations and clip are E_UNSUPPORTED naming them', async () => {
    const { lowerModel } = await import('../../src/quant/lowering.js');
    const m = randomModel(8, 4, [{ kind: 'gru', hiddenSize: 6 }, { kind: 'linear', outputSize: 2 }]);
    const g = m.layers[0]!;
    if (g.kind !== 'gru') throw new Error('unreachable');
    g.initialH = new Float32Array(6).fill(0.1);
    expectCode(() => lowerModel(m), 'E_UNSUPPORTED', /C export.*initial state/);
    g.initialH = undefined;
    g.activations = [{ name: 'hard_sigmoid', alpha: 0.2, beta: 0.5 }, { name: 'tanh' }];
    expectCode(() => lowerModel(m), 'E_UNSUPPORTED', /C export.*activations \[hard_sigmoid, tanh\]/);
  });
});
