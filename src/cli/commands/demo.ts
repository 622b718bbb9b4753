/**
 * `deltakit demo`: the built-in DeltaGRU digit classifier (trained by deltakit, committed under
 * models/) on voices it never heard: accuracy, occupancy, ops saved and latency per frame, dense
 * against delta, through the streaming runtime.
 *
 * The held-out utterances are synthesised with espeak-ng when it is installed (cached after the
 * first run) and otherwise read from the committed float16 feature copy (models/digits-heldout.*).
 */
import type { Command } from 'commander';
import { builtinHeldout, loadBuiltinModel, type HeldoutSource } from '../../train/builtin.js';
import { evaluateWithSession, modelTask } from '../../train/task.js';
import { parseChoice, parseNumber, si, table } from '../options.js';

interface DemoOptions {
  thx?: string;
  thh?: string;
  data: string;
  cacheDir?: string;
  steps?: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('the built-in DeltaGRU digit classifier on held-out voices: accuracy, occupancy, ops and latency, dense against delta')
    .option('--thx <threshold>', "input delta threshold (default: the model's tuned one)")
    .option('--thh <threshold>', "hidden delta threshold (default: the model's tuned one)")
    .option('--data <source>', 'held-out utterances: auto (synthesise if espeak-ng is installed), synth, committed', 'auto')
    .option('--cache-dir <dir>', 'feature cache for synthesised utterances')
    .option('--steps <n>', 'stream only the first whole utterances reaching N frames (default: all)')
    .action(async (o: DemoOptions) => {
      const model = await loadBuiltinModel();
      const task = modelTask(model);
      const thresholdX = parseNumber('--thx', o.thx ?? model.meta['thresholdX'] ?? '0', { min: 0 })!;
      const thresholdH = parseNumber('--thh', o.thh ?? model.meta['thresholdH'] ?? '0', { min: 0 })!;
      const source = parseChoice('--data', o.data, ['auto', 'synth', 'committed'] as const)! as HeldoutSource;
      const maxFrames = parseNumber('--steps', o.steps, { integer: true, min: 1 });
      const { dataset, source: used } = builtinHeldout(task, source, { ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), ...(maxFrames ? { maxFrames } : {}) });
      const voices = new Set(dataset.utterances.map((u) => u.voice));
      const shape = model.layers.map((l) => (l.kind === 'linear' ? `Linear ${l.outputSize}` : `${l.kind.toUpperCase()} ${l.hiddenSize}`)).join(' -> ');
      console.log(`built-in model ${model.name}: ${model.layers[0]!.inputSize} log-mel -> ${shape}, classes ${task.classes.join(' ')}`);
      console.log(`held-out set: ${dataset.utterances.length} utterances by ${voices.size} voices never heard in training (${used === 'synth' ? 'synthesised with espeak-ng' : 'committed features'})`);
      const dense = evaluateWithSession(model, dataset, task.readout);
      const delta = evaluateWithSession(model, dataset, task.readout, { thresholdX, thresholdH });
      const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
      console.log(
        table(
          ['network', 'accuracy', 'occupancy', 'ops/frame', 'us/frame'],
          [
            ['dense GRU', pct(dense.accuracy), '100.0 %', si(dense.ops / dense.steps), dense.usPerFrame.toFixed(1)],
            [`DeltaGRU (thx ${thresholdX}, thh ${thresholdH})`, pct(delta.accuracy), pct(delta.occupancy), si(delta.ops / delta.steps), delta.usPerFrame.toFixed(1)],
          ],
        ),
      );
      console.log(`ops: ${delta.opsSaving.toFixed(2)}x fewer than dense (inputs fired ${pct(delta.occupancyX)}, hidden states ${pct(delta.occupancyH)}); accuracy ${((100 * (delta.accuracy - dense.accuracy))).toFixed(1)} points against dense`);
    });
}
