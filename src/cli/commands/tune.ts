/**
 * `deltakit tune MODEL --data digits --max-accuracy-drop 0.5`: sweep delta thresholds through
 * the streaming runtime, pick the lowest occupancy within the accuracy budget, and write a table
 * (Markdown) and a plot (SVG) of accuracy against occupancy.
 */
import { rmSync } from 'node:fs';
import { writeFileSafely } from '../../core/files.js';
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { CORPUS_NAMES } from '../../data/corpus.js';
import { SPLITS } from '../../data/dataset.js';
import { loadModel, saveModel } from '../../model/io.js';
import { modelTask, taskDataset, evaluateWithSession } from '../../train/task.js';
import { DEFAULT_GRID_H, DEFAULT_GRID_X, tunePlot, tuneTable, tuneThresholds } from '../../train/tune.js';
import { checkWritable, parseChoice, parseNumber, table } from '../options.js';
import { addCorpusOptions, checkUnheardVoices, corpusOptionsOfModel, type CorpusCliOptions } from './data.js';

interface TuneOpts extends CorpusCliOptions {
  data?: string;
  maxAccuracyDrop: string;
  split: string;
  gridX?: string;
  gridH?: string;
  table: string;
  plot: string;
  save?: string;
  force?: boolean;
  resume?: boolean;
}

function parseGrid(name: string, raw: string | undefined, dflt: number[]): number[] {
  if (raw === undefined) return dflt;
  const v = raw.split(',').map((p) => parseNumber(name, p.trim(), { min: 0 })!);
  check(v.length > 0, 'E_OPTION', () => `${name}: expected a comma-separated list of thresholds, found '${raw}'`);
  return v;
}

export function register(program: Command): void {
  addCorpusOptions(
    program
      .command('tune')
      .description('sweep delta thresholds; pick the lowest occupancy within an accuracy budget')
      .argument('<model>', 'a classifier trained by deltakit train (its metadata names corpus and feature statistics)')
      .option('--data <corpus>', `corpus to tune on (default: the model's own): ${CORPUS_NAMES.join(', ')}`)
      .option('--max-accuracy-drop <points>', 'accuracy drop allowed against dense, in percentage points (CTC models: word accuracy, i.e. a rise of the word error rate)', '0.5')
      .option('--split <split>', 'split to tune on (the chosen point is also reported on test)', 'validation')
      .option('--grid-x <list>', `input thresholds (default ${DEFAULT_GRID_X.join(',')})`)
      .option('--grid-h <list>', `hidden thresholds (default ${DEFAULT_GRID_H.join(',')})`)
      .option('--table <file.md>', 'write the sweep as a Markdown table', 'tune.md')
      .option('--plot <file.svg>', 'write accuracy against occupancy as SVG', 'tune.svg')
      .option('--save <model.safetensors>', 'save the model with the chosen thresholds in its metadata')
      .option('-f, --force', 'overwrite existing output files')
      .option('--resume', 'keep the points a previous interrupted sweep finished (<table>.json)'),
    // Eight renditions per validation voice: 880 digits instead of 220, so half a point is four
    // utterances, not one, and the choice does not chase the noise of a small set.
    '3,8,2',
  ).action(async (modelPath: string, o: TuneOpts, cmd: Command) => {
    const maxAccuracyDrop = parseNumber('--max-accuracy-drop', o.maxAccuracyDrop, { min: 0, max: 100 })!;
    const split = parseChoice('--split', o.split, SPLITS)!;
    const gridX = parseGrid('--grid-x', o.gridX, DEFAULT_GRID_X);
    const gridH = parseGrid('--grid-h', o.gridH, DEFAULT_GRID_H);
    // Checked on --resume too: table and plot are written only at the end.
    checkWritable(o.table, o.force);
    checkWritable(o.plot, o.force);
    if (o.save) checkWritable(o.save, o.force);
    const model = await loadModel(modelPath);
    const task = modelTask(model);
    if (o.data !== undefined) {
      const corpus = parseChoice('--data', o.data, CORPUS_NAMES)!;
      check(corpus === task.corpus, 'E_MISMATCH', () => `--data: the model was trained on ${task.corpus}, found ${corpus}`);
    }
    // The voice split the model was trained with (seed, held-out voice counts) unless the user
    // overrides it: another split could put training voices into the tuning or test set.
    const co = corpusOptionsOfModel(model, o, cmd);
    const ds = taskDataset(task, split, co);
    checkUnheardVoices(model, ds.utterances, split, 'tune');
    const stateFile = `${o.table}.json`;
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    let r;
    try {
      r = await tuneThresholds(model, ds, { gridX, gridH, maxAccuracyDrop, readout: task.readout, stateFile, resume: o.resume, signal: controller.signal });
    } finally {
      process.off('SIGINT', onSigint);
    }
    const ctc = task.readout === 'ctc';
    const enc = (text: string) => new TextEncoder().encode(text);
    await writeFileSafely(o.table, enc(`# Threshold sweep of ${model.name} on ${task.corpus}/${split} (${ds.utterances.length} utterances)\n\nBudget: at most ${maxAccuracyDrop} points below dense.\n\n${tuneTable(r)}`), { overwrite: o.force === true });
    await writeFileSafely(o.plot, enc(tunePlot(r, `${model.name}: ${ctc ? 'word accuracy' : 'accuracy'} vs occupancy (${task.corpus}/${split})`)), { overwrite: o.force === true });
    // The sweep is complete and its results are in the table: the resume state has served.
    rmSync(stateFile, { force: true });
    const pct = (v: number) => (100 * v).toFixed(2);
    // CTC models: string accuracy and word error rate; the budget applies to word accuracy.
    const head = ['network', ctc ? 'strings right %' : 'accuracy %', ...(ctc ? ['WER %'] : []), 'occupancy %', 'ops saving'];
    const wer = (e: { wer?: number }) => (ctc ? [pct(e.wer ?? 1)] : []);
    const rows = [['dense', pct(r.dense.accuracy), ...wer(r.dense), '100.00', '1.00x']];
    if (!r.chosen) {
      console.log(table(head, rows));
      console.log(`no threshold pair stays within ${maxAccuracyDrop} points of dense; wrote ${o.table} and ${o.plot}`);
      process.exitCode = 1;
      return;
    }
    const c = r.chosen;
    rows.push([`delta thx ${c.thresholdX} thh ${c.thresholdH}`, pct(c.result.accuracy), ...wer(c.result), pct(c.result.occupancy), `${c.result.opsSaving.toFixed(2)}x`]);
    console.log(`${split} split, ${ds.utterances.length} utterances:`);
    console.log(table(head, rows));
    if (split !== 'test') {
      const test = taskDataset(task, 'test', co);
      const td = evaluateWithSession(model, test, task.readout);
      const tc = evaluateWithSession(model, test, task.readout, { thresholdX: c.thresholdX, thresholdH: c.thresholdH });
      console.log(`test split (voices never heard in training), ${test.utterances.length} utterances:`);
      console.log(table(head, [['dense', pct(td.accuracy), ...wer(td), '100.00', '1.00x'], [`delta thx ${c.thresholdX} thh ${c.thresholdH}`, pct(tc.accuracy), ...wer(tc), pct(tc.occupancy), `${tc.opsSaving.toFixed(2)}x`]]));
    }
    console.log(`chosen: thresholdX ${c.thresholdX}, thresholdH ${c.thresholdH}; wrote ${o.table} and ${o.plot}`);
    if (o.save) {
      model.meta = { ...model.meta, thresholdX: String(c.thresholdX), thresholdH: String(c.thresholdH), tunedOn: `${task.corpus}/${split}, max ${ctc ? 'word accuracy' : 'accuracy'} drop ${maxAccuracyDrop} points` };
      await saveModel(model, o.save, { overwrite: o.force === true });
      console.log(`saved ${o.save} with the chosen thresholds in its metadata`);
    }
  });
}
