/**
 * `deltakit quantize MODEL [--weights Q1.7] [--activations Q8.8] [--frames X.npy] [--out Q.safetensors] [--json]`:
 * snap every weight and bias to a fixed-point format and print the calibration report (value
 * ranges, fraction clipped, error against float, per layer); optionally save the quantised model.
 */
import type { Command } from 'commander';
import { NORMALIZED_NOTE, readFeatureInput } from '../input.js';
import { loadModel, saveModel } from '../../model/io.js';
import { formatCalibrationReport, quantizeModel } from '../../quant/calibrate.js';
import { parseQFormat } from '../../quant/format.js';
import { checkExtension, checkWritable } from '../options.js';

interface QuantizeOpts {
  /** false with --no-normalize. */
  normalize?: boolean;
  weights: string;
  activations: string;
  frames?: string;
  out?: string;
  json?: boolean;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('quantize')
    .description('quantise MODEL to fixed point and print the per-layer calibration report')
    .argument('<model>', 'model file (.safetensors: deltakit or PyTorch state_dict; .onnx)')
    .option('--weights <Qm.n>', 'weight and bias format, sign bit in m (append :wrap to wrap instead of saturate)', 'Q1.7')
    .option('--activations <Qm.n>', 'activation format the input/output ranges are checked against', 'Q8.8')
    .option('--frames <x.npy>', "float32 .npy (T, I) stimulus: adds activation ranges and the error against float (normalised with a trained model's feature statistics, as run normalises its input)")
    .option('--no-normalize', "use --frames as given: skip the model's stored feature statistics (meta.featureStats), which are applied by default")
    .option('-o, --out <q.safetensors>', 'save the quantised model (weights on the fixed-point grid)')
    .option('--json', 'print the report as JSON')
    .option('-f, --force', 'overwrite --out if it exists')
    .action(async (modelPath: string, o: QuantizeOpts) => {
      const weightFormat = parseQFormat(o.weights);
      const activationFormat = parseQFormat(o.activations);
      if (o.out) checkExtension('--out', o.out, ['.safetensors']);
      if (o.out) checkWritable(o.out, o.force);
      const model = await loadModel(modelPath);
      let frames: Float32Array | undefined;
      if (o.frames) {
        // The ranges that matter are those of the inputs the network sees: a trained model's
        // normalised features, as run feeds them (raw log-mel is another range altogether).
        const x = await readFeatureInput(o.frames, model, '--frames', o.normalize !== false);
        if (x.normalized) process.stderr.write(`--frames ${NORMALIZED_NOTE}\n`);
        frames = x.data;
      }
      const { model: q, report } = quantizeModel(model, { weightFormat, activationFormat, ...(frames ? { frames } : {}) });
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatCalibrationReport(report));
      if (o.out) await saveModel(q, o.out, { overwrite: o.force === true });
    });
}
