/**
 * The deltakit model file: a plain .safetensors whose `__metadata__.deltakit` holds the model spec
 * as JSON, with tensors named `layers.{k}.{name}` (names and shapes from `layerTensorShapes`).
 * Any safetensors reader can open it; PyTorch users see ordinary tensors.
 *
 * Spec (format version 1):
 * ```json
 * { "format": "deltakit-model", "version": 1, "name": "kws", "meta": {"source": "..."},
 *   "layers": [ {"kind": "gru", "inputSize": 40, "hiddenSize": 64},
 *               {"kind": "gru", "inputSize": 64, "hiddenSize": 64, "resetAfter": false},
 *               {"kind": "qrnn", "inputSize": 64, "hiddenSize": 64, "window": 2},
 *               {"kind": "linear", "inputSize": 64, "outputSize": 12, "activation": "none"} ] }
 * ```
 */
import { check, fail } from '../core/errors.js';
import { encodeSafetensors, type SafetensorsFile } from './safetensors.js';
import { checkActivations, type GateActivation } from '../cells/activation.js';
import {
  layerTensorShapes,
  layerTensors,
  MAX_LAYER_SIZE,
  MAX_LAYERS,
  validateModel,
  type Activation,
  type Layer,
  type Model,
} from './types.js';

/** The `__metadata__` key holding the spec. */
export const DELTAKIT_METADATA_KEY = 'deltakit';
export const DELTAKIT_FORMAT_VERSION = 1;

/** A layer as the spec describes it: kind and sizes, no weights. */
export interface LayerSpec {
  kind: Layer['kind'];
  inputSize: number;
  hiddenSize?: number;
  outputSize?: number;
  window?: 1 | 2;
  activation?: Activation;
  /** GRU only, written only when false (the reset-before form); absent means reset-after. */
  resetAfter?: false;
  /** LSTM only, written only when true: the layer has a `peephole` tensor (3H). */
  peephole?: true;
  /** GRU / LSTM, written only when not the defaults (src/cells/activation.ts). */
  activations?: GateActivation[];
  clip?: number;
  /** GRU / LSTM, written only when true: tensors initial_h (and, LSTM, initial_c) hold the state after reset. */
  initialState?: true;
}

export interface ModelSpec {
  format: 'deltakit-model';
  version: number;
  name: string;
  meta: Record<string, string>;
  layers: LayerSpec[];
}

/** The spec of a model (what goes into the file's metadata). */
export function modelSpec(model: Model): ModelSpec {
  return {
    format: 'deltakit-model',
    version: DELTAKIT_FORMAT_VERSION,
    name: model.name,
    meta: model.meta,
    layers: model.layers.map((l): LayerSpec => {
      switch (l.kind) {
        case 'linear':
          return { kind: l.kind, inputSize: l.inputSize, outputSize: l.outputSize, activation: l.activation };
        case 'qrnn':
          return { kind: l.kind, inputSize: l.inputSize, hiddenSize: l.hiddenSize, window: l.window };
        case 'gru':
          // resetAfter only when false, so files of the PyTorch form stay byte-identical.
          return { kind: l.kind, inputSize: l.inputSize, hiddenSize: l.hiddenSize, ...(l.resetAfter === false ? { resetAfter: false as const } : {}), ...actSpec(l) };
        case 'lstm':
          return { kind: l.kind, inputSize: l.inputSize, hiddenSize: l.hiddenSize, ...(l.peephole ? { peephole: true as const } : {}), ...actSpec(l) };
        default:
          return { kind: l.kind, inputSize: l.inputSize, hiddenSize: l.hiddenSize };
      }
    }),
  };
}

/** The activations / clip part of a GRU or LSTM spec (absent for the defaults). */
function actSpec(l: { activations?: GateActivation[]; clip?: number; initialH?: unknown; initialState?: unknown }): Pick<LayerSpec, 'activations' | 'clip' | 'initialState'> {
  return {
    ...(l.initialH || l.initialState === true ? { initialState: true as const } : {}),
    ...(l.activations ? { activations: l.activations.map((a) => ({ name: a.name, ...(a.alpha !== undefined ? { alpha: a.alpha } : {}), ...(a.beta !== undefined ? { beta: a.beta } : {}) })) } : {}),
    ...(l.clip !== undefined ? { clip: l.clip } : {}),
  };
}

/** True when a parsed safetensors file carries a deltakit spec. */
export function isDeltakitFile(file: SafetensorsFile): boolean {
  return DELTAKIT_METADATA_KEY in file.metadata;
}

/**
 * Encode a model as deltakit .safetensors bytes (validates it first).
 *
 * @example const bytes = encodeDeltakit(model); await writeFile('m.safetensors', bytes);
 */
export function encodeDeltakit(model: Model): Uint8Array {
  validateModel(model);
  // What parseModelSpec refuses is refused here, so a saved file always loads back (a numeric
  // name or a number in meta was written, then the file was E_FORMAT on load).
  check(model.name === undefined || typeof model.name === 'string', 'E_VALUE', () => `model: name must be a string, found ${typeof model.name} ${String(model.name).slice(0, 40)} (the file would not load back)`);
  const badMeta = model.meta === undefined || model.meta === null ? undefined : typeof model.meta !== 'object' || Array.isArray(model.meta) ? ['(meta itself)', model.meta] : Object.entries(model.meta).find(([, v]) => typeof v !== 'string');
  check(badMeta === undefined, 'E_VALUE', () => `model: meta must map names to strings, found ${badMeta![0]} = ${typeof badMeta![1]} ${String(JSON.stringify(badMeta![1])).slice(0, 40)} (the file would not load back; String() it)`);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  model.layers.forEach((layer, k) => {
    const shapes = layerTensorShapes(layer);
    const data = layerTensors(layer);
    for (const [name, shape] of Object.entries(shapes)) tensors.set(`layers.${k}.${name}`, { shape, data: data[name]! });
  });
  return encodeSafetensors(tensors, { [DELTAKIT_METADATA_KEY]: JSON.stringify(modelSpec(model)) });
}

function sizeField(v: unknown, where: string, field: string): number {
  check(typeof v === 'number' && Number.isInteger(v) && v > 0, 'E_FORMAT', () => `${where}: ${field} must be a positive integer, found ${JSON.stringify(v)}`);
  check(v <= MAX_LAYER_SIZE, 'E_LIMIT', () => `${where}: ${field} at most ${MAX_LAYER_SIZE}, found ${v}`);
  return v;
}

/** Parse and check the spec JSON of a deltakit file. */
export function parseModelSpec(json: string): ModelSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return fail('E_FORMAT', `deltakit spec: __metadata__.${DELTAKIT_METADATA_KEY} is not valid JSON (${(e as Error).message})`);
  }
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), 'E_FORMAT', () => 'deltakit spec: expected a JSON object');
  const s = raw as Record<string, unknown>;
  check(s.format === 'deltakit-model', 'E_FORMAT', () => `deltakit spec: format must be "deltakit-model", found ${JSON.stringify(s.format)}`);
  check(s.version === DELTAKIT_FORMAT_VERSION, 'E_UNSUPPORTED', () => `deltakit spec: format version ${JSON.stringify(s.version)} is not supported (this deltakit reads version ${DELTAKIT_FORMAT_VERSION})`);
  const name = s.name ?? '';
  check(typeof name === 'string', 'E_FORMAT', () => `deltakit spec: name must be a string, found ${typeof name}`);
  const meta = s.meta ?? {};
  check(typeof meta === 'object' && meta !== null && !Array.isArray(meta) && Object.values(meta).every((v) => typeof v === 'string'), 'E_FORMAT', () => 'deltakit spec: meta must be an object of strings');
  check(Array.isArray(s.layers), 'E_FORMAT', () => `deltakit spec: layers must be an array, found ${typeof s.layers}`);
  check(s.layers.length >= 1, 'E_SHAPE', () => 'deltakit spec: expected at least one layer, found none');
  check(s.layers.length <= MAX_LAYERS, 'E_LIMIT', () => `deltakit spec: at most ${MAX_LAYERS} layers, found ${(s.layers as unknown[]).length}`);
  const layers = (s.layers as unknown[]).map((l, k): LayerSpec => {
    const where = `deltakit spec: layer ${k}`;
    check(typeof l === 'object' && l !== null && !Array.isArray(l), 'E_FORMAT', () => `${where}: expected an object`);
    const o = l as Record<string, unknown>;
    const inputSize = sizeField(o.inputSize, where, 'inputSize');
    switch (o.kind) {
      case 'gru': {
        check(o.resetAfter === undefined || typeof o.resetAfter === 'boolean', 'E_FORMAT', () => `${where} (gru): resetAfter must be true or false, found ${JSON.stringify(o.resetAfter)?.slice(0, 40)}`);
        checkActivations('gru', o.activations, o.clip, `${where} (gru)`);
        return { kind: 'gru', inputSize, hiddenSize: sizeField(o.hiddenSize, where, 'hiddenSize'), ...(o.resetAfter === false ? { resetAfter: false as const } : {}), ...actSpec(o as unknown as LayerSpec) };
      }
      case 'lstm':
        check(o.peephole === undefined || typeof o.peephole === 'boolean', 'E_FORMAT', () => `${where} (lstm): peephole must be true or false, found ${JSON.stringify(o.peephole)?.slice(0, 40)}`);
        checkActivations('lstm', o.activations, o.clip, `${where} (lstm)`);
        return { kind: 'lstm', inputSize, hiddenSize: sizeField(o.hiddenSize, where, 'hiddenSize'), ...(o.peephole === true ? { peephole: true as const } : {}), ...actSpec(o as unknown as LayerSpec) };
      case 'sru':
        return { kind: o.kind, inputSize, hiddenSize: sizeField(o.hiddenSize, where, 'hiddenSize') };
      case 'qrnn':
        check(o.window === 1 || o.window === 2, 'E_UNSUPPORTED', () => `${where} (qrnn): window must be 1 or 2, found ${JSON.stringify(o.window)}`);
        return { kind: 'qrnn', inputSize, hiddenSize: sizeField(o.hiddenSize, where, 'hiddenSize'), window: o.window };
      case 'linear': {
        const act = o.activation ?? 'none';
        check(act === 'none' || act === 'relu' || act === 'tanh', 'E_UNSUPPORTED', () => `${where} (linear): activation must be none, relu or tanh, found ${JSON.stringify(act)}`);
        return { kind: 'linear', inputSize, outputSize: sizeField(o.outputSize, where, 'outputSize'), activation: act };
      }
      default:
        return fail('E_UNSUPPORTED', `${where}: unknown layer kind ${JSON.stringify(o.kind)?.slice(0, 40)} (expected gru, lstm, sru, qrnn or linear)`);
    }
  });
  return { format: 'deltakit-model', version: DELTAKIT_FORMAT_VERSION, name, meta: meta as Record<string, string>, layers };
}

const EMPTY = new Float32Array(0);
const DUMMY: Record<string, Float32Array> = { initial_h: EMPTY, initial_c: EMPTY, peephole: EMPTY, weight_ih: EMPTY, weight_hh: EMPTY, bias_ih: EMPTY, bias_hh: EMPTY, weight: EMPTY, bias: EMPTY };

/** Build a layer from its spec and named tensors (shapes already checked). */
function buildLayer(spec: LayerSpec, t: Record<string, Float32Array>): Layer {
  switch (spec.kind) {
    case 'gru':
      return {
        kind: 'gru', inputSize: spec.inputSize, hiddenSize: spec.hiddenSize!, weightIh: t.weight_ih!, weightHh: t.weight_hh!, biasIh: t.bias_ih!, biasHh: t.bias_hh!,
        ...(spec.resetAfter === false ? { resetAfter: false } : {}),
        ...actSpec(spec),
        ...(spec.initialState ? { initialH: t.initial_h ?? EMPTY } : {}),
      };
    case 'lstm':
      return {
        kind: spec.kind, inputSize: spec.inputSize, hiddenSize: spec.hiddenSize!, weightIh: t.weight_ih!, weightHh: t.weight_hh!, biasIh: t.bias_ih!, biasHh: t.bias_hh!,
        ...(spec.peephole ? { peephole: t.peephole ?? EMPTY } : {}),
        ...actSpec(spec),
        ...(spec.initialState ? { initialH: t.initial_h ?? EMPTY, initialC: t.initial_c ?? EMPTY } : {}),
      };
    case 'sru':
      return { kind: 'sru', inputSize: spec.inputSize, hiddenSize: spec.hiddenSize!, weight: t.weight!, bias: t.bias! };
    case 'qrnn':
      return { kind: 'qrnn', inputSize: spec.inputSize, hiddenSize: spec.hiddenSize!, window: spec.window!, weight: t.weight!, bias: t.bias! };
    case 'linear':
      return { kind: 'linear', inputSize: spec.inputSize, outputSize: spec.outputSize!, activation: spec.activation ?? 'none', weight: t.weight!, bias: t.bias! };
  }
}

/**
 * Turn a parsed deltakit .safetensors into a Model: the spec is checked against the tensors (every
 * expected tensor present with its shape, nothing extra), then `validateModel` (sizes chain,
 * weights finite).
 */
export function decodeDeltakit(file: SafetensorsFile): Model {
  const json = file.metadata[DELTAKIT_METADATA_KEY];
  check(json !== undefined, 'E_FORMAT', () => `deltakit file: __metadata__.${DELTAKIT_METADATA_KEY} (the model spec) is missing`);
  const spec = parseModelSpec(json);
  const used = new Set<string>();
  const layers = spec.layers.map((ls, k) => {
    // layerTensorShapes only reads kind and sizes: a weightless stand-in gives the expected shapes.
    const shapes = layerTensorShapes(buildLayer(ls, DUMMY));
    const data: Record<string, Float32Array> = {};
    for (const [name, shape] of Object.entries(shapes)) {
      const key = `layers.${k}.${name}`;
      const t = file.tensors.get(key);
      check(t !== undefined, 'E_SHAPE', () => `deltakit file: layer ${k} (${ls.kind}) expects tensor ${key} of shape [${shape.join(', ')}], not found`);
      check(t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]), 'E_SHAPE', () => `deltakit file: tensor ${key}: expected shape [${shape.join(', ')}] from the spec, found [${t.shape.join(', ')}]`);
      data[name] = t.data;
      used.add(key);
    }
    return buildLayer(ls, data);
  });
  for (const key of file.tensors.keys()) {
    check(used.has(key), 'E_FORMAT', () => `deltakit file: tensor ${key} is not part of the model spec`);
  }
  const model: Model = { name: spec.name, layers, meta: spec.meta };
  validateModel(model);
  return model;
}
