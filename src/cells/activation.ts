/**
 * The activation functions a recurrent cell may use in place of its defaults, as ONNX's RNN
 * operators define them (GRU f, g; LSTM f, g, h), with ONNX's names and default alpha / beta.
 * Keras and TensorFlow.js names map onto them (`hard_sigmoid` is HardSigmoid(0.2, 0.5) in Keras 2
 * and TensorFlow.js, HardSigmoid(1/6, 0.5) in Keras 3).
 *
 * A layer without `activations` uses the defaults (GRU sigmoid, tanh; LSTM sigmoid, tanh, tanh)
 * on the fast paths; a layer with them (or with `clip`) runs the generic path of the js backend
 * and the references, and the engines without it refuse the layer (requireDefaultActivations).
 */
import { check, fail } from '../core/errors.js';
import { sigmoid } from '../core/math.js';

export type ActivationName =
  | 'sigmoid' | 'tanh' | 'relu' | 'hard_sigmoid' | 'affine' | 'leaky_relu' | 'thresholded_relu'
  | 'scaled_tanh' | 'elu' | 'softsign' | 'softplus';

export interface GateActivation {
  name: ActivationName;
  alpha?: number;
  beta?: number;
}

/** ONNX operator name -> ours, with ONNX's default alpha / beta. */
export const ONNX_ACTIVATIONS: Record<string, { name: ActivationName; alpha?: number; beta?: number }> = {
  sigmoid: { name: 'sigmoid' },
  tanh: { name: 'tanh' },
  relu: { name: 'relu' },
  hardsigmoid: { name: 'hard_sigmoid', alpha: 0.2, beta: 0.5 },
  affine: { name: 'affine', alpha: 1, beta: 0 },
  leakyrelu: { name: 'leaky_relu', alpha: 0.01 },
  thresholdedrelu: { name: 'thresholded_relu', alpha: 1 },
  scaledtanh: { name: 'scaled_tanh', alpha: 1, beta: 1 },
  elu: { name: 'elu', alpha: 1 },
  softsign: { name: 'softsign' },
  softplus: { name: 'softplus' },
};

/** Ours -> ONNX operator name. */
export const ONNX_NAME: Record<ActivationName, string> = {
  sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu', hard_sigmoid: 'HardSigmoid', affine: 'Affine', leaky_relu: 'LeakyRelu',
  thresholded_relu: 'ThresholdedRelu', scaled_tanh: 'ScaledTanh', elu: 'Elu', softsign: 'Softsign', softplus: 'Softplus',
};

/** The function of an activation spec, alpha / beta bound (ONNX's definitions). */
export function activationFunction(a: GateActivation): (x: number) => number {
  const al = a.alpha;
  const be = a.beta;
  switch (a.name) {
    case 'sigmoid': return sigmoid;
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x > 0 ? x : 0);
    case 'hard_sigmoid': { const s = al ?? 0.2; const b = be ?? 0.5; return (x) => Math.max(0, Math.min(1, s * x + b)); }
    case 'affine': { const s = al ?? 1; const b = be ?? 0; return (x) => s * x + b; }
    case 'leaky_relu': { const s = al ?? 0.01; return (x) => (x >= 0 ? x : s * x); }
    case 'thresholded_relu': { const t = al ?? 1; return (x) => (x > t ? x : 0); }
    case 'scaled_tanh': { const s = al ?? 1; const b = be ?? 1; return (x) => s * Math.tanh(b * x); }
    case 'elu': { const s = al ?? 1; return (x) => (x >= 0 ? x : s * (Math.exp(x) - 1)); }
    case 'softsign': return (x) => x / (1 + Math.abs(x));
    case 'softplus': return (x) => (x > 30 ? x : Math.log1p(Math.exp(x)));
    default: return fail('E_UNSUPPORTED', `activation ${String((a as { name: unknown }).name).slice(0, 30)} is not supported (expected one of ${Object.keys(ONNX_NAME).join(', ')})`);
  }
}

/** The default activations of a cell: GRU [f, g], LSTM [f, g, h]. */
export function defaultActivations(kind: 'gru' | 'lstm'): GateActivation[] {
  return kind === 'gru' ? [{ name: 'sigmoid' }, { name: 'tanh' }] : [{ name: 'sigmoid' }, { name: 'tanh' }, { name: 'tanh' }];
}

/** Check a layer's activations / clip fields (file spec, importers). Throws E_FORMAT / E_VALUE. */
export function checkActivations(kind: 'gru' | 'lstm', acts: unknown, clip: unknown, where: string): void {
  if (acts !== undefined) {
    const n = kind === 'gru' ? 2 : 3;
    check(Array.isArray(acts) && acts.length === n, 'E_FORMAT', () => `${where}: activations must be a list of ${n} ({name, alpha?, beta?}), found ${JSON.stringify(acts)?.slice(0, 60)}`);
    for (const a of acts as unknown[]) {
      const o = a as Record<string, unknown>;
      check(typeof o === 'object' && o !== null && typeof o.name === 'string' && o.name in ONNX_NAME, 'E_UNSUPPORTED', () => `${where}: activation ${JSON.stringify(o?.name ?? o)?.slice(0, 30)} is not supported (expected one of ${Object.keys(ONNX_NAME).join(', ')})`);
      for (const k of ['alpha', 'beta'] as const) check(o[k] === undefined || (typeof o[k] === 'number' && Number.isFinite(o[k])), 'E_VALUE', () => `${where}: activation ${String(o.name)} ${k} must be a finite number, found ${String(o[k])}`);
    }
  }
  if (clip !== undefined) check(typeof clip === 'number' && Number.isFinite(clip) && clip > 0, 'E_VALUE', () => `${where}: clip must be a positive number, found ${String(clip)}`);
}

/**
 * The functions a cell's step uses, with clip applied to the gate pre-activations: every input of
 * f and g, but not the LSTM's h(c), whose input is the cell state (onnxruntime's LSTM clips the
 * gates only; the operator's text, "applied to the input of activations", leaves it open).
 */
export function cellFunctions(kind: 'gru' | 'lstm', acts: GateActivation[] | undefined, clip: number | undefined): Array<(x: number) => number> {
  const fs = (acts ?? defaultActivations(kind)).map(activationFunction);
  if (clip === undefined) return fs;
  return fs.map((f, i) => (kind === 'lstm' && i === 2 ? f : (x: number) => f(Math.max(-clip, Math.min(clip, x)))));
}

/** True when a layer uses its default activations and no clip (the fast paths). */
export function hasDefaultActivations(layer: { activations?: GateActivation[]; clip?: number }): boolean {
  return layer.activations === undefined && layer.clip === undefined;
}

/** Refuse non-default activations or clip in an engine that implements only the defaults. */
export function requireDefaultActivations(layer: { kind: string; activations?: GateActivation[]; clip?: number }, where: string): void {
  if (!hasDefaultActivations(layer)) {
    const what = [layer.activations ? `activations [${layer.activations.map((a) => a.name).join(', ')}]` : '', layer.clip !== undefined ? `clip ${layer.clip}` : ''].filter(Boolean).join(' and ');
    fail('E_UNSUPPORTED', `${where}: expected a ${layer.kind} with its default activations and no clip, found ${what}; run it on the js backend or the float64 reference`);
  }
}
