/**
 * ONNX export of a deltakit model's dense network as a streaming step graph: one frame in, one
 * output out, every layer's state as a graph input and a graph output, so a caller (onnxruntime,
 * another runtime) streams by feeding each step's state outputs back as the next step's inputs.
 *
 *   inputs   x (1, 1, I); per layer k: GRU h{k}; LSTM h{k}, c{k}; SRU c{k}; QRNN c{k}, x{k} (window 2)
 *   outputs  y (1, 1, O); the same states as {name}_out, all (1, 1, size)
 * Feed zeros at the first step, or a state's `initial` values (a layer with an initial state).
 *
 * GRU and LSTM become ONNX GRU / LSTM nodes (one time step, initial_h / initial_c = the state
 * inputs; gates reordered to ONNX's z, r, h and i, o, f, c; linear_before_reset = 1 for the
 * reset-after GRU, 0 for the reset-before one; LSTM peepholes as P). Linear layers are MatMul + Add
 * (+ Relu / Tanh). SRU and QRNN have no ONNX operator and are written out from their equations with
 * MatMul, Slice, Sigmoid, Tanh, Mul, Add, Sub (see src/cells/sru, src/cells/qrnn).
 *
 * weights 'int8' writes the matrices deltakit's int8 path quantises (GRU / LSTM W and R, Linear W;
 * symmetric, one scale per output row, src/kernels/ref/quantize.ts) as int8 initializers behind
 * DequantizeLinear (QDQ, per-axis scales, opset 13+); biases, peepholes, SRU and QRNN stay float.
 * The delta form has no ONNX counterpart: the export is the dense network the delta network
 * approximates (with thresholds 0 they are the same).
 */
import onnxProto from 'onnx-proto';
import { check } from '../../../core/errors.js';
import { quantizeI8 } from '../../../kernels/ref/quantize.js';
import { isResetAfter } from '../../../cells/gru/definition.js';
import { ONNX_NAME } from '../../../cells/activation.js';
import { GATE_ORDER, reorderGateRows } from '../../import/gates.js';
import type { GruLayer, Layer, LinearLayer, LstmLayer, Model, QrnnLayer, SruLayer } from '../../types.js';
import { modelInputSize, modelOutputSize, validateModel } from '../../types.js';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

export interface OnnxExportOptions {
  /** 'f32' (default) or 'int8' (QDQ: int8 weights behind DequantizeLinear). */
  weights?: 'f32' | 'int8';
  /** Graph name (default: the model's name). */
  name?: string;
}

/** One streaming state tensor of the exported graph. */
export interface OnnxStateIo {
  /** Input name; the output is `${name}_out`. */
  name: string;
  layer: number;
  size: number;
  /** The value to feed at the first step (the layer's state after reset); zeros when absent. */
  initial?: number[];
}

/** Our (G*H, C) gate blocks -> ONNX's order: the inverse of the importer's permutation. */
function invert(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((from, to) => (inv[from] = to));
  return inv;
}
const TO_ONNX_GRU = invert(GATE_ORDER.onnxGru);
const TO_ONNX_LSTM = invert(GATE_ORDER.onnxLstm);

class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = [];
  readonly inits: onnxProto.onnx.ITensorProto[] = [];
  readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private n = 0;

  constructor(private readonly int8: boolean) {}

  fresh(base: string): string {
    return `${base}_${this.n++}`;
  }

  floats(name: string, dims: number[], data: ArrayLike<number>): string {
    const f = Float32Array.from(data);
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: T.FLOAT, rawData: new Uint8Array(f.buffer) }));
    return name;
  }

  ints(name: string, values: number[]): string {
    const v = BigInt64Array.from(values.map((x) => BigInt(x)));
    this.inits.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: T.INT64, rawData: new Uint8Array(v.buffer) }));
    return name;
  }

  /**
   * A weight matrix given as our row-major (rows, cols), stored as `dims` (rows along `rowAxis`).
   * int8: quantised per row, behind DequantizeLinear with per-axis scales on `rowAxis`.
   * `transpose` stores (cols, rows) instead (MatMul's (I, O) layout).
   */
  weight(name: string, w: ArrayLike<number>, rows: number, cols: number, dims: number[], rowAxis: number, transpose = false, quantize = true): string {
    const lay = (src: ArrayLike<number>): Float32Array => {
      const out = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[transpose ? c * rows + r : r * cols + c] = src[r * cols + c]!;
      return out;
    };
    if (!this.int8 || !quantize) return this.floats(name, dims, lay(w));
    const q = quantizeI8(w, rows, cols, 'row');
    const qi = new Int8Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) qi[transpose ? c * rows + r : r * cols + c] = q.q[r * cols + c]!;
    this.inits.push(onnx.TensorProto.create({ name: `${name}_q`, dims, dataType: T.INT8, rawData: new Uint8Array(qi.buffer) }));
    this.floats(`${name}_scale`, [rows], q.scale);
    this.inits.push(onnx.TensorProto.create({ name: `${name}_zero`, dims: [rows], dataType: T.INT8, rawData: new Uint8Array(rows) }));
    this.node('DequantizeLinear', [`${name}_q`, `${name}_scale`, `${name}_zero`], [name], [{ name: 'axis', type: A.INT, i: rowAxis }]);
    return name;
  }

  node(op: string, ins: string[], outs: string[], attrs: onnxProto.onnx.IAttributeProto[] = []): string {
    this.nodes.push(onnx.NodeProto.create({ opType: op, name: this.fresh(op.toLowerCase()), input: ins, output: outs, attribute: attrs.map((a) => onnx.AttributeProto.create(a)) }));
    return outs[0]!;
  }

  op(op: string, ins: string[], attrs: onnxProto.onnx.IAttributeProto[] = []): string {
    return this.node(op, ins, [this.fresh(op.toLowerCase())], attrs);
  }

  io(list: onnxProto.onnx.IValueInfoProto[], name: string, size: number): void {
    list.push(onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: T.FLOAT,
          shape: onnx.TensorShapeProto.create({ dim: [1, 1, size].map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })) }),
        }),
      }),
    }));
  }

  /** Elements [from, from + n) of a (1, 1, C) tensor. */
  slice(x: string, from: number, n: number, tag: string): string {
    return this.op('Slice', [x, this.ints(this.fresh(`${tag}_s`), [from]), this.ints(this.fresh(`${tag}_e`), [from + n]), this.ints(this.fresh(`${tag}_ax`), [2])]);
  }
}

/** A state the graph takes in and gives back. */
function state(g: GraphBuilder, states: OnnxStateIo[], name: string, layer: number, size: number, initial?: Float32Array): string {
  g.io(g.inputs, name, size);
  g.io(g.outputs, `${name}_out`, size);
  states.push({ name, layer, size, ...(initial ? { initial: Array.from(initial) } : {}) });
  return name;
}

function gruOrLstm(g: GraphBuilder, l: GruLayer | LstmLayer, k: number, x: string, states: OnnxStateIo[]): string {
  const H = l.hiddenSize;
  const I = l.inputSize;
  const G = l.kind === 'gru' ? 3 : 4;
  const order = l.kind === 'gru' ? TO_ONNX_GRU : TO_ONNX_LSTM;
  const W = g.weight(`W${k}`, reorderGateRows(l.weightIh, 0, H, I, order), G * H, I, [1, G * H, I], 1);
  const R = g.weight(`R${k}`, reorderGateRows(l.weightHh, 0, H, H, order), G * H, H, [1, G * H, H], 1);
  const b = new Float32Array(2 * G * H);
  b.set(reorderGateRows(l.biasIh, 0, H, 1, order), 0);
  b.set(reorderGateRows(l.biasHh, 0, H, 1, order), G * H);
  const B = g.floats(`B${k}`, [1, 2 * G * H], b);
  const h = state(g, states, `h${k}`, k, H, l.initialH);
  // Non-default activations and clip, as ONNX's RNN attributes (alpha / beta listed in order for
  // the functions that take them, which is how onnxruntime consumes them).
  const actAttrs: onnxProto.onnx.IAttributeProto[] = [];
  if (l.activations) {
    actAttrs.push({ name: 'activations', type: A.STRINGS, strings: l.activations.map((a) => new TextEncoder().encode(ONNX_NAME[a.name])) });
    const alphas = l.activations.filter((a) => a.alpha !== undefined).map((a) => a.alpha!);
    const betas = l.activations.filter((a) => a.beta !== undefined).map((a) => a.beta!);
    if (alphas.length) actAttrs.push({ name: 'activation_alpha', type: A.FLOATS, floats: alphas });
    if (betas.length) actAttrs.push({ name: 'activation_beta', type: A.FLOATS, floats: betas });
  }
  if (l.clip !== undefined) actAttrs.push({ name: 'clip', type: A.FLOAT, f: l.clip });
  if (l.kind === 'gru') {
    g.node('GRU', [x, W, R, B, '', h], ['', `h${k}_out`], [
      { name: 'hidden_size', type: A.INT, i: H },
      { name: 'linear_before_reset', type: A.INT, i: isResetAfter(l) ? 1 : 0 },
      ...actAttrs,
    ]);
  } else {
    const c = state(g, states, `c${k}`, k, H, l.initialC);
    // Our peepholes are [p_i, p_f, p_o]; ONNX P is [p_i, p_o, p_f].
    const P = l.peephole ? g.floats(`P${k}`, [1, 3 * H], reorderGateRows(l.peephole, 0, H, 1, [0, 2, 1])) : '';
    g.node('LSTM', [x, W, R, B, '', h, c, ...(P ? [P] : [])], ['', `h${k}_out`, `c${k}_out`], [{ name: 'hidden_size', type: A.INT, i: H }, ...actAttrs]);
  }
  // Y_h is (directions 1, batch 1, H): exactly the next layer's (seq 1, batch 1, H) input.
  return `h${k}_out`;
}

function linear(g: GraphBuilder, l: LinearLayer, k: number, x: string): string {
  const W = g.weight(`W${k}`, l.weight, l.outputSize, l.inputSize, [l.inputSize, l.outputSize], 1, true);
  let y = g.op('Add', [g.op('MatMul', [x, W]), g.floats(`b${k}`, [l.outputSize], l.bias)]);
  if (l.activation === 'relu') y = g.op('Relu', [y]);
  if (l.activation === 'tanh') y = g.op('Tanh', [y]);
  return y;
}

function sru(g: GraphBuilder, l: SruLayer, k: number, x: string, states: OnnxStateIo[], one: string): string {
  const H = l.hiddenSize;
  const I = l.inputSize;
  const projected = I !== H;
  const rows = (projected ? 4 : 3) * H;
  const u = g.op('MatMul', [x, g.weight(`W${k}`, l.weight, rows, I, [I, rows], 1, true, false)]);
  const f = g.op('Sigmoid', [g.op('Add', [g.slice(u, H, H, `sru${k}`), g.floats(`bf${k}`, [H], l.bias.subarray(0, H))])]);
  const r = g.op('Sigmoid', [g.op('Add', [g.slice(u, 2 * H, H, `sru${k}`), g.floats(`br${k}`, [H], l.bias.subarray(H, 2 * H))])]);
  const c = state(g, states, `c${k}`, k, H);
  g.node('Add', [g.op('Mul', [f, c]), g.op('Mul', [g.op('Sub', [one, f]), g.slice(u, 0, H, `sru${k}`)])], [`c${k}_out`]);
  const skip = projected ? g.slice(u, 3 * H, H, `sru${k}`) : x;
  return g.op('Add', [g.op('Mul', [r, g.op('Tanh', [`c${k}_out`])]), g.op('Mul', [g.op('Sub', [one, r]), skip])]);
}

function qrnn(g: GraphBuilder, l: QrnnLayer, k: number, x: string, states: OnnxStateIo[], one: string): string {
  const H = l.hiddenSize;
  const I = l.inputSize;
  let xin = x;
  if (l.window === 2) {
    const xp = state(g, states, `x${k}`, k, I);
    xin = g.op('Concat', [x, xp], [{ name: 'axis', type: A.INT, i: 2 }]);
    g.node('Identity', [x], [`x${k}_out`]);
  }
  const u = g.op('Add', [g.op('MatMul', [xin, g.weight(`W${k}`, l.weight, 3 * H, l.window * I, [l.window * I, 3 * H], 1, true, false)]), g.floats(`b${k}`, [3 * H], l.bias)]);
  const z = g.op('Tanh', [g.slice(u, 0, H, `qrnn${k}`)]);
  const f = g.op('Sigmoid', [g.slice(u, H, H, `qrnn${k}`)]);
  const o = g.op('Sigmoid', [g.slice(u, 2 * H, H, `qrnn${k}`)]);
  const c = state(g, states, `c${k}`, k, H);
  g.node('Add', [g.op('Mul', [f, c]), g.op('Mul', [g.op('Sub', [one, f]), z])], [`c${k}_out`]);
  return g.op('Mul', [o, `c${k}_out`]);
}

/** The exported graph and the names a streaming caller feeds back. */
export interface OnnxExport {
  bytes: Uint8Array;
  input: string;
  output: string;
  states: OnnxStateIo[];
}

/**
 * Export a model as a streaming ONNX step graph (see the header for its inputs and outputs).
 *
 * @example
 * const { bytes, states } = exportOnnx(model);             // or { weights: 'int8' } for QDQ
 * // feed x (1,1,I) and every states[i].name (zeros at start); feed `${name}_out` back next step
 */
export function exportOnnx(model: Model, opts: OnnxExportOptions = {}): OnnxExport {
  validateModel(model);
  check(opts !== null && typeof opts === 'object', 'E_OPTION', () => `exportOnnx options: expected an object, found ${opts === null ? 'null' : typeof opts}`);
  for (const key of Object.keys(opts)) check(key === 'weights' || key === 'name', 'E_OPTION', () => `exportOnnx option: expected weights or name, found '${key}'`);
  check(opts.name === undefined || typeof opts.name === 'string', 'E_OPTION', () => `exportOnnx option name: expected a string, found ${typeof opts.name}`);
  const weights = opts.weights ?? 'f32';
  check(weights === 'f32' || weights === 'int8', 'E_OPTION', () => `weights: expected 'f32' or 'int8', found '${String(weights)}'`);
  const g = new GraphBuilder(weights === 'int8');
  const states: OnnxStateIo[] = [];
  g.io(g.inputs, 'x', modelInputSize(model));
  const one = g.floats('one', [1], [1]);
  let x = 'x';
  model.layers.forEach((l: Layer, k) => {
    switch (l.kind) {
      case 'gru':
      case 'lstm':
        x = gruOrLstm(g, l, k, x, states);
        break;
      case 'linear':
        x = linear(g, l, k, x);
        break;
      case 'sru':
        x = sru(g, l, k, x, states, one);
        break;
      case 'qrnn':
        x = qrnn(g, l, k, x, states, one);
        break;
    }
  });
  g.node('Identity', [x], ['y']);
  g.io(g.outputs, 'y', modelOutputSize(model));
  const graph = onnx.GraphProto.create({ name: opts.name ?? (model.name || 'deltakit'), node: g.nodes, initializer: g.inits, input: g.inputs, output: [g.outputs[g.outputs.length - 1]!, ...g.outputs.slice(0, -1)] });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'deltakit',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 14 })],
    graph,
    metadataProps: [onnx.StringStringEntryProto.create({ key: 'deltakit.streaming', value: JSON.stringify({ input: 'x', output: 'y', states }) })],
  });
  return { bytes: onnx.ModelProto.encode(proto).finish(), input: 'x', output: 'y', states };
}
