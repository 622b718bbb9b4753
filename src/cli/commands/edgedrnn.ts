/**
 * `deltakit edgedrnn export|verify|run`: the EdgeDRNN accelerator's files.
 *
 *   export MODEL --out DIR [--stim X.npy] [--thx A --thh B] [--force]
 *       weight image, configuration registers, stimulus and expected outputs in the RTL
 *       testbench formats, plus the C header for the ARM side
 *   verify --params P --stim S --creg C --gold G
 *       run the bit-exact machine and compare word for word: prints `matched N/M`, exits 0 only
 *       on a full match (else E_MISMATCH naming the first mismatching step and word, exit 1)
 *   run --params P --stim S --creg C --out O [--force]
 *       write the machine's outputs in the expected-output format
 */
import type { Command } from 'commander';
import { fail } from '../../core/errors.js';
import { NORMALIZED_NOTE, readFeatureInput } from '../input.js';
import { loadModel, readFileBytes, writeFileSafely } from '../../model/io.js';
import { exportEdgeDrnn, writeEdgeDrnnExport } from '../../model/export/edgedrnn/export.js';
import { runTestbench, verifyTestbench } from '../../model/export/edgedrnn/testbench.js';
import { checkWritable, parseNumber } from '../options.js';
import { type Progress, progress } from '../progress.js';

async function readText(path: string): Promise<string> {
  const bytes = await readFileBytes(path);
  return new TextDecoder('utf-8').decode(bytes);
}

function warn(lines: string[]): void {
  for (const w of lines) process.stderr.write(`deltakit: warning: ${w}\n`);
}

interface ExportOpts {
  /** false with --no-normalize. */
  normalize?: boolean;
  out: string;
  stim?: string;
  thx?: string;
  thh?: string;
  force?: boolean;
  quiet?: boolean;
}

interface FilesOpts {
  params: string;
  stim: string;
  creg: string;
  gold?: string;
  out?: string;
  force?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('edgedrnn')
    .description('EdgeDRNN accelerator: export weights and testbench vectors, verify and run them bit-exactly');

  cmd
    .command('export')
    .description('write the DRAM weight image, config registers, stimulus, expected outputs and C header of a GRU MODEL')
    .argument('<model>', 'model file: GRU layers (same H, at most 4) optionally followed by linear layers')
    .requiredOption('-o, --out <dir>', 'output directory (created if missing)')
    .option('--stim <x.npy>', "float32 .npy (T, I) stimulus, normalised with a trained model's feature statistics as run normalises its input (default: 100 steps of a seeded smooth random walk)")
    .option('--no-normalize', "use --stim as given: skip the model's stored feature statistics (meta.featureStats), which are applied by default")
    .option('--thx <threshold>', 'input delta threshold, a real quantised to Q8.8 (<= 511/256)', '0')
    .option('--thh <threshold>', 'hidden delta threshold, a real quantised to Q8.8 (<= 511/256)', '0')
    .option('-f, --force', 'replace existing files')
    .option('-q, --quiet', 'do not print the summary')
    .action(async (modelPath: string, o: ExportOpts) => {
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 })!;
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 })!;
      const model = await loadModel(modelPath);
      let stimulus: Float32Array | undefined;
      if (o.stim !== undefined) {
        // The accelerator's input is what the network sees: a trained model's normalised
        // features (the host normalises before it streams them), as run feeds them.
        const x = await readFeatureInput(o.stim, model, '--stim', o.normalize !== false);
        if (x.normalized) process.stderr.write(`--stim ${NORMALIZED_NOTE}\n`);
        stimulus = x.data;
      }
      const exp = exportEdgeDrnn(model, { thresholdX, thresholdH, ...(stimulus ? { stimulus } : {}) });
      warn(exp.warnings);
      const written = await writeEdgeDrnnExport(exp, o.out, { force: o.force === true });
      if (!o.quiet) {
        const c = exp.program.config;
        process.stdout.write(
          `EdgeDRNN ${c.hiddenSizes.length}L-${c.hiddenSizes[0]}H, input ${c.inputSize} (padded), thx ${c.thresholdX}/256, thh ${c.thresholdH}/256; ` +
            `${exp.program.weights.length} weight bytes, ${exp.steps} steps\n`,
        );
        for (const p of written) process.stdout.write(`  wrote ${p}\n`);
      }
    });

  cmd
    .command('verify')
    .description('run the bit-exact machine on testbench files and compare with the expected outputs word for word')
    .requiredOption('--params <file>', 'weight image (edgedrnn_tb_params.txt)')
    .requiredOption('--stim <file>', 'stimulus (edgedrnn_tb_stim.txt)')
    .requiredOption('--creg <file>', 'configuration registers (edgedrnn_tb_creg.txt)')
    .requiredOption('--gold <file>', 'expected outputs (edgedrnn_tb_gold_rnn.txt)')
    .action(async (o: FilesOpts) => {
      const texts = { params: await readText(o.params), stim: await readText(o.stim), creg: await readText(o.creg), gold: await readText(o.gold!) };
      let bar: Progress | undefined;
      let report;
      try {
        report = verifyTestbench(texts, (done, total) => (bar ??= progress('verify', total)).update(done));
      } finally {
        bar?.stop();
      }
      warn(report.warnings);
      process.stdout.write(`matched ${report.matched}/${report.total} output words (${report.steps} steps)\n`);
      const m = report.firstMismatch;
      if (m) {
        const where = `step ${m.step}, word ${m.word}${m.line !== undefined ? ` (line ${m.line} of ${o.gold})` : ''}`;
        process.stdout.write(`first mismatch: ${where}: expected ${m.expected}, computed ${m.actual}\n`);
        // A failed verification is an error like any other: one coded line (it used to exit 1 with none).
        fail('E_MISMATCH', `edgedrnn verify: ${report.total - report.matched} of ${report.total} output words differ from ${o.gold}; the first at ${where}: expected ${m.expected}, computed ${m.actual}`);
      } else if (report.total === 0) {
        fail('E_FORMAT', `${o.gold}: no expected output word to compare`);
      }
    });

  cmd
    .command('run')
    .description('run the bit-exact machine on testbench files and write its outputs in the expected-output format')
    .requiredOption('--params <file>', 'weight image (edgedrnn_tb_params.txt)')
    .requiredOption('--stim <file>', 'stimulus (edgedrnn_tb_stim.txt)')
    .requiredOption('--creg <file>', 'configuration registers (edgedrnn_tb_creg.txt)')
    .requiredOption('-o, --out <file>', 'where to write the outputs')
    .option('-f, --force', 'overwrite the output file')
    .option('-q, --quiet', 'do not print the summary')
    .action(async (o: FilesOpts) => {
      checkWritable(o.out!, o.force);
      const texts = { params: await readText(o.params), stim: await readText(o.stim), creg: await readText(o.creg) };
      let bar: Progress | undefined;
      let r;
      try {
        r = runTestbench(texts, (done, total) => (bar ??= progress('run', total)).update(done));
      } finally {
        bar?.stop();
      }
      warn(r.warnings);
      await writeFileSafely(o.out!, new TextEncoder().encode(r.text), { overwrite: o.force === true });
      if (!o.quiet) process.stdout.write(`wrote ${r.outputs.length / 8} output words to ${o.out}\n`);
    });
}
