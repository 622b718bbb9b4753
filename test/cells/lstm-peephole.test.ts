/** LSTM peepholes (ONNX input P): file round trip, delta form, and the engines that refuse them. */
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { decodeModelFile, encodeModel } from '../../src/model/io.js';
import { modelSpec } from '../../src/model/format.js';
import type { LstmLayer, Model } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/index.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';
import { expectCode } from '../helpers/errors.js';

function withPeepholes(seed: number): Model {
  const m = randomModel(seed, 4, [{ kind: 'lstm', hiddenSize: 6 }, { kind: 'lstm', hiddenSize: 5 }, { kind: 'linear', outputSize: 2 }]);
  m.layers.forEach((l, k) => {
    if (l.kind === 'lstm') l.peephole = Float32Array.from({ length: 3 * l.hiddenSize }, (_, i) => Math.sin(7 * i + k) * 0.8);
  });
  return m;
}

describe('LSTM with peepholes', () => {
  it('changes the output, runs dense and delta on the js session as the references do', () => {
    const m = withPeepholes(3);
    const frames = smoothStream(5, 40, 4, 0.4);
    const plain = { ...m, layers: m.layers.map((l) => (l.kind === 'lstm' ? { ...l, peephole: undefined } : l)) } as Model;
    expect(maxAbsDiff(runModelRef(m, frames).outputs, runModelRef(plain, frames).outputs)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(createSession(m, { backend: 'js' }).run(frames), runModelRef(m, frames).outputs)).toBeLessThan(1e-6);
    expect(maxAbsDiff(createSession(m, { backend: 'js', thresholdX: 0, thresholdH: 0 }).run(frames), runModelRef(m, frames).outputs)).toBeLessThan(1e-6);
    const opts = { thresholdX: 0.05, thresholdH: 0.03 };
    expect(maxAbsDiff(createSession(m, { ...opts, backend: 'js' }).run(frames), runModelRef(m, frames, opts).outputs)).toBeLessThan(1e-6);
  });

  it('round-trips through the model file (spec says peephole: true, tensor layers.k.peephole)', () => {
    const m = withPeepholes(4);
    expect(modelSpec(m).layers[0]).toEqual({ kind: 'lstm', inputSize: 4, hiddenSize: 6, peephole: true });
    const back = decodeModelFile(encodeModel(m)).model;
    expect(Array.from((back.layers[1] as LstmLayer).peephole!)).toEqual(Array.from((m.layers[1] as LstmLayer).peephole!));
    const plain = randomModel(4, 4, [{ kind: 'lstm', hiddenSize: 3 }]);
    expect(modelSpec(plain).layers[0]).toEqual({ kind: 'lstm', inputSize: 4, hiddenSize: 3 });
    expect((decodeModelFile(encodeModel(plain)).model.layers[0] as LstmLayer).peephole).toBeUndefined();
  });

  it('engines without peepholes refuse them with E_UNSUPPORTED', () => {
    const m = withPeepholes(5);
    expectCode(() => createSession(m, { backend: 'wasm' }), 'E_UNSUPPORTED', /backend wasm.*peephole/);
    expectCode(() => createSession(m, { weightStorage: 'cbtd', thresholdX: 0.1 }), 'E_UNSUPPORTED', /cbtd.*peephole/);
  });
});
