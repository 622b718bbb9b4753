/**
 * The API called as a TypeScript or JavaScript user calls it, wrongly: every misuse is one
 * DeltakitError with a stable code and a message naming what was expected and what was found,
 * never a TypeError or RangeError from inside, a hang, or a session left half-way.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { cbtdPruneModel, checkModelBalance, compressModel, decodeCompressedModel, trainCodebook } from '../../src/compress/index.js';
import { exportC } from '../../src/model/export/c/index.js';
import { exportOnnx } from '../../src/model/export/onnx/export.js';
import { EdgeDrnnMachine, parseQFormat, quantizeModel } from '../../src/quant/index.js';
import { parseNpy } from '../../src/core/npy.js';
import { Rng } from '../../src/core/rng.js';
import { parseWav } from '../../src/data/wav.js';
import { importKeras3, importKerasH5 } from '../../src/model/import/keras/keras.js';
import { importOnnx } from '../../src/model/import/onnx.js';
import { importPytorchStateDict } from '../../src/model/import/pytorch.js';
import { decodeModel, encodeModel, loadModel } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { encodeSafetensors, parseSafetensors } from '../../src/model/safetensors.js';
import { summarizeModel } from '../../src/model/summary.js';
import type { Model } from '../../src/model/types.js';
import { initWasm } from '../../src/kernels/wasm/loader.js';
import { createSession, type SessionOptions } from '../../src/runtime/index.js';
import { readTrace } from '../../src/sim/trace/format.js';
import { simulate } from '../../src/sim/simulate.js';
import { syntheticWorkload } from '../../src/sim/workload/synthetic.js';
import { normalizeFeatures, statsFromJson } from '../../src/data/dataset.js';
import { StreamingLogMel } from '../../src/data/mel.js';
import { EnergySegmenter } from '../../src/stream/segmenter.js';
import { Listener } from '../../src/stream/listener.js';
import { StreamingRecognizer } from '../../src/stream/recognizer.js';
import { CtcGreedyDecoder } from '../../src/train/ctc.js';
import { MODELS_DIR } from '../../src/train/builtin.js';
import { join } from 'node:path';
import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { expectCode } from '../helpers/errors.js';

const I = 6;
const O = 4;
const model = () => randomModel(3, I, [{ kind: 'gru', hiddenSize: 10 }, { kind: 'linear', outputSize: O }]);
const frame = new Float32Array(I).fill(0.1);

describe('sessions', () => {
  beforeAll(async () => {
    await initWasm();
  });

  const variants: Array<[string, SessionOptions]> = [
    ['js', { backend: 'js' }],
    ['wasm', { backend: 'wasm' }],
    ['wasm delta', { backend: 'wasm', thresholdX: 0.1, thresholdH: 0.1 }],
    ['int8', { backend: 'wasm', weights: 'int8' }],
    ['cbtd', { weightStorage: 'cbtd' }],
  ];
  for (const [name, opts] of variants) {
    it(`${name}: run() with a bad frame at step 3 refuses the whole call and leaves the session where it was (it ran 3 steps first)`, () => {
      const a = createSession(model(), opts);
      const b = createSession(model(), opts);
      a.step(frame);
      b.step(frame);
      const x = new Float32Array(4 * I).fill(0.2);
      x[3 * I + 1] = Number.NaN;
      expectCode(() => a.run(x), 'E_VALUE', /^frame: expected finite values, found NaN at index 1 \(step 4\)$/);
      expectCode(() => a.run([frame, frame, frame, new Float32Array(I - 1)]), 'E_SHAPE', /^frame: expected 6 values, found 5$/);
      expectCode(() => a.run([frame, frame, Float32Array.from(frame, (v, i) => (i === 2 ? Infinity : v))]), 'E_VALUE', /found Infinity at index 2 \(step 3\)/);
      expect(a.stats().steps).toBe(1);
      expect(Array.from(a.step(frame))).toEqual(Array.from(b.step(frame)));
    });
  }

  it('run(null), options null, a non-boolean trace and a misplaced or absurd cbtdPes are coded (TypeError, or silently ignored)', () => {
    const s = createSession(model());
    expectCode(() => s.run(null as never), 'E_SHAPE', /^frames: expected a flat array of T x 6 numbers or a list of frames, found null$/);
    expectCode(() => s.run(3 as never), 'E_SHAPE', /found number$/);
    expectCode(() => createSession(model(), null as never), 'E_OPTION', /^session options: expected an object .*, found null$/);
    expectCode(() => createSession(model(), { trace: 'yes' as never }), 'E_OPTION', /^trace: expected true or false, found string yes$/);
    expectCode(() => createSession(model(), { cbtdPes: 16 }), 'E_OPTION', /^cbtdPes: the PE count of weightStorage 'cbtd', found it with weightStorage 'dense'/);
    expectCode(() => createSession(model(), { weightStorage: 'cbtd', cbtdPes: 1e12 }), 'E_OPTION', /^cbtdPes: expected an integer in 1\.\.4096, found 1000000000000$/);
  });

  it('a model that is not a Model object is named (a TypeError from inside before)', async () => {
    expectCode(() => createSession(null as never), 'E_SHAPE', /^model: expected a Model object .*, found null$/);
    expectCode(() => createSession({} as never), 'E_SHAPE', /^model: expected layers to be an array of layers, found undefined$/);
    expectCode(() => createSession('m.safetensors' as never), 'E_SHAPE', /found a string$/);
    const pending = loadModel(encodeModel(model()));
    expectCode(() => createSession(pending as never), 'E_SHAPE', /found a Promise \(await loadModel\(\.\.\.\) first\)$/);
    await pending;
    expectCode(() => createSession({ name: 'x', layers: [null], meta: {} } as never), 'E_SHAPE', /^layer 0: expected a layer object, found null$/);
    expectCode(() => createSession({ name: 'x', layers: [{ ...model().layers[0], kind: 'rnn' }], meta: {} } as never), 'E_UNSUPPORTED', /^layer 0: kind must be one of gru, lstm, sru, qrnn, linear, found "rnn"$/);
  });
});

describe('models built in memory', () => {
  const withLayer0 = (patch: Record<string, unknown>): Model => {
    const m = model();
    Object.assign(m.layers[0]!, patch);
    return m;
  };

  it('runModelRef checks the model, frames and thresholds as createSession does (hiddenSize 1e9 hung, -3 was a RangeError)', () => {
    const t0 = performance.now();
    expectCode(() => runModelRef(withLayer0({ hiddenSize: 1e9 }), frame), 'E_LIMIT', /hiddenSize at most 65536, found 1000000000/);
    expect(performance.now() - t0).toBeLessThan(5000);
    expectCode(() => runModelRef(withLayer0({ hiddenSize: -3 }), frame), 'E_SHAPE', /hiddenSize must be a positive integer, found -3/);
    expectCode(() => runModelRef(model(), Float32Array.from(frame, (v, i) => (i === 4 ? Number.NaN : v))), 'E_VALUE', /^frames: expected finite numbers, found NaN at index 4 \(step 0\)$/);
    expectCode(() => runModelRef(model(), frame, { thresholdX: -1 }), 'E_VALUE', /^thresholdX: expected a finite number >= 0, found -1$/);
    expectCode(() => runModelRef(model(), null as never), 'E_SHAPE', /found null/);
    expect(runModelRef(model(), frame).outputs).toHaveLength(O);
  });

  it('summarizeModel refuses sizes the model cannot have (a hiddenSize of 0 or NaN was summarised)', () => {
    expectCode(() => summarizeModel(withLayer0({ hiddenSize: 0 })), 'E_SHAPE', /hiddenSize must be a positive integer, found 0/);
  });

  it('encodeModel refuses what decodeModel would refuse: a saved file always loads back', () => {
    expectCode(() => encodeModel({ ...model(), name: 42 as never }), 'E_VALUE', /^model: name must be a string, found number 42 \(the file would not load back\)$/);
    expectCode(() => encodeModel({ ...model(), meta: { epochs: 12 as never } }), 'E_VALUE', /^model: meta must map names to strings, found epochs = number 12/);
    expect(decodeModel(encodeModel({ ...model(), meta: { epochs: '12' } })).meta['epochs']).toBe('12');
  });

  it('randomModel and smoothStream check their sizes before allocating (RangeError, or an invalid model, before)', () => {
    expectCode(() => randomModel(1, I, [{ kind: 'gru', hiddenSize: 0 }]), 'E_SHAPE', /^randomModel: layer 0 \(gru\) hiddenSize must be an integer in 1\.\.65536, found 0$/);
    expectCode(() => randomModel(1, -1, [{ kind: 'gru', hiddenSize: 3 }]), 'E_SHAPE', /inputSize must be an integer in 1\.\.65536, found -1/);
    expectCode(() => randomModel(1, I, [{ kind: 'gru', hiddenSize: 1e6 }]), 'E_LIMIT', /found 1000000$/);
    expectCode(() => randomModel(1, 40000, [{ kind: 'lstm', hiddenSize: 40000 }]), 'E_LIMIT', /^randomModel: at most 268435456 weights \(1 GiB of float32\), found \d+$/);
    expectCode(() => randomModel(1, I, [{ kind: 'rnn', hiddenSize: 3 } as never]), 'E_UNSUPPORTED', /kind must be gru, lstm, sru, qrnn or linear, found "rnn"/);
    expectCode(() => randomModel(1, I, []), 'E_SHAPE', /expected a non-empty array of layer recipes, found none/);
    expectCode(() => smoothStream(1, -1, I), 'E_SHAPE', /^smoothStream: T and I must be integers >= 0, found T -1, I 6$/);
    expectCode(() => smoothStream(1, 1e12, I), 'E_LIMIT', /found 1000000000000 x 6/);
  });
});

describe('decoders given something other than bytes', () => {
  const bytes = encodeModel(model());
  const decoders: Array<[string, (b: never) => unknown]> = [
    ['decodeModel', (b) => decodeModel(b)],
    ['parseSafetensors', (b) => parseSafetensors(b)],
    ['parseNpy', (b) => parseNpy(b)],
    ['parseWav', (b) => parseWav(b)],
    ['importOnnx', (b) => importOnnx(b)],
    ['importKeras3', (b) => importKeras3(b)],
    ['importKerasH5', (b) => importKerasH5(b)],
    ['decodeCompressedModel', (b) => decodeCompressedModel(b)],
    ['readTrace', (b) => readTrace(b)],
    ['decodeCheckpoint', (b) => decodeCheckpoint(b)],
  ];
  for (const [name, decode] of decoders) {
    it(`${name}: null, a path string and a list of numbers are one E_OPTION (a TypeError before)`, () => {
      expectCode(() => decode(null as never), 'E_OPTION', /: expected the file's bytes \(a Uint8Array or ArrayBuffer\), found null$/);
      expectCode(() => decode('m.safetensors' as never), 'E_OPTION', /found a string \('m\.safetensors'; a path is read with/);
      expectCode(() => decode([1, 2, 3] as never), 'E_OPTION', /found an array of 3 values/);
    });
  }

  it('an ArrayBuffer (fetch().arrayBuffer()) is read as the bytes it holds (it was "found 0 bytes")', async () => {
    const buffer = bytes.slice().buffer;
    expect(decodeModel(buffer).layers).toHaveLength(2);
    expect((await loadModel(buffer)).name).toBe('random-3');
    expect(parseSafetensors(buffer as never).tensors.size).toBe(6);
  });

  it('load options: a misspelt or mistyped option is refused (it was ignored)', () => {
    expectCode(() => decodeModel(bytes, { nmae: 'x' } as never), 'E_OPTION', /^load option: expected one of readoutActivation, name, readFile, found 'nmae'$/);
    expectCode(() => decodeModel(bytes, { name: 42 } as never), 'E_OPTION', /^load option name: expected a string, found number$/);
  });
});

describe('PyTorch state dicts', () => {
  const H = 8;
  const rng = new Rng(1);
  const t = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5) });
  const dict = () =>
    new Map([
      ['gru.weight_ih_l0', t([3 * H, 5])],
      ['gru.weight_hh_l0', t([3 * H, H])],
      ['gru.bias_ih_l0', t([3 * H])],
      ['gru.bias_hh_l0', t([3 * H])],
    ]);

  it("takes the file's bytes as well as the parsed file (TypeError 'file.tensors is not iterable' before)", () => {
    const bytes = encodeSafetensors(dict(), {});
    expect(importPytorchStateDict(bytes).layers[0]!.kind).toBe('gru');
    expectCode(() => importPytorchStateDict(null as never), 'E_OPTION', /expected a safetensors file's bytes or parseSafetensors\(bytes\), found null/);
  });

  it('one bias without the other is a damaged state dict (read as zeros before); bias=False (neither) still loads', () => {
    const one = dict();
    one.delete('gru.bias_hh_l0');
    expectCode(() => decodeModel(encodeSafetensors(one, {})), 'E_SHAPE', /^pytorch state_dict: layer 0 has gru\.bias_ih_l0 but not gru\.bias_hh_l0 \(a bias=False RNN has neither\)$/);
    const none = dict();
    none.delete('gru.bias_hh_l0');
    none.delete('gru.bias_ih_l0');
    expect(Array.from((decodeModel(encodeSafetensors(none, {})).layers[0] as { biasIh: Float32Array }).biasIh).every((v) => v === 0)).toBe(true);
  });
});

describe('quantisation, compression and export helpers', () => {
  const empty = { name: 'e', layers: [], meta: {} } as Model;

  it('quantizeModel refuses a format it cannot use (the text Q1.7 gave all-NaN weights without a word) and a misspelt option', () => {
    expectCode(() => quantizeModel(model(), { weightFormat: 'Q1.7' as never }), 'E_OPTION', /^fixed-point format: expected \{ intBits, fracBits, overflow \} \(parseQFormat\("Q1\.7"\) makes one\), found string "Q1\.7"$/);
    expectCode(() => quantizeModel(model(), { weightFormat: { intBits: -1, fracBits: 99 } as never }), 'E_OPTION', /integer bits \(sign included\) must be >= 1, found -1/);
    expectCode(() => quantizeModel(model(), { format: parseQFormat('Q1.7') } as never), 'E_OPTION', /^quantizeModel option: expected weightFormat, activationFormat or frames, found 'format'$/);
    expectCode(() => parseQFormat(null as never), 'E_OPTION', /expected text such as "Q8\.8", found null/);
    const q = quantizeModel(model(), { weightFormat: parseQFormat('Q1.7') }).model;
    expect(Array.from((q.layers[0] as { weightIh: Float32Array }).weightIh).every(Number.isFinite)).toBe(true);
  });

  it('compression and pruning check the model and their options first (an empty model was compressed; no options was a TypeError)', () => {
    expectCode(() => compressModel(empty, { bits: 4 }), 'E_SHAPE', /expected at least one layer, found none/);
    expectCode(() => compressModel(model(), undefined as never), 'E_OPTION', /^compressModel: expected options \{ bits \}, found undefined$/);
    expectCode(() => cbtdPruneModel(model(), undefined as never), 'E_OPTION', /^CBTD options: expected \{ gamma, pes/);
    expectCode(() => cbtdPruneModel(empty, { gamma: 0.5, pes: 2 }), 'E_SHAPE', /expected at least one layer/);
    expectCode(() => checkModelBalance(null as never, 4), 'E_SHAPE', /expected a Model object/);
    expectCode(() => trainCodebook([Float32Array.of(1, Number.NaN, 2)], 2), 'E_VALUE', /^codebook: expected finite weights, found NaN at index 1$/);
    expectCode(() => trainCodebook(Float32Array.of(1, 2) as never, 2), 'E_OPTION', /one typed array \(wrap it: \[w\]\)/);
  });

  it('exportC / exportOnnx / EdgeDrnnMachine refuse a misspelt option, a name no file system takes and a non-program', () => {
    expectCode(() => exportC(model(), { thresholdx: 0.1 } as never), 'E_OPTION', /^exportC option: expected one of name, .*, found 'thresholdx'$/);
    expectCode(() => exportC(model(), { name: 'a'.repeat(5000) }), 'E_OPTION', /of at most 63 characters, found 'a{40}' \(5000 characters\)$/);
    expect(Object.keys(exportC({ ...model(), name: 'n'.repeat(300) }).files)).toEqual([`${'n'.repeat(63)}.h`, `${'n'.repeat(63)}.c`]);
    expectCode(() => exportOnnx(model(), { name: 42 as never }), 'E_OPTION', /^exportOnnx option name: expected a string, found number$/);
    expectCode(() => exportOnnx(model(), { wieghts: 'int8' } as never), 'E_OPTION', /found 'wieghts'$/);
    expectCode(() => new EdgeDrnnMachine(null as never), 'E_OPTION', /^EdgeDRNN machine: expected a program \{ config, weights: Int8Array \}/);
  });
});

describe('streaming front end, recogniser and simulator', () => {
  let digits: Model;
  beforeAll(async () => {
    await initWasm();
    digits = await loadModel(join(MODELS_DIR, 'digits-deltagru.safetensors'));
  });
  const tone = (n: number) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16000));

  it('the log-mel front end bounds what it allocates from (a 1e9 Hz rate took minutes) and refuses misspelt options', () => {
    const t0 = performance.now();
    expectCode(() => new StreamingLogMel(1e9), 'E_OPTION', /^mel: sample rate must be in \(0, 384000\] Hz, found 1000000000$/);
    expectCode(() => new StreamingLogMel(16000, { window: 1e9 }), 'E_OPTION', /^mel: window must be in \(0, 1\] seconds, found 1000000000$/);
    expectCode(() => new StreamingLogMel(16000, { bandz: 20 } as never), 'E_OPTION', /^mel option: expected one of bands, .*, found 'bandz'$/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('NaN audio or features are refused where they enter (the recogniser heard nothing, with NaN energy and occupancy)', () => {
    const x = tone(3200);
    x[100] = Number.NaN;
    expectCode(() => new Listener(digits, 16000).push(x), 'E_VALUE', /^resampler: audio: expected finite numbers, found NaN at index 100$/);
    expectCode(() => new Listener(digits, 16000).push(null as never), 'E_SHAPE', /^resampler: audio: expected an array of numbers, found null$/);
    expectCode(() => new Listener(digits, 16000).push(5 as never), 'E_SHAPE', /found number$/);
    expectCode(() => new StreamingRecognizer(digits).push(new Float32Array(40).fill(Number.NaN)), 'E_VALUE', /^recognizer: frame: expected finite numbers, found NaN at index 0$/);
    expectCode(() => new EnergySegmenter().push(Float32Array.of(1, Number.POSITIVE_INFINITY)), 'E_VALUE', /found Infinity at index 1/);
    expectCode(() => new EnergySegmenter().push(new Float32Array(40), 100, 40), 'E_SHAPE', /^segmenter: expected at least one band at offset 100 \(bands 40\) within a frame of 40 values$/);
    expectCode(() => new CtcGreedyDecoder(3).push(new Float32Array(2)), 'E_SHAPE', /^ctc decoder: expected 3 outputs at offset 0, found 2 values$/);
    expectCode(() => new CtcGreedyDecoder(3).push(Float32Array.of(Number.NaN, 0, 0)), 'E_VALUE', /found NaN at output 0/);
    const stats = statsFromJson(digits.meta['featureStats']!);
    expectCode(() => normalizeFeatures(new Float32Array(40).fill(Number.NaN), stats), 'E_VALUE', /^normalizeFeatures: features: expected finite numbers, found NaN at index 0$/);
    expectCode(() => normalizeFeatures(new Float32Array(40), null as never), 'E_OPTION', /expected stats \{ mean, std \}/);
    expectCode(() => statsFromJson(null as never), 'E_FORMAT', /expected JSON text \{mean, std\}/);
    // Silence is finite (log-mel floor): still heard as silence.
    expect(new Listener(digits, 16000).push(new Float32Array(3200)).length).toBeGreaterThan(0);
  });

  it('recogniser and segmenter options: a misspelt one is refused (it was ignored); a null model is named', () => {
    expectCode(() => new Listener(digits, 16000, { treshold: 1 } as never), 'E_OPTION', /^recognizer option: expected one of thresholdX, .*, found 'treshold'$/);
    expectCode(() => new EnergySegmenter({ hangovr: 3 } as never), 'E_OPTION', /^segmenter option: expected one of marginDb, .*, found 'hangovr'$/);
    expectCode(() => new Listener(null as never, 16000), 'E_SHAPE', /^model: expected a Model object/);
  });

  it('a synthetic workload of 1e12 steps is refused before allocating (the process ran out of memory); NaN energy entries are refused', () => {
    const m = randomModel(3, 8, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 4 }]);
    expectCode(() => syntheticWorkload(m, { steps: 1e12, occupancyX: 0.5 }), 'E_LIMIT', /^steps: a synthetic trace is kept in memory, at most 100000 steps, found 1000000000000$/);
    expectCode(() => syntheticWorkload(m, null as never), 'E_OPTION', /expected options \{ steps, occupancyX \}, found null/);
    const w = syntheticWorkload(m, { steps: 10, occupancyX: 0.5 });
    expectCode(() => simulate(w, 'edgedrnn', { energy: { staticMilliwatts: Number.NaN } }), 'E_VALUE', /^energy staticMilliwatts: expected a finite number >= 0, found NaN$/);
    expectCode(() => simulate(w, 'edgedrnn', { energy: { dramBit: 1 } as never }), 'E_OPTION', /found 'dramBit'$/);
    expectCode(() => simulate(null as never, 'edgedrnn'), 'E_OPTION', /expected a workload/);
    const r = simulate(w, 'edgedrnn', { energy: { staticMilliwatts: 5 } }) as { ok: true; total: { energyUJ: number } };
    expect(Number.isFinite(r.total.energyUJ)).toBe(true);
  });
});

describe('ONNX', () => {
  it("an int8 (QDQ) export read back is named as a quantised graph (it was 'MatMul must combine the signal with one constant')", () => {
    const m = model();
    expect(decodeModel(exportOnnx(m).bytes).layers).toHaveLength(2);
    expectCode(() => decodeModel(exportOnnx(m, { weights: 'int8' }).bytes), 'E_UNSUPPORTED', /^onnx: operator DequantizeLinear .*: a quantised \(QDQ\) graph; deltakit imports float graphs/);
  });
});
