/**
 * `deltakit tune MODEL --data digits --max-accuracy-drop 0.5`: sweep delta thresholds through
 * the streaming runtime, pick the lowest occupancy within the accuracy budget, and write a table
 * (Markdown) and a plot (SVG) of accuracy against occupancy.
 */
import { existsSync, rmSync } from 'node:fs';
import { writeFileSafely } from '../../core/files.js';
import type { Command } from 'commander';
import { check, fail } from '../../core/errors.js';
import { CORPUS_NAMES } from '../../data/corpus.js';
import { SPLITS } from '../../data/dataset.js';
import { loadModel, saveModel } from '../../model/io.js';
import { modelTask, scoresClips, taskDataset, evaluateWithSession } from '../../train/task.js';
import { checkTuneGrid, conditionStateFile, tuneScore, DEFAULT_GRID_H, DEFAULT_GRID_X, tunePlot, tunePlotAcross, tuneTable, tuneTableAcross, tuneThresholds, tuneThresholdsAcross } from '../../train/tune.js';
import type { Augmentation } from '../../data/augment.js';
import { checkWritable, parseChoice, parseNumber, table, untilInterrupted } from '../options.js';
import { addCorpusOptions, checkUnheardVoices, corpusOptionsOfModel, parseCondition, type CorpusCliOptions } from './data.js';
import type { CorpusOptions } from '../../data/corpus.js';
import type { Model } from '../../model/types.js';
import type { ModelTask } from '../../train/task.js';
import type { TuneResult } from '../../train/tune.js';

interface TuneOpts extends CorpusCliOptions {
  data?: string;
  maxAccuracyDrop: string;
  maxDisagreement?: string;
  split: string;
  gridX?: string;
  gridH?: string;
  table: string;
  plot: string;
  save?: string;
  force?: boolean;
  resume?: boolean;
  conditions?: string;
}

/**
 * Parse `--conditions`: semicolon-separated conditions as --condition takes them, `clean` for
 * none (e.g. `clean;telephone;gain=-20`).
 *
 * @example parseConditions('clean;telephone') // [{ label: 'clean', condition: {} }, { label: 'telephone', condition: { channel: 'telephone' } }]
 */
export function parseConditions(raw: string): Array<{ label: string; condition: Partial<Augmentation> }> {
  const parts = raw.split(';').map((p) => p.trim());
  check(parts.length > 0 && parts.every((p) => p !== ''), 'E_OPTION', () => `--conditions: expected conditions separated by ';' (e.g. clean;telephone), found '${raw}'`);
  const labels = new Set<string>();
  return parts.map((label) => {
    check(!labels.has(label), 'E_OPTION', () => `--conditions: expected each condition once, found '${label}' twice`);
    labels.add(label);
    return { label, condition: label === 'clean' ? {} : parseCondition(label) };
  });
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
      .option('--max-accuracy-drop <points>', 'accuracy drop allowed against dense, in percentage points (CTC models: word accuracy, i.e. a rise of the word error rate; a keyword-stream model: clips right, decided by its clip rule)', '0.5')
      .option('--max-disagreement <percent>', "also keep the delta network's decisions: at most this percentage of the utterances decided otherwise than by dense (errors made and errors mended both count; default: no limit)")
      .option('--split <split>', 'split to tune on (the chosen point is also reported on test)', 'validation')
      .option('--grid-x <list>', `input thresholds (default ${DEFAULT_GRID_X.join(',')})`)
      .option('--grid-h <list>', `hidden thresholds (default ${DEFAULT_GRID_H.join(',')})`)
      .option('--table <file.md>', 'write the sweep as a Markdown table', 'tune.md')
      .option('--plot <file.svg>', 'write accuracy against occupancy as SVG', 'tune.svg')
      .option('--save <model.safetensors>', 'save the model with the chosen thresholds in its metadata')
      .option('-f, --force', 'overwrite existing output files')
      .option('--resume', 'keep the points a previous interrupted sweep finished (<table>.json)')
      .option('--conditions <list>', "sweep under several conditions separated by ';' (clean for none, else as --condition), choose the point within budget under every one"),
    // Eight renditions per validation voice: 880 digits instead of 220, so half a point is four
    // utterances, not one, and the choice does not chase the noise of a small set.
    '3,8,2',
  ).action(async (modelPath: string, o: TuneOpts, cmd: Command) => {
    const maxAccuracyDrop = parseNumber('--max-accuracy-drop', o.maxAccuracyDrop, { min: 0, max: 100 })!;
    const maxDisagreement = o.maxDisagreement === undefined ? undefined : parseNumber('--max-disagreement', o.maxDisagreement, { min: 0, max: 100 })!;
    const budget = { maxAccuracyDrop, ...(maxDisagreement !== undefined ? { maxDisagreement } : {}) };
    const budgetText = `at most ${points(maxAccuracyDrop)} below dense${maxDisagreement !== undefined ? ` and at most ${maxDisagreement} % of the decisions changed` : ''}`;
    const split = parseChoice('--split', o.split, SPLITS)!;
    const gridX = parseGrid('--grid-x', o.gridX, DEFAULT_GRID_X);
    const gridH = parseGrid('--grid-h', o.gridH, DEFAULT_GRID_H);
    // Before the data set is built: a grid too large to sweep is refused at once.
    checkTuneGrid(gridX, gridH);
    // Checked on --resume too: table and plot are written only at the end.
    checkWritable(o.table, o.force);
    checkWritable(o.plot, o.force);
    if (o.save) checkWritable(o.save, o.force);
    // An interrupted sweep's finished points (<table>.json; <table>.0.json... under --conditions)
    // are saved work, which a new sweep without --resume would replace at its first point.
    if (!o.resume && o.force !== true) {
      for (const state of [`${o.table}.json`, conditionStateFile(`${o.table}.json`, 0)]) {
        check(!existsSync(state), 'E_EXISTS', () => `${state} exists (the finished points of an interrupted sweep): expected --resume to continue it, or --force to start over and replace it`);
      }
    }
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
    if (o.conditions !== undefined) {
      check(o.condition === undefined, 'E_OPTION', () => `tune: expected --condition or --conditions, found both ('${o.condition}' and '${o.conditions}')`);
      await tuneAcross(model, task, co, split, parseConditions(o.conditions), { gridX, gridH, ...budget }, budgetText, o);
      return;
    }
    const stateFile = `${o.table}.json`;
    const ctc = task.readout === 'ctc';
    // A keyword-stream model decides isolated clips (one word or none each) by its clip rule: the
    // budget is on clips right, as eval reports them.
    const clips = scoresClips(task);
    const r = await untilInterrupted((signal) => tuneThresholds(model, ds, { gridX, gridH, ...budget, readout: task.readout, ...(clips ? { clips } : {}), stateFile, resume: o.resume, signal }));
    const enc = (text: string) => new TextEncoder().encode(text);
    await writeFileSafely(o.table, enc(`# Threshold sweep of ${model.name} on ${task.corpus}/${split} (${ds.utterances.length} utterances)\n\nBudget: ${budgetText}.\n\n${tuneTable(r)}`), { overwrite: o.force === true });
    await writeFileSafely(o.plot, enc(tunePlot(r, `${model.name}: ${clips ? 'clips right' : ctc ? 'word accuracy' : 'accuracy'} vs occupancy (${task.corpus}/${split})`)), { overwrite: o.force === true });
    // The sweep is complete and its results are in the table: the resume state has served.
    rmSync(stateFile, { force: true });
    const pct = (v: number) => (100 * v).toFixed(2);
    // CTC models: string accuracy and word error rate; the budget applies to word accuracy.
    const head = ['network', clips ? 'clips right %' : ctc ? 'strings right %' : 'accuracy %', ...(ctc ? [clips ? 'keyword error rate %' : 'WER %'] : []), 'occupancy %', 'ops saving'];
    const wer = (e: { wer?: number }) => (ctc ? [pct(e.wer ?? 1)] : []);
    const rows = [['dense', pct(r.dense.accuracy), ...wer(r.dense), '100.00', '1.00x']];
    if (!r.chosen) {
      console.log(table(head, rows));
      // A result, not bad input, but one a script must tell from success: a coded line (exit 1).
      const closest = closestPoint(r);
      const why = !closest
        ? ''
        : closest.drop > maxAccuracyDrop + 1e-9
          ? `; the closest, thx ${closest.thresholdX} thh ${closest.thresholdH}, is ${closest.drop.toFixed(2)} points below dense: try a larger --max-accuracy-drop or smaller thresholds`
          : `; the pairs within the accuracy budget change more than ${maxDisagreement} % of the decisions: try a larger --max-disagreement or smaller thresholds`;
      fail('E_NO_POINT', `tune: no threshold pair of the ${gridX.length} x ${gridH.length} grid stays within the budget (${budgetText})${why} (the sweep is in ${o.table} and ${o.plot})`);
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
      model.meta = { ...model.meta, thresholdX: String(c.thresholdX), thresholdH: String(c.thresholdH), tunedOn: `${task.corpus}/${split}, max ${clips ? 'clips right' : ctc ? 'word accuracy' : 'accuracy'} drop ${points(maxAccuracyDrop)}${maxDisagreement !== undefined ? `, max ${maxDisagreement} % of decisions changed` : ''}` };
      await saveModel(model, o.save, { overwrite: o.force === true });
      console.log(`saved ${o.save} with the chosen thresholds in its metadata`);
    }
  });
}

const pct = (v: number) => (100 * v).toFixed(2);

/**
 * The point of a sweep with the smallest accuracy drop against dense (ties: lower occupancy),
 * named when none is within the budget so the user sees how far off the grid is.
 */
function closestPoint(r: TuneResult): { thresholdX: number; thresholdH: number; drop: number } | null {
  const readout = r.readout ?? 'mean';
  const dense = tuneScore(r.dense, readout, r.clips);
  let best: { thresholdX: number; thresholdH: number; drop: number; occupancy: number } | null = null;
  for (const p of r.points) {
    const drop = 100 * (dense - tuneScore(p.result, readout, r.clips));
    if (!best || drop < best.drop - 1e-9 || (Math.abs(drop - best.drop) <= 1e-9 && p.result.occupancy < best.occupancy)) best = { thresholdX: p.thresholdX, thresholdH: p.thresholdH, drop, occupancy: p.result.occupancy };
  }
  return best;
}

/** A number of percentage points in words (`1 point`, `0.5 points`). */
const points = (n: number) => `${n} point${n === 1 ? '' : 's'}`;

/** `tune --conditions`: one sweep per condition, the point chosen within budget under all of them. */
async function tuneAcross(
  model: Model,
  task: ModelTask,
  co: CorpusOptions,
  split: (typeof SPLITS)[number],
  conditions: Array<{ label: string; condition: Partial<Augmentation> }>,
  g: { gridX: number[]; gridH: number[]; maxAccuracyDrop: number; maxDisagreement?: number },
  budgetText: string,
  o: TuneOpts,
): Promise<void> {
  const datasetOf = (sp: (typeof SPLITS)[number], c: Partial<Augmentation>) => {
    const { condition: _ignored, ...rest } = co;
    void _ignored;
    return taskDataset(task, sp, Object.keys(c).length > 0 ? { ...rest, condition: c } : rest);
  };
  const sets = conditions.map((c) => ({ label: c.label, ds: datasetOf(split, c.condition) }));
  checkUnheardVoices(model, sets[0]!.ds.utterances, split, 'tune');
  const stateFile = `${o.table}.json`;
  const clips = scoresClips(task);
  const r = await untilInterrupted((signal) => tuneThresholdsAcross(model, sets, { ...g, readout: task.readout, ...(clips ? { clips } : {}), stateFile, resume: o.resume, signal }));
  const enc = (text: string) => new TextEncoder().encode(text);
  const names = conditions.map((c) => c.label).join(', ');
  await writeFileSafely(o.table, enc(`# Threshold sweep of ${model.name} on ${task.corpus}/${split} (${sets[0]!.ds.utterances.length} utterances) under ${names}\n\nBudget: ${budgetText} under every condition; chosen: the lowest mean occupancy.\n\n${tuneTableAcross(r)}`), { overwrite: o.force === true });
  await writeFileSafely(o.plot, enc(tunePlotAcross(r, `${model.name}: accuracy vs occupancy (${task.corpus}/${split}; ${names})`)), { overwrite: o.force === true });
  conditions.forEach((_, i) => {
    const f = conditionStateFile(stateFile, i);
    if (existsSync(f)) rmSync(f, { force: true });
  });
  const c = r.chosen;
  const rows = r.sweeps.flatMap((s) => {
    const out = [[s.label, 'dense', pct(s.result.dense.accuracy), '100.00', '1.00x']];
    const p = c && s.result.points.find((q) => q.thresholdX === c.thresholdX && q.thresholdH === c.thresholdH);
    if (p) out.push([s.label, `delta thx ${p.thresholdX} thh ${p.thresholdH}`, pct(p.result.accuracy), pct(p.result.occupancy), `${p.result.opsSaving.toFixed(2)}x`]);
    return out;
  });
  console.log(`${split} split, ${sets[0]!.ds.utterances.length} utterances per condition:`);
  console.log(table(['condition', 'network', 'accuracy %', 'occupancy %', 'ops saving'], rows));
  if (!c) {
    fail('E_NO_POINT', `tune: no threshold pair of the ${g.gridX.length} x ${g.gridH.length} grid stays within the budget (${budgetText}) under every condition (${names}): try a larger --max-accuracy-drop or smaller thresholds (the sweep is in ${o.table} and ${o.plot})`);
  }
  if (split !== 'test') {
    const testRows = conditions.flatMap((cond) => {
      const test = datasetOf('test', cond.condition);
      const td = evaluateWithSession(model, test, task.readout);
      const tc = evaluateWithSession(model, test, task.readout, { thresholdX: c.thresholdX, thresholdH: c.thresholdH });
      return [
        [cond.label, 'dense', pct(td.accuracy), '100.00', '1.00x'],
        [cond.label, `delta thx ${c.thresholdX} thh ${c.thresholdH}`, pct(tc.accuracy), pct(tc.occupancy), `${tc.opsSaving.toFixed(2)}x`],
      ];
    });
    console.log('test split (voices never heard in training):');
    console.log(table(['condition', 'network', 'accuracy %', 'occupancy %', 'ops saving'], testRows));
  }
  console.log(`chosen: thresholdX ${c.thresholdX}, thresholdH ${c.thresholdH}; wrote ${o.table} and ${o.plot}`);
  if (o.save) {
    model.meta = { ...model.meta, thresholdX: String(c.thresholdX), thresholdH: String(c.thresholdH), tunedOn: `${task.corpus}/${split} under ${names}, max accuracy drop ${points(g.maxAccuracyDrop)}${g.maxDisagreement !== undefined ? ` and ${g.maxDisagreement} % of decisions changed` : ''} under each` };
    await saveModel(model, o.save, { overwrite: o.force === true });
    console.log(`saved ${o.save} with the chosen thresholds in its metadata`);
  }
}
