/**
 * ONNX export: the streaming step graph runs in onnxruntime-node, states fed back step by step,
 * and matches deltakit's float64 reference within 1e-5 for every layer kind and both GRU forms;
 * int8 exports (QDQ) match the reference run on the dequantised weights.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { dequantizeI8, quantizeI8 } from '../../src/kernels/ref/quantize.js';
import { exportOnnx, type OnnxExport } from '../../src/model/export/onnx/export.js';
import { importOnnx } from '../../src/model/import/onnx.js';
import type { Layer, Model } from '../../src/model/types.js';
import { modelInputSize, modelOutputSize } from '../../src/model/types.js';
import { randomModel, smoothStream, STACKS, type LayerRecipe } from '../helpers/random-model.js';

/** Run an exported graph over T frames in onnxruntime, feeding each step's states back. */
async function runOrt(ex: OnnxExport, model: Model, frames: Float32Array, level: 'basic' | 'all' = 'all'): Promise<Float32Array> {
  const sess = await ort.InferenceSession.create(ex.bytes, { graphOptimizationLevel: level, intraOpNumThreads: 1, interOpNumThreads: 1 });
  const I = modelInputSize(model);
  const O = modelOutputSize(model);
  const T = frames.length / I;
  let st: Record<string, ort.Tensor> = Object.fromEntries(ex.states.map((s) => [s.name, new ort.Tensor('float32', s.initial ? Float32Array.from(s.initial) : new Float32Array(s.size), [1, 1, s.size])]));
  const out = new Float32Array(T * O);
  for (let t = 0; t < T; t++) {
    const r = await sess.run({ x: new ort.Tensor('float32', frames.slice(t * I, (t + 1) * I), [1, 1, I]), ...st });
    out.set(r.y!.data as Float32Array, t * O);
    st = Object.fromEntries(ex.states.map((s) => [s.name, r[`${s.name}_out`]!]));
  }
  return out;
}

const EXTRA: Array<[string, LayerRecipe[]]> = [
  ['reset-before gru x2 + linear', [{ kind: 'gru', hiddenSize: 10, resetAfter: false }, { kind: 'gru', hiddenSize: 7, resetAfter: false }, { kind: 'linear', outputSize: 3 }]],
  ['mixed gru forms + lstm', [{ kind: 'gru', hiddenSize: 6, resetAfter: false }, { kind: 'gru', hiddenSize: 6 }, { kind: 'lstm', hiddenSize: 5 }]],
];

describe('ONNX export (streaming step graph) in onnxruntime-node', () => {
  for (const [name, recipe] of [...STACKS, ...EXTRA]) {
    it(`${name}: matches the float64 reference within 1e-5`, async () => {
      const model = randomModel(17, 5, recipe);
      const frames = smoothStream(8, 30, 5, 0.4);
      const ex = exportOnnx(model);
      const y = await runOrt(ex, model, frames);
      expect(maxAbsDiff(y, runModelRef(model, frames).outputs)).toBeLessThan(1e-5);
    });
  }

  it('LSTM peepholes export as P', async () => {
    const model = randomModel(3, 4, [{ kind: 'lstm', hiddenSize: 6 }, { kind: 'linear', outputSize: 2 }]);
    const l = model.layers[0]!;
    if (l.kind === 'lstm') l.peephole = Float32Array.from({ length: 18 }, (_, i) => Math.cos(i) * 0.7);
    const frames = smoothStream(2, 25, 4, 0.5);
    expect(maxAbsDiff(await runOrt(exportOnnx(model), model, frames), runModelRef(model, frames).outputs)).toBeLessThan(1e-5);
  });

  it('GRU/LSTM/linear exports import back to the same network', () => {
    for (const [, recipe] of [STACKS[1]!, STACKS[2]!, EXTRA[1]!]) {
      const model = randomModel(5, 4, recipe);
      const back = importOnnx(exportOnnx(model).bytes);
      const frames = smoothStream(1, 20, 4, 0.4);
      expect(back.layers.map((l) => [l.kind, l.kind === 'gru' ? l.resetAfter !== false : null])).toEqual(model.layers.map((l) => [l.kind, l.kind === 'gru' ? l.resetAfter !== false : null]));
      expect(maxAbsDiff(runModelRef(back, frames).outputs, runModelRef(model, frames).outputs)).toBeLessThan(1e-6);
    }
  });

  it('int8 (QDQ): onnxruntime at basic and full optimisation matches the reference on the dequantised weights', async () => {
    const model = randomModel(23, 6, [{ kind: 'gru', hiddenSize: 12 }, { kind: 'gru', hiddenSize: 8, resetAfter: false }, { kind: 'lstm', hiddenSize: 6 }, { kind: 'linear', outputSize: 4 }]);
    const frames = smoothStream(4, 30, 6, 0.4);
    const ex = exportOnnx(model, { weights: 'int8' });
    // The network the QDQ graph stands for: every quantised matrix replaced by q * scale (float32).
    const dq = (w: Float32Array, rows: number, cols: number) => Float32Array.from(dequantizeI8(quantizeI8(w, rows, cols, 'row'), rows, cols, 'row'), Math.fround);
    const qModel: Model = {
      ...model,
      layers: model.layers.map((l): Layer => {
        if (l.kind === 'gru' || l.kind === 'lstm') {
          const G = l.kind === 'gru' ? 3 : 4;
          return { ...l, weightIh: dq(l.weightIh, G * l.hiddenSize, l.inputSize), weightHh: dq(l.weightHh, G * l.hiddenSize, l.hiddenSize) };
        }
        return l.kind === 'linear' ? { ...l, weight: dq(l.weight, l.outputSize, l.inputSize) } : l;
      }),
    };
    const ref = runModelRef(qModel, frames).outputs;
    expect(maxAbsDiff(await runOrt(ex, model, frames, 'basic'), ref)).toBeLessThan(1e-5);
    // At full optimisation onnxruntime fuses DequantizeLinear + MatMul into kernels that also
    // quantise the activations (measured ~1e-3 here): a different network, so only bounded.
    const full = maxAbsDiff(await runOrt(ex, model, frames, 'all'), ref);
    expect(full).toBeLessThan(1e-2);
    // And it is really quantised: far from the float network at int8 precision.
    expect(maxAbsDiff(ref, runModelRef(model, frames).outputs)).toBeGreaterThan(1e-5);
    expect(ex.bytes.length).toBeLessThan(exportOnnx(model).bytes.length);
  });
});

describe('ONNX activations and clip: deltakit against onnxruntime', () => {
  const cases: Array<[string, LayerRecipe[], (m: Model) => void]> = [
    ['GRU HardSigmoid(0.25, 0.45) / Softsign, clip 1.5', [{ kind: 'gru', hiddenSize: 7 }], (m) => {
      const l = m.layers[0]!;
      if (l.kind === 'gru') Object.assign(l, { activations: [{ name: 'hard_sigmoid', alpha: 0.25, beta: 0.45 }, { name: 'softsign' }], clip: 1.5 });
    }],
    ['reset-before GRU Sigmoid / ScaledTanh(1.2, 0.8)', [{ kind: 'gru', hiddenSize: 6, resetAfter: false }], (m) => {
      const l = m.layers[0]!;
      if (l.kind === 'gru') l.activations = [{ name: 'sigmoid' }, { name: 'scaled_tanh', alpha: 1.2, beta: 0.8 }];
    }],
    ['LSTM HardSigmoid / Elu(0.7) / Softplus with peepholes, clip 2', [{ kind: 'lstm', hiddenSize: 5 }, { kind: 'linear', outputSize: 2 }], (m) => {
      const l = m.layers[0]!;
      if (l.kind === 'lstm') Object.assign(l, { activations: [{ name: 'hard_sigmoid', alpha: 0.2, beta: 0.5 }, { name: 'elu', alpha: 0.7 }, { name: 'softplus' }], clip: 2, peephole: Float32Array.from({ length: 15 }, (_, i) => 0.1 * Math.sin(i)) });
    }],
    ['LSTM LeakyRelu(0.1) / Tanh / Affine(0.5, 0.1)', [{ kind: 'lstm', hiddenSize: 4 }], (m) => {
      const l = m.layers[0]!;
      if (l.kind === 'lstm') l.activations = [{ name: 'sigmoid' }, { name: 'leaky_relu', alpha: 0.1 }, { name: 'affine', alpha: 0.5, beta: 0.1 }];
    }],
  ];
  for (const [name, recipe, tweak] of cases) {
    it(`${name}: reference, js session (dense and delta at 0) and re-import match onnxruntime within 1e-5`, async () => {
      const model = randomModel(31, 4, recipe, 2);
      tweak(model);
      const frames = smoothStream(6, 25, 4, 0.6);
      const ort = await runOrt(exportOnnx(model), model, frames, 'basic');
      const ref = runModelRef(model, frames).outputs;
      expect(maxAbsDiff(ort, ref)).toBeLessThan(1e-5);
      const { createSession } = await import('../../src/runtime/index.js');
      expect(maxAbsDiff(createSession(model).run(frames), ref)).toBeLessThan(1e-5);
      expect(maxAbsDiff(createSession(model, { thresholdX: 0, thresholdH: 0 }).run(frames), ref)).toBeLessThan(1e-5);
      const back = importOnnx(exportOnnx(model).bytes);
      expect(maxAbsDiff(runModelRef(back, frames).outputs, ref)).toBeLessThan(1e-6);
    });
  }
});
