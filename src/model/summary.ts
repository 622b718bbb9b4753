/**
 * What a model costs: parameters and dense matrix-vector ops per step, per layer.
 * Ops count 2 per multiply-accumulate, weights only (biases and element-wise gate
 * arithmetic are not counted), the same convention as the session's `denseOps`.
 */
import { gruVariant } from '../cells/gru/definition.js';
import { layerOutputSize, layerTensors, validateModel, type Layer, type Model } from './types.js';

export interface LayerSummary {
  index: number;
  kind: Layer['kind'];
  inputSize: number;
  /** Hidden size of recurrent layers, output size of linear ones. */
  outputSize: number;
  /** QRNN window or linear activation, when the layer has one. */
  detail: string;
  /** Weights and biases. */
  parameters: number;
  /** Dense matrix-vector ops per step (2 per multiply-accumulate). */
  denseOpsPerStep: number;
}

export interface ModelSummary {
  name: string;
  inputSize: number;
  outputSize: number;
  layers: LayerSummary[];
  parameters: number;
  denseOpsPerStep: number;
  meta: Record<string, string>;
}

/** Dense ops per step of one layer: 2 x rows x columns of every weight matrix it multiplies. */
export function layerDenseOps(layer: Layer): number {
  switch (layer.kind) {
    case 'gru':
    case 'lstm':
      return 2 * (layer.kind === 'gru' ? 3 : 4) * layer.hiddenSize * (layer.inputSize + layer.hiddenSize);
    case 'sru':
      return 2 * (layer.inputSize === layer.hiddenSize ? 3 : 4) * layer.hiddenSize * layer.inputSize;
    case 'qrnn':
      return 2 * 3 * layer.hiddenSize * layer.window * layer.inputSize;
    case 'linear':
      return 2 * layer.outputSize * layer.inputSize;
  }
}

/**
 * Summarise a model's layers, parameters and dense ops per step.
 *
 * @example const s = summarizeModel(model); console.log(s.parameters, s.denseOpsPerStep);
 */
export function summarizeModel(model: Model): ModelSummary {
  // Sizes of a model built in memory are checked first: a hiddenSize of 0, -3 or NaN was summarised.
  validateModel(model);
  const layers = model.layers.map((l, index): LayerSummary => ({
    index,
    kind: l.kind,
    inputSize: l.inputSize,
    outputSize: layerOutputSize(l),
    detail: l.kind === 'gru' ? gruVariant(l) : l.kind === 'qrnn' ? `window ${l.window}` : l.kind === 'linear' ? `activation ${l.activation}` : l.kind === 'sru' && l.inputSize !== l.hiddenSize ? 'projected skip' : '',
    parameters: Object.values(layerTensors(l)).reduce((s, t) => s + t.length, 0),
    denseOpsPerStep: layerDenseOps(l),
  }));
  return {
    name: model.name,
    inputSize: model.layers[0]!.inputSize,
    outputSize: layerOutputSize(model.layers[model.layers.length - 1]!),
    layers,
    parameters: layers.reduce((s, l) => s + l.parameters, 0),
    denseOpsPerStep: layers.reduce((s, l) => s + l.denseOpsPerStep, 0),
    meta: model.meta,
  };
}
