/**
 * `deltakit prune MODEL --gamma 0.94 --pes 64 --out OUT`: Column-Balanced Targeted Dropout
 * after training, then the balance check: every PE must hold the same number of
 * nonzeros in every column. `--check` only runs the balance check on MODEL.
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { cbtdPruneModel, checkModelBalance, type MatrixBalance } from '../../compress/cbtd/index.js';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import { saveModel } from '../../model/io.js';
import { readFeatureInput, NORMALIZED_NOTE } from '../input.js';
import { builtinHeldout } from '../../train/builtin.js';
import { modelTask, taskDataset } from '../../train/task.js';
import { checkExtension, checkWritable, parseNumber, table } from '../options.js';
import { accuracyEffect, outputEffect } from './compress.js';

interface PruneOptions {
  gamma?: string;
  gammaFc?: string;
  pes: string;
  alpha?: string;
  seed?: string;
  out?: string;
  check?: boolean;
  force?: boolean;
  json?: boolean;
  input?: string;
  thx?: string;
  thh?: string;
  accuracy?: boolean;
  normalize?: boolean;
}

function balanceTable(report: MatrixBalance[]): string {
  const rows = report.map((m) => [
    m.name,
    `${m.rows}x${m.cols}`,
    m.minPerPe === m.maxPerPe ? String(m.maxPerPe) : `${m.minPerPe}..${m.maxPerPe}`,
    m.balanced ? 'yes' : 'NO',
    `${(100 * m.sparsity).toFixed(2)} %`,
  ]);
  return table(['matrix', 'shape', 'nonzeros/PE/column', 'balanced', 'sparsity'], rows);
}

export function register(program: Command): void {
  program
    .command('prune')
    .description('CBTD-prune MODEL (balanced structured sparsity for PE arrays) and check the balance')
    .argument('<model>', 'model file')
    .option('--gamma <g>', 'fraction of each PE sub-column to drop, in [0, 1) (TIMIT setup: 0.94)')
    .option('--gamma-fc <g>', 'gamma for linear layers (default: leave them dense)')
    .option('--pes <n>', 'PEs per array, N (TIMIT setup: 64)', '64')
    .option('--alpha <a>', 'drop probability of targeted weights (1: deterministic)', '1')
    .option('--seed <n>', 'seed of the drop draws when alpha < 1', '0')
    .option('-o, --out <path>', 'where to write the pruned model (.safetensors)')
    .option('--check', 'only check the balance of MODEL for --pes')
    .option('-i, --input <x.npy>', "report the output change of pruning on these frames (T, I), normalised with the model's feature statistics as run normalises --input")
    .option('--no-normalize', "use --input as given: skip the model's stored feature statistics (meta.featureStats), which are applied by default")
    .option('--thx <threshold>', 'delta threshold for the effect measurement')
    .option('--thh <threshold>', 'delta threshold for the effect measurement')
    .option('--accuracy', 'classification accuracy before/after on held-out voices (models trained by deltakit train)')
    .option('-f, --force', 'overwrite --out if it exists')
    .option('--json', 'print the balance report as JSON')
    .action(async (modelPath: string, o: PruneOptions) => {
      const pes = parseNumber('--pes', o.pes, { min: 1, integer: true })!;
      const model = await loadModelOrCompressed(modelPath);
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
      // Read before the pruned model is written: a bad --input leaves no output behind.
      // As run reads it: raw features (data export) get the model's stored statistics, or the
      // effect would be measured on inputs the model never sees.
      const input = o.input && !o.check ? await readFeatureInput(o.input, model, '--input', o.normalize !== false) : undefined;
      const frames = input?.data;
      const task = o.accuracy && !o.check ? modelTask(model) : undefined;
      let target = model;
      if (!o.check) {
        check(o.gamma !== undefined, 'E_OPTION', () => 'prune: expected --gamma (or --check to only check the balance)');
        check(o.out !== undefined, 'E_OPTION', () => 'prune: expected --out OUT.safetensors');
        const gamma = parseNumber('--gamma', o.gamma, { min: 0, max: 0.999999 })!;
        const gammaFc = parseNumber('--gamma-fc', o.gammaFc, { min: 0, max: 0.999999 });
        const alpha = parseNumber('--alpha', o.alpha, { min: 0, max: 1 })!;
        const seed = parseNumber('--seed', o.seed, { min: 0, integer: true })!;
        checkExtension('--out', o.out, ['.safetensors']);
        checkWritable(o.out, o.force);
        target = cbtdPruneModel(model, { gamma, pes, alpha, seed, ...(gammaFc !== undefined ? { gammaFc } : {}) });
        await saveModel(target, o.out, { overwrite: o.force === true });
      }
      const report = checkModelBalance(target, pes);
      // Post-training pruning changes the function: say by how much, when asked.
      const th = { ...(thresholdX !== undefined ? { thresholdX } : {}), ...(thresholdH !== undefined ? { thresholdH } : {}) };
      const effect = frames ? outputEffect(model, target, frames, th) : null;
      let accuracy: ReturnType<typeof accuracyEffect> | null = null;
      if (task) {
        const ds = task.corpus === 'digits' ? builtinHeldout(task, 'auto', { maxFrames: 20000 }).dataset : taskDataset(task, 'test');
        accuracy = accuracyEffect(model, target, ds, task.readout, thresholdX !== undefined || thresholdH !== undefined ? { thresholdX: thresholdX ?? 0, thresholdH: thresholdH ?? 0 } : undefined);
      }
      const pruned = report.filter((m) => m.sparsity > 0);
      const allBalanced = report.every((m) => m.balanced);
      if (o.json) {
        process.stdout.write(JSON.stringify({ pes, balanced: allBalanced, matrices: report, effect: effect ? { ...effect, normalized: input!.normalized } : null, accuracy }, null, 2) + '\n');
      } else {
        const lines = [balanceTable(report), ''];
        lines.push(allBalanced ? `balanced: every PE holds the same nonzero count in every column (N = ${pes})` : `NOT balanced for N = ${pes}: the busiest PE sets the pace of a fired column`);
        if (effect) lines.push(`output change on ${o.input}${input!.normalized ? ` (${NORMALIZED_NOTE})` : ''}: max ${effect.maxAbsDiff.toExponential(3)}, relative rms ${effect.relativeRms.toExponential(3)}` + (effect.argmaxAgreement !== null ? `, argmax agreement ${(100 * effect.argmaxAgreement).toFixed(2)} %` : ''));
        if (accuracy) lines.push(`accuracy on held-out voices (${accuracy.utterances} utterances): ${(100 * accuracy.before).toFixed(2)} % -> ${(100 * accuracy.after).toFixed(2)} % (post-training CBTD; retrain with deltakit train --cbtd-gamma to recover)`);
        if (!o.check) lines.push(`wrote ${o.out} (${pruned.length} of ${report.length} matrices pruned)`);
        process.stdout.write(lines.join('\n') + '\n');
      }
    });
}
