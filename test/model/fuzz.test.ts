/**
 * Fuzzing every file parser: random bytes and mutated valid files (bit flips, byte overwrites,
 * truncation, extension, edits of digits inside the JSON header) must either load or throw a
 * DeltakitError with a known code: never another exception, never a hang, never a huge allocation.
 * Seeded, so a failure reproduces; the seed and case index are in the assertion message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import { encodeNpy, parseNpy } from '../../src/core/npy.js';
import { Rng } from '../../src/core/rng.js';
import { importOnnx } from '../../src/model/import/onnx.js';
import { decodeModelFile, encodeModel } from '../../src/model/io.js';
import { randomModel } from '../../src/model/random.js';
import { encodeSafetensors, parseSafetensors } from '../../src/model/safetensors.js';

const CODES = new Set(['E_FORMAT', 'E_UNSUPPORTED', 'E_SHAPE', 'E_VALUE', 'E_LIMIT']);
const GOLDEN = join(import.meta.dirname, '..', 'golden', 'cases');
export const fuzzCount = { cases: 0 };

function mutate(rng: Rng, src: Uint8Array, textRegion?: [number, number]): Uint8Array {
  let b = new Uint8Array(src);
  const ops = 1 + rng.int(4);
  for (let k = 0; k < ops; k++) {
    switch (rng.int(7)) {
      case 0: { // bit flip
        const i = rng.int(b.length);
        b[i]! ^= 1 << rng.int(8);
        break;
      }
      case 1: // random byte
        b[rng.int(b.length)] = rng.int(256);
        break;
      case 2: // truncate
        b = b.slice(0, rng.int(b.length + 1));
        break;
      case 3: { // append garbage
        const extra = Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256));
        const n = new Uint8Array(b.length + extra.length);
        n.set(b);
        n.set(extra, b.length);
        b = n;
        break;
      }
      case 4: { // change a digit inside the text header: shapes, offsets, sizes go wrong but JSON stays valid
        if (!textRegion) break;
        const [s, e] = textRegion;
        const digits: number[] = [];
        for (let i = s; i < Math.min(e, b.length); i++) if (b[i]! >= 0x30 && b[i]! <= 0x39) digits.push(i);
        if (digits.length) b[digits[rng.int(digits.length)]!] = 0x30 + rng.int(10);
        break;
      }
      case 5: { // overwrite the 8-byte length prefix region with a plausible or absurd value
        if (b.length < 8) break;
        new DataView(b.buffer).setUint32(rng.int(2) * 4, rng.next() < 0.5 ? rng.int(b.length + 16) : rng.int(2 ** 32), true);
        break;
      }
      case 6: { // splice a chunk from elsewhere (protobuf fields, repeated structure)
        if (b.length < 4) break;
        const from = rng.int(b.length - 2);
        const len = 1 + rng.int(Math.min(32, b.length - from - 1));
        b.copyWithin(rng.int(b.length - len), from, from + len);
        break;
      }
    }
  }
  return b;
}

function expectLoadsOrCoded(fn: () => unknown, what: string): void {
  fuzzCount.cases++;
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DeltakitError) || !CODES.has(e.code)) {
      throw new Error(`${what}: expected success or a DeltakitError with a known code, got ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
    }
  }
}

function headerRegion(b: Uint8Array): [number, number] {
  return [8, 8 + new DataView(b.buffer, b.byteOffset).getUint32(0, true)];
}

describe('fuzz: file parsers never crash', () => {
  it('safetensors parser: random bytes and mutated files', () => {
    const rng = new Rng(101);
    const valid = encodeSafetensors({
      a: { shape: [3, 4], data: rng.uniformArray(12, -1, 1) },
      b: { shape: [4], data: rng.uniformArray(4, -1, 1) },
      c: { shape: [0, 2], data: new Float32Array(0) },
    }, { note: 'x' });
    for (let i = 0; i < 400; i++) {
      const bytes = Uint8Array.from({ length: rng.int(80) }, () => rng.int(256));
      expectLoadsOrCoded(() => parseSafetensors(bytes), `random safetensors #${i}`);
    }
    for (let i = 0; i < 1200; i++) {
      const bytes = mutate(rng, valid, headerRegion(valid));
      expectLoadsOrCoded(() => parseSafetensors(bytes), `mutated safetensors #${i}`);
    }
  });

  it('deltakit and PyTorch model files: mutated files through decodeModelFile', () => {
    const rng = new Rng(202);
    const files = [
      encodeModel(randomModel(1, 3, [{ kind: 'gru', hiddenSize: 4 }, { kind: 'qrnn', hiddenSize: 3, window: 2 }, { kind: 'linear', outputSize: 2, activation: 'tanh' }])),
      encodeModel(randomModel(2, 2, [{ kind: 'lstm', hiddenSize: 3 }, { kind: 'sru', hiddenSize: 5 }])),
      new Uint8Array(readFileSync(join(GOLDEN, 'gru_l2_h12_fc_gemm', 'model.safetensors'))),
      new Uint8Array(readFileSync(join(GOLDEN, 'lstm_l1_h8', 'model.safetensors'))),
    ];
    for (let i = 0; i < 1200; i++) {
      const f = files[i % files.length]!;
      const bytes = mutate(rng, f, headerRegion(f));
      expectLoadsOrCoded(() => decodeModelFile(bytes), `mutated model file #${i}`);
    }
  });

  it('npy parser: random bytes and mutated files', () => {
    const rng = new Rng(303);
    const valid = encodeNpy(rng.uniformArray(12, -1, 1), [3, 4]);
    const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: rng.int(100) }, () => rng.int(256));
      if (i % 2 && bytes.length >= 8) bytes.set([...magic, 1 + rng.int(3)]);
      expectLoadsOrCoded(() => parseNpy(bytes), `random npy #${i}`);
    }
    for (let i = 0; i < 700; i++) {
      const bytes = mutate(rng, valid, [10, 10 + 118]);
      expectLoadsOrCoded(() => parseNpy(bytes), `mutated npy #${i}`);
    }
  });

  it('ONNX importer: random bytes and mutated golden exports', () => {
    const rng = new Rng(404);
    const files = ['gru_l2_h12_fc_gemm', 'lstm_l3_h7_fc_nobias', 'gru_l1_h8'].map((c) => new Uint8Array(readFileSync(join(GOLDEN, c, 'model.onnx'))));
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: 1 + rng.int(200) }, () => rng.int(256));
      expectLoadsOrCoded(() => importOnnx(bytes), `random onnx #${i}`);
      expectLoadsOrCoded(() => decodeModelFile(bytes), `random model bytes #${i}`);
    }
    let loaded = 0;
    for (let i = 0; i < 1200; i++) {
      const bytes = mutate(rng, files[i % files.length]!);
      expectLoadsOrCoded(() => {
        importOnnx(bytes);
        loaded++;
      }, `mutated onnx #${i}`);
    }
    // Mutations that hit only weight bytes still load: the fuzzer reaches the importer's logic.
    expect(loaded).toBeGreaterThan(0);
  });

  it('ONNX importer: structurally mutated graphs (nodes, inputs, attributes, dims, dtypes)', () => {
    const rng = new Rng(505);
    const { onnx } = onnxProto;
    const ops = ['GRU', 'LSTM', 'Gemm', 'MatMul', 'Add', 'Relu', 'Tanh', 'Identity', 'Squeeze', 'Unsqueeze', 'Transpose', 'Reshape', 'Concat', 'Slice', 'Cast', 'Constant', 'Expand', 'Sigmoid'];
    const files = ['gru_l2_h14_fc_nofold', 'lstm_l2_h10_fc_gemm_bf_op17', 'gru_l3_h10_fc_relu'].map((c) => new Uint8Array(readFileSync(join(GOLDEN, c, 'model.onnx'))));
    const codes = new Map<string, number>();
    for (let i = 0; i < 900; i++) {
      const m = onnx.ModelProto.decode(files[i % files.length]!);
      const g = m.graph!;
      const names = [...g.initializer!.map((t) => t.name!), ...g.node!.flatMap((n) => n.output!)];
      for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
        const node = g.node![rng.int(g.node!.length)]!;
        switch (rng.int(8)) {
          case 0: g.node!.splice(rng.int(g.node!.length), 1); break;
          case 1: if (node.input!.length) node.input![rng.int(node.input!.length)] = rng.next() < 0.2 ? '' : names[rng.int(names.length)]!; break;
          case 2: node.opType = ops[rng.int(ops.length)]!; break;
          case 3: if (node.attribute!.length) { const a = node.attribute![rng.int(node.attribute!.length)]!; a.i = rng.int(5) - 2; a.f = rng.uniform(-2, 2); a.ints = [rng.int(4) - 1]; } break;
          case 4: { const t = g.initializer![rng.int(g.initializer!.length)]; if (t && t.dims!.length) t.dims![rng.int(t.dims!.length)] = rng.int(40); break; }
          case 5: { const t = g.initializer![rng.int(g.initializer!.length)]; if (t) t.dataType = rng.int(17); break; }
          case 6: g.initializer!.splice(rng.int(g.initializer!.length), 1); break;
          case 7: node.attribute!.push(onnx.AttributeProto.create({ name: ['axes', 'perm', 'axis', 'to', 'transB', 'alpha', 'direction', 'hidden_size'][rng.int(8)], i: rng.int(4), ints: [rng.int(3), rng.int(3)], f: 2 })); break;
        }
      }
      const bytes = onnx.ModelProto.encode(m).finish();
      expectLoadsOrCoded(() => {
        try {
          importOnnx(bytes);
          codes.set('loaded', (codes.get('loaded') ?? 0) + 1);
        } catch (e) {
          if (e instanceof DeltakitError) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
          throw e;
        }
      }, `structurally mutated onnx #${i}`);
    }
    console.log(`structured onnx fuzz outcomes: ${JSON.stringify(Object.fromEntries(codes))}`);
    // The mutations reach the importer's checks, not just the protobuf decoder.
    expect(codes.get('E_UNSUPPORTED') ?? 0).toBeGreaterThan(0);
    expect(codes.get('E_SHAPE') ?? 0).toBeGreaterThan(0);
    expect(codes.get('loaded') ?? 0).toBeGreaterThan(0);
  });

  it('reports the number of cases', () => {
    expect(fuzzCount.cases).toBeGreaterThanOrEqual(5000);
    console.log(`fuzz: ${fuzzCount.cases} cases`);
  });
});
