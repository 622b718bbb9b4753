/**
 * Importers beyond the golden vectors: every spelling of the same weights an ONNX exporter may
 * use must import to the same model, and every unsupported construct must be rejected with a
 * coded error that says why.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../../src/model/import/onnx.js';
import { importPytorchStateDict } from '../../src/model/import/pytorch.js';
import { decodeModelFile } from '../../src/model/io.js';
import { encodeSafetensors, parseSafetensors } from '../../src/model/safetensors.js';
import { layerTensors, type Model } from '../../src/model/types.js';
import { expectCode } from '../helpers/errors.js';

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.ModelProto;
const GOLDEN = join(import.meta.dirname, '..', 'golden', 'cases');


function maxWeightDiff(a: Model, b: Model): number {
  expect(b.layers.map((l) => [l.kind, l.inputSize])).toEqual(a.layers.map((l) => [l.kind, l.inputSize]));
  let m = 0;
  a.layers.forEach((la, k) => {
    const ta = layerTensors(la);
    const tb = layerTensors(b.layers[k]!);
    for (const n of Object.keys(ta)) for (let i = 0; i < ta[n]!.length; i++) m = Math.max(m, Math.abs(ta[n]![i]! - tb[n]![i]!));
  });
  return m;
}

// ---------------------------------------------------------------- ONNX
const onnxBytes = (c: string) => new Uint8Array(readFileSync(join(GOLDEN, c, 'model.onnx')));
const decode = (c: string): ModelProto => onnx.ModelProto.decode(onnxBytes(c));
const encode = (m: ModelProto): Uint8Array => onnx.ModelProto.encode(m).finish();
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

function floatsOf(t: onnxProto.onnx.ITensorProto): Float32Array {
  const r = t.rawData!;
  return new Float32Array(r.buffer.slice(r.byteOffset, r.byteOffset + r.byteLength));
}
function init(m: ModelProto, name: string): onnxProto.onnx.ITensorProto {
  return m.graph!.initializer!.find((t) => t.name === name)!;
}
function floatTensor(name: string, dims: number[], values: ArrayLike<number>): onnxProto.onnx.TensorProto {
  return onnx.TensorProto.create({ name, dims, dataType: T.FLOAT, floatData: Array.from(values) });
}
function node(opType: string, inputs: string[], outputs: string[], attrs: onnxProto.onnx.IAttributeProto[] = []): onnxProto.onnx.NodeProto {
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, attribute: attrs });
}
const intsAttr = (name: string, ints: number[]) => onnx.AttributeProto.create({ name, type: A.INTS, ints });
const intAttr = (name: string, i: number) => onnx.AttributeProto.create({ name, type: A.INT, i });
const floatAttr = (name: string, f: number) => onnx.AttributeProto.create({ name, type: A.FLOAT, f });
const strAttr = (name: string, s: string) => onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(s) });
const tensorAttr = (t: onnxProto.onnx.ITensorProto) => onnx.AttributeProto.create({ name: 'value', type: A.TENSOR, t });
function nodeOf(m: ModelProto, op: string, k = 0): onnxProto.onnx.INodeProto {
  return m.graph!.node!.filter((n) => n.opType === op)[k]!;
}
/** Float -> IEEE half bits (round to nearest even), for the float16 variant. */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0]!;
  const s = (u >>> 16) & 0x8000;
  const e = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (e <= 0) return s; // tiny weights flush to zero (none in these models)
  const round = mant & 0x1fff;
  mant >>= 13;
  let h = s | (e << 10) | mant;
  if (round > 0x1000 || (round === 0x1000 && (mant & 1))) h++;
  return h;
}

describe('ONNX importer: the same weights spelt differently', () => {
  const base = importOnnx(onnxBytes('gru_l2_h12_fc_gemm'));
  const baseLstm = importOnnx(onnxBytes('lstm_l3_h7_fc_nobias'));

  it('reads float_data instead of raw_data', () => {
    const m = decode('gru_l2_h12_fc_gemm');
    m.graph!.initializer = m.graph!.initializer!.map((t) => floatTensor(t.name!, t.dims!.map(Number), floatsOf(t)));
    expect(maxWeightDiff(base, importOnnx(encode(m)))).toBe(0);
  });

  it('reads double initializers (raw and double_data) exactly', () => {
    const m = decode('gru_l2_h12_fc_gemm');
    m.graph!.initializer = m.graph!.initializer!.map((t, i) => {
      const v = Float64Array.from(floatsOf(t));
      return i % 2
        ? onnx.TensorProto.create({ name: t.name, dims: t.dims, dataType: T.DOUBLE, doubleData: Array.from(v) })
        : onnx.TensorProto.create({ name: t.name, dims: t.dims, dataType: T.DOUBLE, rawData: new Uint8Array(v.buffer) });
    });
    expect(maxWeightDiff(base, importOnnx(encode(m)))).toBe(0);
  });

  it('reads float16 initializers (int32_data and raw_data) to half precision', () => {
    const m = decode('lstm_l3_h7_fc_nobias');
    m.graph!.initializer = m.graph!.initializer!.map((t, i) => {
      const h = Array.from(floatsOf(t), toHalf);
      return i % 2
        ? onnx.TensorProto.create({ name: t.name, dims: t.dims, dataType: T.FLOAT16, int32Data: h })
        : onnx.TensorProto.create({ name: t.name, dims: t.dims, dataType: T.FLOAT16, rawData: new Uint8Array(Uint16Array.from(h).buffer) });
    });
    const d = maxWeightDiff(baseLstm, importOnnx(encode(m)));
    expect(d).toBeGreaterThan(0); // really rounded to half...
    expect(d).toBeLessThan(1.5e-3); // ...and only by half's precision (|w| < 1.5)
  });

  it('folds Gemm alpha, beta and transB = 0 into the weights', () => {
    const m = decode('gru_l2_h12_fc_gemm');
    const gemm = nodeOf(m, 'Gemm');
    const W = init(m, 'fc.weight');
    const [O, I] = W.dims!.map(Number) as [number, number];
    const w = floatsOf(W);
    const wt = new Float32Array(I * O);
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) wt[i * O + o] = w[o * I + i]! / 4; // transposed, scaled by 1/alpha
    const b = floatsOf(init(m, 'fc.bias')).map((v) => v * 2); // scaled by 1/beta
    m.graph!.initializer = m.graph!.initializer!.filter((t) => !t.name!.startsWith('fc.')).concat([floatTensor('fc.weight', [I, O], wt), floatTensor('fc.bias', [1, O], b)]);
    gemm.attribute = [intAttr('transB', 0), floatAttr('alpha', 4), floatAttr('beta', 0.5)];
    expect(maxWeightDiff(base, importOnnx(encode(m)))).toBe(0);
  });

  it('folds weights given as Constant nodes behind Transpose, Concat, Slice, Unsqueeze, Reshape, Cast, Identity', () => {
    const m = decode('gru_l2_h12_fc_gemm');
    const gru = nodeOf(m, 'GRU');
    const [_, wName, rName, bName] = gru.input!;
    const W = init(m, wName!);
    const R = init(m, rName!);
    const B = init(m, bName!);
    const [, G3, I] = W.dims!.map(Number) as [number, number, number];
    const H = R.dims!.map(Number)[2]!;
    const w = floatsOf(W);
    // W: a Constant holding W^T as (I, 3H) -> Transpose -> (3H, I) -> Unsqueeze axes [0] -> Cast to float.
    const wt = new Float32Array(I * G3);
    for (let r = 0; r < G3; r++) for (let c = 0; c < I; c++) wt[c * G3 + r] = w[r * I + c]!;
    // R: two Constants (rows split) -> Concat axis 1 -> Identity -> Reshape to (1, 3H, H).
    const r = floatsOf(R);
    const cut = H + 5; // rows in the first part
    // B: a longer Constant (1, 6H + 8) -> Slice [0, 6H) on axis 1.
    const b = floatsOf(B);
    const bLong = new Float32Array(b.length + 8).fill(7);
    bLong.set(b);
    const extra = [
      node('Constant', [], ['wT'], [tensorAttr(floatTensor('', [I, G3], wt))]),
      node('Transpose', ['wT'], ['w2'], [intsAttr('perm', [1, 0])]),
      node('Constant', [], ['ax0'], [tensorAttr(onnx.TensorProto.create({ dims: [1], dataType: T.INT64, int64Data: [0] }))]),
      node('Unsqueeze', ['w2', 'ax0'], ['w3']),
      node('Cast', ['w3'], [wName!], [intAttr('to', T.FLOAT)]),
      node('Constant', [], ['rA'], [tensorAttr(floatTensor('', [1, cut, H], r.subarray(0, cut * H)))]),
      node('Constant', [], ['rB'], [tensorAttr(floatTensor('', [1, G3 - cut, H], r.subarray(cut * H)))]),
      node('Concat', ['rA', 'rB'], ['r2'], [intAttr('axis', 1)]),
      node('Identity', ['r2'], ['r3']),
      node('Constant', [], ['shp'], [tensorAttr(onnx.TensorProto.create({ dims: [3], dataType: T.INT64, int64Data: [1, -1, 0] }))]),
      node('Reshape', ['r3', 'shp'], [rName!]),
      node('Constant', [], ['bL'], [tensorAttr(floatTensor('', [1, bLong.length], bLong))]),
      node('Constant', [], ['s0'], [tensorAttr(onnx.TensorProto.create({ dims: [1], dataType: T.INT64, int64Data: [0] }))]),
      node('Constant', [], ['s1'], [tensorAttr(onnx.TensorProto.create({ dims: [1], dataType: T.INT64, int64Data: [b.length] }))]),
      node('Constant', [], ['s2'], [tensorAttr(onnx.TensorProto.create({ dims: [1], dataType: T.INT64, int64Data: [1] }))]),
      node('Slice', ['bL', 's0', 's1', 's2'], [bName!]),
    ];
    m.graph!.initializer = m.graph!.initializer!.filter((t) => ![wName, rName, bName].includes(t.name!));
    m.graph!.node = [...extra, ...m.graph!.node!];
    expect(maxWeightDiff(base, importOnnx(encode(m)))).toBe(0);
  });

  it('reorders gates: ONNX GRU z,r,h -> r,z,n and LSTM i,o,f,c -> i,f,g,o', () => {
    // The PyTorch state_dict (our order) and the ONNX export (ONNX order) of the same module agree.
    for (const c of ['gru_l1_h8', 'lstm_l1_h8']) {
      const pt = importPytorchStateDict(parseSafetensors(new Uint8Array(readFileSync(join(GOLDEN, c, 'model.safetensors')))));
      expect(maxWeightDiff(pt, importOnnx(onnxBytes(c)))).toBe(0);
    }
  });
});

describe('ONNX importer: unsupported constructs', () => {
  it('reads linear_before_reset = 0 as the reset-before GRU (and 1, the PyTorch form, as reset-after)', () => {
    const m = decode('gru_l1_h8');
    expect((importOnnx(encode(m)).layers[0] as { resetAfter?: boolean }).resetAfter).toBeUndefined();
    nodeOf(m, 'GRU').attribute = [intAttr('hidden_size', 8), intAttr('linear_before_reset', 0)];
    expect((importOnnx(encode(m)).layers[0] as { resetAfter?: boolean }).resetAfter).toBe(false);
    nodeOf(m, 'GRU').attribute = [intAttr('hidden_size', 8), intAttr('linear_before_reset', 2)];
    expectCode(() => importOnnx(encode(m)), 'E_FORMAT', /linear_before_reset must be 0 or 1, found 2/);
  });
  it('rejects bidirectional and reverse directions', () => {
    for (const dir of ['bidirectional', 'reverse']) {
      const m = decode('gru_l1_h8');
      nodeOf(m, 'GRU').attribute!.push(strAttr('direction', dir));
      expectCode(() => importOnnx(encode(m)), 'E_UNSUPPORTED', new RegExp(`direction ${dir} cannot stream`));
    }
  });
  it('reads clip, activations and peepholes; rejects unknown activations and input_forget', () => {
    const m1 = decode('lstm_l1_h8');
    nodeOf(m1, 'LSTM').attribute!.push(floatAttr('clip', 3));
    expect((importOnnx(encode(m1)).layers[0] as { clip?: number }).clip).toBe(3);
    const m2 = decode('gru_l1_h8');
    const strs = (a: string[]) => a.map((s) => new TextEncoder().encode(s));
    nodeOf(m2, 'GRU').attribute!.push(onnx.AttributeProto.create({ name: 'activations', type: A.STRINGS, strings: strs(['HardSigmoid', 'Tanh']) }));
    expect((importOnnx(encode(m2)).layers[0] as { activations?: unknown }).activations).toEqual([{ name: 'hard_sigmoid', alpha: 0.2, beta: 0.5 }, { name: 'tanh' }]);
    const m2b = decode('gru_l1_h8');
    nodeOf(m2b, 'GRU').attribute!.push(onnx.AttributeProto.create({ name: 'activations', type: A.STRINGS, strings: strs(['Swish', 'Tanh']) }));
    expectCode(() => importOnnx(encode(m2b)), 'E_UNSUPPORTED', /activation Swish is not supported/);
    const m2c = decode('gru_l1_h8');
    nodeOf(m2c, 'GRU').attribute!.push(onnx.AttributeProto.create({ name: 'activations', type: A.STRINGS, strings: strs(['Sigmoid']) }));
    expectCode(() => importOnnx(encode(m2c)), 'E_UNSUPPORTED', /1 activations; a forward GRU takes 2/);
    const m3 = decode('lstm_l1_h8');
    nodeOf(m3, 'LSTM').attribute!.push(intAttr('input_forget', 1));
    expectCode(() => importOnnx(encode(m3)), 'E_UNSUPPORTED', /input_forget/);
    const m4 = decode('lstm_l1_h8');
    const lstm = nodeOf(m4, 'LSTM');
    m4.graph!.initializer!.push(floatTensor('P', [1, 24], new Float32Array(24).fill(0.1)));
    lstm.input = [...lstm.input!.slice(0, 7), 'P'];
    while (lstm.input.length < 8) lstm.input.push('');
    // ONNX P is [p_i, p_o, p_f]; ours [p_i, p_f, p_o].
    const p = Float32Array.from({ length: 24 }, (_, i) => Math.floor(i / 8) + 1);
    m4.graph!.initializer![m4.graph!.initializer!.length - 1] = floatTensor('P', [1, 24], p);
    const withP = importOnnx(encode(m4)).layers[0] as { peephole?: Float32Array };
    expect(Array.from(withP.peephole!.filter((_, i) => i % 8 === 0))).toEqual([1, 3, 2]);
    // Zero peepholes are the same network: read as a plain LSTM.
    m4.graph!.initializer![m4.graph!.initializer!.length - 1] = floatTensor('P', [1, 24], new Float32Array(24));
    const plain = importOnnx(encode(m4)).layers[0]!;
    expect(plain.kind).toBe('lstm');
    expect((plain as { peephole?: Float32Array }).peephole).toBeUndefined();
  });
  it('reads a constant initial state, rejects one of batch > 1, and unsupported operators on the path', () => {
    const m = decode('gru_l1_h8');
    const gru = nodeOf(m, 'GRU');
    m.graph!.initializer!.push(floatTensor('h0', [1, 1, 8], new Float32Array(8).fill(0.5)));
    gru.input![5] = 'h0';
    expect(Array.from((importOnnx(encode(m)).layers[0] as { initialH?: Float32Array }).initialH!)).toEqual(new Array(8).fill(0.5));
    m.graph!.initializer![m.graph!.initializer!.length - 1] = floatTensor('h0', [1, 2, 8], new Float32Array(16).fill(0.5));
    expectCode(() => importOnnx(encode(m)), 'E_UNSUPPORTED', /initial_h holds 16 values; a stream has batch 1/);
    const m2 = decode('gru_l1_h16_fc');
    const add = nodeOf(m2, 'Add');
    add.output = ['pre'];
    m2.graph!.node!.push(node('Sigmoid', ['pre'], ['y']));
    expectCode(() => importOnnx(encode(m2)), 'E_UNSUPPORTED', /operator Sigmoid/);
  });
  it('treats extra graph inputs used only as initial states (forward(x, h0)) as zeros, rejects other uses', () => {
    const m = decode('lstm_l1_h8');
    const lstm = nodeOf(m, 'LSTM');
    m.graph!.input!.push(onnx.ValueInfoProto.create({ name: 'h0' }), onnx.ValueInfoProto.create({ name: 'c0' }));
    m.graph!.node!.unshift(node('Identity', ['h0'], ['h0b']));
    lstm.input![5] = 'h0b';
    lstm.input![6] = 'c0';
    const model = importOnnx(encode(m));
    expect(model.meta.stateInputs).toMatch(/^h0, c0/);
    expect(maxWeightDiff(importOnnx(onnxBytes('lstm_l1_h8')), model)).toBe(0);
    const m2 = decode('gru_l1_h16_fc');
    m2.graph!.input!.push(onnx.ValueInfoProto.create({ name: 'bias2' }));
    const add = nodeOf(m2, 'Add');
    add.output = ['pre'];
    m2.graph!.node!.push(node('Add', ['pre', 'bias2'], ['y']));
    expectCode(() => importOnnx(encode(m2)), 'E_UNSUPPORTED', /Add .*computed inputs/);
    const m3 = decode('gru_l1_h8');
    m3.graph!.input!.push(onnx.ValueInfoProto.create({ name: 'aux' }));
    m3.graph!.node!.push(node('Relu', ['aux'], ['aux2']));
    expectCode(() => importOnnx(encode(m3)), 'E_UNSUPPORTED', /graph input aux feeds Relu/);
  });

  it('refuses constant folding that would blow up a small file', () => {
    const m = decode('gru_l1_h8');
    const big = m.graph!.initializer!.reduce((a, t) => ((t.rawData?.length ?? 0) > (a.rawData?.length ?? 0) ? t : a));
    // Each Concat doubles the previous one: 2^20 copies of a tensor from a file of a few kB.
    let prev = big.name!;
    const chain = [];
    for (let k = 0; k < 20; k++) {
      chain.push(node('Concat', [prev, prev], [`dbl${k}`], [intAttr('axis', 0)]));
      prev = `dbl${k}`;
    }
    m.graph!.node = [...chain, ...m.graph!.node!];
    expectCode(() => importOnnx(encode(m)), 'E_LIMIT', /constant folding|exceeds the limit/);
  });

  it('refuses duplicate initializers (which one wins is unspecified)', () => {
    const m = decode('gru_l1_h8');
    const first = m.graph!.initializer![0]!;
    const twin = floatTensor(first.name!, first.dims!.map(Number), new Float32Array(floatsOf(first).length).fill(0.25));
    m.graph!.initializer!.push(twin);
    expectCode(() => importOnnx(encode(m)), 'E_FORMAT', /defined twice/);
  });

  it('bounds folding work before doing it: 250,000 Unsqueeze axes, a Concat of 60,000 inputs', () => {
    const m = decode('gru_l1_h8');
    const big = m.graph!.initializer!.reduce((a, t) => ((t.rawData?.length ?? 0) > (a.rawData?.length ?? 0) ? t : a));
    const axes = Array.from({ length: 250_000 }, (_, i) => i);
    const m1 = decode('gru_l1_h8');
    m1.graph!.node = [node('Unsqueeze', [big.name!], ['u'], [intsAttr('axes', axes)]), ...m1.graph!.node!];
    expectCode(() => importOnnx(encode(m1)), 'E_LIMIT', /Unsqueeze to rank \d+ exceeds the limit of 32/);
    // Two doublings, then 60,000 copies: ~46 M values, under the per-tensor limit but far over the
    // budget of a ~1 MB file. The budget is checked before the result is allocated (it used to be
    // checked after: 0.5 GB first).
    const pre = [node('Concat', [big.name!, big.name!], ['d0'], [intAttr('axis', 0)]), node('Concat', ['d0', 'd0'], ['d1'], [intAttr('axis', 0)])];
    m.graph!.node = [...pre, node('Concat', Array.from({ length: 60_000 }, () => 'd1'), ['cat'], [intAttr('axis', 0)]), ...m.graph!.node!];
    expectCode(() => importOnnx(encode(m)), 'E_LIMIT', /budget left/);
  });

  it('rejects garbage and graphs without nodes', () => {
    expectCode(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff])), 'E_FORMAT');
    expectCode(() => importOnnx(encode(onnx.ModelProto.create({ irVersion: 8 }))), 'E_FORMAT', /no graph/);
  });
});

// ---------------------------------------------------------------- PyTorch state_dict
describe('PyTorch state_dict importer', () => {
  const H = 4;
  const I = 3;
  const t = (shape: number[], fill = 0.1) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) });
  const gru = (prefix: string, L: number, bias = true) => {
    const d: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (let k = 0; k < L; k++) {
      d[`${prefix}weight_ih_l${k}`] = t([3 * H, k ? H : I]);
      d[`${prefix}weight_hh_l${k}`] = t([3 * H, H]);
      if (bias) {
        d[`${prefix}bias_ih_l${k}`] = t([3 * H], 0.2);
        d[`${prefix}bias_hh_l${k}`] = t([3 * H], 0.3);
      }
    }
    return d;
  };
  const imp = (d: Record<string, { shape: number[]; data: Float32Array }>) => importPytorchStateDict(parseSafetensors(encodeSafetensors(d)));

  it('accepts any prefix, any layer count, and fills missing biases with zeros', () => {
    const m = imp({ ...gru('encoder.gru.', 3, false), 'head.weight': t([2, H]) });
    expect(m.layers.map((l) => l.kind)).toEqual(['gru', 'gru', 'gru', 'linear']);
    expect(Array.from(layerTensors(m.layers[1]!).bias_hh!)).toEqual(new Array(3 * H).fill(0));
    expect(Array.from(layerTensors(m.layers[3]!).bias!)).toEqual([0, 0]);
    expect(m.meta.rnnPrefix).toBe('encoder.gru.');
    expect(imp(gru('', 1)).layers[0]!.kind).toBe('gru');
  });
  it('is what decodeModelFile calls for safetensors without deltakit metadata', () => {
    const { kind, model } = decodeModelFile(encodeSafetensors(gru('rnn.', 2)));
    expect(kind).toBe('pytorch');
    expect(model.layers.length).toBe(2);
    // safetensors.torch.save_file writes {"format": "pt"} metadata: still a state_dict.
    expect(decodeModelFile(encodeSafetensors(gru('rnn.', 1), { format: 'pt' })).kind).toBe('pytorch');
  });
  it('rejects bidirectional, proj_size, nn.RNN, unknown keys and shapes that do not chain', () => {
    expectCode(() => imp({ ...gru('rnn.', 1), 'rnn.weight_ih_l0_reverse': t([3 * H, I]) }), 'E_UNSUPPORTED', /bidirectional/);
    expectCode(() => imp({ ...gru('rnn.', 1), 'rnn.weight_hr_l0': t([H, H]) }), 'E_UNSUPPORTED', /proj_size/);
    expectCode(() => imp({ 'rnn.weight_ih_l0': t([H, I]), 'rnn.weight_hh_l0': t([H, H]) }), 'E_UNSUPPORTED', /nn.RNN/);
    expectCode(() => imp({ ...gru('rnn.', 1), 'embedding.table': t([5, I]) }), 'E_UNSUPPORTED', /unknown key embedding.table/);
    expectCode(() => imp({ ...gru('rnn.', 1), 'fc.weight': t([2, H + 1]) }), 'E_SHAPE', /takes 5 inputs, the RNN outputs 4/);
    const broken = gru('rnn.', 2);
    broken['rnn.weight_ih_l1'] = t([3 * H, H + 2]);
    expectCode(() => imp(broken), 'E_SHAPE', /previous layer's hidden size/);
    const gap = gru('rnn.', 3);
    for (const k of Object.keys(gap)) if (k.endsWith('_l1')) delete gap[k];
    expectCode(() => imp(gap), 'E_SHAPE', /missing/);
    expectCode(() => imp({ ...gru('rnn.', 1), ...gru('rnn2.', 1) }), 'E_UNSUPPORTED', /one nn.GRU or nn.LSTM, found 2/);
    expectCode(() => imp({ ...gru('rnn.', 1), 'fc.weight': t([2, H]), 'out.weight': t([2, 2]) }), 'E_UNSUPPORTED', /at most one nn.Linear/);
    expectCode(() => imp({ 'fc.weight': t([2, H]) }), 'E_UNSUPPORTED', /no nn.GRU or nn.LSTM/);
    const nan = gru('rnn.', 1);
    nan['rnn.weight_hh_l0']!.data[0] = Infinity;
    expectCode(() => imp(nan), 'E_VALUE');
  });
});
