/**
 * Quantise a float model to fixed point and report, layer by layer, what that costs: the value
 * range of every weight tensor and of the activations a stimulus produces, the fraction of
 * values that clip (or wrap), and the error against the float model.
 *
 * The quantised model stays a float `Model` whose weights sit exactly on the fixed-point grid
 * (value = code * 2^-n), so every runtime and exporter takes it unchanged and re-quantising it
 * is the identity.
 */
import { runModelRef } from '../cells/reference-model.js';
import { check } from '../core/errors.js';
import type { Layer, Model } from '../model/types.js';
import { layerTensors, validateModel } from '../model/types.js';
import { type QFormat, Q1_7, Q8_8, checkQFormat, formatName, isOutOfRange, quantizeValue } from './format.js';

/** Statistics of one array against one format. */
export interface RangeStats {
  format: string;
  count: number;
  min: number;
  max: number;
  /** Values outside the format's range before quantisation (clipped or wrapped). */
  clipped: number;
  fractionClipped: number;
  /** |x - quantise(x)|: max and root mean square. */
  maxAbsError: number;
  rmsError: number;
}

export interface TensorCalibration extends RangeStats {
  name: string;
}

export interface LayerCalibration {
  index: number;
  kind: Layer['kind'];
  tensors: TensorCalibration[];
  /** With a stimulus: range of the layer's float input and output against the activation format. */
  input?: RangeStats;
  output?: RangeStats;
  /** With a stimulus: |output of the quantised-weight model - output of the float model| at this layer. */
  outputError?: { maxAbs: number; rms: number };
}

export interface CalibrationReport {
  weightFormat: string;
  activationFormat: string;
  layers: LayerCalibration[];
  /** Overall: fraction of weights clipped, worst layer output error (when a stimulus was given). */
  fractionWeightsClipped: number;
  maxOutputError?: number;
}

export interface QuantizeOptions {
  /** Format of weights and biases (default Q1.7, EdgeDRNN's). */
  weightFormat?: QFormat;
  /** Format of activations, used for the report's input/output ranges (default Q8.8). */
  activationFormat?: QFormat;
  /** Optional stimulus (T * inputSize, row-major) for activation ranges and output error. */
  frames?: ArrayLike<number>;
}

/** Range statistics of `x` against format `f`. */
export function rangeStats(x: ArrayLike<number>, f: QFormat): RangeStats {
  let min = Infinity;
  let max = -Infinity;
  let clipped = 0;
  let maxErr = 0;
  let sq = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (isOutOfRange(v, f)) clipped++;
    const e = Math.abs(v - quantizeValue(v, f));
    if (e > maxErr) maxErr = e;
    sq += e * e;
  }
  const n = x.length;
  return {
    format: formatName(f),
    count: n,
    min: n ? min : 0,
    max: n ? max : 0,
    clipped,
    fractionClipped: n ? clipped / n : 0,
    maxAbsError: maxErr,
    rmsError: n ? Math.sqrt(sq / n) : 0,
  };
}

function quantizeTensor(t: Float32Array, f: QFormat): Float32Array {
  const out = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = quantizeValue(t[i]!, f);
  return out;
}

/** A copy of `layer` with every tensor snapped to format `f`. */
export function quantizeLayer(layer: Layer, f: QFormat): Layer {
  const q = (t: Float32Array) => quantizeTensor(t, f);
  switch (layer.kind) {
    case 'gru':
    case 'lstm':
      return { ...layer, weightIh: q(layer.weightIh), weightHh: q(layer.weightHh), biasIh: q(layer.biasIh), biasHh: q(layer.biasHh) };
    case 'sru':
    case 'qrnn':
    case 'linear':
      return { ...layer, weight: q(layer.weight), bias: q(layer.bias) };
  }
}

function prefixModel(model: Model, k: number): Model {
  return { ...model, layers: model.layers.slice(0, k + 1) };
}

/**
 * Quantise every weight and bias of `model` to `weightFormat` (round half to even, saturate or
 * wrap as the format says) and report ranges, clipping and error per layer.
 *
 * @example
 * const { model: q, report } = quantizeModel(model, { frames });
 * for (const l of report.layers) console.log(l.index, l.tensors.map((t) => t.fractionClipped));
 */
export function quantizeModel(model: Model, options: QuantizeOptions = {}): { model: Model; report: CalibrationReport } {
  validateModel(model);
  check(options !== null && typeof options === 'object', 'E_OPTION', () => `quantizeModel options: expected an object, found ${options === null ? 'null' : typeof options}`);
  for (const key of Object.keys(options)) check(['weightFormat', 'activationFormat', 'frames'].includes(key), 'E_OPTION', () => `quantizeModel option: expected weightFormat, activationFormat or frames, found '${key}'`);
  const wf = options.weightFormat ?? Q1_7;
  const af = options.activationFormat ?? Q8_8;
  checkQFormat(wf);
  checkQFormat(af);
  const qModel: Model = {
    ...model,
    layers: model.layers.map((l) => quantizeLayer(l, wf)),
    meta: { ...model.meta, quantized: `weights ${formatName(wf)}` },
  };
  let nWeights = 0;
  let nClipped = 0;
  const layers: LayerCalibration[] = model.layers.map((layer, index) => {
    const tensors = Object.entries(layerTensors(layer)).map(([name, t]) => {
      const s = rangeStats(t, wf);
      nWeights += s.count;
      nClipped += s.clipped;
      return { name, ...s };
    });
    return { index, kind: layer.kind, tensors };
  });
  const report: CalibrationReport = {
    weightFormat: formatName(wf),
    activationFormat: formatName(af),
    layers,
    fractionWeightsClipped: nWeights ? nClipped / nWeights : 0,
  };
  if (options.frames !== undefined) {
    const frames = options.frames;
    const I = model.layers[0]!.inputSize;
    check(frames.length > 0 && frames.length % I === 0, 'E_SHAPE', () => `calibration frames: expected a non-empty multiple of the input size ${I}, found ${frames.length} values`);
    let worst = 0;
    let input: ArrayLike<number> = frames;
    for (let k = 0; k < model.layers.length; k++) {
      // Output of layer k in the float model and in the quantised-weight model (same float input).
      const ref = runModelRef(prefixModel(model, k), frames).outputs;
      const qo = runModelRef(prefixModel(qModel, k), frames).outputs;
      let maxAbs = 0;
      let sq = 0;
      for (let i = 0; i < ref.length; i++) {
        const e = Math.abs(ref[i]! - qo[i]!);
        if (e > maxAbs) maxAbs = e;
        sq += e * e;
      }
      layers[k]!.input = rangeStats(input, af);
      layers[k]!.output = rangeStats(ref, af);
      layers[k]!.outputError = { maxAbs, rms: Math.sqrt(sq / Math.max(1, ref.length)) };
      worst = Math.max(worst, maxAbs);
      input = ref;
    }
    report.maxOutputError = worst;
  }
  return { model: qModel, report };
}

/** The report as a few lines of text (what `deltakit quantize` prints). */
export function formatCalibrationReport(r: CalibrationReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const g = (x: number) => (Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(4));
  const lines: string[] = [`weights ${r.weightFormat}, activations ${r.activationFormat}; weights clipped: ${pct(r.fractionWeightsClipped)}`];
  for (const l of r.layers) {
    lines.push(`layer ${l.index} (${l.kind})`);
    for (const t of l.tensors) {
      lines.push(`  ${t.name.padEnd(10)} range [${g(t.min)}, ${g(t.max)}]  clipped ${pct(t.fractionClipped)}  max err ${g(t.maxAbsError)}  rms err ${g(t.rmsError)}`);
    }
    if (l.input && l.output && l.outputError) {
      lines.push(`  input      range [${g(l.input.min)}, ${g(l.input.max)}]  clipped ${pct(l.input.fractionClipped)}`);
      lines.push(`  output     range [${g(l.output.min)}, ${g(l.output.max)}]  clipped ${pct(l.output.fractionClipped)}  error vs float: max ${g(l.outputError.maxAbs)}  rms ${g(l.outputError.rms)}`);
    }
  }
  return lines.join('\n') + '\n';
}
