/**
 * Import a PyTorch `state_dict` saved as safetensors (no deltakit metadata): a module holding one
 * nn.GRU or nn.LSTM (any number of layers, any key prefix such as `rnn.` or `encoder.gru.`),
 * optionally followed by one nn.Linear readout (`fc.weight`, `fc.bias`, any prefix).
 *
 * The cell is inferred from the shapes: weight_hh_l0 is (G*H, H), so G = rows / columns is 3 for a
 * GRU and 4 for an LSTM. PyTorch's layout and gate order are deltakit's, so the tensors
 * are used as they are. A state_dict does not record activations: a readout activation (applied
 * in forward()) can be given with `readoutActivation`.
 */
import { check, fail } from '../../core/errors.js';
import { parseSafetensors, type SafeTensor, type SafetensorsFile } from '../safetensors.js';
import { validateModel, type Activation, type Layer, type Model } from '../types.js';

export interface PytorchImportOptions {
  /** Activation applied after the Linear readout in the module's forward (default 'none'). */
  readoutActivation?: Activation;
  /** Model name (default 'pytorch'). */
  name?: string;
}

const RNN_KEY = /^(.*?)(weight|bias)_(ih|hh|hr)_l(\d+)(_reverse)?$/;
const LINEAR_KEY = /^(.*?)(weight|bias)$/;

function shapeStr(t: SafeTensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Build a Model from a PyTorch state_dict of one GRU/LSTM (+ optional Linear).
 *
 * @example
 * const model = importPytorchStateDict(parseSafetensors(bytes)); // keys rnn.weight_ih_l0, ..., fc.weight
 */
export function importPytorchStateDict(input: SafetensorsFile | Uint8Array | ArrayBuffer, opts: PytorchImportOptions = {}): Model {
  // The file's bytes are parsed here (they failed with "file.tensors is not iterable").
  const file = input instanceof Uint8Array || input instanceof ArrayBuffer ? parseSafetensors(input instanceof Uint8Array ? input : new Uint8Array(input)) : input;
  check(file !== null && typeof file === 'object' && file.tensors instanceof Map, 'E_OPTION', () => `pytorch state_dict: expected a safetensors file's bytes or parseSafetensors(bytes), found ${file === null ? 'null' : typeof file}`);
  const rnn = new Map<string, Map<number, Partial<Record<string, SafeTensor>>>>();
  const linear = new Map<string, Partial<Record<'weight' | 'bias', SafeTensor>>>();
  for (const [key, t] of file.tensors) {
    const m = RNN_KEY.exec(key);
    if (m) {
      const [, prefix, wb, which, layer, reverse] = m;
      if (reverse) fail('E_UNSUPPORTED', `pytorch state_dict: ${key} belongs to a bidirectional RNN; streaming inference needs a unidirectional one`);
      if (which === 'hr') fail('E_UNSUPPORTED', `pytorch state_dict: ${key} is an LSTM projection (proj_size > 0), which deltakit does not support`);
      const k = Number(layer);
      check(k < 64, 'E_LIMIT', () => `pytorch state_dict: ${key}: layer index ${k} above the limit of 63`);
      if (!rnn.has(prefix!)) rnn.set(prefix!, new Map());
      const layers = rnn.get(prefix!)!;
      if (!layers.has(k)) layers.set(k, {});
      layers.get(k)![`${wb}_${which}`] = t;
      continue;
    }
    const l = LINEAR_KEY.exec(key);
    if (l && (l[1] === '' || l[1]!.endsWith('.'))) {
      const prefix = l[1]!;
      if (!linear.has(prefix)) linear.set(prefix, {});
      linear.get(prefix)![l[2] as 'weight' | 'bias'] = t;
      continue;
    }
    fail('E_UNSUPPORTED', `pytorch state_dict: unknown key ${key} (expected one nn.GRU/nn.LSTM such as rnn.weight_ih_l0 and optionally one nn.Linear such as fc.weight)`);
  }
  check(rnn.size <= 1, 'E_UNSUPPORTED', () => `pytorch state_dict: expected one nn.GRU or nn.LSTM, found ${rnn.size} (prefixes ${[...rnn.keys()].map((p) => JSON.stringify(p)).join(', ')})`);
  check(linear.size <= 1, 'E_UNSUPPORTED', () => `pytorch state_dict: expected at most one nn.Linear readout, found ${linear.size} (prefixes ${[...linear.keys()].map((p) => JSON.stringify(p)).join(', ')})`);
  check(rnn.size === 1, 'E_UNSUPPORTED', () => 'pytorch state_dict: no nn.GRU or nn.LSTM weights found (keys like rnn.weight_ih_l0)');
  const [prefix, byLayer] = [...rnn.entries()][0]!;

  const layers: Layer[] = [];
  const numLayers = byLayer.size;
  let kind: 'gru' | 'lstm' | null = null;
  let prevOut = -1;
  for (let k = 0; k < numLayers; k++) {
    const p = byLayer.get(k);
    check(p !== undefined, 'E_SHAPE', () => `pytorch state_dict: layers must be numbered 0..${numLayers - 1}; layer ${k} is missing (${prefix}weight_ih_l${k})`);
    const wih = p.weight_ih;
    const whh = p.weight_hh;
    check(wih !== undefined && whh !== undefined, 'E_SHAPE', () => `pytorch state_dict: layer ${k} needs ${prefix}weight_ih_l${k} and ${prefix}weight_hh_l${k}`);
    check(whh.shape.length === 2 && whh.shape[1]! > 0, 'E_SHAPE', () => `pytorch state_dict: ${prefix}weight_hh_l${k} must be 2-D (G*H, H), found ${shapeStr(whh)}`);
    const H = whh.shape[1]!;
    const rows = whh.shape[0]!;
    check(rows % H === 0 && (rows / H === 3 || rows / H === 4), 'E_UNSUPPORTED', () => `pytorch state_dict: ${prefix}weight_hh_l${k} ${shapeStr(whh)}: rows / columns must be 3 (GRU) or 4 (LSTM), found ${rows / H}${rows === H ? ' (a plain nn.RNN is not supported)' : ''}`);
    const thisKind = rows / H === 3 ? 'gru' : 'lstm';
    check(kind === null || kind === thisKind, 'E_SHAPE', () => `pytorch state_dict: layer ${k} looks like ${thisKind} but layer 0 like ${kind}`);
    kind = thisKind;
    check(wih.shape.length === 2 && wih.shape[0] === rows, 'E_SHAPE', () => `pytorch state_dict: ${prefix}weight_ih_l${k} must be (${rows}, I), found ${shapeStr(wih)}`);
    const I = wih.shape[1]!;
    check(prevOut < 0 || I === prevOut, 'E_SHAPE', () => `pytorch state_dict: ${prefix}weight_ih_l${k} has ${I} columns, expected the previous layer's hidden size ${prevOut}`);
    // nn.GRU/nn.LSTM(bias=False) has neither bias; one without the other is a damaged state_dict.
    check((p.bias_ih === undefined) === (p.bias_hh === undefined), 'E_SHAPE', () => `pytorch state_dict: layer ${k} has ${prefix}${p.bias_ih ? 'bias_ih' : 'bias_hh'}_l${k} but not ${prefix}${p.bias_ih ? 'bias_hh' : 'bias_ih'}_l${k} (a bias=False RNN has neither)`);
    const bias = (name: 'bias_ih' | 'bias_hh'): Float32Array => {
      const b = p[name];
      if (b === undefined) return new Float32Array(rows); // bias=False: zeros
      check(b.shape.length === 1 && b.shape[0] === rows, 'E_SHAPE', () => `pytorch state_dict: ${prefix}${name}_l${k} must be (${rows}), found ${shapeStr(b)}`);
      return b.data;
    };
    layers.push({ kind: thisKind, inputSize: I, hiddenSize: H, weightIh: wih.data, weightHh: whh.data, biasIh: bias('bias_ih'), biasHh: bias('bias_hh') });
    prevOut = H;
  }
  const meta: Record<string, string> = { source: 'pytorch-state-dict', rnnPrefix: prefix };
  if (linear.size === 1) {
    const [lp, t] = [...linear.entries()][0]!;
    const w = t.weight;
    check(w !== undefined, 'E_SHAPE', () => `pytorch state_dict: ${lp}bias without ${lp}weight`);
    check(w.shape.length === 2, 'E_SHAPE', () => `pytorch state_dict: ${lp}weight must be 2-D (O, H), found ${shapeStr(w)}`);
    const [O, I] = w.shape as [number, number];
    check(I === prevOut, 'E_SHAPE', () => `pytorch state_dict: ${lp}weight ${shapeStr(w)} takes ${I} inputs, the RNN outputs ${prevOut}`);
    let b: Float32Array = new Float32Array(O);
    if (t.bias) {
      check(t.bias.shape.length === 1 && t.bias.shape[0] === O, 'E_SHAPE', () => `pytorch state_dict: ${lp}bias must be (${O}), found ${shapeStr(t.bias!)}`);
      b = t.bias.data;
    }
    layers.push({ kind: 'linear', inputSize: I, outputSize: O, weight: w.data, bias: b, activation: opts.readoutActivation ?? 'none' });
    meta.readoutPrefix = lp;
  } else {
    check(opts.readoutActivation === undefined || opts.readoutActivation === 'none', 'E_OPTION', () => 'pytorch state_dict: readoutActivation given but the file has no nn.Linear readout');
  }
  const model: Model = { name: opts.name ?? 'pytorch', layers, meta };
  validateModel(model);
  return model;
}
