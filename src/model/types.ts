/**
 * The in-memory model: a stack of layers, each holding its weights in PyTorch layout and
 * gate order, so a PyTorch `state_dict` maps onto it without reshuffling.
 *
 * Matrices are row-major Float32Array: `weightIh` of a GRU is (3H, I), row g*H + k is gate g,
 * unit k. Gate orders: GRU r, z, n; LSTM i, f, g, o.
 */
import { check } from '../core/errors.js';
import { checkActivations, type GateActivation } from '../cells/activation.js';

export type Activation = 'none' | 'relu' | 'tanh';

/**
 * GRU. By default the PyTorch form, reset applied after the hidden product;
 * `resetAfter: false` is the reset-before form of ONNX's default, Keras `reset_after=False` and
 * Cho et al. 2014 (see src/cells/gru/definition.ts).
 */
export interface GruLayer {
  kind: 'gru';
  inputSize: number;
  hiddenSize: number;
  /** Absent or true: n = tanh(W_in x + b_in + r (W_hn h + b_hn)). false: n = tanh(W_in x + b_in + W_hn (r h) + b_hn). */
  resetAfter?: boolean;
  /** [f, g] in place of [sigmoid, tanh] (ONNX activations; src/cells/activation.ts). Absent: the defaults. */
  activations?: GateActivation[];
  /** ONNX clip: every activation's input is clipped to [-clip, clip]. Absent: no clipping. */
  clip?: number;
  /** (H) hidden state after reset (ONNX initial_h constant). Absent: zeros. */
  initialH?: Float32Array;
  /** (3H, I) rows r, z, n. */
  weightIh: Float32Array;
  /** (3H, H) rows r, z, n. */
  weightHh: Float32Array;
  /** (3H) */
  biasIh: Float32Array;
  /** (3H) */
  biasHh: Float32Array;
}

/**
 * LSTM, PyTorch form, gates i, f, g, o. Optional peepholes (ONNX input P, Gers & Schmidhuber
 * 2000): i = sigmoid(. + p_i c), f = sigmoid(. + p_f c), o = sigmoid(. + p_o c'), c the previous
 * cell state and c' the new one.
 */
export interface LstmLayer {
  kind: 'lstm';
  inputSize: number;
  hiddenSize: number;
  /** (3H) [p_i | p_f | p_o], absent for the plain LSTM. */
  peephole?: Float32Array;
  /** [f, g, h] in place of [sigmoid, tanh, tanh] (ONNX activations). Absent: the defaults. */
  activations?: GateActivation[];
  /** ONNX clip: every activation's input is clipped to [-clip, clip]. Absent: no clipping. */
  clip?: number;
  /** (H) hidden and cell state after reset (ONNX initial_h / initial_c constants). Absent: zeros. */
  initialH?: Float32Array;
  initialC?: Float32Array;
  /** (4H, I) */
  weightIh: Float32Array;
  /** (4H, H) */
  weightHh: Float32Array;
  /** (4H) */
  biasIh: Float32Array;
  /** (4H) */
  biasHh: Float32Array;
}

/**
 * SRU: xt = W x, f = sigmoid(W_f x + b_f), r = sigmoid(W_r x + b_r),
 * c' = f*c + (1-f)*xt, h = r*tanh(c') + (1-r)*x'; x' = x when I == H, else W_p x.
 */
export interface SruLayer {
  kind: 'sru';
  inputSize: number;
  hiddenSize: number;
  /** (3H, I) rows [W; W_f; W_r] when I == H, (4H, I) rows [W; W_f; W_r; W_p] otherwise. */
  weight: Float32Array;
  /** (2H) [b_f; b_r] */
  bias: Float32Array;
}

/**
 * QRNN, the paper's form: [Z;F;O] = W [x_t; x_{t-1}] + b, Z = tanh, F, O = sigmoid,
 * c = f*c + (1-f)*z, h = o*c. With window 1 the x_{t-1} block is absent.
 */
export interface QrnnLayer {
  kind: 'qrnn';
  inputSize: number;
  hiddenSize: number;
  window: 1 | 2;
  /** (3H, window*I) rows Z, F, O; columns [x_t | x_{t-1}]. */
  weight: Float32Array;
  /** (3H) */
  bias: Float32Array;
}

/** Fully connected layer y = act(W x + b), stackable as an MLP readout head. */
export interface LinearLayer {
  kind: 'linear';
  inputSize: number;
  outputSize: number;
  /** (O, I) */
  weight: Float32Array;
  /** (O) */
  bias: Float32Array;
  activation: Activation;
}

export type RecurrentLayer = GruLayer | LstmLayer | SruLayer | QrnnLayer;
export type Layer = RecurrentLayer | LinearLayer;
export type LayerKind = Layer['kind'];

/** A loaded model. Weights are shared, never copied, by every session created from it. */
export interface Model {
  /** Free-form name (from the file's spec, or the importer). */
  name: string;
  layers: Layer[];
  /** Free-form metadata carried through the file (provenance, training notes). */
  meta: Record<string, string>;
}

/** Rows per unit of a recurrent cell's weight matrices. */
export function gateCount(layer: GruLayer | LstmLayer): number {
  return layer.kind === 'gru' ? 3 : 4;
}

export function layerOutputSize(layer: Layer): number {
  return layer.kind === 'linear' ? layer.outputSize : layer.hiddenSize;
}

export function modelInputSize(model: Model): number {
  return model.layers[0]!.inputSize;
}

export function modelOutputSize(model: Model): number {
  return layerOutputSize(model.layers[model.layers.length - 1]!);
}

/** The tensors a layer owns, with the shape each must have: the single source of truth for
 * file I/O, validation and importers. Names are relative to the layer (`layers.{k}.` prefix in files). */
export function layerTensorShapes(layer: Layer): Record<string, number[]> {
  switch (layer.kind) {
    case 'gru':
    case 'lstm': {
      const g = gateCount(layer) * layer.hiddenSize;
      return {
        weight_ih: [g, layer.inputSize],
        weight_hh: [g, layer.hiddenSize],
        bias_ih: [g],
        bias_hh: [g],
        ...(layer.kind === 'lstm' && layer.peephole ? { peephole: [3 * layer.hiddenSize] } : {}),
        ...(layer.initialH ? { initial_h: [layer.hiddenSize] } : {}),
        ...(layer.kind === 'lstm' && layer.initialC ? { initial_c: [layer.hiddenSize] } : {}),
      };
    }
    case 'sru':
      return {
        weight: [(layer.inputSize === layer.hiddenSize ? 3 : 4) * layer.hiddenSize, layer.inputSize],
        bias: [2 * layer.hiddenSize],
      };
    case 'qrnn':
      return { weight: [3 * layer.hiddenSize, layer.window * layer.inputSize], bias: [3 * layer.hiddenSize] };
    case 'linear':
      return { weight: [layer.outputSize, layer.inputSize], bias: [layer.outputSize] };
  }
}

/** The layer's tensors by their file name (see layerTensorShapes). */
export function layerTensors(layer: Layer): Record<string, Float32Array> {
  switch (layer.kind) {
    case 'gru':
    case 'lstm':
      return {
        weight_ih: layer.weightIh, weight_hh: layer.weightHh, bias_ih: layer.biasIh, bias_hh: layer.biasHh,
        ...(layer.kind === 'lstm' && layer.peephole ? { peephole: layer.peephole } : {}),
        ...(layer.initialH ? { initial_h: layer.initialH } : {}),
        ...(layer.kind === 'lstm' && layer.initialC ? { initial_c: layer.initialC } : {}),
      };
    case 'sru':
    case 'qrnn':
    case 'linear':
      return { weight: layer.weight, bias: layer.bias };
  }
}

/** Hard limits that keep a header from making us allocate absurd amounts. */
export const MAX_LAYER_SIZE = 1 << 16;
export const MAX_LAYERS = 64;

const LAYER_KINDS = ['gru', 'lstm', 'sru', 'qrnn', 'linear'];

/** What a value is, in a message: `null`, `a Promise`, `a string`, `an array`... */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') return 'a Promise (await loadModel(...) first)';
  if (typeof v === 'object') return 'an object';
  return `${typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`}`;
}

/**
 * The shape of a Model object before its sizes are read: an object with a `layers` array of
 * layer objects of known kinds (a Promise, a path string or a layer list passed for a model
 * failed deep inside with a TypeError).
 */
function checkModelObject(model: Model): void {
  check(model !== null && typeof model === 'object' && !Array.isArray(model) && typeof (model as { then?: unknown }).then !== 'function', 'E_SHAPE', () => `model: expected a Model object ({ name, layers, meta }, e.g. from loadModel), found ${describeValue(model)}`);
  check(Array.isArray(model.layers), 'E_SHAPE', () => `model: expected layers to be an array of layers, found ${describeValue(model.layers)}`);
  model.layers.forEach((layer, k) => {
    check(layer !== null && typeof layer === 'object', 'E_SHAPE', () => `layer ${k}: expected a layer object, found ${describeValue(layer)}`);
    check(LAYER_KINDS.includes(layer.kind), 'E_UNSUPPORTED', () => `layer ${k}: kind must be one of ${LAYER_KINDS.join(', ')}, found ${JSON.stringify(String(layer.kind)).slice(0, 40)}`);
  });
}

/**
 * Check a model's structure: sizes are positive integers, consecutive layers connect,
 * every tensor has its shape, and every weight is finite. Throws E_SHAPE / E_VALUE / E_LIMIT.
 */
export function validateModel(model: Model): void {
  checkModelObject(model);
  check(model.layers.length > 0, 'E_SHAPE', () => 'model: expected at least one layer, found none');
  check(model.layers.length <= MAX_LAYERS, 'E_LIMIT', () => `model: expected at most ${MAX_LAYERS} layers, found ${model.layers.length}`);
  let prevOut = -1;
  model.layers.forEach((layer, k) => {
    const sizes: Array<[string, number]> = [['inputSize', layer.inputSize]];
    sizes.push(layer.kind === 'linear' ? ['outputSize', layer.outputSize] : ['hiddenSize', layer.hiddenSize]);
    for (const [name, v] of sizes) {
      check(Number.isInteger(v) && v > 0, 'E_SHAPE', () => `layer ${k} (${layer.kind}): ${name} must be a positive integer, found ${v}`);
      check(v <= MAX_LAYER_SIZE, 'E_LIMIT', () => `layer ${k} (${layer.kind}): ${name} at most ${MAX_LAYER_SIZE}, found ${v}`);
    }
    if (layer.kind === 'qrnn') {
      check(layer.window === 1 || layer.window === 2, 'E_UNSUPPORTED', () => `layer ${k} (qrnn): window must be 1 or 2, found ${layer.window}`);
    }
    if (layer.kind === 'gru' || layer.kind === 'lstm') checkActivations(layer.kind, layer.activations, layer.clip, `layer ${k} (${layer.kind})`);
    if (layer.kind === 'gru') {
      check(layer.resetAfter === undefined || typeof layer.resetAfter === 'boolean', 'E_VALUE', () => `layer ${k} (gru): resetAfter must be a boolean, found ${String(layer.resetAfter)}`);
    }
    if (layer.kind === 'linear') {
      check(['none', 'relu', 'tanh'].includes(layer.activation), 'E_UNSUPPORTED', () => `layer ${k} (linear): activation must be none, relu or tanh, found ${String(layer.activation)}`);
    }
    if (prevOut >= 0) {
      check(layer.inputSize === prevOut, 'E_SHAPE', () => `layer ${k} (${layer.kind}): inputSize must equal the previous layer's output ${prevOut}, found ${layer.inputSize}`);
    }
    prevOut = layerOutputSize(layer);
    const shapes = layerTensorShapes(layer);
    const tensors = layerTensors(layer);
    for (const [name, shape] of Object.entries(shapes)) {
      const t = tensors[name];
      const n = shape.reduce((a, b) => a * b, 1);
      check(t instanceof Float32Array, 'E_SHAPE', () => `layer ${k} (${layer.kind}): tensor ${name} missing`);
      check(t.length === n, 'E_SHAPE', () => `layer ${k} (${layer.kind}): tensor ${name} expected ${n} values (${shape.join('x')}), found ${t.length}`);
      for (let i = 0; i < t.length; i++) {
        check(Number.isFinite(t[i]), 'E_VALUE', () => `layer ${k} (${layer.kind}): tensor ${name} holds a non-finite value ${t[i]} at index ${i}`);
      }
    }
  });
}
