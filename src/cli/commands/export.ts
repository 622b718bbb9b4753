/**
 * `deltakit export c MODEL --out DIR`: the model as a self-contained C99 library for
 * microcontrollers (MODEL.c + MODEL.h), dense or delta, float or fixed point; with --board, the
 * startup file and linker script to run it bare-metal (qemu or silicon).
 *
 *   export c MODEL --out DIR [--precision f32|q15|q7] [--weight-bits 8|16] [--thx A --thh B]
 *       [--bias-convention cudnn|edgedrnn] [--name NAME] [--act-frac N | --calibration X.npy]
 *       [--board mps2-an386|microbit] [--force] [--quiet]
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { NORMALIZED_NOTE, readFeatureInput } from '../input.js';
import { loadModel } from '../../model/io.js';
import { exportC, writeCExport } from '../../model/export/c/export.js';
import { BOARDS, type Board } from '../../model/export/c/boards.js';
import { C_PRECISIONS, type CPrecision } from '../../quant/lowering.js';
import type { BiasConvention } from '../../runtime/types.js';
import { checkBiasConventionNeedsDelta, parseChoice, parseNumber } from '../options.js';

interface ExportCOpts {
  /** false with --no-normalize. */
  normalize?: boolean;
  out: string;
  precision: string;
  weightBits?: string;
  thx?: string;
  thh?: string;
  biasConvention: string;
  name?: string;
  actFrac?: string;
  calibration?: string;
  board?: string;
  force?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  const cmd = program.command('export').description('export a model for deployment (c: a C99 library for microcontrollers)');
  cmd
    .command('c')
    .description('write MODEL as a self-contained C99 library (NAME.c, NAME.h): no allocation, const weights, caller-owned state')
    .argument('<model>', 'model file: GRU, LSTM and linear layers')
    .requiredOption('-o, --out <dir>', 'output directory (created if missing)')
    .option('--precision <p>', `arithmetic: ${C_PRECISIONS.join(', ')} (q15: int16 activations; q7: int8 activations; int8 weights)`, 'q15')
    .option('--weight-bits <n>', 'q15 weight width: 8 or 16 (16 uses int64 accumulators)')
    .option('--thx <threshold>', 'delta threshold on layer inputs (builds the delta network; default: dense)')
    .option('--thh <threshold>', 'delta threshold on the hidden state')
    .option('--bias-convention <c>', 'delta memories: cudnn or edgedrnn', 'cudnn')
    .option('--name <name>', 'C prefix of the API and file names (default: from the model name)')
    .option('--act-frac <n>', 'fixed point: fraction bits of the input and linear outputs (default 11 for q15, 4 for q7)')
    .option('--calibration <x.npy>', "fixed point: float (T, I) frames that choose the input and linear output formats from their range (normalised with a trained model's feature statistics: the C library's input is the normalised frame)")
    .option('--no-normalize', "use --calibration as given: skip the model's stored feature statistics (meta.featureStats), which are applied by default")
    .option('--board <board>', `also write startup code and a linker script: ${BOARDS.join(', ')}`)
    .option('-f, --force', 'replace existing files')
    .option('-q, --quiet', 'do not print the summary')
    .action(async (modelPath: string, o: ExportCOpts, cmd: Command) => {
      const precision = parseChoice('--precision', o.precision, C_PRECISIONS) as CPrecision;
      const weightBits = parseNumber('--weight-bits', o.weightBits, { integer: true });
      check(weightBits === undefined || weightBits === 8 || weightBits === 16, 'E_OPTION', () => `--weight-bits: expected 8 or 16, found ${weightBits}`);
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
      const biasConvention = parseChoice('--bias-convention', o.biasConvention, ['cudnn', 'edgedrnn'] as const) as BiasConvention;
      checkBiasConventionNeedsDelta(cmd.getOptionValueSource('biasConvention') === 'cli' ? biasConvention : undefined, thresholdX !== undefined || thresholdH !== undefined);
      const actFrac = parseNumber('--act-frac', o.actFrac, { integer: true, min: 0 });
      const board = parseChoice('--board', o.board, BOARDS) as Board | undefined;
      check(!(o.actFrac !== undefined && o.calibration !== undefined), 'E_OPTION', () => '--act-frac and --calibration: expected one of them, found both');
      const model = await loadModel(modelPath);
      let calibration: Float32Array | undefined;
      if (o.calibration !== undefined) {
        // The C library's input is the normalised frame (docs/c-export.md), so its format is
        // chosen from the normalised range of a trained model's features, not the raw log-mel's.
        const x = await readFeatureInput(o.calibration, model, '--calibration', o.normalize !== false);
        if (x.normalized) process.stderr.write(`--calibration ${NORMALIZED_NOTE}\n`);
        calibration = Float32Array.from(x.data);
      }
      const exp = exportC(model, {
        precision,
        biasConvention,
        ...(weightBits !== undefined ? { weightBits: weightBits as 8 | 16 } : {}),
        ...(thresholdX !== undefined ? { thresholdX } : {}),
        ...(thresholdH !== undefined ? { thresholdH } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(actFrac !== undefined ? { actFrac } : {}),
        ...(calibration ? { calibration } : {}),
        ...(board ? { board } : {}),
      });
      const written = await writeCExport(exp, o.out, { force: o.force === true });
      if (!o.quiet) {
        const low = exp.lowered;
        const numerics = precision === 'f32' ? 'float' : `int${low.actBits} activations (input Q${low.inputFrac}, output Q${low.outputFrac}), int${low.weightBits} weights, int${low.accBits} accumulators`;
        process.stdout.write(`${exp.name}: ${low.delta ? `delta (thx ${low.thresholdX}, thh ${low.thresholdH}, ${low.biasConvention})` : 'dense'}, ${precision}: ${numerics}\n`);
        for (const p of written) process.stdout.write(`  wrote ${p}\n`);
      }
    });
}
