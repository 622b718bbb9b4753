/**
 * Threshold tuning: sweep (thresholdX, thresholdH) over a grid, run the model through the
 * streaming runtime at every point, and pick the point with the lowest occupancy whose accuracy
 * stays within a budget of the dense network's accuracy (the published results: accuracy against operations).
 *
 * The sweep can be interrupted and resumed: finished points are kept in a JSON state file.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { check, DeltakitError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../model/types.js';
import type { Readout } from './net.js';
import { scatterSvg } from './plot.js';
import { progressBar } from './progress.js';
import { evaluateWithSession, type SessionEval } from './task.js';

export interface TunePoint {
  thresholdX: number;
  thresholdH: number;
  result: SessionEval;
}

export interface TuneResult {
  dense: SessionEval;
  points: TunePoint[];
  /** Accuracy drop allowed, in percentage points (for CTC: of word accuracy, 1 - WER). */
  maxAccuracyDrop: number;
  /** The model's readout: `ctc` budgets word accuracy and the table adds the word error rate. */
  readout?: Readout;
  /** The lowest-occupancy point within the budget (null when none is). */
  chosen: TunePoint | null;
}

export interface TuneOptions {
  gridX: number[];
  gridH: number[];
  /** Accuracy drop allowed against dense, in percentage points (0.5 = half a point). */
  maxAccuracyDrop: number;
  readout: Readout;
  /** JSON file keeping finished points; with `resume`, they are not recomputed. */
  stateFile?: string;
  resume?: boolean;
  signal?: AbortSignal;
  progress?: boolean;
}

/** Default sweep grid: thresholds on normalised features and on hidden states in [-1, 1]. */
export const DEFAULT_GRID_X = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0];
export const DEFAULT_GRID_H = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4];

/**
 * What the budget is measured on: accuracy for classifiers; for CTC models word accuracy,
 * 1 - word error rate (string accuracy moves in steps of a whole string and ignores how many
 * digits a wrong string got right).
 *
 * @example tuneScore(result, 'ctc') // 1 - result.wer
 */
export function tuneScore(e: Pick<SessionEval, 'accuracy' | 'wer'>, readout: Readout): number {
  return readout === 'ctc' ? 1 - (e.wer ?? 1) : e.accuracy;
}

/**
 * Pick the lowest-occupancy point within `maxAccuracyDrop` points of dense (ties: higher score).
 * The score is accuracy, or with `readout` ctc word accuracy (1 - WER).
 *
 * @example chooseThresholds(points, dense.accuracy, 0.5)
 */
export function chooseThresholds(points: TunePoint[], denseScore: number, maxAccuracyDrop: number, readout: Readout = 'mean'): TunePoint | null {
  const floor = denseScore - maxAccuracyDrop / 100 - 1e-12;
  let best: TunePoint | null = null;
  const score = (p: TunePoint) => tuneScore(p.result, readout);
  for (const p of points) {
    if (score(p) < floor) continue;
    if (!best || p.result.occupancy < best.result.occupancy || (p.result.occupancy === best.result.occupancy && score(p) > score(best))) best = p;
  }
  return best;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Sweep the grid on a normalised dataset.
 *
 * @example const r = await tuneThresholds(model, validation, { gridX: [0, 0.5], gridH: [0, 0.2], maxAccuracyDrop: 0.5, readout: 'mean' });
 */
export async function tuneThresholds(model: Model, ds: Dataset, o: TuneOptions): Promise<TuneResult> {
  for (const v of [...o.gridX, ...o.gridH]) check(Number.isFinite(v) && v >= 0, 'E_OPTION', () => `tune: thresholds must be finite numbers >= 0, found ${v}`);
  check(o.gridX.length > 0 && o.gridH.length > 0, 'E_OPTION', () => 'tune: expected at least one threshold per grid');
  check(Number.isFinite(o.maxAccuracyDrop) && o.maxAccuracyDrop >= 0 && o.maxAccuracyDrop <= 100, 'E_OPTION', () => `tune: max accuracy drop must be in 0..100 points, found ${o.maxAccuracyDrop}`);
  const done = new Map<string, TunePoint>();
  const key = (x: number, h: number) => `${x}/${h}`;
  let dense: SessionEval | null = null;
  if (o.resume && o.stateFile && existsSync(o.stateFile)) {
    try {
      const st = JSON.parse(readFileSync(o.stateFile, 'utf8')) as { dense: SessionEval | null; points: TunePoint[] };
      dense = st.dense;
      for (const p of st.points) done.set(key(p.thresholdX, p.thresholdH), p);
    } catch (e) {
      throw new DeltakitError('E_FORMAT', `tune: state file ${o.stateFile} is not valid JSON`, { cause: e });
    }
  }
  const save = () => {
    if (!o.stateFile) return;
    const tmp = `${o.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ dense, points: [...done.values()] }, null, 1));
    renameSync(tmp, o.stateFile);
  };
  const grid: Array<[number, number]> = [];
  for (const x of o.gridX) for (const h of o.gridH) grid.push([x, h]);
  const bar = progressBar('tune', grid.length + 1, o.progress);
  try {
    if (!dense) {
      dense = evaluateWithSession(model, ds, o.readout);
      save();
    }
    bar.update(1);
    for (const [i, [x, h]] of grid.entries()) {
      if (!done.has(key(x, h))) {
        done.set(key(x, h), { thresholdX: x, thresholdH: h, result: evaluateWithSession(model, ds, o.readout, { thresholdX: x, thresholdH: h }) });
        save();
      }
      bar.update(i + 2, `thx ${x} thh ${h}`);
      await yieldToEventLoop();
      if (o.signal?.aborted) throw new DeltakitError('E_INTERRUPTED', `tune: interrupted after ${i + 1} of ${grid.length} points${o.stateFile ? `; finished points kept in ${o.stateFile}, rerun with --resume` : ''}`);
    }
  } finally {
    bar.stop();
  }
  const points = grid.map(([x, h]) => done.get(key(x, h))!);
  return { dense, points, maxAccuracyDrop: o.maxAccuracyDrop, readout: o.readout, chosen: chooseThresholds(points, tuneScore(dense, o.readout), o.maxAccuracyDrop, o.readout) };
}

const pct = (v: number) => (100 * v).toFixed(2);

/**
 * The sweep as a Markdown table (one row per point, the chosen one marked).
 *
 * @example writeFileSync('tune.md', tuneTable(await tuneThresholds(model, ds, o)));
 */
export function tuneTable(r: TuneResult): string {
  const readout = r.readout ?? 'mean';
  const ctc = readout === 'ctc';
  const wer = (e: SessionEval) => (ctc ? ` ${pct(e.wer ?? 1)} |` : '');
  const rows = [
    `| thresholdX | thresholdH | ${ctc ? 'strings right % | WER % | drop (WER points)' : 'accuracy % | drop (points)'} | occupancy % | occupancy x % | occupancy h % | ops saving | chosen |`,
    `|---:|---:|---:|---:|${ctc ? '---:|' : ''}---:|---:|---:|---:|:---:|`,
    `| dense | dense | ${pct(r.dense.accuracy)} |${wer(r.dense)} 0.00 | 100.00 | 100.00 | 100.00 | 1.00x | |`,
  ];
  for (const p of r.points) {
    const e = p.result;
    rows.push(`| ${p.thresholdX} | ${p.thresholdH} | ${pct(e.accuracy)} |${wer(e)} ${(100 * (tuneScore(r.dense, readout) - tuneScore(e, readout))).toFixed(2)} | ${pct(e.occupancy)} | ${pct(e.occupancyX)} | ${pct(e.occupancyH)} | ${e.opsSaving.toFixed(2)}x | ${p === r.chosen ? '**yes**' : ''} |`);
  }
  return rows.join('\n') + '\n';
}

/**
 * The sweep as an SVG plot of accuracy against occupancy.
 *
 * @example writeFileSync('tune.svg', tunePlot(result, 'digits'));
 */
export function tunePlot(r: TuneResult, title: string): string {
  const readout = r.readout ?? 'mean';
  const score = (e: SessionEval) => tuneScore(e, readout);
  const what = readout === 'ctc' ? 'word accuracy' : 'accuracy';
  return scatterSvg(
    r.points.map((p) => ({ x: 100 * p.result.occupancy, y: 100 * score(p.result), label: `thx ${p.thresholdX}, thh ${p.thresholdH}: ${what} ${pct(score(p.result))} % at ${pct(p.result.occupancy)} % occupancy`, highlight: p === r.chosen })),
    {
      title,
      xLabel: 'occupancy (% of weight columns read)',
      yLabel: readout === 'ctc' ? 'word accuracy, 100 - WER (%)' : 'accuracy (%)',
      hLines: [
        { y: 100 * score(r.dense), label: `dense ${pct(score(r.dense))} %` },
        { y: 100 * score(r.dense) - r.maxAccuracyDrop, label: `budget -${r.maxAccuracyDrop} points`, dashed: true },
      ],
    },
  );
}
