/**
 * Fixed-point lowering of a model for the generated C library (`deltakit export c`): every
 * weight, bias and threshold becomes an integer code with a power-of-two scale, chosen once here,
 * so the C code and its TypeScript reference (src/model/export/c/reference.ts) read the same
 * numbers and do the same integer arithmetic.
 *
 * Formats (a code c with f fraction bits means c * 2^-f):
 * - activations (`act_t`): int16 for q15, int8 for q7. The model input and every linear layer's
 *   output have `actFrac` fraction bits (chosen by the user, by a calibration stream, or the
 *   default); a recurrent layer's h is in [-1, 1] and uses Q2.14 (int16) or Q2.6 (int8).
 * - weights (`w_t`): int8 (q7, q15 default) or int16 (q15 with weightBits 16), one power-of-two
 *   scale per matrix, as large as the matrix's largest |w| allows. A recurrent layer's W_ih and
 *   W_hh scales are tied so both products land on one accumulator format (accFrac).
 * - accumulators and delta memories (`acc_t`): int32, or int64 when the worst-case row sum of a
 *   layer could exceed 2^30 (int16 weights with int16 activations). Biases are stored in the
 *   accumulator format, so they lose nothing.
 * - gates: sigmoid/tanh outputs in Q2.14 from one 2048-entry tanh table over [-8, 8)
 *   (src/model/export/c/reference.ts).
 *
 * Weight codes are round half to even (as every quantiser in deltakit); the run-time shifts of the
 * generated code round half up (add half, shift right).
 *
 * GRU memories are laid out [nx, r, z, nh] (4H rows) and the GRU's W_ih rows reordered to
 * [n, r, z], so W_ih updates rows 0..3H and W_hh (rows r, z, n) rows H..4H: each fired column
 * of either matrix touches one contiguous run of 3H memories. LSTM: memories [i, f, g, o], both
 * matrices update all 4H rows.
 */
import { runModelRef } from '../cells/reference-model.js';
import { check, fail } from '../core/errors.js';
import type { Activation, GruLayer, Layer, LstmLayer, Model } from '../model/types.js';
import { modelInputSize, modelOutputSize, validateModel } from '../model/types.js';
import type { BiasConvention } from '../runtime/types.js';
import { roundHalfEven } from './format.js';
import { isResetAfter } from '../cells/gru/definition.js';
import { requireNoPeephole } from '../cells/lstm/definition.js';
import { requireDefaultActivations } from '../cells/activation.js';

export type CPrecision = 'f32' | 'q15' | 'q7';
export const C_PRECISIONS: readonly CPrecision[] = ['f32', 'q15', 'q7'];

export interface LoweringOptions {
  /** Default q15. */
  precision?: CPrecision;
  /** Weight bits of q15 (8 or 16, default 8); q7 always has 8. */
  weightBits?: 8 | 16;
  /** Giving either threshold makes GRU/LSTM layers delta layers (the other defaults to 0). */
  thresholdX?: number;
  thresholdH?: number;
  /** Default cudnn. */
  biasConvention?: BiasConvention;
  /** Fraction bits of the input and of linear layers' outputs (fixed point only). */
  actFrac?: number;
  /** Frames (T * inputSize) that choose the input and linear-output formats from their ranges. */
  calibration?: ArrayLike<number>;
}

/** Pre-activation format of the gate tables' input: Q?.12. */
export const PRE_FRAC = 12;
/** Gate outputs (sigmoid, tanh) are Q2.14: 1.0 = 16384. */
export const GATE_FRAC = 14;
/** Pre-activations (Q12) are clamped to +-2^26 (+-16384.0): r * nh and the candidate's sum stay in int32 arithmetic. */
export const PRE_LIMIT = 2 ** 26;
/** LSTM cell state: Q?.14 in int32, clamped to +-2^30 (+-65536.0). */
export const CELL_LIMIT = 2 ** 30;

export interface LoweredRecurrent {
  kind: 'gru' | 'lstm';
  inputSize: number;
  hiddenSize: number;
  delta: boolean;
  /**
   * GRU form (true for LSTM). Reset-before GRU: W_hh's r, z rows (the first 2H) multiply h as
   * usual; its n rows (W_hn) multiply q = r * h, delta-encoded against qPrev with thresholdH,
   * into memory rows 3H..4H; n = tanh(Mnx + Mnh).
   */
  resetAfter: boolean;
  /** Fraction bits of the input, of h, of W_ih, W_hh and of the memories. */
  inputFrac: number;
  hiddenFrac: number;
  wihFrac: number;
  whhFrac: number;
  accFrac: number;
  /** Row-major (rowsIh, I): GRU rows [n, r, z] (3H), LSTM [i, f, g, o] (4H). Codes (fixed) or floats (f32). */
  wih: Float64Array;
  /** Row-major (rowsHh, H): GRU rows [r, z, n], LSTM [i, f, g, o]. */
  whh: Float64Array;
  /** First memory row W_hh updates (GRU: H, LSTM: 0). */
  hhOffset: number;
  /** Dense biases, 4H rows in memory order (GRU dense: cudnn). */
  denseBias: Float64Array;
  /** Initial delta memories, 4H rows (GRU: by the bias convention). */
  deltaBias: Float64Array;
  /** Delta thresholds: integer codes (fixed) or reals (f32). */
  thresholdX: number;
  thresholdH: number;
}

export interface LoweredLinear {
  kind: 'linear';
  inputSize: number;
  outputSize: number;
  activation: Activation;
  inputFrac: number;
  outputFrac: number;
  wFrac: number;
  accFrac: number;
  /** Row-major (O, I). */
  w: Float64Array;
  bias: Float64Array;
}

export type LoweredLayer = LoweredRecurrent | LoweredLinear;

export interface LoweredModel {
  name: string;
  precision: CPrecision;
  /** 0 for f32. */
  weightBits: 0 | 8 | 16;
  actBits: 0 | 8 | 16;
  accBits: 0 | 32 | 64;
  delta: boolean;
  biasConvention: BiasConvention;
  /** The thresholds as given (reals). */
  thresholdX: number;
  thresholdH: number;
  inputSize: number;
  outputSize: number;
  inputFrac: number;
  outputFrac: number;
  layers: LoweredLayer[];
}

/** Largest fraction bits that hold every |v| of `values` in a signed `bits`-bit code. */
export function maxFracFor(values: ArrayLike<number>, bits: number): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]!));
  const maxCode = 2 ** (bits - 1) - 1;
  if (m === 0) return bits - 1;
  let f = Math.floor(Math.log2(maxCode / m));
  // log2 rounding at exact powers: step to the largest f whose codes all fit.
  while (roundHalfEven(m * 2 ** (f + 1)) <= maxCode) f++;
  while (roundHalfEven(m * 2 ** f) > maxCode) f--;
  return Math.min(f, bits - 1 + 8);
}

function codes(values: ArrayLike<number>, frac: number, bits: number): Float64Array {
  const out = new Float64Array(values.length);
  const hi = 2 ** (bits - 1) - 1;
  for (let i = 0; i < values.length; i++) out[i] = Math.max(-hi - 1, Math.min(hi, roundHalfEven(values[i]! * 2 ** frac)));
  return out;
}

/** Rows of a (rows, cols) row-major matrix picked in `order` (row indices). */
function pickRows(w: ArrayLike<number>, cols: number, order: number[]): Float64Array {
  const out = new Float64Array(order.length * cols);
  order.forEach((r, k) => {
    for (let j = 0; j < cols; j++) out[k * cols + j] = w[r * cols + j]!;
  });
  return out;
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);

function checkSupported(layer: Layer, k: number): void {
  if (layer.kind === 'sru' || layer.kind === 'qrnn') {
    fail('E_UNSUPPORTED', `layer ${k} (${layer.kind}): the C export supports gru (both forms), lstm and linear layers, found ${layer.kind}`);
  }
  if (layer.kind === 'lstm') requireNoPeephole(layer, `layer ${k} (lstm), the C export`);
  // The generated C computes the default sigmoid / tanh gates only.
  if (layer.kind === 'gru' || layer.kind === 'lstm') requireDefaultActivations(layer, `layer ${k} (${layer.kind}), the C export`);
  // The generated reset clears the state to zero: a layer that starts elsewhere is refused.
  if (layer.kind === 'gru' || layer.kind === 'lstm') {
    const init = layer.initialH !== undefined || (layer.kind === 'lstm' && layer.initialC !== undefined);
    check(!init, 'E_UNSUPPORTED', () => `layer ${k} (${layer.kind}), the C export: expected a zero initial state, found initial_h${layer.kind === 'lstm' ? ' / initial_c' : ''} (ONNX initial state); the C library resets to zero`);
  }
}

function checkFrac(name: string, v: number, bits: number): void {
  check(Number.isInteger(v) && v >= 0 && v <= bits - 1, 'E_OPTION', () => `${name}: expected an integer 0..${bits - 1} for ${bits}-bit activations, found ${v}`);
}

/** Fraction bits that hold max |x| (with one bit of headroom) in `bits`-bit codes. */
function fracFromRange(maxAbs: number, bits: number): number {
  return Math.max(0, Math.min(bits - 1, maxFracFor([2 * maxAbs], bits)));
}

/**
 * A delta threshold as a code of the activation format. No delta of two bits-wide codes reaches
 * 2^bits, so any larger threshold (never fires) is that: the generated C compares with an int32,
 * where a threshold of 2^21 at 11 fraction bits (2^32) would wrap to 0 and fire every delta.
 */
function thresholdCode(th: number, frac: number, bits: number): number {
  return Math.min(roundHalfEven(th * 2 ** frac), 2 ** bits);
}

/**
 * Lower a model for the C export: formats, codes and layouts of every layer.
 *
 * @example const low = lowerModel(model, { precision: 'q15', thresholdX: 0.1, thresholdH: 0.1 });
 */
export function lowerModel(model: Model, options: LoweringOptions = {}): LoweredModel {
  validateModel(model);
  model.layers.forEach(checkSupported);
  const precision = options.precision ?? 'q15';
  check(C_PRECISIONS.includes(precision), 'E_OPTION', () => `precision: expected one of ${C_PRECISIONS.join(', ')}, found '${String(precision)}'`);
  const fixed = precision !== 'f32';
  if (options.weightBits !== undefined) {
    check(options.weightBits === 8 || options.weightBits === 16, 'E_OPTION', () => `weightBits: expected 8 or 16, found ${String(options.weightBits)}`);
    check(precision === 'q15' || options.weightBits === (precision === 'q7' ? 8 : 0), 'E_OPTION', () => `weightBits: only q15 has a choice (8 or 16), found weightBits ${options.weightBits} with precision ${precision}`);
  }
  const actBits = precision === 'q15' ? 16 : precision === 'q7' ? 8 : 0;
  const weightBits = precision === 'q15' ? (options.weightBits ?? 8) : precision === 'q7' ? 8 : 0;
  for (const [name, v] of [['thresholdX', options.thresholdX], ['thresholdH', options.thresholdH]] as const) {
    if (v !== undefined) check(typeof v === 'number' && Number.isFinite(v) && v >= 0, 'E_VALUE', () => `${name}: expected a finite number >= 0, found ${String(v)}`);
  }
  const delta = options.thresholdX !== undefined || options.thresholdH !== undefined;
  const thx = options.thresholdX ?? 0;
  const thh = options.thresholdH ?? 0;
  const conv = options.biasConvention ?? 'cudnn';
  check(conv === 'cudnn' || conv === 'edgedrnn', 'E_OPTION', () => `biasConvention: expected 'cudnn' or 'edgedrnn', found '${String(conv)}'`);
  check(!(options.actFrac !== undefined && options.calibration !== undefined), 'E_OPTION', () => 'actFrac and calibration: expected one of them, found both');
  const I0 = modelInputSize(model);

  // Formats of the input and of each linear output: given, calibrated, or the default.
  const defaultFrac = precision === 'q7' ? 4 : 11;
  const hiddenFrac = actBits - 2;
  const outFracs = new Map<number, number>();
  let inputFrac = defaultFrac;
  if (fixed && options.actFrac !== undefined) {
    checkFrac('actFrac', options.actFrac, actBits);
    inputFrac = options.actFrac;
  }
  if (fixed && options.calibration !== undefined) {
    const cal = options.calibration;
    check(cal.length > 0 && cal.length % I0 === 0, 'E_SHAPE', () => `calibration: expected a non-empty multiple of ${I0} values, found ${cal.length}`);
    let m = 0;
    for (let i = 0; i < cal.length; i++) m = Math.max(m, Math.abs(cal[i]!));
    inputFrac = fracFromRange(m, actBits);
    model.layers.forEach((l, k) => {
      if (l.kind !== 'linear') return;
      const sub: Model = { ...model, layers: model.layers.slice(0, k + 1) };
      const run = runModelRef(sub, cal, delta ? { thresholdX: thx, thresholdH: thh, biasConvention: conv } : {});
      let my = 0;
      for (const v of run.outputs) my = Math.max(my, Math.abs(v));
      outFracs.set(k, fracFromRange(my, actBits));
    });
  }

  let accBits: 0 | 32 | 64 = fixed ? 32 : 0;
  const actMax = 2 ** (actBits - 1);
  // The generated shifts assume a sane accumulator format (weights within about +-2^15 of 1).
  const checkAccFrac = (k: number, f: number) =>
    check(f >= -8 && f <= 46, 'E_HW_LIMIT', () => `layer ${k}: accumulator fraction bits must be within -8..46 for the C export, found ${f} (weights or activation formats out of range)`);
  const needAcc = (k: number, bound: number, maxProduct: number) => {
    check(bound < 2 ** 52, 'E_HW_LIMIT', () => `layer ${k}: the worst-case accumulator (${bound.toExponential(2)}) exceeds 2^52`);
    if (bound >= 2 ** 30 || maxProduct >= 2 ** 30) accBits = 64;
  };

  let prevFrac = inputFrac;
  const layers: LoweredLayer[] = model.layers.map((layer, k): LoweredLayer => {
    if (layer.kind === 'linear') {
      const outputFrac = outFracs.get(k) ?? inputFrac;
      if (!fixed) {
        return { kind: 'linear', inputSize: layer.inputSize, outputSize: layer.outputSize, activation: layer.activation, inputFrac: 0, outputFrac: 0, wFrac: 0, accFrac: 0, w: Float64Array.from(layer.weight), bias: Float64Array.from(layer.bias) };
      }
      const wFrac = maxFracFor(layer.weight, weightBits);
      const accFrac = wFrac + prevFrac;
      checkAccFrac(k, accFrac);
      const w = codes(layer.weight, wFrac, weightBits);
      const bias = new Float64Array(layer.outputSize);
      for (let o = 0; o < layer.outputSize; o++) bias[o] = roundHalfEven(layer.bias[o]! * 2 ** accFrac);
      let bound = 0;
      let maxW = 0;
      for (let o = 0; o < layer.outputSize; o++) {
        let s = Math.abs(bias[o]!);
        for (let j = 0; j < layer.inputSize; j++) {
          s += Math.abs(w[o * layer.inputSize + j]!) * actMax;
          maxW = Math.max(maxW, Math.abs(w[o * layer.inputSize + j]!));
        }
        bound = Math.max(bound, s);
      }
      needAcc(k, bound, maxW * actMax);
      const low: LoweredLinear = { kind: 'linear', inputSize: layer.inputSize, outputSize: layer.outputSize, activation: layer.activation, inputFrac: prevFrac, outputFrac, wFrac, accFrac, w, bias };
      prevFrac = outputFrac;
      return low;
    }
    const l = layer as GruLayer | LstmLayer;
    const H = l.hiddenSize;
    const I = l.inputSize;
    const gru = l.kind === 'gru';
    const ihOrder = gru ? [...range(2 * H, 3 * H), ...range(0, 2 * H)] : range(0, 4 * H);
    const wihF = pickRows(l.weightIh, I, ihOrder);
    const whhF = pickRows(l.weightHh, H, range(0, (gru ? 3 : 4) * H));
    const bi = l.biasIh;
    const bh = l.biasHh;
    // Biases in memory order, as reals.
    const dense = new Float64Array(4 * H);
    const init = new Float64Array(4 * H);
    for (let u = 0; u < H; u++) {
      if (gru) {
        dense[u] = bi[2 * H + u]!;
        dense[H + u] = bi[u]! + bh[u]!;
        dense[2 * H + u] = bi[H + u]! + bh[H + u]!;
        dense[3 * H + u] = bh[2 * H + u]!;
      } else {
        for (let g = 0; g < 4; g++) dense[g * H + u] = bi[g * H + u]! + bh[g * H + u]!;
      }
    }
    init.set(dense);
    const resetAfter = l.kind === 'lstm' || isResetAfter(l);
    // Reset-before: b_hn sits beside b_in inside the tanh, so both conventions agree.
    if (gru && resetAfter && conv === 'edgedrnn') {
      for (let u = 0; u < H; u++) {
        init[u] = bi[2 * H + u]! + bh[2 * H + u]!;
        init[3 * H + u] = 0;
      }
    }
    const hhOffset = gru ? H : 0;
    if (!fixed) {
      const low: LoweredRecurrent = {
        kind: l.kind, inputSize: I, hiddenSize: H, delta, resetAfter, inputFrac: 0, hiddenFrac: 0, wihFrac: 0, whhFrac: 0, accFrac: 0,
        wih: wihF, whh: whhF, hhOffset, denseBias: dense, deltaBias: init, thresholdX: thx, thresholdH: thh,
      };
      return low;
    }
    const inFrac = prevFrac;
    const accFrac = Math.min(maxFracFor(wihF, weightBits) + inFrac, maxFracFor(whhF, weightBits) + hiddenFrac);
    checkAccFrac(k, accFrac);
    const wihFrac = accFrac - inFrac;
    const whhFrac = accFrac - hiddenFrac;
    const wih = codes(wihF, wihFrac, weightBits);
    const whh = codes(whhF, whhFrac, weightBits);
    const toAcc = (v: Float64Array) => v.map((b) => roundHalfEven(b * 2 ** accFrac));
    const denseBias = toAcc(dense);
    const deltaBias = toAcc(init);
    // Worst case of every memory row: its bias plus every product at full activation range.
    const rowSum = new Float64Array(4 * H);
    let maxW = 0;
    for (let r = 0; r < wih.length / I; r++) for (let j = 0; j < I; j++) { rowSum[r]! += Math.abs(wih[r * I + j]!) * actMax; maxW = Math.max(maxW, Math.abs(wih[r * I + j]!)); }
    for (let r = 0; r < whh.length / H; r++) for (let j = 0; j < H; j++) { rowSum[hhOffset + r]! += Math.abs(whh[r * H + j]!) * actMax; maxW = Math.max(maxW, Math.abs(whh[r * H + j]!)); }
    let bound = 0;
    for (let r = 0; r < 4 * H; r++) bound = Math.max(bound, rowSum[r]! + Math.max(Math.abs(denseBias[r]!), Math.abs(deltaBias[r]!)));
    // A delta spans two activation ranges (x - xPrev), so one delta product can reach 2 * maxW * actMax.
    needAcc(k, bound, 2 * maxW * actMax);
    prevFrac = hiddenFrac;
    return {
      kind: l.kind, inputSize: I, hiddenSize: H, delta, resetAfter, inputFrac: inFrac, hiddenFrac, wihFrac, whhFrac, accFrac,
      wih, whh, hhOffset, denseBias, deltaBias,
      thresholdX: thresholdCode(thx, inFrac, actBits),
      thresholdH: thresholdCode(thh, hiddenFrac, actBits),
    };
  });
  return {
    name: model.name,
    precision,
    weightBits: weightBits as 0 | 8 | 16,
    actBits: actBits as 0 | 8 | 16,
    accBits,
    delta,
    biasConvention: conv,
    thresholdX: thx,
    thresholdH: thh,
    inputSize: I0,
    outputSize: modelOutputSize(model),
    inputFrac: fixed ? inputFrac : 0,
    outputFrac: fixed ? prevFrac : 0,
    layers,
  };
}
