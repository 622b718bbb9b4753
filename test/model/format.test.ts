/**
 * The deltakit model file and the safetensors container: round trips for every layer kind, and
 * every malformed-file case rejected with its coded error.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModelFile, encodeModel, loadModel, saveModel } from '../../src/model/io.js';
import { DELTAKIT_METADATA_KEY, modelSpec } from '../../src/model/format.js';
import { randomModel } from '../../src/model/random.js';
import { encodeSafetensors, parseSafetensors } from '../../src/model/safetensors.js';
import { layerTensors, type Model } from '../../src/model/types.js';
import { expectCode } from '../helpers/errors.js';


/** Every layer kind, every activation, QRNN windows 1 and 2, SRU with I == H and I != H. */
function everyKindModel(seed: number): Model {
  return randomModel(seed, 5, [
    { kind: 'gru', hiddenSize: 6 },
    { kind: 'lstm', hiddenSize: 7 },
    { kind: 'sru', hiddenSize: 7 },
    { kind: 'sru', hiddenSize: 4 },
    { kind: 'qrnn', hiddenSize: 5, window: 1 },
    { kind: 'qrnn', hiddenSize: 3, window: 2 },
    { kind: 'linear', outputSize: 4, activation: 'relu' },
    { kind: 'linear', outputSize: 3, activation: 'tanh' },
    { kind: 'linear', outputSize: 2, activation: 'none' },
  ]);
}

function expectSameModel(a: Model, b: Model): void {
  expect(b.name).toBe(a.name);
  expect(b.meta).toEqual(a.meta);
  expect(b.layers.length).toBe(a.layers.length);
  a.layers.forEach((la, k) => {
    const lb = b.layers[k]!;
    const { weightIh, weightHh, biasIh, biasHh, weight, bias, ...restA } = la as unknown as Record<string, unknown>;
    const { weightIh: _1, weightHh: _2, biasIh: _3, biasHh: _4, weight: _5, bias: _6, ...restB } = lb as unknown as Record<string, unknown>;
    void [weightIh, weightHh, biasIh, biasHh, weight, bias];
    expect(restB).toEqual(restA);
    const ta = layerTensors(la);
    const tb = layerTensors(lb);
    for (const name of Object.keys(ta)) expect(Array.from(tb[name]!)).toEqual(Array.from(ta[name]!));
  });
}

describe('deltakit model file', () => {
  it('round-trips every layer kind bit for bit', () => {
    for (const seed of [1, 2, 3]) {
      const m = everyKindModel(seed);
      m.meta = { note: 'héllo', seed: String(seed) };
      const bytes = encodeModel(m);
      const { model, kind } = decodeModelFile(bytes);
      expect(kind).toBe('deltakit');
      expectSameModel(m, model);
      // Re-encoding is deterministic.
      expect(Buffer.from(encodeModel(model)).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('is a plain safetensors file with the spec in __metadata__ and layers.{k}.{name} tensors', () => {
    const m = everyKindModel(4);
    const f = parseSafetensors(encodeModel(m));
    expect(JSON.parse(f.metadata[DELTAKIT_METADATA_KEY]!)).toEqual(JSON.parse(JSON.stringify(modelSpec(m))));
    expect(f.tensors.get('layers.0.weight_ih')!.shape).toEqual([18, 5]);
    expect(f.tensors.get('layers.5.weight')!.shape).toEqual([9, 10]); // qrnn window 2: (3H, 2I)
    expect(f.tensors.get('layers.8.bias')!.shape).toEqual([2]);
  });

  it('saveModel refuses to overwrite unless asked, loadModel reads it back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-model-'));
    const path = join(dir, 'm.safetensors');
    const m = everyKindModel(5);
    await saveModel(m, path);
    const before = readFileSync(path);
    const other = everyKindModel(6);
    await expect(saveModel(other, path)).rejects.toMatchObject({ code: 'E_EXISTS' });
    expect(readFileSync(path).equals(before)).toBe(true);
    await saveModel(other, path, { overwrite: true });
    expectSameModel(other, await loadModel(path));
    await expect(loadModel(join(dir, 'missing.safetensors'))).rejects.toMatchObject({ code: 'E_IO' });
  });
});

/** A valid small safetensors file built by hand so each test can break one thing. */
function rawFile(header: unknown, data: Uint8Array, headerLen?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, headerLen ?? json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors validation', () => {
  const data16 = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);

  it('parses F32 and converts F64, F16 and BF16 exactly', () => {
    const f64 = new Uint8Array(new Float64Array([0.5, -2]).buffer);
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555]).buffer); // 1, -2, 0.333251953125
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xbfc0]).buffer); // 1, -1.5
    const data = new Uint8Array([...f64, ...f16, ...bf16]);
    const f = parseSafetensors(rawFile({
      a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
      b: { dtype: 'F16', shape: [3], data_offsets: [16, 22] },
      c: { dtype: 'BF16', shape: [1, 2], data_offsets: [22, 26] },
    }, data));
    expect(Array.from(f.tensors.get('a')!.data)).toEqual([0.5, -2]);
    expect(Array.from(f.tensors.get('b')!.data)).toEqual([1, -2, 0.333251953125]);
    expect(Array.from(f.tensors.get('c')!.data)).toEqual([1, -1.5]);
  });

  it('encodes what it parses', () => {
    const bytes = encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }, e: { shape: [0], data: new Float32Array(0) } }, { k: 'v' });
    expect((bytes.length - 8 - 16) % 8).toBe(0); // header padded to 8
    const f = parseSafetensors(bytes);
    expect(f.metadata).toEqual({ k: 'v' });
    expect(Array.from(f.tensors.get('w')!.data)).toEqual([1, 2, 3, 4]);
    expect(f.tensors.get('e')!.shape).toEqual([0]);
  });

  it('rejects truncated files and bad header lengths', () => {
    const ok = rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data16);
    expect(parseSafetensors(ok).tensors.size).toBe(1);
    expectCode(() => parseSafetensors(ok.subarray(0, 5)), 'E_FORMAT', /at least 8 bytes/);
    expectCode(() => parseSafetensors(ok.subarray(0, 30)), 'E_FORMAT', /exceeds/);
    expectCode(() => parseSafetensors(ok.subarray(0, ok.length - 1)), 'E_FORMAT', /outside the data region/);
    const big = new Uint8Array(ok);
    new DataView(big.buffer).setUint32(4, 7, true); // header length ~ 30 GB
    expectCode(() => parseSafetensors(big), 'E_LIMIT', /exceeds the limit/);
    expectCode(() => parseSafetensors(rawFile({}, data16, 1000)), 'E_FORMAT', /header length 1000 exceeds/);
    expectCode(() => parseSafetensors(rawFile('{', new Uint8Array(), 1)), 'E_FORMAT', /at least 2/);
  });

  it('rejects bad JSON, bad UTF-8 and non-object headers', () => {
    expectCode(() => parseSafetensors(rawFile('{"w": ', data16)), 'E_FORMAT', /not valid JSON/);
    expectCode(() => parseSafetensors(rawFile('[1, 2]', data16)), 'E_FORMAT', /JSON object/);
    const bad = rawFile('{"a":1}', data16);
    bad[10] = 0xff;
    expectCode(() => parseSafetensors(bad), 'E_FORMAT', /UTF-8|JSON/);
    expectCode(() => parseSafetensors(rawFile({ __metadata__: { a: 1 } }, data16)), 'E_FORMAT', /__metadata__/);
  });

  it('rejects unsupported and unknown dtypes', () => {
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'I32', shape: [4], data_offsets: [0, 16] } }, data16)), 'E_UNSUPPORTED', /I32/);
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'Q4', shape: [4], data_offsets: [0, 16] } }, data16)), 'E_FORMAT', /unknown dtype/);
  });

  it('rejects bad shapes and shapes that disagree with the offsets', () => {
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, data16)), 'E_FORMAT', /non-negative/);
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 16] } }, data16)), 'E_FORMAT', /non-negative/);
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [5], data_offsets: [0, 16] } }, data16)), 'E_FORMAT', /needs 20 bytes, data_offsets span 16/);
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [1e15, 1e15], data_offsets: [0, 16] } }, data16)), 'E_FORMAT', /data_offsets span/);
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }, data16)), 'E_FORMAT', /shape/);
  });

  it('rejects a tensor name given twice (JSON.parse would silently keep the last)', () => {
    const text = '{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}';
    expectCode(() => parseSafetensors(rawFile(text, data16)), 'E_FORMAT', /appears twice/);
    // Equal keys in different objects are fine; escaped spellings of one key are the same key.
    const ok = '{"__metadata__": {"w": "x"}, "w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}';
    expect(parseSafetensors(rawFile(ok, data16)).tensors.get('w')!.shape).toEqual([4]);
    const esc = '{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "\\u0077": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}';
    expectCode(() => parseSafetensors(rawFile(esc, data16)), 'E_FORMAT', /appears twice/);
  });

  it('rejects offsets outside the data, reversed or overlapping', () => {
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [4, 20] } }, data16)), 'E_FORMAT', /outside the data region/);
    expectCode(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, data16)), 'E_FORMAT', /begin <= end/);
    expectCode(() => parseSafetensors(rawFile({
      a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
    }, data16)), 'E_FORMAT', /overlap/);
    expectCode(() => parseSafetensors(rawFile({
      a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
      z: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
      b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] },
    }, data16)), 'E_FORMAT', /overlap/);
  });
});

describe('deltakit spec against tensors', () => {
  const base = randomModel(7, 3, [{ kind: 'gru', hiddenSize: 4 }, { kind: 'linear', outputSize: 2 }]);
  const tensorsOf = (m: Model) => {
    const t = parseSafetensors(encodeModel(m)).tensors;
    return new Map([...t].map(([k, v]) => [k, { shape: v.shape, data: v.data }]));
  };
  const withSpec = (spec: unknown, tensors = tensorsOf(base)) => encodeSafetensors(tensors, { [DELTAKIT_METADATA_KEY]: typeof spec === 'string' ? spec : JSON.stringify(spec) });
  const spec = () => JSON.parse(JSON.stringify(modelSpec(base)));

  it('rejects a NaN weight with E_VALUE', () => {
    const t = tensorsOf(base);
    t.get('layers.0.weight_hh')!.data[3] = NaN;
    expectCode(() => decodeModelFile(withSpec(spec(), t)), 'E_VALUE', /non-finite/);
  });

  it('rejects specs that disagree with the tensors', () => {
    const s1 = spec();
    s1.layers[0].hiddenSize = 5;
    expectCode(() => decodeModelFile(withSpec(s1)), 'E_SHAPE', /expected shape/);
    const t = tensorsOf(base);
    t.delete('layers.1.bias');
    expectCode(() => decodeModelFile(withSpec(spec(), t)), 'E_SHAPE', /layers\.1\.bias/);
    const t2 = tensorsOf(base);
    t2.set('extra', { shape: [1], data: new Float32Array(1) });
    expectCode(() => decodeModelFile(withSpec(spec(), t2)), 'E_FORMAT', /not part of the model spec/);
    const s2 = spec();
    s2.layers[1].inputSize = 3; // does not chain (and shape mismatch is found first)
    expectCode(() => decodeModelFile(withSpec(s2)), 'E_SHAPE');
  });

  it('rejects bad specs with coded errors', () => {
    expectCode(() => decodeModelFile(withSpec('{oops')), 'E_FORMAT', /not valid JSON/);
    expectCode(() => decodeModelFile(withSpec({ ...spec(), version: 99 })), 'E_UNSUPPORTED', /version 99/);
    expectCode(() => decodeModelFile(withSpec({ ...spec(), format: 'x' })), 'E_FORMAT', /deltakit-model/);
    expectCode(() => decodeModelFile(withSpec({ ...spec(), layers: [] })), 'E_SHAPE', /at least one layer/);
    const s = spec();
    s.layers[0].kind = 'transformer';
    expectCode(() => decodeModelFile(withSpec(s)), 'E_UNSUPPORTED', /unknown layer kind/);
    const s3 = spec();
    s3.layers[1].activation = 'gelu';
    expectCode(() => decodeModelFile(withSpec(s3)), 'E_UNSUPPORTED', /activation/);
    const s4 = spec();
    s4.layers[0].hiddenSize = 1e9;
    expectCode(() => decodeModelFile(withSpec(s4)), 'E_LIMIT');
  });

  it('reports a truncated model file as truncated safetensors', () => {
    const bytes = encodeModel(randomModel(9, 3, [{ kind: 'gru', hiddenSize: 4 }]));
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expectCode(() => decodeModelFile(bytes.subarray(0, 8 + n - 10)), 'E_FORMAT', /safetensors: header length .*truncated/);
    expectCode(() => decodeModelFile(bytes.subarray(0, bytes.length - 4)), 'E_FORMAT', /outside the data region/);
  });

  it('rejects empty and unrecognised files', () => {
    expectCode(() => decodeModelFile(new Uint8Array()), 'E_FORMAT');
    expectCode(() => decodeModelFile(new TextEncoder().encode('hello world, not a model')), 'E_FORMAT');
  });
});

// A file written to disk can be read by the path-based API too (guards the Buffer -> Uint8Array view).
describe('loadModel from a Buffer slice', () => {
  it('loads bytes that are a view into a larger buffer', async () => {
    const m = randomModel(8, 3, [{ kind: 'lstm', hiddenSize: 4 }]);
    const bytes = encodeModel(m);
    const big = new Uint8Array(bytes.length + 13);
    big.set(bytes, 5);
    expectSameModel(m, await loadModel(big.subarray(5, 5 + bytes.length)));
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-model-'));
    writeFileSync(join(dir, 'x.bin'), bytes);
    expectSameModel(m, await loadModel(join(dir, 'x.bin')));
  });
});
