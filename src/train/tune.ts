/**
 * Threshold tuning: sweep (thresholdX, thresholdH) over a grid, run the model through the
 * streaming runtime at every point, and pick the point with the lowest occupancy whose accuracy
 * stays within a budget of the dense network's accuracy (the published results: accuracy against operations).
 *
 * Across conditions (clean, telephone, a level...), the same grid is swept under each and the
 * point chosen must keep the budget under every one: thresholds tuned on clean speech alone can
 * cost more accuracy on a narrow-band channel, where the features move differently.
 *
 * The sweep can be interrupted and resumed: finished points are kept in a JSON state file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { check, DeltakitError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../model/types.js';
import type { Readout } from './net.js';
import { scatterSvg } from './plot.js';
import { progressBar } from './progress.js';
import { agreementOf, evaluateWithSession, type SessionEval } from './task.js';

export interface TunePoint {
  thresholdX: number;
  thresholdH: number;
  result: SessionEval;
  /** The fraction of utterances on which the delta network decides what the dense one decides. */
  agreement?: number;
}

export interface TuneResult {
  dense: SessionEval;
  points: TunePoint[];
  /** Accuracy drop allowed, in percentage points (for CTC: of word accuracy, 1 - WER; with `clips`, of clips right). */
  maxAccuracyDrop: number;
  /** The model's readout: `ctc` budgets word accuracy and the table adds the word error rate. */
  readout?: Readout;
  /** A keyword-stream (CTC) model on isolated clips: the budget is on clips right, not word accuracy. */
  clips?: boolean;
  /** Decisions the delta network may change against dense, in percent of the utterances (absent: no limit). */
  maxDisagreement?: number;
  /** The lowest-occupancy point within the budget (null when none is). */
  chosen: TunePoint | null;
}

export interface TuneOptions {
  gridX: number[];
  gridH: number[];
  /** Accuracy drop allowed against dense, in percentage points (0.5 = half a point). */
  maxAccuracyDrop: number;
  /**
   * A second budget: at most this percentage of the utterances may be decided differently by the
   * delta network than by the dense one (its errors and its mended errors both count, where the
   * accuracy budget lets them cancel). Absent: none.
   */
  maxDisagreement?: number;
  readout: Readout;
  /**
   * A keyword-stream (CTC) model on isolated clips (one word or none each): budget the clips
   * decided right (`accuracy`, the measure `eval` reports), not 1 - keyword error rate, whose
   * points are per keyword clip, not per clip.
   */
  clips?: boolean;
  /** JSON file keeping finished points; with `resume`, they are not recomputed. */
  stateFile?: string;
  resume?: boolean;
  signal?: AbortSignal;
  progress?: boolean;
}

/**
 * A digest of what a sweep measures: the model's weights and structure, the utterances (ids,
 * frame counts, labels, feature values) and how they are scored. Two sweeps resume each other only
 * when it is the same.
 */
function tuneIdentity(model: Model, ds: Dataset, o: Pick<TuneOptions, 'readout' | 'clips'>): string {
  const h = createHash('sha1');
  h.update(JSON.stringify({ readout: o.readout, clips: o.clips === true, name: model.name, layers: model.layers.map((l) => ({ ...l, ...Object.fromEntries(Object.entries(l).filter(([, v]) => ArrayBuffer.isView(v)).map(([k]) => [k, null])) })) }));
  for (const l of model.layers) for (const v of Object.values(l)) if (ArrayBuffer.isView(v)) h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  for (const u of ds.utterances) {
    h.update(`${u.id}|${u.frames}|${u.label}|${u.words.join(',')}|`);
    h.update(new Uint8Array(u.features.buffer, u.features.byteOffset, u.features.byteLength));
  }
  return h.digest('hex');
}

/** A parsed state file, its shape checked (E_FORMAT naming what is wrong), so a resumed sweep never reads a half-valid point. */
function readTuneState(st: unknown, path: string, utterances: number): { sweep?: string; dense: SessionEval | null; points: TunePoint[] } {
  const bad = (what: string): never => {
    throw new DeltakitError('E_FORMAT', `tune: state file ${path}: expected ${what}`);
  };
  const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const isEval = (v: unknown) => typeof v === 'object' && v !== null && isNum((v as SessionEval).accuracy) && isNum((v as SessionEval).occupancy) && isNum((v as SessionEval).opsSaving);
  if (typeof st !== 'object' || st === null) bad('an object {sweep, dense, points}');
  const { sweep, dense, points } = st as { sweep?: unknown; dense?: unknown; points?: unknown };
  if (sweep !== undefined && typeof sweep !== 'string') bad('sweep to be a string');
  if (dense !== null && dense !== undefined) {
    if (!isEval(dense)) bad('dense to be an evaluation (accuracy, occupancy, opsSaving)');
    const d = (dense as SessionEval).decisions;
    if (d !== undefined && (!Array.isArray(d) || d.length !== utterances)) bad(`dense.decisions to hold one decision per utterance (${utterances})`);
  }
  if (!Array.isArray(points)) bad('points to be a list');
  (points as unknown[]).forEach((p, i) => {
    const q = p as TunePoint;
    if (typeof p !== 'object' || p === null || !isNum(q.thresholdX) || !isNum(q.thresholdH) || !isEval(q.result) || (q.agreement !== undefined && !isNum(q.agreement))) bad(`point ${i} to hold thresholdX, thresholdH, result (accuracy, occupancy, opsSaving) and agreement`);
  });
  return { ...(sweep !== undefined ? { sweep: sweep as string } : {}), dense: (dense ?? null) as SessionEval | null, points: points as TunePoint[] };
}

/** Default sweep grid: thresholds on normalised features and on hidden states in [-1, 1]. */
export const DEFAULT_GRID_X = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0];
export const DEFAULT_GRID_H = [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4];

/**
 * What the budget is measured on: accuracy for classifiers; for CTC models word accuracy,
 * 1 - word error rate (string accuracy moves in steps of a whole string and ignores how many
 * digits a wrong string got right); for a keyword-stream model on isolated clips (`clips`), the
 * clips decided right: each clip is one decision, and a keyword error rate counts its errors per
 * keyword clip (an insertion in an unknown word or a silence clip too).
 *
 * @example tuneScore(result, 'ctc') // 1 - result.wer
 * @example tuneScore(result, 'ctc', true) // result.accuracy: clips right
 */
export function tuneScore(e: Pick<SessionEval, 'accuracy' | 'wer'>, readout: Readout, clips = false): number {
  return readout === 'ctc' && !clips ? 1 - (e.wer ?? 1) : e.accuracy;
}

/**
 * Pick the lowest-occupancy point within `maxAccuracyDrop` points of dense (ties: higher score).
 * The score is accuracy, or with `readout` ctc word accuracy (1 - WER), or with `clips` too the
 * clips right (tuneScore). With `maxDisagreement`, a point must also change at most that
 * percentage of dense's decisions.
 *
 * @example chooseThresholds(points, dense.accuracy, 0.5)
 */
export function chooseThresholds(points: TunePoint[], denseScore: number, maxAccuracyDrop: number, readout: Readout = 'mean', maxDisagreement?: number, clips = false): TunePoint | null {
  const floor = denseScore - maxAccuracyDrop / 100 - 1e-12;
  let best: TunePoint | null = null;
  const score = (p: TunePoint) => tuneScore(p.result, readout, clips);
  for (const p of points) {
    if (score(p) < floor || !agreesEnough(p, maxDisagreement)) continue;
    if (!best || p.result.occupancy < best.result.occupancy || (p.result.occupancy === best.result.occupancy && score(p) > score(best))) best = p;
  }
  return best;
}

/**
 * True when a point keeps the disagreement budget (always, without one). A point whose agreement
 * was never measured cannot show that it keeps a budget.
 */
function agreesEnough(p: TunePoint, maxDisagreement: number | undefined): boolean {
  if (maxDisagreement === undefined) return true;
  return p.agreement !== undefined && 100 * (1 - p.agreement) <= maxDisagreement + 1e-9;
}

function checkDisagreement(maxDisagreement: number | undefined): void {
  if (maxDisagreement !== undefined) check(Number.isFinite(maxDisagreement) && maxDisagreement >= 0 && maxDisagreement <= 100, 'E_OPTION', () => `tune: max disagreement must be in 0..100 percent of the utterances, found ${maxDisagreement}`);
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Sweep the grid on a normalised dataset.
 *
 * @example const r = await tuneThresholds(model, validation, { gridX: [0, 0.5], gridH: [0, 0.2], maxAccuracyDrop: 0.5, readout: 'mean' });
 */
/**
 * Most threshold pairs one sweep may hold: every pair runs the delta network over the whole data
 * set (the default grid is 6 x 6 = 36), so a larger grid is a typing slip, not a plan.
 */
export const MAX_TUNE_POINTS = 1000;

/**
 * Check a sweep's grids: at least one finite threshold >= 0 each, at most MAX_TUNE_POINTS pairs
 * (E_LIMIT naming the product).
 *
 * @example checkTuneGrid([0.3, 0.4], [0.1, 0.2]);
 */
export function checkTuneGrid(gridX: readonly number[], gridH: readonly number[]): void {
  for (const v of [...gridX, ...gridH]) check(Number.isFinite(v) && v >= 0, 'E_OPTION', () => `tune: thresholds must be finite numbers >= 0, found ${v}`);
  check(gridX.length > 0 && gridH.length > 0, 'E_OPTION', () => 'tune: expected at least one threshold per grid');
  check(gridX.length * gridH.length <= MAX_TUNE_POINTS, 'E_LIMIT', () => `tune: expected at most ${MAX_TUNE_POINTS} threshold pairs (each runs the whole data set), found ${gridX.length} x ${gridH.length} = ${gridX.length * gridH.length}`);
}

export async function tuneThresholds(model: Model, ds: Dataset, o: TuneOptions): Promise<TuneResult> {
  checkTuneGrid(o.gridX, o.gridH);
  check(Number.isFinite(o.maxAccuracyDrop) && o.maxAccuracyDrop >= 0 && o.maxAccuracyDrop <= 100, 'E_OPTION', () => `tune: max accuracy drop must be in 0..100 points, found ${o.maxAccuracyDrop}`);
  checkDisagreement(o.maxDisagreement);
  const done = new Map<string, TunePoint>();
  const key = (x: number, h: number) => `${x}/${h}`;
  let dense: SessionEval | null = null;
  // What the finished points were measured on: resuming with another model, data set or readout
  // would take its points as this sweep's (the state file is named after --table, not the model).
  const sweepOf = tuneIdentity(model, ds, o);
  if (o.resume && o.stateFile && existsSync(o.stateFile)) {
    let st: unknown;
    try {
      st = JSON.parse(readFileSync(o.stateFile, 'utf8'));
    } catch (e) {
      throw new DeltakitError('E_FORMAT', `tune: state file ${o.stateFile} is not valid JSON`, { cause: e });
    }
    const state = readTuneState(st, o.stateFile, ds.utterances.length);
    // A state without the dense decisions or the sweep's identity (an older sweep) is started
    // afresh: agreement needs the decisions, and its points cannot be told to be this sweep's.
    if (state.sweep !== undefined) {
      check(state.sweep === sweepOf, 'E_MISMATCH', () => `tune: state file ${o.stateFile} holds a sweep of another model, data set or readout; start without --resume, or give another --table`);
      if (state.dense?.decisions) {
        dense = state.dense;
        for (const p of state.points) if (p.agreement !== undefined) done.set(key(p.thresholdX, p.thresholdH), p);
      }
    }
  }
  const save = () => {
    if (!o.stateFile) return;
    const tmp = `${o.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ sweep: sweepOf, dense, points: [...done.values()] }, null, 1));
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
        // Each point keeps its agreement with dense, not its decisions (the state file stays small).
        const { decisions, ...result } = evaluateWithSession(model, ds, o.readout, { thresholdX: x, thresholdH: h });
        done.set(key(x, h), { thresholdX: x, thresholdH: h, result, agreement: agreementOf(dense.decisions!, decisions!) });
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
  const { decisions: _d, ...denseResult } = dense;
  void _d;
  return {
    dense: denseResult,
    points,
    maxAccuracyDrop: o.maxAccuracyDrop,
    ...(o.maxDisagreement !== undefined ? { maxDisagreement: o.maxDisagreement } : {}),
    readout: o.readout,
    ...(o.clips ? { clips: true } : {}),
    chosen: chooseThresholds(points, tuneScore(dense, o.readout, o.clips), o.maxAccuracyDrop, o.readout, o.maxDisagreement, o.clips),
  };
}

/** One condition's sweep in a sweep across conditions. */
export interface ConditionSweep {
  /** How the condition was named (e.g. `clean`, `telephone`, `gain=-20`). */
  label: string;
  result: TuneResult;
}

export interface TuneAcrossResult {
  sweeps: ConditionSweep[];
  maxAccuracyDrop: number;
  /** Decisions the delta network may change against dense under each condition, in percent (absent: no limit). */
  maxDisagreement?: number;
  /** The grid point within budget under every condition with the lowest mean occupancy (null when none is). */
  chosen: { thresholdX: number; thresholdH: number } | null;
}

/**
 * Pick the grid point that stays within `maxAccuracyDrop` points of dense under every condition,
 * with the lowest occupancy averaged over the conditions (ties: the larger worst-case margin).
 * The score is accuracy, or for CTC models word accuracy (1 - WER), as in chooseThresholds.
 * The sweeps must share one grid, in one order. With `maxDisagreement`, a point must also change
 * at most that percentage of dense's decisions under every condition.
 *
 * @example chooseThresholdsAcross([clean, telephone], 0.5)
 */
export function chooseThresholdsAcross(sweeps: TuneResult[], maxAccuracyDrop: number, maxDisagreement?: number): { thresholdX: number; thresholdH: number } | null {
  checkDisagreement(maxDisagreement);
  check(sweeps.length > 0, 'E_OPTION', () => 'tune: expected at least one condition');
  const n = sweeps[0]!.points.length;
  for (const s of sweeps) {
    check(
      s.points.length === n && s.points.every((p, i) => p.thresholdX === sweeps[0]!.points[i]!.thresholdX && p.thresholdH === sweeps[0]!.points[i]!.thresholdH),
      'E_MISMATCH',
      () => `tune: every condition must be swept over one grid, found ${s.points.length} points against ${n}`,
    );
  }
  let best: { i: number; occupancy: number; margin: number } | null = null;
  for (let i = 0; i < n; i++) {
    let occupancy = 0;
    let margin = Infinity;
    let agrees = true;
    for (const s of sweeps) {
      const p = s.points[i]!;
      agrees &&= agreesEnough(p, maxDisagreement);
      const readout = s.readout ?? 'mean';
      occupancy += p.result.occupancy / sweeps.length;
      margin = Math.min(margin, tuneScore(p.result, readout, s.clips) - (tuneScore(s.dense, readout, s.clips) - maxAccuracyDrop / 100));
    }
    if (margin < -1e-12 || !agrees) continue;
    if (!best || occupancy < best.occupancy - 1e-12 || (Math.abs(occupancy - best.occupancy) <= 1e-12 && margin > best.margin)) best = { i, occupancy, margin };
  }
  if (!best) return null;
  const p = sweeps[0]!.points[best.i]!;
  return { thresholdX: p.thresholdX, thresholdH: p.thresholdH };
}

/**
 * Sweep the grid under several conditions (one normalised dataset each) and choose across them.
 * With a state file, condition i keeps its finished points in `<stateFile>.<i>.json`.
 *
 * @example await tuneThresholdsAcross(model, [{ label: 'clean', ds }, { label: 'telephone', ds: tel }], o)
 */
export async function tuneThresholdsAcross(model: Model, conditions: Array<{ label: string; ds: Dataset }>, o: TuneOptions): Promise<TuneAcrossResult> {
  check(conditions.length > 0, 'E_OPTION', () => 'tune: expected at least one condition');
  const sweeps: ConditionSweep[] = [];
  for (const [i, c] of conditions.entries()) {
    const stateFile = o.stateFile ? conditionStateFile(o.stateFile, i) : undefined;
    const result = await tuneThresholds(model, c.ds, { ...o, ...(stateFile ? { stateFile } : {}) });
    sweeps.push({ label: c.label, result });
  }
  return {
    sweeps,
    maxAccuracyDrop: o.maxAccuracyDrop,
    ...(o.maxDisagreement !== undefined ? { maxDisagreement: o.maxDisagreement } : {}),
    chosen: chooseThresholdsAcross(sweeps.map((s) => s.result), o.maxAccuracyDrop, o.maxDisagreement),
  };
}

/** The resume state of condition `i` of a sweep across conditions whose state file is `stateFile`. */
export function conditionStateFile(stateFile: string, i: number): string {
  return stateFile.replace(/\.json$/, '') + `.${i}.json`;
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
  const clips = ctc && r.clips === true;
  const wer = (e: SessionEval) => (ctc ? ` ${pct(e.wer ?? 1)} |` : '');
  // Agreement with dense (the share of decisions the delta network keeps), when it was measured.
  const agr = r.points.some((p) => p.agreement !== undefined);
  const agrees = (p: TunePoint | null) => (agr ? ` ${p ? (p.agreement === undefined ? '' : pct(p.agreement)) : '100.00'} |` : '');
  const rows = [
    `| thresholdX | thresholdH | ${clips ? 'clips right % | keyword error rate % | drop (points)' : ctc ? 'strings right % | WER % | drop (WER points)' : 'accuracy % | drop (points)'} |${agr ? ' agrees with dense % |' : ''} occupancy % | occupancy x % | occupancy h % | ops saving | chosen |`,
    `|---:|---:|---:|---:|${ctc ? '---:|' : ''}${agr ? '---:|' : ''}---:|---:|---:|---:|:---:|`,
    `| dense | dense | ${pct(r.dense.accuracy)} |${wer(r.dense)} 0.00 |${agrees(null)} 100.00 | 100.00 | 100.00 | 1.00x | |`,
  ];
  for (const p of r.points) {
    const e = p.result;
    rows.push(`| ${p.thresholdX} | ${p.thresholdH} | ${pct(e.accuracy)} |${wer(e)} ${(100 * (tuneScore(r.dense, readout, clips) - tuneScore(e, readout, clips))).toFixed(2)} |${agrees(p)} ${pct(e.occupancy)} | ${pct(e.occupancyX)} | ${pct(e.occupancyH)} | ${e.opsSaving.toFixed(2)}x | ${p === r.chosen ? '**yes**' : ''} |`);
  }
  return rows.join('\n') + '\n';
}

/**
 * A sweep across conditions as a Markdown table: dense accuracy per condition, then one row per
 * point with its accuracy and occupancy under each condition and the mean occupancy.
 *
 * @example writeFileSync('tune.md', tuneTableAcross(await tuneThresholdsAcross(model, conditions, o)));
 */
export function tuneTableAcross(r: TuneAcrossResult): string {
  const labels = r.sweeps.map((s) => s.label);
  // Agreement with dense per condition, when it was measured.
  const agr = r.sweeps.some((s) => s.result.points.some((p) => p.agreement !== undefined));
  const rows = [
    `| thresholdX | thresholdH | ${labels.map((l) => `${l}: accuracy % | ${l}: drop |${agr ? ` ${l}: agrees % |` : ''} ${l}: occupancy %`).join(' | ')} | mean occupancy % | chosen |`,
    `|---:|---:|${labels.map(() => (agr ? '---:|---:|---:|---:|' : '---:|---:|---:|')).join('')}---:|:---:|`,
    `| dense | dense | ${r.sweeps.map((s) => `${pct(s.result.dense.accuracy)} | 0.00 |${agr ? ' 100.00 |' : ''} 100.00`).join(' | ')} | 100.00 | |`,
  ];
  const n = r.sweeps[0]?.result.points.length ?? 0;
  for (let i = 0; i < n; i++) {
    const p0 = r.sweeps[0]!.result.points[i]!;
    const cells = r.sweeps.map((s) => {
      const p = s.result.points[i]!;
      const e = p.result;
      const readout = s.result.readout ?? 'mean';
      const agrees = agr ? ` ${p.agreement === undefined ? '' : pct(p.agreement)} |` : '';
      return `${pct(e.accuracy)} | ${(100 * (tuneScore(s.result.dense, readout, s.result.clips) - tuneScore(e, readout, s.result.clips))).toFixed(2)} |${agrees} ${pct(e.occupancy)}`;
    });
    const mean = r.sweeps.reduce((a, s) => a + s.result.points[i]!.result.occupancy, 0) / r.sweeps.length;
    const chosen = r.chosen && r.chosen.thresholdX === p0.thresholdX && r.chosen.thresholdH === p0.thresholdH;
    rows.push(`| ${p0.thresholdX} | ${p0.thresholdH} | ${cells.join(' | ')} | ${pct(mean)} | ${chosen ? '**yes**' : ''} |`);
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
  const clips = readout === 'ctc' && r.clips === true;
  const score = (e: SessionEval) => tuneScore(e, readout, clips);
  const what = clips ? 'clips right' : readout === 'ctc' ? 'word accuracy' : 'accuracy';
  return scatterSvg(
    r.points.map((p) => ({ x: 100 * p.result.occupancy, y: 100 * score(p.result), label: `thx ${p.thresholdX}, thh ${p.thresholdH}: ${what} ${pct(score(p.result))} % at ${pct(p.result.occupancy)} % occupancy`, highlight: p === r.chosen })),
    {
      title,
      xLabel: 'occupancy (% of weight columns read)',
      yLabel: clips ? 'clips right (%)' : readout === 'ctc' ? 'word accuracy, 100 - WER (%)' : 'accuracy (%)',
      hLines: [
        { y: 100 * score(r.dense), label: `dense ${pct(score(r.dense))} %` },
        { y: 100 * score(r.dense) - r.maxAccuracyDrop, label: `budget -${r.maxAccuracyDrop} points`, dashed: true },
      ],
    },
  );
}

/**
 * A sweep across conditions as an SVG plot: every condition's points (accuracy against
 * occupancy), the chosen point marked under each, and each condition's dense accuracy.
 *
 * @example writeFileSync('tune.svg', tunePlotAcross(result, 'digits'));
 */
export function tunePlotAcross(r: TuneAcrossResult, title: string): string {
  const isChosen = (p: TunePoint) => r.chosen !== null && p.thresholdX === r.chosen.thresholdX && p.thresholdH === r.chosen.thresholdH;
  return scatterSvg(
    r.sweeps.flatMap((s) =>
      s.result.points.map((p) => ({ x: 100 * p.result.occupancy, y: 100 * p.result.accuracy, label: `${s.label}, thx ${p.thresholdX}, thh ${p.thresholdH}: ${pct(p.result.accuracy)} % at ${pct(p.result.occupancy)} % occupancy`, highlight: isChosen(p) })),
    ),
    {
      title,
      xLabel: 'occupancy (% of weight columns read)',
      yLabel: 'accuracy (%)',
      hLines: r.sweeps.map((s) => ({ y: 100 * s.result.dense.accuracy, label: `${s.label}: dense ${pct(s.result.dense.accuracy)} %` })),
    },
  );
}
