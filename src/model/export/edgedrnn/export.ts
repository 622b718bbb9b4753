/**
 * `deltakit edgedrnn export`: a float GRU model -> the files an EdgeDRNN system needs: the RTL
 * testbench vectors (weights, registers, stimulus, expected outputs of the bit-exact machine) and
 * the C header for the ARM side. The text is built in memory first (pure), then written.
 */
import { type BuildOptions, buildEdgeDrnnProgram, quantizeStimulus } from '../../../quant/edgedrnn/program.js';
import { EdgeDrnnMachine } from '../../../quant/edgedrnn/machine.js';
import type { EdgeDrnnProgram } from '../../../quant/edgedrnn/hardware.js';
import { writeFileSet } from '../../../core/files.js';
import { smoothStream } from '../../random.js';
import type { Model } from '../../types.js';
import { formatCHeader } from './cheader.js';
import { TESTBENCH_FILES, formatTestbench } from './testbench.js';

export interface EdgeDrnnExportOptions extends BuildOptions {
  /**
   * Float stimulus (T * inputSize, row-major). Default: 100 steps of a seeded smooth random walk
   * (`smoothStream(1, 100, inputSize)`), a stand-in for sensor or speech features.
   */
  stimulus?: ArrayLike<number>;
}

export interface EdgeDrnnExport {
  /** File name -> contents. */
  files: Record<string, string>;
  program: EdgeDrnnProgram;
  /** Stimulus codes (T * paddedInput) and the machine's outputs (T * H). */
  stimulus: Int32Array;
  outputs: Int32Array;
  steps: number;
  warnings: string[];
}

/** Default stimulus length when none is given. */
export const DEFAULT_STIMULUS_STEPS = 100;

/**
 * Build every export file in memory.
 *
 * @example
 * const exp = exportEdgeDrnn(model, { thresholdX: 0.0625, thresholdH: 0.0625, stimulus: frames });
 * await writeEdgeDrnnExport(exp, 'out/', { force: true });
 */
export function exportEdgeDrnn(model: Model, options: EdgeDrnnExportOptions = {}): EdgeDrnnExport {
  const built = buildEdgeDrnnProgram(model, options);
  const { program } = built;
  const frames = options.stimulus ?? smoothStream(1, DEFAULT_STIMULUS_STEPS, built.inputSize);
  const stimulus = quantizeStimulus(frames, built.inputSize, program.config.inputSize);
  const outputs = new EdgeDrnnMachine(program).run(stimulus);
  const tb = formatTestbench(program, stimulus, outputs);
  const files: Record<string, string> = {
    [TESTBENCH_FILES.params]: tb.params,
    [TESTBENCH_FILES.creg]: tb.creg,
    [TESTBENCH_FILES.stim]: tb.stim,
    [TESTBENCH_FILES.gold]: tb.gold,
    [TESTBENCH_FILES.header]: formatCHeader(program, built.inputSize, built.classifier, model.name),
  };
  return { files, program, stimulus, outputs, steps: stimulus.length / program.config.inputSize, warnings: built.warnings };
}

/**
 * Write an export to a directory (created if missing). Refuses to replace any existing file
 * unless `force` (E_EXISTS, checked for every file before the first is written).
 * Returns the written paths.
 */
export async function writeEdgeDrnnExport(exp: EdgeDrnnExport, outDir: string, opts: { force?: boolean } = {}): Promise<string[]> {
  return writeFileSet(exp.files, outDir, opts);
}
