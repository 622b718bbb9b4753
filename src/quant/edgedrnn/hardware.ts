/**
 * What the EdgeDRNN accelerator is, as data: its number formats, its limits and the layout of
 * its weight image and configuration registers (the EdgeDRNN RTL; parameters of hdl/tb/edgedrnn_tb.sv in
 * the authors' repository: NUM_PE = 8, ACT 8.8, W 1.7, NUM_LAYER_BW = 2, LAYER_SIZE_BW = 10,
 * DTH_BW = 10, CFG_NUM = 32).
 */
import { check } from '../../core/errors.js';

export const EDGEDRNN = Object.freeze({
  /** Processing elements: rows of a weight column handled per 64-bit beat. */
  numPe: 8,
  /** Activations, inputs, thresholds: Q8.8 (16-bit). */
  actIntBits: 8,
  actFracBits: 8,
  /** Weights and biases: Q1.7 (8-bit). */
  weightIntBits: 1,
  weightFracBits: 7,
  /** Accumulators: 24-bit (Q9.15), wrapping. */
  accBits: 24,
  /** Threshold register width: 10-bit signed, so codes above 511 wrap to negative. */
  thresholdBits: 10,
  maxThresholdCode: 511,
  /** 2^NUM_LAYER_BW layers. */
  maxLayers: 4,
  /** 2^LAYER_SIZE_BW units per layer. */
  maxLayerSize: 1024,
  /** The RTL computes garbage at H = 8. */
  minHiddenSize: 16,
  /** Configuration registers in the testbench file. */
  configRegisters: 32,
  /** The bias pseudo-input: 1.0 in Q8.8. */
  biasPseudoInput: 256,
});

/**
 * The configuration registers (register order of the authors' export code:
 * 0 weight base address, 1 thx, 2 thh, 3 layer count, 4 padded input size, 5.. hidden size per layer).
 * Thresholds are Q8.8 codes (the value the 10-bit register holds).
 */
export interface EdgeDrnnConfig {
  /** DRAM byte address of the weight image (0 in RTL simulation). */
  weightBase: number;
  /** thx as a Q8.8 code. */
  thresholdX: number;
  /** thh as a Q8.8 code. */
  thresholdH: number;
  /** Input size of layer 0, zero-padded to a multiple of 8. */
  inputSize: number;
  /** Hidden size of each layer (all equal on this hardware). */
  hiddenSizes: number[];
}

/** A model as the accelerator holds it: registers plus the int8 DRAM weight image. */
export interface EdgeDrnnProgram {
  config: EdgeDrnnConfig;
  /** Column-major int8 image: per layer 3H rows x (1 + I + H) columns, layers concatenated. */
  weights: Int8Array;
}

export function roundUpToPe(n: number): number {
  return Math.ceil(n / EDGEDRNN.numPe) * EDGEDRNN.numPe;
}

/** Input size of layer l (layer 0 reads the padded input, the others the previous h). */
export function layerInputSize(config: EdgeDrnnConfig, l: number): number {
  return l === 0 ? config.inputSize : config.hiddenSizes[l - 1]!;
}

/** Columns of layer l in the weight image: the bias pseudo-column, the inputs, the hidden units. */
export function layerColumns(config: EdgeDrnnConfig, l: number): number {
  return 1 + layerInputSize(config, l) + config.hiddenSizes[l]!;
}

/** Global index of the first column (the bias) of each layer. */
export function layerColumnOffsets(config: EdgeDrnnConfig): number[] {
  const out: number[] = [];
  let c = 0;
  for (let l = 0; l < config.hiddenSizes.length; l++) {
    out.push(c);
    c += layerColumns(config, l);
  }
  return out;
}

/** Bytes of the weight image: sum over layers of 3H (1 + I + H). */
export function weightImageSize(config: EdgeDrnnConfig): number {
  let n = 0;
  for (let l = 0; l < config.hiddenSizes.length; l++) n += 3 * config.hiddenSizes[l]! * layerColumns(config, l);
  return n;
}

/**
 * Reject a configuration the hardware cannot run, naming the limit (E_HW_LIMIT).
 * `thresholdsChecked: false` skips the threshold range (a configuration register file may hold a
 * wrapped value on purpose; the machine then emulates the wrap).
 *
 * @example checkHardwareLimits({ weightBase: 0, thresholdX: 0, thresholdH: 0, inputSize: 8, hiddenSizes: [16, 16] });
 */
export function checkHardwareLimits(config: EdgeDrnnConfig, options: { thresholdsChecked?: boolean } = {}): void {
  const L = config.hiddenSizes.length;
  const E = EDGEDRNN;
  check(L >= 1, 'E_HW_LIMIT', () => `EdgeDRNN layer count: expected 1..${E.maxLayers} GRU layers, found ${L}`);
  check(L <= E.maxLayers, 'E_HW_LIMIT', () => `EdgeDRNN layer count: at most ${E.maxLayers} layers (NUM_LAYER_BW = 2), found ${L}`);
  const H = config.hiddenSizes[0]!;
  config.hiddenSizes.forEach((h, l) => {
    check(h === H, 'E_HW_LIMIT', () => `EdgeDRNN hidden size: every layer must have the same H, layer 0 has ${H}, layer ${l} has ${h}`);
  });
  check(Number.isInteger(H) && H % E.numPe === 0, 'E_HW_LIMIT', () => `EdgeDRNN hidden size: H must be a multiple of ${E.numPe} (the PE count), found ${H}`);
  check(H >= E.minHiddenSize, 'E_HW_LIMIT', () => `EdgeDRNN hidden size: H must be at least ${E.minHiddenSize} (the RTL computes garbage at H = 8), found ${H}`);
  check(H <= E.maxLayerSize, 'E_HW_LIMIT', () => `EdgeDRNN hidden size: H at most ${E.maxLayerSize} (LAYER_SIZE_BW = 10), found ${H}`);
  const I = config.inputSize;
  check(Number.isInteger(I) && I > 0 && I % E.numPe === 0, 'E_HW_LIMIT', () => `EdgeDRNN input size: the padded input size must be a positive multiple of ${E.numPe}, found ${I}`);
  check(I <= E.maxLayerSize, 'E_HW_LIMIT', () => `EdgeDRNN input size: at most ${E.maxLayerSize} (LAYER_SIZE_BW = 10), found ${I}`);
  check(Number.isInteger(config.weightBase) && config.weightBase >= 0 && config.weightBase <= 0xffff, 'E_HW_LIMIT', () => `EdgeDRNN weight base: a 16-bit register value, found ${config.weightBase}`);
  if (options.thresholdsChecked !== false) {
    for (const [name, v] of [['thx', config.thresholdX], ['thh', config.thresholdH]] as const) {
      check(Number.isInteger(v) && v >= 0, 'E_HW_LIMIT', () => `EdgeDRNN threshold ${name}: a non-negative Q8.8 code, found ${v}`);
      check(v <= E.maxThresholdCode, 'E_HW_LIMIT', () => `EdgeDRNN threshold ${name}: at most ${E.maxThresholdCode}/256 (10-bit signed register), found ${v}/256`);
    }
  }
}

/** Warnings for configurations that run but do something a user may not expect. */
export function hardwareWarnings(config: EdgeDrnnConfig): string[] {
  const w: string[] = [];
  const thx = signedRegister(config.thresholdX, EDGEDRNN.thresholdBits);
  const thh = signedRegister(config.thresholdH, EDGEDRNN.thresholdBits);
  if (thx > EDGEDRNN.biasPseudoInput) {
    w.push(`thx = ${config.thresholdX}/256 > 256/256: the bias pseudo-input (1.0) never crosses the threshold, so the hardware never adds the biases`);
  }
  if (thx !== (config.thresholdX & 0xffff) || thh !== (config.thresholdH & 0xffff)) {
    w.push(`threshold register above ${EDGEDRNN.maxThresholdCode}: the 10-bit signed register wraps (thx -> ${thx}, thh -> ${thh}); a negative threshold lets every nonzero delta fire`);
  }
  return w;
}

/** The value a register of `bits` bits holds, read as two's complement. */
export function signedRegister(v: number, bits: number): number {
  const m = 2 ** bits;
  const r = ((v % m) + m) % m;
  return r >= m / 2 ? r - m : r;
}
