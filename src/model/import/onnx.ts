/**
 * Import an ONNX model holding GRU / LSTM nodes and a Gemm or MatMul(+Add) readout, as
 * `torch.onnx.export` writes them (opset 14: one GRU/LSTM node per layer, Squeeze/Unsqueeze/
 * Transpose between them, initial states built by Shape/Gather/Expand of zeros).
 *
 * How: decode with onnx-proto (protobufjs), fold the constant sub-graphs (initializers, Constant
 * nodes, and Identity/Cast/Unsqueeze/Squeeze/Reshape/Transpose/Concat/Slice of constants, because
 * exporters spell the same weights in different ways), then walk back from the graph output to the
 * graph input and read one deltakit layer from each compute node met on the way. Layout operators
 * on that path (Squeeze, Transpose, Reshape...) only move the batch and direction axes in the
 * graphs we accept, so they are skipped.
 *
 * Gate orders differ: ONNX GRU rows are z, r, h, ours r, z, n; ONNX LSTM rows are
 * i, o, f, c, ours i, f, g, o; LSTM peepholes P are [p_i, p_o, p_f], ours [p_i, p_f, p_o].
 * ONNX's B is [Wb; Rb]. A GRU with linear_before_reset = 1 is PyTorch's form (reset applied after
 * the hidden product); linear_before_reset = 0 (ONNX's default, Keras reset_after=False) is the
 * reset-before GRU (src/cells/gru/definition.ts), imported as `resetAfter: false`.
 *
 * Attributes and inputs of GRU/LSTM (opset 7-22): hidden_size, linear_before_reset (both values),
 * layout 0 and 1 (batch 1: the same values either way), sequence_lens (masks padded batch entries;
 * a stream has none, so it is accepted and ignored), initial_h / initial_c (graph inputs fed back
 * by the caller: sessions start from zero; constants: the layer's state after reset), P
 * (peepholes), input_forget 0.
 * activations (every function ONNX defines for RNNs, alpha / beta as onnxruntime consumes them)
 * and clip become the layer's `activations` / `clip`. Refused with E_UNSUPPORTED naming them:
 * direction reverse / bidirectional (they need the end of the sequence, which a stream never has),
 * computed initial states, input_forget 1.
 */
import { asBytes } from '../../core/bytes.js';
import onnxProto from 'onnx-proto';
import { check, fail } from '../../core/errors.js';
import { halfToFloat } from '../safetensors.js';
import { ONNX_ACTIVATIONS, ONNX_NAME, type GateActivation } from '../../cells/activation.js';
import { validateModel, type Layer, type LinearLayer, type Model } from '../types.js';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IAttr = onnxProto.onnx.IAttributeProto;
type IntLike = number | { toNumber(): number };

/** A folded constant: row-major values with their dims. */
interface Const {
  dims: number[];
  data: Float64Array;
}

/** Limit on the number of elements of any one constant (also guards folding of hostile graphs). */
export const MAX_ONNX_TENSOR = 1 << 26;
/** Limit on the rank of any constant: real exports use at most 4; the folder's loops are linear in it. */
export const MAX_ONNX_RANK = 32;

const toNum = (v: IntLike | null | undefined): number => (v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber());
const prod = (d: number[]): number => d.reduce((a, b) => a * b, 1);

/** Decode ONNX bytes; malformed protobuf becomes E_FORMAT. */
export function decodeOnnx(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  bytes = asBytes(bytes, 'onnx');
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (e) {
    return fail('E_FORMAT', `onnx: not a valid ONNX protobuf (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Read a TensorProto's values as float64, whatever its storage (typed field or raw_data). */
export function tensorValues(t: ITensor, where: string): Const {
  const dims = (t.dims ?? []).map(toNum);
  check(dims.length <= MAX_ONNX_RANK, 'E_LIMIT', () => `onnx: ${where}: rank ${dims.length} exceeds the limit of ${MAX_ONNX_RANK}`);
  for (const d of dims) check(Number.isSafeInteger(d) && d >= 0, 'E_FORMAT', () => `onnx: ${where}: dims must be non-negative integers, found [${dims.slice(0, 16).join(', ')}]`);
  let n = 1;
  for (const d of dims) {
    n *= d;
    check(n <= MAX_ONNX_TENSOR, 'E_LIMIT', () => `onnx: ${where}: dims [${dims.join(', ')}] exceed the limit of ${MAX_ONNX_TENSOR} elements`);
  }
  check(t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL, 'E_UNSUPPORTED', () => `onnx: ${where}: external tensor data is not supported (save the model with weights inside the file)`);
  const type = t.dataType ?? 0;
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const T = onnx.TensorProto.DataType;
  const sizes: Record<number, number> = { [T.FLOAT]: 4, [T.DOUBLE]: 8, [T.FLOAT16]: 2, [T.BFLOAT16]: 2, [T.INT64]: 8, [T.INT32]: 4, [T.INT8]: 1, [T.UINT8]: 1, [T.INT16]: 2, [T.BOOL]: 1 };
  const size = sizes[type];
  check(size !== undefined, 'E_UNSUPPORTED', () => `onnx: ${where}: tensor data type ${type} is not supported (expected float, double, float16, bfloat16 or an integer type)`);
  if (raw) {
    check(raw.length === n * size, 'E_FORMAT', () => `onnx: ${where}: raw_data holds ${raw.length} bytes, dims [${dims.join(', ')}] need ${n * size}`);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      switch (type) {
        case T.FLOAT: v[i] = dv.getFloat32(4 * i, true); break;
        case T.DOUBLE: v[i] = dv.getFloat64(8 * i, true); break;
        case T.FLOAT16: v[i] = halfToFloat(dv.getUint16(2 * i, true)); break;
        case T.BFLOAT16: v[i] = new Float32Array(new Uint32Array([dv.getUint16(2 * i, true) << 16]).buffer)[0]!; break;
        case T.INT64: v[i] = Number(dv.getBigInt64(8 * i, true)); break;
        case T.INT32: v[i] = dv.getInt32(4 * i, true); break;
        case T.INT16: v[i] = dv.getInt16(2 * i, true); break;
        case T.INT8: v[i] = dv.getInt8(i); break;
        default: v[i] = dv.getUint8(i); // UINT8, BOOL
      }
    }
    return { dims, data: v };
  }
  // Typed fields: float_data (FLOAT), double_data (DOUBLE), int64_data (INT64), int32_data (INT32
  // and narrower ints, BOOL, and FLOAT16/BFLOAT16 as their bit patterns).
  let src: ArrayLike<IntLike>;
  switch (type) {
    case T.FLOAT: src = t.floatData ?? []; break;
    case T.DOUBLE: src = t.doubleData ?? []; break;
    case T.INT64: src = t.int64Data ?? []; break;
    default: src = t.int32Data ?? [];
  }
  check(src.length === n, 'E_FORMAT', () => `onnx: ${where}: holds ${src.length} values, dims [${dims.join(', ')}] need ${n}`);
  if (n === 0) return { dims, data: new Float64Array(0) };
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = toNum(src[i]);
    if (type === T.FLOAT16) v[i] = halfToFloat(x & 0xffff);
    else if (type === T.BFLOAT16) v[i] = new Float32Array(new Uint32Array([(x & 0xffff) << 16]).buffer)[0]!;
    else v[i] = x;
  }
  return { dims, data: v };
}

function attr(node: INode, name: string): IAttr | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}
function attrInt(node: INode, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? toNum(a.i) : dflt;
}
function attrFloat(node: INode, name: string, dflt: number): number {
  const a = attr(node, name);
  return a ? (a.f ?? 0) : dflt;
}
function attrInts(node: INode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(toNum) : undefined;
}
function attrString(node: INode, name: string): string | undefined {
  const a = attr(node, name);
  return a ? new TextDecoder().decode(a.s ?? new Uint8Array()) : undefined;
}
function attrStrings(node: INode, name: string): string[] | undefined {
  const a = attr(node, name);
  return a ? (a.strings ?? []).map((s) => new TextDecoder().decode(s)) : undefined;
}

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** Gather values of `c` at output positions: out index -> per-axis input index via `map`. */
function remap(c: Const, outDims: number[], map: (axis: number, i: number) => number, axisOfOut: (a: number) => number): Const {
  const n = prod(outDims);
  check(n <= MAX_ONNX_TENSOR, 'E_LIMIT', () => `onnx: a folded constant of dims [${outDims.join(', ')}] exceeds the limit`);
  const inStr = strides(c.dims);
  const out = new Float64Array(n);
  const idx = new Array<number>(outDims.length).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let a = 0; a < outDims.length; a++) src += map(a, idx[a]!) * inStr[axisOfOut(a)]!;
    out[o] = c.data[src]!;
    for (let a = outDims.length - 1; a >= 0; a--) {
      if (++idx[a]! < outDims[a]!) break;
      idx[a] = 0;
    }
  }
  return { dims: outDims, data: out };
}

const normAxis = (a: number, rank: number, where: string): number => {
  const r = a < 0 ? a + rank : a;
  check(Number.isInteger(r) && r >= 0 && r < rank, 'E_FORMAT', () => `onnx: ${where}: axis ${a} out of range for rank ${rank}`);
  return r;
};

/** Fold one node whose inputs are all constant; returns undefined for ops we do not fold. */
function foldNode(node: INode, ins: Array<Const | undefined>, where: string, budget: number): Const | undefined {
  // Every result is checked against the values folding may still create *before* it is
  // allocated, so a hostile graph fails fast instead of after building a huge array.
  const room = (n: number): void => check(n <= budget, 'E_LIMIT', () => `onnx: ${where}: constant folding would create ${n} more values, over the budget left for this file (${budget})`);
  const x = ins[0];
  const constInts = (c: Const | undefined): number[] | undefined => (c ? Array.from(c.data) : undefined);
  switch (node.opType) {
    case 'Constant': {
      const a = node.attribute?.[0];
      check(a !== undefined, 'E_FORMAT', () => `onnx: ${where}: Constant without a value`);
      switch (a.name) {
        case 'value': return tensorValues(a.t ?? {}, where);
        case 'value_float': return { dims: [], data: Float64Array.of(a.f ?? 0) };
        case 'value_floats': return { dims: [a.floats?.length ?? 0], data: Float64Array.from(a.floats ?? []) };
        case 'value_int': return { dims: [], data: Float64Array.of(toNum(a.i)) };
        case 'value_ints': return { dims: [a.ints?.length ?? 0], data: Float64Array.from((a.ints ?? []).map(toNum)) };
        default: return fail('E_UNSUPPORTED', `onnx: ${where}: Constant with ${a.name} is not supported`);
      }
    }
    case 'Identity':
      return x;
    case 'Cast': {
      if (!x) return undefined;
      const to = attrInt(node, 'to', 1);
      const T = onnx.TensorProto.DataType;
      if (to !== T.DOUBLE && to !== T.FLOAT16 && to !== T.BFLOAT16) room(x.data.length);
      if (to === T.FLOAT) return { dims: x.dims, data: x.data.map(Math.fround) };
      if (to === T.DOUBLE || to === T.FLOAT16 || to === T.BFLOAT16) return x;
      return { dims: x.dims, data: x.data.map(Math.trunc) };
    }
    case 'Unsqueeze':
    case 'Squeeze': {
      if (!x) return undefined;
      const axes = attrInts(node, 'axes') ?? constInts(ins[1]);
      if (node.opType === 'Squeeze') {
        if (!axes || axes.length === 0) return { dims: x.dims.filter((d) => d !== 1), data: x.data };
        check(axes.length <= x.dims.length, 'E_FORMAT', () => `onnx: ${where}: Squeeze of ${axes.length} axes from rank ${x.dims.length}`);
        const ax = new Set(axes.map((a) => normAxis(a, x.dims.length, where)));
        for (const a of ax) check(x.dims[a] === 1, 'E_FORMAT', () => `onnx: ${where}: Squeeze of axis ${a} whose size is ${x.dims[a]}`);
        return { dims: x.dims.filter((_, i) => !ax.has(i)), data: x.data };
      }
      check(axes !== undefined, 'E_FORMAT', () => `onnx: ${where}: Unsqueeze without axes`);
      const rank = x.dims.length + axes.length;
      check(rank <= MAX_ONNX_RANK, 'E_LIMIT', () => `onnx: ${where}: Unsqueeze to rank ${rank} exceeds the limit of ${MAX_ONNX_RANK}`);
      const ax = new Set(axes.map((a) => normAxis(a, rank, where)));
      const dims: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) dims.push(ax.has(i) ? 1 : x.dims[j++]!);
      check(j === x.dims.length, 'E_FORMAT', () => `onnx: ${where}: Unsqueeze with repeated axes`);
      return { dims, data: x.data };
    }
    case 'Reshape': {
      if (!x || !ins[1]) return undefined;
      const shape = Array.from(ins[1].data);
      check(shape.length <= 16, 'E_FORMAT', () => `onnx: ${where}: Reshape to rank ${shape.length}`);
      const dims = shape.map((d, i) => (d === 0 ? (x.dims[i] ?? 0) : d));
      const known = dims.filter((d) => d !== -1);
      check(dims.every((d) => d === -1 || (Number.isInteger(d) && d >= 0)) && dims.length - known.length <= 1, 'E_FORMAT', () => `onnx: ${where}: bad Reshape shape [${shape.join(', ')}]`);
      const total = x.data.length;
      const p = prod(known);
      if (dims.includes(-1)) {
        check(p > 0 && total % p === 0, 'E_FORMAT', () => `onnx: ${where}: cannot reshape ${total} values to [${shape.join(', ')}]`);
        dims[dims.indexOf(-1)] = total / p;
      }
      check(prod(dims) === total, 'E_FORMAT', () => `onnx: ${where}: cannot reshape ${total} values to [${shape.join(', ')}]`);
      return { dims, data: x.data };
    }
    case 'Transpose': {
      if (!x) return undefined;
      const rank = x.dims.length;
      const perm = attrInts(node, 'perm') ?? x.dims.map((_, i) => rank - 1 - i);
      check(perm.length === rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i), 'E_FORMAT', () => `onnx: ${where}: Transpose perm [${perm.join(', ')}] is not a permutation of rank ${rank}`);
      room(x.data.length);
      return remap(x, perm.map((p) => x.dims[p]!), (_a, i) => i, (a) => perm[a]!);
    }
    case 'Concat': {
      if (ins.some((c) => !c) || ins.length === 0) return undefined;
      const cs = ins as Const[];
      const rank = cs[0]!.dims.length;
      const axis = normAxis(attrInt(node, 'axis', 0), rank, where);
      for (const c of cs) {
        check(c.dims.length === rank && c.dims.every((d, i) => i === axis || d === cs[0]!.dims[i]), 'E_FORMAT', () => `onnx: ${where}: Concat inputs of incompatible dims`);
      }
      const dims = [...cs[0]!.dims];
      dims[axis] = cs.reduce((s, c) => s + c.dims[axis]!, 0);
      const n = prod(dims);
      check(n <= MAX_ONNX_TENSOR, 'E_LIMIT', () => `onnx: ${where}: Concat result too large`);
      room(n);
      const outer = prod(dims.slice(0, axis));
      const out = new Float64Array(n);
      let o = 0;
      for (let r = 0; r < outer; r++) {
        for (const c of cs) {
          const chunk = c.data.length / Math.max(outer, 1);
          out.set(c.data.subarray(r * chunk, (r + 1) * chunk), o);
          o += chunk;
        }
      }
      return { dims, data: out };
    }
    case 'Slice': {
      if (!x || !ins[1] || !ins[2]) return undefined;
      const rank = x.dims.length;
      const starts = Array.from(ins[1].data);
      const ends = Array.from(ins[2].data);
      const axes = ins[3] ? Array.from(ins[3].data) : starts.map((_, i) => i);
      const steps = ins[4] ? Array.from(ins[4].data) : starts.map(() => 1);
      check(ends.length === starts.length && axes.length === starts.length && steps.length === starts.length, 'E_FORMAT', () => `onnx: ${where}: Slice inputs of different lengths`);
      const st = x.dims.map(() => 0);
      const sp = x.dims.map(() => 1);
      const dims = [...x.dims];
      starts.forEach((s0, k) => {
        const a = normAxis(axes[k]!, rank, where);
        const d = x.dims[a]!;
        const step = steps[k]!;
        check(Number.isInteger(step) && step !== 0, 'E_FORMAT', () => `onnx: ${where}: Slice step must be a nonzero integer`);
        const clampIdx = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
        let s: number;
        let e: number;
        if (step > 0) {
          s = clampIdx(s0, 0, d);
          e = clampIdx(ends[k]!, 0, d);
          dims[a] = Math.max(0, Math.ceil((e - s) / step));
        } else {
          s = clampIdx(s0, -1, d - 1);
          e = clampIdx(ends[k]!, -1, d - 1);
          dims[a] = Math.max(0, Math.ceil((s - e) / -step));
        }
        st[a] = s;
        sp[a] = step;
      });
      room(prod(dims));
      return remap(x, dims, (a, i) => st[a]! + i * sp[a]!, (a) => a);
    }
    default:
      return undefined;
  }
}

const RECURRENT_DEFAULT_ACTS: Record<string, string[]> = { GRU: ['sigmoid', 'tanh'], LSTM: ['sigmoid', 'tanh', 'tanh'] };

/** Activation functions that take alpha / beta (ONNX RNN operators consume activation_alpha / _beta in order, for those only). */
const TAKES_ALPHA = new Set(['affine', 'leakyrelu', 'thresholdedrelu', 'scaledtanh', 'hardsigmoid', 'elu']);
const TAKES_BETA = new Set(['affine', 'scaledtanh', 'hardsigmoid']);

/**
 * The node's `activations` (with activation_alpha / activation_beta consumed in order by the
 * functions that take them, as onnxruntime does), or undefined when they are the defaults.
 */
function onnxActivations(n: INode, op: 'GRU' | 'LSTM', where: string): GateActivation[] | undefined {
  const names = attrStrings(n, 'activations');
  if (!names) return undefined;
  const G = op === 'GRU' ? 2 : 3;
  check(names.length === G, 'E_UNSUPPORTED', () => `onnx: ${where}: ${names.length} activations; a forward ${op} takes ${G} (${RECURRENT_DEFAULT_ACTS[op]!.join(', ')})`);
  const alphas = (attr(n, 'activation_alpha')?.floats ?? []).map(Number);
  const betas = (attr(n, 'activation_beta')?.floats ?? []).map(Number);
  let ai = 0;
  let bi = 0;
  const acts = names.map((raw): GateActivation => {
    const key = raw.toLowerCase();
    const def = ONNX_ACTIVATIONS[key];
    check(def !== undefined, 'E_UNSUPPORTED', () => `onnx: ${where}: activation ${raw.slice(0, 30)} is not supported (expected one of ${Object.values(ONNX_NAME).join(', ')})`);
    const a: GateActivation = { name: def.name };
    if (TAKES_ALPHA.has(key)) a.alpha = ai < alphas.length ? alphas[ai++]! : def.alpha!;
    if (TAKES_BETA.has(key)) a.beta = bi < betas.length ? betas[bi++]! : def.beta!;
    return a;
  });
  const isDefault = acts.every((a, i) => a.name === RECURRENT_DEFAULT_ACTS[op]![i]);
  return isDefault ? undefined : acts;
}
/** Operators that only move axes (batch, direction) on the input-to-output path of accepted graphs. */
const LAYOUT_OPS = new Set(['Identity', 'Squeeze', 'Unsqueeze', 'Transpose', 'Reshape', 'Flatten', 'Cast', 'Dropout', 'Slice']);

export interface OnnxImportOptions {
  /** Model name (default: the graph's name, else 'onnx'). */
  name?: string;
}

/** Operators of quantised ONNX graphs (QDQ and QOperator forms). */
const QUANTISED_OPS = new Set(['DequantizeLinear', 'QuantizeLinear', 'DynamicQuantizeLinear', 'QLinearMatMul', 'MatMulInteger', 'QLinearConv', 'ConvInteger']);

/**
 * Build a Model from ONNX bytes.
 *
 * @example const model = importOnnx(new Uint8Array(await readFile('gru.onnx')));
 */
export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): Model {
  bytes = asBytes(bytes, 'onnx');
  const proto = decodeOnnx(bytes);
  const g = proto.graph;
  check(g && (g.node?.length ?? 0) > 0, 'E_FORMAT', () => 'onnx: the model has no graph or its graph has no nodes');
  const nodes = g.node ?? [];
  check(nodes.length <= 100_000, 'E_LIMIT', () => `onnx: ${nodes.length} nodes exceed the limit of 100000`);
  // A quantised graph (exportOnnx weights 'int8', onnxruntime's quantiser) failed further on as
  // "MatMul must combine the signal with one constant, found 2 computed inputs".
  const qdq = nodes.find((n) => QUANTISED_OPS.has(n.opType ?? ''));
  check(qdq === undefined, 'E_UNSUPPORTED', () => `onnx: operator ${qdq!.opType}${qdq!.name ? ` (${qdq!.name})` : ''}: a quantised (QDQ) graph; deltakit imports float graphs (export with float weights, then run int8 with createSession(model, { weights: 'int8' }))`);

  // Constants: initializers first, then fold in graph (topological) order.
  const consts = new Map<string, Const>();
  for (const t of g.initializer ?? []) {
    // Two initializers of one name: which one a runtime uses is unspecified (onnx.checker refuses
    // the graph), so neither is picked here.
    check(!consts.has(t.name ?? ''), 'E_FORMAT', () => `onnx: initializer ${JSON.stringify(t.name ?? '').slice(0, 80)} is defined twice (expected unique names)`);
    consts.set(t.name ?? '', tensorValues(t, `initializer ${t.name}`));
  }
  const producer = new Map<string, INode>();
  // Folding can create values (Concat of one constant many times); a budget proportional to the
  // file keeps a small hostile file from making us allocate gigabytes. Real exports fold each
  // weight through a few Slice/Concat/Transpose steps, far below it.
  const foldBudget = 16 * bytes.length + (1 << 20);
  let folded = 0;
  nodes.forEach((node, i) => {
    for (const o of node.output ?? []) if (o) producer.set(o, node);
    const ins = (node.input ?? []).map((n) => (n ? consts.get(n) : undefined));
    const allConst = (node.input ?? []).every((n) => n === '' || consts.has(n));
    if (!allConst) return;
    const where = `node ${i} (${node.opType}${node.name ? ` ${node.name}` : ''})`;
    const v = foldNode(node, ins, where, foldBudget - folded);
    if (v && node.output?.[0]) {
      folded += v.data.length;
      check(folded <= foldBudget, 'E_LIMIT', () => `onnx: ${where}: constant folding would create more than ${foldBudget} values for a ${bytes.length}-byte file`);
      consts.set(node.output[0], v);
    }
  });

  const inputs = (g.input ?? []).map((v) => v.name ?? '').filter((n) => !consts.has(n));
  check(inputs.length >= 1, 'E_UNSUPPORTED', () => 'onnx: the graph has no input (expected the frames)');
  const inputSet = new Set(inputs);
  const output = g.output?.[0]?.name;
  check(output, 'E_FORMAT', () => 'onnx: the graph has no output');

  /** True when a tensor is known to be all zeros (initial states: Expand of a zero constant). */
  const knownZero = (name: string, depth = 0): boolean => {
    const c = consts.get(name);
    if (c) return c.data.every((v) => v === 0);
    const n = producer.get(name);
    if (!n || depth > 32) return false;
    if (n.opType === 'ConstantOfShape') {
      const a = attr(n, 'value');
      return !a || tensorValues(a.t ?? {}, 'ConstantOfShape value').data.every((v) => v === 0);
    }
    if (n.opType === 'Expand' || LAYOUT_OPS.has(n.opType ?? '')) return knownZero(n.input?.[0] ?? '', depth + 1);
    return false;
  };
  const constOf = (name: string | undefined, what: string): Const => {
    const c = name ? consts.get(name) : undefined;
    return c ?? fail('E_UNSUPPORTED', `onnx: ${what} must be a constant (initializer or foldable Constant), found ${name ? `computed tensor ${name}` : 'nothing'}`);
  };

  // Walk from the output back to the input, collecting the compute nodes.
  const chain: INode[] = [];
  let cur: string = output;
  for (let guard = 0; !inputSet.has(cur); guard++) {
    check(guard <= nodes.length, 'E_FORMAT', () => 'onnx: the graph has a cycle');
    const n = producer.get(cur);
    check(n !== undefined, 'E_FORMAT', () => `onnx: the output does not depend on the input (${cur} has no producer)`);
    const op = n.opType ?? '';
    const ins = n.input ?? [];
    const dynamic = ins.filter((x) => x !== '' && !consts.has(x));
    if (LAYOUT_OPS.has(op)) {
      cur = ins[0] ?? '';
    } else if (op === 'GRU' || op === 'LSTM' || op === 'Gemm' || op === 'Relu' || op === 'Tanh') {
      if (op === 'LSTM') check(n.output?.[2] !== cur, 'E_UNSUPPORTED', () => 'onnx: the graph outputs an LSTM cell state; deltakit outputs h');
      chain.push(n);
      cur = ins[0] ?? '';
    } else if (op === 'MatMul' || op === 'Add') {
      check(dynamic.length === 1, 'E_UNSUPPORTED', () => `onnx: ${op} ${n.name ?? ''} must combine the signal with one constant, found ${dynamic.length} computed inputs`);
      if (op === 'MatMul') check(ins[1] !== dynamic[0], 'E_UNSUPPORTED', () => `onnx: MatMul ${n.name ?? ''} multiplies a constant by the signal (W x); expected the signal first (x W)`);
      chain.push(n);
      cur = dynamic[0]!;
    } else {
      fail('E_UNSUPPORTED', `onnx: operator ${op.slice(0, 40)} on the path from input to output is not supported (expected GRU, LSTM, Gemm, MatMul, Add, Relu, Tanh and layout operators)`);
    }
  }
  chain.reverse();
  const frames = cur;

  // Other graph inputs are accepted only as initial states (h0, c0 of forward(x, h0)): a session
  // carries its own state and starts from zero, so they are treated as zeros. Anything else they
  // feed is rejected.
  const stateInputs = inputs.filter((n) => n !== frames);
  const stateDerived = new Set(stateInputs);
  for (const n of nodes) {
    const ins = n.input ?? [];
    const touched = ins.map((x, j) => [x, j] as const).filter(([x]) => stateDerived.has(x));
    if (touched.length === 0) continue;
    const op = n.opType ?? '';
    if (op === 'Shape') continue;
    if ((LAYOUT_OPS.has(op) || op === 'Gather' || op === 'Split') && touched.every(([, j]) => j === 0)) {
      for (const o of n.output ?? []) stateDerived.add(o);
      continue;
    }
    // initial_h, initial_c, and sequence_lens (a stream has no padding to mask).
    if ((op === 'GRU' || op === 'LSTM') && touched.every(([, j]) => j === 4 || j === 5 || j === 6)) continue;
    fail('E_UNSUPPORTED', `onnx: graph input ${touched[0]![0]} feeds ${op.slice(0, 40)}; besides the frames (${frames}), only initial-state and sequence_lens inputs of GRU/LSTM are supported`);
  }
  const initialState = (name: string): boolean => stateDerived.has(name) || knownZero(name);
  check(chain.length > 0, 'E_UNSUPPORTED', () => 'onnx: no GRU, LSTM, Gemm or MatMul between input and output');

  const layers: Layer[] = [];
  for (let i = 0; i < chain.length; i++) {
    const n = chain[i]!;
    const where = `${n.opType} ${n.name ?? ''}`.trim();
    switch (n.opType) {
      case 'GRU':
      case 'LSTM':
        layers.push(recurrentLayer(n, where, constOf, knownZero, initialState));
        break;
      case 'Gemm': {
        check(attrInt(n, 'transA', 0) === 0, 'E_UNSUPPORTED', () => `onnx: ${where}: transA = 1 (transposed signal) is not supported`);
        const alpha = attrFloat(n, 'alpha', 1);
        const beta = attrFloat(n, 'beta', 1);
        const B = constOf(n.input?.[1], `${where} B`);
        check(B.dims.length === 2, 'E_SHAPE', () => `onnx: ${where}: B must be 2-D, found [${B.dims.join(', ')}]`);
        const transB = attrInt(n, 'transB', 0) === 1;
        const [O, I] = transB ? B.dims as [number, number] : [B.dims[1]!, B.dims[0]!];
        const w = new Float32Array(O * I);
        for (let o = 0; o < O; o++) for (let k = 0; k < I; k++) w[o * I + k] = alpha * B.data[transB ? o * I + k : k * O + o]!;
        const b = new Float32Array(O);
        if (n.input?.[2]) addBias(b, constOf(n.input[2], `${where} C`), beta, where);
        layers.push({ kind: 'linear', inputSize: I, outputSize: O, weight: w, bias: b, activation: 'none' });
        break;
      }
      case 'MatMul': {
        const B = constOf(n.input?.[1], `${where} B`);
        check(B.dims.length === 2, 'E_SHAPE', () => `onnx: ${where}: the weight must be 2-D (I, O), found [${B.dims.join(', ')}]`);
        const [I, O] = B.dims as [number, number];
        const w = new Float32Array(O * I);
        for (let o = 0; o < O; o++) for (let k = 0; k < I; k++) w[o * I + k] = B.data[k * O + o]!;
        const b = new Float32Array(O);
        const next = chain[i + 1];
        if (next?.opType === 'Add') {
          const cname = (next.input ?? []).find((x) => x !== '' && consts.has(x));
          addBias(b, constOf(cname, `${where} bias`), 1, `${next.opType} ${next.name ?? ''}`);
          i++;
        }
        layers.push({ kind: 'linear', inputSize: I, outputSize: O, weight: w, bias: b, activation: 'none' });
        break;
      }
      case 'Add':
        fail('E_UNSUPPORTED', `onnx: ${where}: an Add that does not follow a MatMul is not supported`);
        break;
      case 'Relu':
      case 'Tanh': {
        const prev = layers[layers.length - 1];
        check(prev?.kind === 'linear' && prev.activation === 'none', 'E_UNSUPPORTED', () => `onnx: ${where}: ${n.opType} is supported only right after a Gemm or MatMul readout`);
        (prev as LinearLayer).activation = n.opType === 'Relu' ? 'relu' : 'tanh';
        break;
      }
    }
  }
  const opset = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const meta: Record<string, string> = { source: 'onnx' };
  if (proto.producerName) meta.producer = `${proto.producerName} ${proto.producerVersion ?? ''}`.trim();
  if (opset) meta.opset = String(toNum(opset.version));
  if (stateInputs.length) meta.stateInputs = `${stateInputs.join(', ')} (sessions start from zero state)`;
  const model: Model = { name: opts.name ?? (g.name || 'onnx'), layers, meta };
  validateModel(model);
  return model;
}

/** b += scale * C, C broadcastable to (O): dims [], [1], [O], [1, O], [1, 1, O]... */
function addBias(b: Float32Array, c: Const, scale: number, where: string): void {
  const O = b.length;
  const n = c.data.length;
  check(n === 1 || (n === O && c.dims[c.dims.length - 1] === O), 'E_SHAPE', () => `onnx: ${where}: bias of dims [${c.dims.join(', ')}] does not broadcast to (${O})`);
  for (let o = 0; o < O; o++) b[o] = b[o]! + scale * c.data[n === 1 ? 0 : o]!;
}

/** Our block k takes ONNX block order[k]: GRU z,r,h -> r,z,n; LSTM i,o,f,c -> i,f,g,o. */
const GATE_ORDER: Record<string, number[]> = { GRU: [1, 0, 2], LSTM: [0, 2, 3, 1] };

function reorderRows(src: Float64Array, offset: number, H: number, cols: number, order: number[]): Float32Array {
  const out = new Float32Array(order.length * H * cols);
  order.forEach((from, to) => {
    for (let r = 0; r < H * cols; r++) out[to * H * cols + r] = src[offset + from * H * cols + r]!;
  });
  return out;
}

function recurrentLayer(
  n: INode,
  where: string,
  constOf: (name: string | undefined, what: string) => Const,
  knownZero: (name: string) => boolean,
  initialState: (name: string) => boolean,
): Layer {
  const op = n.opType as 'GRU' | 'LSTM';
  const G = op === 'GRU' ? 3 : 4;
  const ins = n.input ?? [];
  const dir = attrString(n, 'direction') ?? 'forward';
  check(dir === 'forward', 'E_UNSUPPORTED', () => `onnx: ${where}: direction ${dir.slice(0, 20)} cannot stream: it needs the end of the sequence before the first output; expected direction forward`);
  const activations = onnxActivations(n, op, where);
  const clipAttr = attr(n, 'clip');
  const clip = clipAttr ? attrFloat(n, 'clip', 0) : undefined;
  check(clip === undefined || (Number.isFinite(clip) && clip > 0), 'E_FORMAT', () => `onnx: ${where}: clip must be a positive number, found ${clip}`);
  const acts = { ...(activations ? { activations } : {}), ...(clip !== undefined ? { clip } : {}) };
  const layout = attrInt(n, 'layout', 0);
  // Batch 1: (seq, 1, I) and (1, seq, I) hold the same values; the layout ops around are skipped.
  check(layout === 0 || layout === 1, 'E_FORMAT', () => `onnx: ${where}: layout must be 0 or 1, found ${layout}`);
  let resetAfter = true;
  let peephole: Float32Array | undefined;
  if (op === 'GRU') {
    const lbr = attrInt(n, 'linear_before_reset', 0);
    check(lbr === 0 || lbr === 1, 'E_FORMAT', () => `onnx: ${where}: linear_before_reset must be 0 or 1, found ${lbr}`);
    resetAfter = lbr === 1;
  } else {
    check(attrInt(n, 'input_forget', 0) === 0, 'E_UNSUPPORTED', () => `onnx: ${where}: input_forget = 1 (coupled input and forget gates) is not supported`);
    if (ins[7] && !knownZero(ins[7])) {
      const P = constOf(ins[7], `${where} P`);
      const H0 = attrInt(n, 'hidden_size', 0);
      check(P.data.length === 3 * H0 && P.dims[P.dims.length - 1] === 3 * H0, 'E_SHAPE', () => `onnx: ${where}: P must be (1, ${3 * H0}), found [${P.dims.join(', ')}]`);
      peephole = reorderRows(P.data, 0, H0, 1, [0, 2, 1]); // ONNX i, o, f -> ours i, f, o
    }
  }
  // initial_h / initial_c: zero, a graph input fed back by the caller (sessions start from zero),
  // or a constant, which becomes the layer's state after reset.
  const H0 = attrInt(n, 'hidden_size', 0);
  const initial = (k: number, what: string): Float32Array | undefined => {
    const nm = ins[k];
    if (!nm || initialState(nm)) return undefined;
    const c = constOf(nm, `${where} ${what} (a nonzero initial state)`);
    check(c.data.length === H0, 'E_UNSUPPORTED', () => `onnx: ${where}: ${what} holds ${c.data.length} values; a stream has batch 1 and one direction, expected hidden_size = ${H0}`);
    return Float32Array.from(c.data);
  };
  const initialH = initial(5, 'initial_h');
  const initialC = op === 'LSTM' ? initial(6, 'initial_c') : undefined;
  const init = initialH || initialC ? { initialH: initialH ?? new Float32Array(H0), ...(op === 'LSTM' ? { initialC: initialC ?? new Float32Array(H0) } : {}) } : {};
  // sequence_lens (input 4) only masks padded batch entries; a stream has no padding.
  const W = constOf(ins[1], `${where} W`);
  const R = constOf(ins[2], `${where} R`);
  check(W.dims.length === 3 && R.dims.length === 3, 'E_SHAPE', () => `onnx: ${where}: W and R must be 3-D, found [${W.dims.join(', ')}] and [${R.dims.join(', ')}]`);
  check(W.dims[0] === 1 && R.dims[0] === 1, 'E_UNSUPPORTED', () => `onnx: ${where}: ${W.dims[0]} directions; only one (forward) is supported`);
  const H = R.dims[2]!;
  const hs = attrInt(n, 'hidden_size', H);
  check(H > 0 && hs === H && R.dims[1] === G * H && W.dims[1] === G * H, 'E_SHAPE', () => `onnx: ${where}: expected W (1, ${G}H, I) and R (1, ${G}H, H) with H = hidden_size ${hs}, found [${W.dims.join(', ')}] and [${R.dims.join(', ')}]`);
  const I = W.dims[2]!;
  const order = GATE_ORDER[op]!;
  let biasIh: Float32Array = new Float32Array(G * H);
  let biasHh: Float32Array = new Float32Array(G * H);
  if (ins[3]) {
    const B = constOf(ins[3], `${where} B`);
    check(B.data.length === 2 * G * H && B.dims[B.dims.length - 1] === 2 * G * H, 'E_SHAPE', () => `onnx: ${where}: B must be (1, ${2 * G * H}), found [${B.dims.join(', ')}]`);
    biasIh = reorderRows(B.data, 0, H, 1, order);
    biasHh = reorderRows(B.data, G * H, H, 1, order);
  }
  const weights = { inputSize: I, hiddenSize: H, weightIh: reorderRows(W.data, 0, H, I, order), weightHh: reorderRows(R.data, 0, H, H, order), biasIh, biasHh };
  if (op === 'GRU') return { kind: 'gru', ...weights, ...(resetAfter ? {} : { resetAfter: false }), ...acts, ...init };
  check(!peephole || peephole.length === 3 * H, 'E_SHAPE', () => `onnx: ${where}: P must hold 3 * hidden_size = ${3 * H} values, found ${peephole!.length}`);
  return { kind: 'lstm', ...weights, ...(peephole ? { peephole } : {}), ...acts, ...init };
}

