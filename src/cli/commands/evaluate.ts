/**
 * `deltakit eval MODEL --split test [--festival-only] [--condition gain=-20]`: accuracy of a
 * trained classifier through the streaming runtime, dense and as a delta network, with the ops
 * it saves, on a corpus split under an optional fixed condition (level, 8 kHz channel, reverb,
 * formant shift): how a model holds up on voices and channels it never heard.
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { SPLITS } from '../../data/dataset.js';
import { loadModel } from '../../model/io.js';
import { evaluateWithSession, modelTask, taskDataset } from '../../train/task.js';
import { parseChoice, parseNumber, table } from '../options.js';
import { addCorpusOptions, carryFestivalSplit, parseCorpusOptions, type CorpusCliOptions } from './data.js';

interface EvalOpts extends CorpusCliOptions {
  split: string;
  thx?: string;
  thh?: string;
  json?: boolean;
}

export function register(program: Command): void {
  addCorpusOptions(
    program
      .command('eval')
      .description('accuracy, occupancy and ops saved of a trained classifier on a corpus split, dense and delta, under an optional condition')
      .argument('<model>', 'a classifier trained by deltakit train')
      .option('--split <split>', 'train, validation or test', 'test')
      .option('--thx <threshold>', "input delta threshold (default: the model's tuned one, else its training one)")
      .option('--thh <threshold>', "hidden delta threshold (default: the model's tuned one, else its training one)")
      .option('--json', 'print the numbers as JSON'),
    '3,2,2',
  ).action(async (modelPath: string, o: EvalOpts, cmd: Command) => {
    const split = parseChoice('--split', o.split, SPLITS)!;
    const model = await loadModel(modelPath);
    const task = modelTask(model);
    const co = parseCorpusOptions(o);
    let trained: Record<string, unknown> = {};
    try {
      trained = JSON.parse(model.meta['corpusOptions'] ?? '{}') as Record<string, unknown>;
    } catch {
      trained = {};
    }
    for (const key of ['seed', 'validationVoices', 'testVoices'] as const) {
      if (typeof trained[key] === 'number' && cmd.getOptionValueSource(key) === 'default') co[key] = trained[key] as number;
    }
    carryFestivalSplit(co, trained);
    let cfg: Record<string, unknown> = {};
    try {
      cfg = JSON.parse(model.meta['trainConfig'] ?? '{}') as Record<string, unknown>;
    } catch {
      cfg = {};
    }
    const thresholdX = parseNumber('--thx', o.thx ?? model.meta['thresholdX'] ?? String(cfg['thresholdX'] ?? 0), { min: 0 })!;
    const thresholdH = parseNumber('--thh', o.thh ?? model.meta['thresholdH'] ?? String(cfg['thresholdH'] ?? 0), { min: 0 })!;
    const ds = taskDataset(task, split, co);
    check(ds.utterances.length > 0, 'E_VALUE', () => `eval: the ${split} split with these options holds no utterances`);
    if (split !== 'train' && model.meta['trainVoices']) {
      const heard = new Set<string>(JSON.parse(model.meta['trainVoices']) as string[]);
      const overlap = [...new Set(ds.utterances.map((u) => u.voice))].filter((v) => heard.has(v));
      check(overlap.length === 0, 'E_MISMATCH', () => `eval: the ${split} split holds voices the model was trained on (${overlap.join(', ')}); use the seed and voice counts it was trained with`);
    }
    const dense = evaluateWithSession(model, ds, task.readout);
    const delta = evaluateWithSession(model, ds, task.readout, { thresholdX, thresholdH });
    const voices = new Set(ds.utterances.map((u) => u.voice)).size;
    if (o.json) {
      console.log(JSON.stringify({ split, utterances: dense.utterances, voices, condition: co.condition ?? {}, thresholdX, thresholdH, denseAccuracy: dense.accuracy, deltaAccuracy: delta.accuracy, occupancy: delta.occupancy, opsSaving: delta.opsSaving }));
      return;
    }
    const pct = (v: number) => (100 * v).toFixed(2);
    console.log(`${split} split: ${dense.utterances} utterances by ${voices} voices${o.condition ? `, condition ${o.condition}` : ''}`);
    console.log(
      table(
        ['network', 'accuracy %', 'occupancy %', 'ops saving'],
        [
          ['dense', pct(dense.accuracy), '100.00', '1.00x'],
          [`delta thx ${thresholdX} thh ${thresholdH}`, pct(delta.accuracy), pct(delta.occupancy), `${delta.opsSaving.toFixed(2)}x`],
        ],
      ),
    );
  });
}
