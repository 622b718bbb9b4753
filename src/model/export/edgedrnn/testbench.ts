/**
 * The EdgeDRNN RTL testbench as data: the four text files (weights, stimulus, configuration
 * registers, expected outputs) <-> a program, a stimulus and its outputs; and the check that the
 * bit-exact machine reproduces an expected-output file word for word.
 */
import { check, fail } from '../../../core/errors.js';
import {
  EDGEDRNN,
  type EdgeDrnnConfig,
  type EdgeDrnnProgram,
  checkHardwareLimits,
  hardwareWarnings,
  weightImageSize,
} from '../../../quant/edgedrnn/hardware.js';
import { EdgeDrnnMachine } from '../../../quant/edgedrnn/machine.js';
import {
  formatActivationWords,
  formatRegisters,
  formatWeightImage,
  parseActivationWords,
  parseRegisters,
  parseWeightImage,
} from './text.js';

/** File names the authors' testbench reads (hdl/tb/edgedrnn_tb*.sv). */
export const TESTBENCH_FILES = Object.freeze({
  params: 'edgedrnn_tb_params.txt',
  stim: 'edgedrnn_tb_stim.txt',
  creg: 'edgedrnn_tb_creg.txt',
  gold: 'edgedrnn_tb_gold_rnn.txt',
  header: 'edgedrnn_params.h',
});

/** Register indices (python/modules/edgedrnn.py `cfg_reg`). */
export const CREG = Object.freeze({ weightBase: 0, thresholdX: 1, thresholdH: 2, numLayers: 3, inputSize: 4, firstHiddenSize: 5 });

/** The 32 register values of a configuration (unused registers are 0). */
export function configToRegisters(config: EdgeDrnnConfig): number[] {
  const regs = new Array<number>(EDGEDRNN.configRegisters).fill(0);
  regs[CREG.weightBase] = config.weightBase;
  regs[CREG.thresholdX] = config.thresholdX;
  regs[CREG.thresholdH] = config.thresholdH;
  regs[CREG.numLayers] = config.hiddenSizes.length;
  regs[CREG.inputSize] = config.inputSize;
  config.hiddenSizes.forEach((h, l) => (regs[CREG.firstHiddenSize + l] = h));
  return regs;
}

/** Read a configuration from register values (as parsed from the creg file). */
export function configFromRegisters(regs: number[], lines?: number[], what = 'configuration registers'): EdgeDrnnConfig {
  const at = (i: number): string => (lines && lines[i] !== undefined ? ` (line ${lines[i]})` : '');
  check(regs.length > CREG.inputSize, 'E_FORMAT', () => `${what}: expected at least ${CREG.inputSize + 1} registers (base, thx, thh, layers, input size, hidden sizes), found ${regs.length}`);
  const L = regs[CREG.numLayers]!;
  check(L >= 1 && L <= EDGEDRNN.maxLayers, 'E_HW_LIMIT', () => `${what}: register ${CREG.numLayers} (layer count)${at(CREG.numLayers)} must be 1..${EDGEDRNN.maxLayers}, found ${L}`);
  check(regs.length >= CREG.firstHiddenSize + L, 'E_FORMAT', () => `${what}: ${L} layers need registers ${CREG.firstHiddenSize}..${CREG.firstHiddenSize + L - 1} (hidden sizes), found ${regs.length} registers`);
  return {
    weightBase: regs[CREG.weightBase]!,
    thresholdX: regs[CREG.thresholdX]!,
    thresholdH: regs[CREG.thresholdH]!,
    inputSize: regs[CREG.inputSize]!,
    hiddenSizes: regs.slice(CREG.firstHiddenSize, CREG.firstHiddenSize + L),
  };
}

/** The texts of a testbench (any of stim / gold may be absent). */
export interface TestbenchTexts {
  params: string;
  creg: string;
  stim?: string;
  gold?: string;
}

export interface Testbench {
  program: EdgeDrnnProgram;
  /** Stimulus as Q8.8 codes, T * inputSize. */
  stimulus?: Int16Array;
  /** Expected outputs as Q8.8 codes, T' * H (T' may differ from T; verify reports it). */
  gold?: Int16Array;
  goldLines?: number[];
  /** Things that run but may surprise (thresholds that disable the biases, wrapped registers). */
  warnings: string[];
}

/**
 * Parse testbench texts into a program, a stimulus and expected outputs.
 *
 * @example const tb = parseTestbench({ params, creg, stim, gold });
 */
export function parseTestbench(texts: TestbenchTexts): Testbench {
  const { regs, lines } = parseRegisters(texts.creg, 'creg');
  const config = configFromRegisters(regs, lines, 'creg');
  checkHardwareLimits(config, { thresholdsChecked: false });
  const { weights } = parseWeightImage(texts.params, 'params');
  const need = weightImageSize(config);
  check(weights.length === need, 'E_SHAPE', () => `params: the configuration (${config.hiddenSizes.length} layers, input ${config.inputSize}, H ${config.hiddenSizes[0]}) needs ${need / 8} 64-bit words, the file holds ${weights.length / 8}`);
  const tb: Testbench = { program: { config, weights }, warnings: hardwareWarnings(config) };
  if (texts.stim !== undefined) {
    const { codes } = parseActivationWords(texts.stim, 'stim');
    check(codes.length % config.inputSize === 0, 'E_SHAPE', () => `stim: ${codes.length / 8} words do not make whole steps of ${config.inputSize / 8} words (padded input ${config.inputSize})`);
    tb.stimulus = codes;
  }
  if (texts.gold !== undefined) {
    const { codes, lines: gl } = parseActivationWords(texts.gold, 'gold');
    tb.gold = codes;
    tb.goldLines = gl;
  }
  return tb;
}

/** The testbench texts of a program, a stimulus (codes) and its outputs (codes). */
export function formatTestbench(program: EdgeDrnnProgram, stimulus: ArrayLike<number>, outputs: ArrayLike<number>): Required<TestbenchTexts> {
  return {
    params: formatWeightImage(program.weights),
    creg: formatRegisters(configToRegisters(program.config)),
    stim: formatActivationWords(stimulus, 'stim'),
    gold: formatActivationWords(outputs, 'gold'),
  };
}

export interface VerifyMismatch {
  /** Time step (0-based) and 128-bit word within the step (0-based). */
  step: number;
  word: number;
  /** Line of the word in the expected-output file (1-based), when known. */
  line?: number;
  expected: string;
  actual: string;
}

export interface VerifyReport {
  /** Output words that matched / words in the expected-output file. */
  matched: number;
  total: number;
  steps: number;
  firstMismatch?: VerifyMismatch;
  warnings: string[];
}

function wordHex(codes: ArrayLike<number>, w: number): string {
  return formatActivationWords(Array.from({ length: 8 }, (_, k) => codes[w * 8 + k]!)).slice(0, 32);
}

/**
 * Run the bit-exact machine on the testbench stimulus and compare every output word with the
 * expected file, as the RTL testbench does (`assert(actual_response ==? expected_response)`).
 *
 * @example
 * const r = verifyTestbench({ params, creg, stim, gold });
 * console.log(`matched ${r.matched}/${r.total}`);
 */
export function verifyTestbench(texts: Required<TestbenchTexts>, onProgress?: (done: number, total: number) => void): VerifyReport {
  const tb = parseTestbench(texts);
  const outputs = new EdgeDrnnMachine(tb.program).run(tb.stimulus!, onProgress);
  const H = tb.program.config.hiddenSizes[tb.program.config.hiddenSizes.length - 1]!;
  const wordsPerStep = H / 8;
  const gold = tb.gold!;
  const total = gold.length / 8;
  const produced = outputs.length / 8;
  let matched = 0;
  let first: VerifyMismatch | undefined;
  for (let w = 0; w < total; w++) {
    let same = w < produced;
    for (let k = 0; same && k < 8; k++) same = gold[w * 8 + k] === outputs[w * 8 + k];
    if (same) {
      matched++;
    } else if (!first) {
      first = {
        step: Math.floor(w / wordsPerStep),
        word: w % wordsPerStep,
        line: tb.goldLines?.[w],
        expected: wordHex(gold, w),
        actual: w < produced ? wordHex(outputs, w) : '(no output: the stimulus has fewer steps)',
      };
    }
  }
  const report: VerifyReport = { matched, total, steps: tb.stimulus!.length / tb.program.config.inputSize, warnings: tb.warnings };
  if (first) report.firstMismatch = first;
  return report;
}

/** Run the machine on testbench texts (params, creg, stim) and return the outputs as gold text. */
export function runTestbench(
  texts: TestbenchTexts,
  onProgress?: (done: number, total: number) => void,
): { outputs: Int32Array; text: string; warnings: string[] } {
  if (texts.stim === undefined) fail('E_OPTION', 'run: a stimulus file is required');
  const tb = parseTestbench(texts);
  const outputs = new EdgeDrnnMachine(tb.program).run(tb.stimulus!, onProgress);
  return { outputs, text: formatActivationWords(outputs, 'outputs'), warnings: tb.warnings };
}
