/**
 * Every file format deltakit reads, as the fuzz harness sees it: valid seed files to mutate,
 * and the loader to run on each input. A loader passes when it returns or throws a
 * DeltakitError; anything else (TypeError, RangeError, a hang, a huge allocation) is a bug.
 *
 * A format added later (tfjs/Keras, traces) plugs in with one entry in FUZZ_FORMATS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressModel, decodeCompressedModel, decompressModel, encodeCompressedModel } from '../src/compress/codebook/model.js';
import { encodeNpy, parseNpy } from '../src/core/npy.js';
import { parseWav, WavStream } from '../src/data/wav.js';
import { decodeModelFile, encodeModel } from '../src/model/io.js';
import { randomModel, smoothStream } from '../src/model/random.js';
import { encodeSafetensors } from '../src/model/safetensors.js';
import { formatTestbench, verifyTestbench } from '../src/model/export/edgedrnn/testbench.js';
import { buildEdgeDrnnProgram } from '../src/quant/edgedrnn/program.js';
import { EdgeDrnnMachine } from '../src/quant/edgedrnn/machine.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../src/train/checkpoint.js';
import { layerTensors } from '../src/model/types.js';
import { importTfjsLayers } from '../src/model/import/tfjs.js';
import { createSession } from '../src/runtime/session.js';
import { readTrace, traceLayers, TraceWriter } from '../src/sim/trace/format.js';
import { concat, type TextRegion } from './mutate.js';
import { wavFile } from '../test/helpers/wav.js';

export interface FuzzSeed {
  bytes: Uint8Array;
  /** Where the file's text (JSON header, hex lines) lies, for text-aware mutations. */
  text: TextRegion;
}

export interface FuzzFormat {
  name: string;
  /** What the loader is, for the report. */
  loader: string;
  /** Valid files to mutate. */
  seeds(): FuzzSeed[];
  /** Run the loader on one input (return value ignored). */
  decode(bytes: Uint8Array): unknown;
  /** Not part of `--format all` (the harness's own self-test). */
  hidden?: boolean;
}

const ROOT = join(import.meta.dirname, '..');
const GOLDEN = join(ROOT, 'test', 'golden', 'cases');
const KERAS = join(ROOT, 'test', 'fixtures', 'keras');
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

const safetensorsSeed = (bytes: Uint8Array): FuzzSeed => ({ bytes, text: [8, 8 + u32(bytes, 0)] });

const EVERY_KIND = () =>
  randomModel(3, 5, [
    { kind: 'gru', hiddenSize: 6 },
    { kind: 'lstm', hiddenSize: 5 },
    { kind: 'sru', hiddenSize: 5 },
    { kind: 'qrnn', hiddenSize: 4, window: 2 },
    { kind: 'linear', outputSize: 3, activation: 'relu' },
  ]);

function pytorchStateDict(): Uint8Array {
  const m = randomModel(4, 6, [{ kind: 'gru', hiddenSize: 8 }, { kind: 'gru', hiddenSize: 8 }, { kind: 'linear', outputSize: 3 }]);
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  m.layers.forEach((l, k) => {
    const ts = layerTensors(l);
    if (l.kind === 'linear') {
      t['fc.weight'] = { shape: [l.outputSize, l.inputSize], data: ts['weight']! };
      t['fc.bias'] = { shape: [l.outputSize], data: ts['bias']! };
    } else if (l.kind === 'gru') {
      t[`rnn.weight_ih_l${k}`] = { shape: [3 * l.hiddenSize, l.inputSize], data: ts['weight_ih']! };
      t[`rnn.weight_hh_l${k}`] = { shape: [3 * l.hiddenSize, l.hiddenSize], data: ts['weight_hh']! };
      t[`rnn.bias_ih_l${k}`] = { shape: [3 * l.hiddenSize], data: ts['bias_ih']! };
      t[`rnn.bias_hh_l${k}`] = { shape: [3 * l.hiddenSize], data: ts['bias_hh']! };
    }
  });
  return encodeSafetensors(t);
}

/** A small 16-bit PCM WAV (frames of `channels` samples; `dataSize` as a pipe writes it, when given). */
function wavSeed(channels: number, rate: number, frames: number, dataSize?: number): Uint8Array {
  const codes = Int16Array.from({ length: frames * channels }, (_, i) => Math.round(3000 * Math.sin(i)));
  return wavFile(codes, rate, { channels, ...(dataSize !== undefined ? { dataSize } : {}) });
}

function edgeDrnnTexts(): string {
  const model = randomModel(5, 8, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 16 }]);
  const { program } = buildEdgeDrnnProgram(model, { thresholdX: 0.0625, thresholdH: 0.0625 });
  const stim = Int32Array.from(smoothStream(6, 12, 8, 0.3), (v) => Math.round(v * 256));
  const outputs = new EdgeDrnnMachine(program).run(stim);
  const t = formatTestbench(program, stim, outputs);
  return [t.params, t.creg, t.stim, t.gold].join('\u0000');
}

export const FUZZ_FORMATS: FuzzFormat[] = [
  {
    name: 'safetensors',
    loader: 'decodeModelFile (deltakit model files and PyTorch state_dicts)',
    seeds: () => [safetensorsSeed(encodeModel(EVERY_KIND())), safetensorsSeed(encodeModel(randomModel(2, 8, [{ kind: 'gru', hiddenSize: 16 }]))), safetensorsSeed(pytorchStateDict())],
    decode: (b) => decodeModelFile(b),
  },
  {
    name: 'onnx',
    loader: 'decodeModelFile (ONNX import with constant folding)',
    seeds: () => ['gru_l1_h8', 'gru_l2_h12_fc_gemm', 'gru_l2_h14_fc_nofold', 'lstm_l1_h12_op11_nofold'].map((c) => ({ bytes: new Uint8Array(readFileSync(join(GOLDEN, c, 'model.onnx'))), text: null })),
    decode: (b) => decodeModelFile(b),
  },
  {
    name: 'wav',
    loader: 'parseWav, and WavStream fed 61-byte pieces',
    seeds: () => [wavSeed(1, 16000, 12), wavSeed(2, 22050, 9, 0x7fffffff), wavSeed(1, 8000, 0, 0)].map((bytes) => ({ bytes, text: null })),
    decode: (b) => {
      parseWav(b);
      const w = new WavStream();
      for (let i = 0; i < b.length; i += 61) w.push(b.subarray(i, i + 61));
    },
  },
  {
    name: 'npy',
    loader: 'parseNpy',
    seeds: () =>
      [encodeNpy(smoothStream(1, 7, 3, 0.2), [7, 3]), encodeNpy(new Float32Array(5), [5]), new Uint8Array(readFileSync(join(GOLDEN, 'gru_l1_h8', 'x.npy')))].map((bytes) => ({
        bytes,
        text: [10, 10 + new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true)] as [number, number],
      })),
    decode: (b) => parseNpy(b),
  },
  {
    name: 'dkcb',
    loader: 'decodeCompressedModel + decompressModel',
    seeds: () =>
      [1, 4, 8].map((bits) => {
        const bytes = encodeCompressedModel(compressModel(EVERY_KIND(), { bits }));
        return { bytes, text: [8, 8 + u32(bytes, 4)] as [number, number] };
      }),
    decode: (b) => decompressModel(decodeCompressedModel(b)),
  },
  {
    name: 'checkpoint',
    loader: 'decodeCheckpoint + modelFromCheckpoint',
    seeds: () => {
      const model = randomModel(7, 4, [{ kind: 'gru', hiddenSize: 6 }, { kind: 'linear', outputSize: 3 }]);
      const m = modelToCheckpoint(model, 'model');
      const best = modelToCheckpoint(model, 'best');
      const adam = Object.fromEntries(Object.values(m.tensors).flatMap((t, k) => [[`adam.m.${k}`, new Float64Array(t.length).fill(0.01)], [`adam.v.${k}`, new Float64Array(t.length).fill(0.001)]]));
      const bytes = encodeCheckpoint({ state: { epoch: 2, batch: 0, adamStep: 10, history: [], bestAcc: 0.5, model: m.spec, best: best.spec }, tensors: { ...m.tensors, ...best.tensors, ...adam } });
      return [{ bytes, text: [12, 12 + u32(bytes, 8)] }];
    },
    decode: (b) => {
      const ck = decodeCheckpoint(b);
      const st = ck.state as { model?: unknown; best?: unknown };
      modelFromCheckpoint(st.model, ck.tensors, 'model');
      if (st.best) modelFromCheckpoint(st.best, ck.tensors, 'best');
    },
  },
  {
    name: 'edgedrnn',
    loader: 'verifyTestbench (EdgeDRNN params, creg, stim and gold text files; the machine runs the stimulus)',
    seeds: () => {
      const bytes = new TextEncoder().encode(edgeDrnnTexts());
      return [{ bytes, text: [0, bytes.length] }];
    },
    decode: (b) => {
      // One input holds the four files separated by NUL; a mutation that breaks that framing
      // has nothing to test.
      const parts = new TextDecoder('latin1').decode(b).split('\u0000');
      if (parts.length !== 4) return;
      const [params, creg, stim, gold] = parts as [string, string, string, string];
      verifyTestbench({ params, creg, stim, gold });
    },
  },
  {
    name: 'keras',
    loader: 'decodeModelFile (Keras 3 .keras zip and Keras 2 .h5 HDF5)',
    seeds: () =>
      ['simple_rnn_dense_tanh', 'gru_reset_before_x2_dense'].flatMap((c) =>
        ['model.keras', 'model.h5'].map((f) => ({ bytes: new Uint8Array(readFileSync(join(KERAS, c, f))), text: null })),
      ),
    decode: (b) => decodeModelFile(b),
  },
  {
    name: 'tfjs',
    loader: 'importTfjsLayers (model.json and its weight shard)',
    // One input: u32 length of model.json, model.json, then the shard every path resolves to.
    seeds: () =>
      ['simple_rnn_dense_tanh', 'gru_reset_before_x2_dense'].map((c) => {
        const json = new Uint8Array(readFileSync(join(KERAS, c, 'tfjs-save', 'model.json')));
        const bin = new Uint8Array(readFileSync(join(KERAS, c, 'tfjs-save', 'model.weights.bin')));
        const len = new Uint8Array(4);
        new DataView(len.buffer).setUint32(0, json.length, true);
        return { bytes: concat(len, json, bin), text: [4, 4 + json.length] as [number, number] };
      }),
    decode: (b) => {
      if (b.length < 4) return;
      const n = Math.min(u32(b, 0), b.length - 4);
      const shard = b.subarray(4 + n);
      importTfjsLayers(b.subarray(4, 4 + n), () => shard);
    },
  },
  {
    name: 'trace',
    loader: 'readTrace (deltakit trace files: header, zlib chunks of firing bitmaps)',
    seeds: () => {
      const model = randomModel(9, 6, [{ kind: 'gru', hiddenSize: 10 }, { kind: 'lstm', hiddenSize: 8 }, { kind: 'linear', outputSize: 3 }]);
      const parts: Uint8Array[] = [];
      const w = new TraceWriter({ layers: traceLayers(model, true), thresholdX: 0.1, thresholdH: 0.1, source: 'session', bias: false, chunkSteps: 8 }, (b) => parts.push(b));
      const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.1, onTrace: (st) => w.write(st) });
      s.run(smoothStream(3, 30, 6, 0.3));
      w.close();
      const bytes = concat(...parts);
      return [{ bytes, text: [16, 16 + u32(bytes, 12)] }];
    },
    decode: (b) => readTrace(b),
  },
  {
    // The harness's own test: input byte 0 selects a failure the harness must catch.
    name: 'selftest',
    loader: 'a loader that fails on purpose (byte 0: 1 TypeError, 2 hang, 3 unbounded allocation)',
    hidden: true,
    seeds: () => [{ bytes: Uint8Array.of(0, 0), text: null }],
    decode: (b) => {
      if (b[0] === 1) throw new TypeError('selftest: an uncoded error');
      if (b[0] === 2) for (;;);
      if (b[0] === 3) {
        const keep: Uint8Array[] = [];
        for (;;) keep.push(new Uint8Array(64 << 20).fill(1));
      }
    },
  },
];

export function fuzzFormat(name: string): FuzzFormat | undefined {
  return FUZZ_FORMATS.find((f) => f.name === name);
}
