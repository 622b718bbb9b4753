/**
 * Build the ONNX graph of a stack of GRU layers for one streaming step, so onnxruntime runs the
 * very weights deltakit runs: inputs X (1, 1, I) and one h{k} (1, 1, H) per layer; outputs y
 * (the last layer's h) and h{k}_out per layer, fed back as the next step's h{k}.
 *
 * Gate order (SPEC §2): ours r, z, n; ONNX z, r, h. linear_before_reset = 1 is PyTorch's form.
 * B is [Wb; Rb]. Between layers, Y (1, 1, 1, H) is reshaped to (1, 1, H).
 *
 * @example const bytes = gruStepOnnx(model); // Uint8Array, loadable by onnxruntime and importOnnx
 */
import onnxProto from 'onnx-proto';
import type { GruLayer, Model } from '../../src/model/types.js';

const { onnx } = onnxProto;

/** Rows of a (3H, C) matrix reordered from r, z, n to z, r, n. */
function toOnnxGates(w: Float32Array, H: number, C: number): Float32Array {
  const out = new Float32Array(3 * H * C);
  out.set(w.subarray(H * C, 2 * H * C), 0); // z
  out.set(w.subarray(0, H * C), H * C); // r
  out.set(w.subarray(2 * H * C, 3 * H * C), 2 * H * C); // n (ONNX h)
  return out;
}

function tensor(name: string, dims: number[], data: Float32Array | BigInt64Array) {
  const isF = data instanceof Float32Array;
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: isF ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

function valueInfo(name: string, dims: number[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })) }),
      }),
    }),
  });
}

export function gruStepOnnx(model: Model): Uint8Array {
  const layers = model.layers as GruLayer[];
  for (const l of layers) if (l.kind !== 'gru') throw new Error('gruStepOnnx: only GRU stacks');
  const nodes: onnxProto.onnx.INodeProto[] = [];
  const inits: onnxProto.onnx.ITensorProto[] = [];
  const inputs = [valueInfo('X', [1, 1, layers[0]!.inputSize])];
  const outputs: onnxProto.onnx.IValueInfoProto[] = [];
  let x = 'X';
  layers.forEach((l, k) => {
    const H = l.hiddenSize;
    const I = l.inputSize;
    inits.push(tensor(`W${k}`, [1, 3 * H, I], toOnnxGates(l.weightIh, H, I)));
    inits.push(tensor(`R${k}`, [1, 3 * H, H], toOnnxGates(l.weightHh, H, H)));
    const b = new Float32Array(6 * H);
    b.set(toOnnxGates(l.biasIh, H, 1), 0);
    b.set(toOnnxGates(l.biasHh, H, 1), 3 * H);
    inits.push(tensor(`B${k}`, [1, 6 * H], b));
    inputs.push(valueInfo(`h${k}`, [1, 1, H]));
    outputs.push(valueInfo(`h${k}_out`, [1, 1, H]));
    nodes.push(onnx.NodeProto.create({
      opType: 'GRU',
      name: `gru${k}`,
      input: [x, `W${k}`, `R${k}`, `B${k}`, '', `h${k}`],
      output: [`Y${k}`, `h${k}_out`],
      attribute: [
        onnx.AttributeProto.create({ name: 'hidden_size', type: onnx.AttributeProto.AttributeType.INT, i: H }),
        onnx.AttributeProto.create({ name: 'linear_before_reset', type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
      ],
    }));
    if (k < layers.length - 1) {
      inits.push(tensor(`shape${k}`, [3], new BigInt64Array([1n, 1n, BigInt(H)])));
      nodes.push(onnx.NodeProto.create({ opType: 'Reshape', name: `reshape${k}`, input: [`Y${k}`, `shape${k}`], output: [`X${k + 1}`] }));
      x = `X${k + 1}`;
    }
  });
  const graph = onnx.GraphProto.create({ name: model.name || 'gru', node: nodes, initializer: inits, input: inputs, output: outputs });
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'deltakit-bench',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 14 })],
    graph,
  });
  return onnx.ModelProto.encode(proto).finish();
}
