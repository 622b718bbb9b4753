/**
 * From a float model to what EdgeDRNN holds, and back: the configuration registers and the int8
 * DRAM weight image (the EdgeDRNN RTL, python/modules/edgedrnn.py `collect_params` of the authors).
 *
 * Per layer the image has 3H rows (gate order r, z, n) and the columns
 * [bias | W_ih (input zero-padded to a multiple of 8) | W_hh], stored column-major, layers
 * concatenated. Biases follow the `edgedrnn` convention of the float runtime: one bias per gate,
 * b_ir + b_hr, b_iz + b_hz, b_in + b_hn (the hardware has no separate b_hn; the authors' training
 * code zeroes b_hn before it matters, see docs/edgedrnn.md).
 */
import { requireResetAfter } from '../../cells/gru/definition.js';
import { requireDefaultActivations } from '../../cells/activation.js';
import { check, fail } from '../../core/errors.js';
import type { GruLayer, LinearLayer, Model } from '../../model/types.js';
import { validateModel } from '../../model/types.js';
import { Q1_7, Q8_8, isOutOfRange, quantizeCode } from '../format.js';
import {
  EDGEDRNN,
  type EdgeDrnnConfig,
  type EdgeDrnnProgram,
  checkHardwareLimits,
  hardwareWarnings,
  layerColumnOffsets,
  layerInputSize,
  roundUpToPe,
  weightImageSize,
} from './hardware.js';

export interface BuildOptions {
  /** Delta threshold for inputs, as a real (quantised to Q8.8; at most 511/256). Default 0. */
  thresholdX?: number;
  /** Delta threshold for hidden states. Default 0. */
  thresholdH?: number;
  /** Weight base address register (0 for RTL simulation). */
  weightBase?: number;
}

export interface BuiltProgram {
  program: EdgeDrnnProgram;
  /** The GRU layers' original input size (before padding). */
  inputSize: number;
  /** Linear layers after the GRU stack: the classifier the ARM side computes. */
  classifier: LinearLayer[];
  /** Weights that saturated when quantised to Q1.7. */
  clippedWeights: number;
  warnings: string[];
}

/** Split a model into its GRU stack and its trailing classifier; anything else is unsupported. */
export function splitEdgeDrnnModel(model: Model): { grus: GruLayer[]; classifier: LinearLayer[] } {
  const grus: GruLayer[] = [];
  const classifier: LinearLayer[] = [];
  model.layers.forEach((l, k) => {
    if (l.kind === 'gru') requireResetAfter(l, `EdgeDRNN (layer ${k})`);
    if (l.kind === 'gru') requireDefaultActivations(l, `EdgeDRNN (layer ${k})`);
    check(!(l.kind === 'gru' && l.initialH), 'E_UNSUPPORTED', () => `EdgeDRNN (layer ${k}): expected a GRU starting from a zero state, found an initial state (ONNX initial_h)`);
    if (l.kind === 'gru' && classifier.length === 0) grus.push(l);
    else if (l.kind === 'linear' && grus.length > 0) classifier.push(l);
    else fail('E_UNSUPPORTED', `EdgeDRNN runs a stack of GRU layers optionally followed by linear layers; layer ${k} is ${l.kind}${l.kind === 'gru' ? ' after a linear layer' : ''}`);
  });
  check(grus.length > 0, 'E_UNSUPPORTED', () => 'EdgeDRNN: the model has no GRU layer');
  return { grus, classifier };
}

/** Quantise a real threshold to its Q8.8 register code, rejecting what the register cannot hold. */
export function thresholdCode(name: string, value: number): number {
  check(Number.isFinite(value) && value >= 0, 'E_VALUE', () => `EdgeDRNN threshold ${name}: expected a finite value >= 0, found ${value}`);
  const code = quantizeCode(value, Q8_8);
  check(code <= EDGEDRNN.maxThresholdCode, 'E_HW_LIMIT', () => `EdgeDRNN threshold ${name}: at most ${EDGEDRNN.maxThresholdCode}/256 = ${(EDGEDRNN.maxThresholdCode / 256).toFixed(4)} (10-bit signed register), found ${value} (${code}/256)`);
  return code;
}

/**
 * Build the registers and the weight image of a GRU model (optionally followed by linear layers).
 * Throws E_HW_LIMIT naming the limit when the model does not fit.
 *
 * @example
 * const { program, warnings } = buildEdgeDrnnProgram(model, { thresholdX: 0.0625, thresholdH: 0.0625 });
 */
export function buildEdgeDrnnProgram(model: Model, options: BuildOptions = {}): BuiltProgram {
  validateModel(model);
  const { grus, classifier } = splitEdgeDrnnModel(model);
  const inputSize = grus[0]!.inputSize;
  const config: EdgeDrnnConfig = {
    weightBase: options.weightBase ?? 0,
    thresholdX: thresholdCode('thx', options.thresholdX ?? 0),
    thresholdH: thresholdCode('thh', options.thresholdH ?? 0),
    inputSize: roundUpToPe(inputSize),
    hiddenSizes: grus.map((g) => g.hiddenSize),
  };
  checkHardwareLimits(config);
  const weights = new Int8Array(weightImageSize(config));
  const offsets = layerColumnOffsets(config);
  let clipped = 0;
  let bhn = false;
  const q = (v: number): number => {
    if (isOutOfRange(v, Q1_7)) clipped++;
    return quantizeCode(v, Q1_7);
  };
  grus.forEach((g, l) => {
    const H = g.hiddenSize;
    const I = g.inputSize;
    const Ipad = layerInputSize(config, l);
    const rows = 3 * H;
    const base = offsets[l]! * rows;
    for (let row = 0; row < rows; row++) {
      if (row >= 2 * H && g.biasHh[row] !== 0) bhn = true;
      weights[base + row] = q(g.biasIh[row]! + g.biasHh[row]!);
      for (let i = 0; i < I; i++) weights[base + (1 + i) * rows + row] = q(g.weightIh[row * I + i]!);
      for (let j = 0; j < H; j++) weights[base + (1 + Ipad + j) * rows + row] = q(g.weightHh[row * H + j]!);
    }
  });
  const warnings = hardwareWarnings(config);
  if (clipped > 0) warnings.push(`${clipped} weights or biases outside the Q1.7 range [-1, 127/128] saturated`);
  if (bhn) {
    warnings.push('b_hn is nonzero: the hardware has one bias per gate, so b_hn is folded into b_in (exact only where r = 1; train with b_hn = 0 as the authors do)');
  }
  return { program: { config, weights }, inputSize, classifier, clippedWeights: clipped, warnings };
}

/**
 * The float GRU layers a program holds (weights = codes / 128, bias_ih = the bias column,
 * bias_hh = 0; layer 0's input size is the padded one). The inverse of buildEdgeDrnnProgram on
 * quantised weights, for round trips and for comparing with the float runtime.
 *
 * @example const grus = programToGruLayers(parseTestbench(texts).program);
 */
export function programToGruLayers(program: EdgeDrnnProgram): GruLayer[] {
  const { config, weights } = program;
  checkHardwareLimits(config, { thresholdsChecked: false });
  check(weights.length === weightImageSize(config), 'E_SHAPE', () => `EdgeDRNN weight image: expected ${weightImageSize(config)} bytes, found ${weights.length}`);
  const offsets = layerColumnOffsets(config);
  const s = 2 ** -EDGEDRNN.weightFracBits;
  return config.hiddenSizes.map((H, l) => {
    const I = layerInputSize(config, l);
    const rows = 3 * H;
    const base = offsets[l]! * rows;
    const layer: GruLayer = {
      kind: 'gru',
      inputSize: I,
      hiddenSize: H,
      weightIh: new Float32Array(rows * I),
      weightHh: new Float32Array(rows * H),
      biasIh: new Float32Array(rows),
      biasHh: new Float32Array(rows),
    };
    for (let row = 0; row < rows; row++) {
      layer.biasIh[row] = weights[base + row]! * s;
      for (let i = 0; i < I; i++) layer.weightIh[row * I + i] = weights[base + (1 + i) * rows + row]! * s;
      for (let j = 0; j < H; j++) layer.weightHh[row * H + j] = weights[base + (1 + I + j) * rows + row]! * s;
    }
    return layer;
  });
}

/**
 * Quantise a float stimulus (T * inputSize, row-major) to Q8.8 codes padded to the program's input
 * size (saturating, as the authors' export does with `cast_fp_to_fxp`).
 */
export function quantizeStimulus(frames: ArrayLike<number>, inputSize: number, paddedSize: number): Int32Array {
  check(inputSize > 0 && frames.length % inputSize === 0, 'E_SHAPE', () => `stimulus: expected a multiple of the input size ${inputSize}, found ${frames.length} values`);
  const T = frames.length / inputSize;
  const out = new Int32Array(T * paddedSize);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < inputSize; i++) {
      const v = frames[t * inputSize + i]!;
      check(Number.isFinite(v), 'E_VALUE', () => `stimulus: non-finite value ${v} at step ${t}, element ${i}`);
      out[t * paddedSize + i] = quantizeCode(v, Q8_8);
    }
  }
  return out;
}
