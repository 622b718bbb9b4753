/**
 * Keras 3 .keras, Keras 2 .h5 and TensorFlow.js layers models (converter and model.save() shapes),
 * written from one set of random weights by test/fixtures/keras/make_keras_fixtures.py, with the
 * same weights as ONNX (linear_before_reset matching reset_after). Every import must match a numpy
 * implementation of Keras' equations within 1e-5, agree with the others, and run as a delta network
 * within 1e-3 of the delta reference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { decodeModelFile, loadModelFile, type ModelFileKind } from '../../src/model/io.js';
import type { Model } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/index.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'keras');
const CASES = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
interface Expected { T: number; I: number; output: 'all' | 'last'; onnx: boolean; x: number[]; expected: number[]; expectedKeras3: number[] }

const FILES: Array<[string, ModelFileKind]> = [
  ['model.keras', 'keras'],
  ['model.h5', 'keras-h5'],
  ['tfjs-converter/model.json', 'tfjs'],
  ['tfjs-save/model.json', 'tfjs'],
  ['model.onnx', 'onnx'],
];

describe('Keras-family importers against numpy Keras equations', () => {
  for (const c of CASES) {
    const exp = JSON.parse(readFileSync(join(DIR, c, 'expected.json'), 'utf8')) as Expected;
    const pick = (y: ArrayLike<number>) => (exp.output === 'all' ? Array.from(y) : Array.from(y).slice(y.length - exp.expected.length));
    it(`${c}: every format imports, matches within 1e-5 and agrees with the others`, async () => {
      const models: Model[] = [];
      for (const [f, kind] of FILES) {
        if (f === 'model.onnx' && !exp.onnx) continue;
        const loaded = await loadModelFile(join(DIR, c, f));
        expect(loaded.kind).toBe(kind);
        const m = loaded.model;
        models.push(m);
        // Keras 3 defines hard_sigmoid with slope 1/6, Keras 2 and TensorFlow.js with 0.2.
        const want = kind === 'keras' ? exp.expectedKeras3 : exp.expected;
        const dense = createSession(m, { backend: 'js' }).run(exp.x);
        expect(maxAbsDiff(pick(dense), want), `${c}/${f}`).toBeLessThan(1e-5);
        expect(maxAbsDiff(pick(runModelRef(m, exp.x).outputs), want), `${c}/${f} reference`).toBeLessThan(1e-5);
        const opts = { thresholdX: 0.02, thresholdH: 0.01 };
        expect(maxAbsDiff(createSession(m, { ...opts, backend: 'js' }).run(exp.x), runModelRef(m, exp.x, opts).outputs), `${c}/${f} delta`).toBeLessThan(1e-3);
      }
      // The imports are the same network: same layer kinds, variants and weights (to float32 rounding).
      // (The Keras 3 file differs where hard_sigmoid is used: it is compared with the others only otherwise.)
      const hard = JSON.stringify(models[1]!.layers.map((l) => ('activations' in l ? l.activations : null))).includes('hard_sigmoid');
      for (const m of hard ? models.slice(2) : models.slice(1)) {
        expect(m.layers.map((l) => [l.kind, l.kind === 'gru' ? l.resetAfter !== false : null])).toEqual(models[0]!.layers.map((l) => [l.kind, l.kind === 'gru' ? l.resetAfter !== false : null]));
        const y0 = createSession(hard ? models[1]! : models[0]!, { backend: 'js' }).run(exp.x);
        expect(maxAbsDiff(createSession(m, { backend: 'js' }).run(exp.x), y0)).toBeLessThan(1e-6);
      }
    });
  }

  it("TensorFlow.js' default hard_sigmoid imports as HardSigmoid(0.2, 0.5); Keras 3's as slope 1/6", async () => {
    const t = (await loadModelFile(join(DIR, 'tfjs_defaults_hard_sigmoid', 'tfjs-save', 'model.json'))).model;
    expect(t.layers[0]!.kind === 'gru' && t.layers[0]!.activations).toEqual([{ name: 'hard_sigmoid', alpha: 0.2, beta: 0.5 }, { name: 'tanh' }]);
    const k = (await loadModelFile(join(DIR, 'tfjs_defaults_hard_sigmoid', 'model.keras'))).model;
    expect(k.layers[1]!.kind === 'lstm' && k.layers[1]!.activations![0]!.alpha).toBeCloseTo(1 / 6, 12);
  });

  it('reset_after=False imports as the reset-before GRU, True as reset-after', async () => {
    const a = (await loadModelFile(join(DIR, 'gru_reset_before_x2_dense', 'model.keras'))).model;
    expect(a.layers.slice(0, 2).map((l) => l.kind === 'gru' && l.resetAfter)).toEqual([false, false]);
    const b = (await loadModelFile(join(DIR, 'gru_reset_after_lstm_dense_relu', 'model.h5'))).model;
    expect(b.layers[0]!.kind === 'gru' && b.layers[0]!.resetAfter).toBeFalsy();
    expect(b.meta.source).toBe('keras-h5');
  });

  it('a model.json given as bytes without its shards is one coded error', () => {
    const bytes = new Uint8Array(readFileSync(join(DIR, 'simple_rnn_dense_tanh', 'tfjs-save', 'model.json')));
    expect(() => decodeModelFile(bytes)).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
  });
});

describe('Keras-family importers: every refused or malformed input is one coded error', () => {
  const dir = join(DIR, 'gru_reset_before_x2_dense', 'tfjs-save');
  const json = () => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } }; weightsManifest: Array<{ paths: string[] }>; format?: string };
  const read = (p: string) => new Uint8Array(readFileSync(join(dir, p)));
  const load = (j: unknown, r = read) => decodeModelFile(new TextEncoder().encode(JSON.stringify(j)), { readFile: r });
  const code = (fn: () => unknown, c: string, msg: RegExp) => expect(fn).toThrow(expect.objectContaining({ code: c, message: expect.stringMatching(msg) }));

  it('refuses what cannot stream or is not implemented, naming it', () => {
    const cases: Array<[(j: ReturnType<typeof json>) => void, string, RegExp]> = [
      [(j) => (j.modelTopology.config.layers[0]!.config.recurrent_activation = 'swish'), 'E_UNSUPPORTED', /recurrent_activation swish is not supported/],
      [(j) => (j.modelTopology.config.layers[0]!.config.go_backwards = true), 'E_UNSUPPORTED', /go_backwards=True cannot stream/],
      [(j) => (j.modelTopology.config.layers[0]!.class_name = 'Bidirectional'), 'E_UNSUPPORTED', /bidirectional RNN cannot stream/],
      [(j) => (j.modelTopology.config.layers[2]!.config.activation = 'softmax'), 'E_UNSUPPORTED', /activation softmax/],
      [(j) => (j.modelTopology.config.layers[1]!.class_name = 'ConvLSTM1D'), 'E_UNSUPPORTED', /layer class ConvLSTM1D/],
      [(j) => (j.modelTopology.config.layers[0]!.config.return_sequences = false), 'E_UNSUPPORTED', /return_sequences=False/],
      [(j) => (j.format = 'graph-model'), 'E_UNSUPPORTED', /graph models/],
    ];
    for (const [mutate, c, msg] of cases) {
      const j = json();
      mutate(j);
      code(() => load(j), c, msg);
    }
  });

  it('rejects malformed files with E_FORMAT / E_SHAPE / E_IO', () => {
    code(() => load(json(), (p) => read(p).subarray(4)), 'E_FORMAT', /hold \d+ bytes, the weights need/);
    const j = json();
    j.weightsManifest[0]!.paths = ['../../escape.bin'];
    return loadModelFileFrom(dir, j).then((e) => expect(e).toMatchObject({ code: 'E_FORMAT' }));
  });

  it('rejects truncated and weights-only Keras files', () => {
    const keras = new Uint8Array(readFileSync(join(DIR, 'gru_reset_before_x2_dense', 'model.keras')));
    code(() => decodeModelFile(keras.subarray(0, keras.length >> 1)), 'E_FORMAT', /keras: malformed zip|not found in the archive/);
    const h5 = new Uint8Array(readFileSync(join(DIR, 'gru_reset_before_x2_dense', 'model.h5')));
    code(() => decodeModelFile(h5.subarray(0, 600)), 'E_FORMAT', /keras h5: malformed HDF5|not found/);
  });
});

/** Load a mutated model.json written next to the real shards; returns the error thrown. */
async function loadModelFileFrom(dir: string, j: unknown): Promise<unknown> {
  const { mkdtempSync, writeFileSync, copyFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const t = mkdtempSync(join(tmpdir(), 'dk-tfjs-'));
  for (const f of readdirSync(dir)) if (f.endsWith('.bin')) copyFileSync(join(dir, f), join(t, f));
  writeFileSync(join(t, 'model.json'), JSON.stringify(j));
  try {
    await loadModelFile(join(t, 'model.json'));
    return undefined;
  } catch (e) {
    return e;
  }
}
