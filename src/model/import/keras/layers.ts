/**
 * Keras layer configs + weights -> deltakit layers. Shared by the Keras 3 `.keras`, Keras 2 `.h5` and
 * TensorFlow.js layers-model importers: they differ only in where the config and the weights are.
 *
 * Keras' documented weight layout: kernel (I, G*H), recurrent_kernel (H, G*H), gate columns z, r, h
 * (GRU) and i, f, c, o (LSTM); GRU bias (3H) or, with reset_after, (2, 3H) = [input; recurrent].
 *   GRU reset_after=True  -> our reset-after GRU (the PyTorch form): b_ih = bias[0], b_hh = bias[1]
 *   GRU reset_after=False -> our reset-before GRU: b_ih = bias, b_hh = 0 (both sit inside the tanh)
 *   LSTM                  -> our LSTM, b_ih = bias, b_hh = 0 (same gate order i, f, g(=c), o)
 *   SimpleRNN             -> a GRU whose reset gate is pinned open and update gate pinned shut
 *                            (zero weights, biases +-88: sigmoid(88) rounds to 1, sigmoid(-88) is
 *                            6e-39), so n = tanh(W x + b + U h) = h'. deltakit has no Elman cell; this
 *                            is exact to ~1e-38 and costs 3x the multiply-accumulates of one.
 *   Dense                 -> linear, activation linear/relu/tanh
 * activation / recurrent_activation other than tanh / sigmoid (hard_sigmoid, TensorFlow.js' default;
 * relu, linear, softsign, softplus, elu) become the layer's `activations` (src/cells/activation.ts).
 * Refused with E_UNSUPPORTED naming them: go_backwards and Bidirectional (cannot stream), other
 * activations, Dense activations other than linear/relu/tanh (e.g. softmax), return_sequences=False before
 * another recurrent layer, branching functional graphs, and any other layer class.
 */
import { check, fail } from '../../../core/errors.js';
import type { Activation, Layer, Model } from '../../types.js';
import { validateModel } from '../../types.js';
import { GATE_ORDER, kerasKernelToRows } from '../gates.js';
import type { GateActivation } from '../../../cells/activation.js';

/** One stored weight of a layer; `name` ends in kernel / recurrent_kernel / bias when the format keeps names. */
export interface KerasTensor {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
}

/** The weights of a layer by its name, in Keras' order (kernel, recurrent_kernel, bias), or undefined. */
export type KerasWeightsOf = (layerName: string) => KerasTensor[] | undefined;

interface LayerEntry {
  className: string;
  config: Record<string, unknown>;
  inbound: string[];
}

/** Layers that compute nothing at inference time. */
const IDENTITY_LAYERS = new Set(['InputLayer', 'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']);
const DENSE_ACTS: Record<string, Activation> = { linear: 'none', relu: 'relu', tanh: 'tanh' };
/** SimpleRNN as a GRU: the pinned gates' bias (see the header). */
const PINNED = 88;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Names of the layers feeding a functional layer (Keras 2 nested arrays or Keras 3 keras_history). */
function inboundNames(nodes: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 12) return;
    if (Array.isArray(v)) {
      // Keras 2: [name, nodeIndex, tensorIndex, kwargs]
      if (typeof v[0] === 'string' && typeof v[1] === 'number') out.push(v[0]);
      else for (const x of v) walk(x, depth + 1);
    } else if (isObj(v)) {
      if (Array.isArray(v.keras_history) && typeof v.keras_history[0] === 'string') out.push(v.keras_history[0]);
      else for (const x of Object.values(v)) walk(x, depth + 1);
    }
  };
  walk(nodes, 0);
  return out;
}

/** The model's layers in order, from a Sequential or a chain-shaped Functional config. */
function layerEntries(modelConfig: unknown, where: string): LayerEntry[] {
  check(isObj(modelConfig), 'E_FORMAT', () => `${where}: expected the model config to be a JSON object, found ${Array.isArray(modelConfig) ? 'an array' : typeof modelConfig}`);
  const cls = modelConfig.class_name;
  const cfg = modelConfig.config;
  let raw: unknown;
  if (cls === 'Sequential') raw = isObj(cfg) ? cfg.layers : cfg; // Keras < 2.2.3 stored the list itself
  else if (cls === 'Functional' || cls === 'Model') raw = isObj(cfg) ? cfg.layers : undefined;
  else return fail('E_UNSUPPORTED', `${where}: model class ${JSON.stringify(cls)?.slice(0, 40)} is not supported (expected Sequential or Functional)`);
  check(Array.isArray(raw) && raw.length > 0, 'E_FORMAT', () => `${where}: expected a non-empty list of layers in the model config`);
  check(raw.length <= 1000, 'E_LIMIT', () => `${where}: ${raw.length} layers exceed the limit of 1000`);
  const entries = raw.map((l, k): LayerEntry => {
    check(isObj(l) && typeof l.class_name === 'string' && isObj(l.config), 'E_FORMAT', () => `${where}: layer ${k}: expected {class_name, config}`);
    return { className: l.class_name, config: l.config, inbound: cls === 'Sequential' ? [] : inboundNames(l.inbound_nodes) };
  });
  if (cls !== 'Sequential') {
    entries.forEach((e, k) => {
      if (k === 0) return;
      const prev = String(entries[k - 1]!.config.name);
      check(e.inbound.length === 1 && e.inbound[0] === prev, 'E_UNSUPPORTED', () => `${where}: layer ${String(e.config.name)} takes [${e.inbound.join(', ')}]; only a chain of layers (each fed by the one before) streams, expected [${prev}]`);
    });
  }
  return entries;
}

/** Pick kernel / recurrent_kernel / bias from a layer's weights, by name where names exist, else by position. */
function roles(ts: KerasTensor[], recurrent: boolean): { kernel?: KerasTensor; recurrent?: KerasTensor; bias?: KerasTensor } {
  const base = (t: KerasTensor) => t.name.replace(/:\d+$/, '').split('/').pop() ?? '';
  const byName = ts.every((t) => ['kernel', 'recurrent_kernel', 'bias'].includes(base(t)));
  if (byName) {
    return { kernel: ts.find((t) => base(t) === 'kernel'), recurrent: ts.find((t) => base(t) === 'recurrent_kernel'), bias: ts.find((t) => base(t) === 'bias') };
  }
  return recurrent ? { kernel: ts[0], recurrent: ts[1], bias: ts[2] } : { kernel: ts[0], bias: ts[1] };
}

function expectShape(t: KerasTensor | undefined, shape: number[], what: string): ArrayLike<number> {
  check(t !== undefined, 'E_SHAPE', () => `${what}: expected a weight of shape [${shape.join(', ')}], found none`);
  const n = shape.reduce((a, b) => a * b, 1);
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  check(same && t.data.length === n, 'E_SHAPE', () => `${what}: expected shape [${shape.join(', ')}], found [${t.shape.join(', ')}] (${t.data.length} values)`);
  return t.data;
}

/**
 * A Keras / TensorFlow.js activation name as a cell activation. `hard_sigmoid` is
 * clip(slope x + 0.5, 0, 1): slope 0.2 in Keras 2 and TensorFlow.js, 1/6 in Keras 3.
 */
function kerasActivation(v: unknown, field: string, where: string, hardSigmoidSlope: number): GateActivation {
  const name = typeof v === 'string' ? v : isObj(v) && typeof v.class_name === 'string' ? v.class_name : String(v);
  switch (name) {
    case 'sigmoid': return { name: 'sigmoid' };
    case 'tanh': return { name: 'tanh' };
    case 'hard_sigmoid':
    case 'hardSigmoid': return { name: 'hard_sigmoid', alpha: hardSigmoidSlope, beta: 0.5 };
    case 'relu': return { name: 'relu' };
    case 'linear': return { name: 'affine', alpha: 1, beta: 0 };
    case 'softsign': return { name: 'softsign' };
    case 'softplus': return { name: 'softplus' };
    case 'elu': return { name: 'elu', alpha: 1 };
    default: return fail('E_UNSUPPORTED', `${where}: ${field} ${name.slice(0, 30)} is not supported (expected sigmoid, tanh, hard_sigmoid, relu, linear, softsign, softplus or elu)`);
  }
}

/** Result of a Keras import: the model and what the user should know about it. */
export interface KerasImport {
  model: Model;
  /** Per-layer notes (GRU variant, SimpleRNN mapping, last-step outputs). */
  notes: string[];
}

/**
 * Build a Model from a Keras model config (the JSON Keras and TensorFlow.js write) and the layers'
 * weights.
 *
 * @example const { model } = modelFromKeras(JSON.parse(cfg), (name) => weightsByLayer.get(name), 'keras');
 */
export function modelFromKeras(modelConfig: unknown, weightsOf: KerasWeightsOf, where: string, name?: string, hardSigmoidSlope = 0.2): KerasImport {
  const entries = layerEntries(modelConfig, where);
  const layers: Layer[] = [];
  const notes: string[] = [];
  let lastStepOnly = false;
  for (const e of entries) {
    const c = e.config;
    const lname = String(c.name ?? `layer${layers.length}`).slice(0, 200);
    const lw = `${where}: layer ${lname} (${e.className})`;
    if (IDENTITY_LAYERS.has(e.className)) continue;
    if (e.className === 'Activation') {
      const act = DENSE_ACTS[String(c.activation)];
      const prev = layers[layers.length - 1];
      check(act !== undefined && prev?.kind === 'linear' && prev.activation === 'none', 'E_UNSUPPORTED', () => `${lw}: activation ${String(c.activation).slice(0, 30)} is supported only as linear/relu/tanh right after a Dense layer without activation`);
      prev.activation = act;
      continue;
    }
    if (e.className === 'Bidirectional') fail('E_UNSUPPORTED', `${lw}: a bidirectional RNN cannot stream (its backward half needs the end of the sequence)`);
    const recurrent = e.className === 'GRU' || e.className === 'LSTM' || e.className === 'SimpleRNN';
    check(recurrent || e.className === 'Dense', 'E_UNSUPPORTED', () => `${lw}: layer class ${e.className.slice(0, 40)} is not supported (expected GRU, LSTM, SimpleRNN, Dense, Activation, Dropout, InputLayer)`);
    const ws = weightsOf(lname) ?? [];
    const useBias = c.use_bias !== false;
    const { kernel, recurrent: rk, bias } = roles(ws, recurrent);
    const I = kernel?.shape[0] ?? 0;
    const H = Number(c.units);
    check(Number.isInteger(H) && H > 0, 'E_FORMAT', () => `${lw}: units must be a positive integer, found ${JSON.stringify(c.units)?.slice(0, 20)}`);
    check(Number.isInteger(I) && I > 0, 'E_SHAPE', () => `${lw}: kernel weight missing or malformed (found ${ws.length} weights)`);
    if (!recurrent) {
      const act = DENSE_ACTS[String(c.activation ?? 'linear')];
      check(act !== undefined, 'E_UNSUPPORTED', () => `${lw}: activation ${String(c.activation).slice(0, 30)} is not supported (expected linear, relu or tanh)`);
      const k = expectShape(kernel, [I, H], `${lw} kernel`);
      const w = new Float32Array(H * I);
      for (let o = 0; o < H; o++) for (let i = 0; i < I; i++) w[o * I + i] = k[i * H + o]!;
      const b = useBias ? Float32Array.from(expectShape(bias, [H], `${lw} bias`)) : new Float32Array(H);
      layers.push({ kind: 'linear', inputSize: I, outputSize: H, weight: w, bias: b, activation: act });
      continue;
    }
    check(!lastStepOnly, 'E_UNSUPPORTED', () => `${lw}: follows a recurrent layer with return_sequences=False; a stream needs every step of it`);
    check(c.go_backwards !== true, 'E_UNSUPPORTED', () => `${lw}: go_backwards=True cannot stream (it needs the end of the sequence)`);
    const act = kerasActivation(c.activation ?? 'tanh', 'activation', lw, hardSigmoidSlope);
    const recAct = e.className === 'SimpleRNN' ? undefined : kerasActivation(c.recurrent_activation ?? 'sigmoid', 'recurrent_activation', lw, hardSigmoidSlope);
    // GRU [f, g] = [recurrent_activation, activation]; LSTM [f, g, h] with g = h = activation.
    const acts = recAct && (recAct.name !== 'sigmoid' || act.name !== 'tanh') ? (e.className === 'GRU' ? [recAct, act] : [recAct, act, act]) : undefined;
    check(e.className !== 'SimpleRNN' || act.name === 'tanh', 'E_UNSUPPORTED', () => `${lw}: SimpleRNN activation ${String(c.activation).slice(0, 30)} is not supported (expected tanh)`);
    if (c.return_sequences === false) {
      lastStepOnly = true;
      notes.push(`${lname}: return_sequences=False; the stream emits every step, the file's output is the last one`);
    }
    const G = e.className === 'GRU' ? 3 : e.className === 'LSTM' ? 4 : 1;
    const k = expectShape(kernel, [I, G * H], `${lw} kernel`);
    const u = expectShape(rk, [H, G * H], `${lw} recurrent_kernel`);
    if (e.className === 'SimpleRNN') {
      const weightIh = new Float32Array(3 * H * I);
      const weightHh = new Float32Array(3 * H * H);
      weightIh.set(kerasKernelToRows(k, I, H, [0]), 2 * H * I);
      weightHh.set(kerasKernelToRows(u, H, H, [0]), 2 * H * H);
      const biasIh = new Float32Array(3 * H);
      biasIh.fill(PINNED, 0, H).fill(-PINNED, H, 2 * H);
      if (useBias) biasIh.set(expectShape(bias, [H], `${lw} bias`), 2 * H);
      layers.push({ kind: 'gru', inputSize: I, hiddenSize: H, weightIh, weightHh, biasIh, biasHh: new Float32Array(3 * H) });
      notes.push(`${lname}: SimpleRNN as an exactly equivalent GRU (reset gate open, update gate shut)`);
      continue;
    }
    const order = e.className === 'GRU' ? GATE_ORDER.kerasGru : GATE_ORDER.kerasLstm;
    const weightIh = kerasKernelToRows(k, I, H, order);
    const weightHh = kerasKernelToRows(u, H, H, order);
    let biasIh: Float32Array = new Float32Array(G * H);
    let biasHh: Float32Array = new Float32Array(G * H);
    if (e.className === 'GRU') {
      // Keras 2.3+ and Keras 3 default to reset_after=True; TensorFlow.js and Keras < 2.3 to False.
      const resetAfter = c.reset_after === undefined ? bias?.shape.length === 2 : c.reset_after === true;
      if (useBias) {
        if (resetAfter) {
          const b = expectShape(bias, [2, 3 * H], `${lw} bias (reset_after=True)`);
          biasIh = kerasKernelToRows(b, 1, H, order);
          biasHh = kerasKernelToRows(Array.prototype.slice.call(b, 3 * H) as number[], 1, H, order);
        } else {
          biasIh = kerasKernelToRows(expectShape(bias, [3 * H], `${lw} bias (reset_after=False)`), 1, H, order);
        }
      }
      layers.push({ kind: 'gru', inputSize: I, hiddenSize: H, weightIh, weightHh, biasIh, biasHh, ...(resetAfter ? {} : { resetAfter: false }), ...(acts ? { activations: acts } : {}) });
      notes.push(`${lname}: GRU reset_after=${resetAfter ? 'True (reset-after, PyTorch form)' : 'False (reset-before)'}`);
    } else {
      if (useBias) biasIh = kerasKernelToRows(expectShape(bias, [4 * H], `${lw} bias`), 1, H, order);
      layers.push({ kind: 'lstm', inputSize: I, hiddenSize: H, weightIh, weightHh, biasIh, biasHh, ...(acts ? { activations: acts } : {}) });
    }
  }
  check(layers.length > 0, 'E_UNSUPPORTED', () => `${where}: no GRU, LSTM, SimpleRNN or Dense layer found`);
  const meta: Record<string, string> = {};
  if (notes.length) meta.importNotes = notes.join('; ');
  if (lastStepOnly) meta.lastStepOnly = 'true';
  const model: Model = { name: name ?? String((isObj(modelConfig) && isObj(modelConfig.config) ? modelConfig.config.name : undefined) ?? 'keras'), layers, meta };
  validateModel(model);
  return { model, notes };
}
