import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateModel } from '../../src/train/evaluate.js';
import { initModel } from '../../src/train/init.js';
import { agreementOf, evaluateWithSession, modelTask } from '../../src/train/task.js';
import { scatterSvg } from '../../src/train/plot.js';
import { chooseThresholds, chooseThresholdsAcross, conditionStateFile, tunePlot, tunePlotAcross, tuneScore, tuneTable, tuneTableAcross, tuneThresholds, tuneThresholdsAcross, type TunePoint, type TuneResult } from '../../src/train/tune.js';
import { parseConditions } from '../../src/cli/commands/tune.js';
import { bumpDataset } from './helpers.js';

const point = (thresholdX: number, thresholdH: number, accuracy: number, occupancy: number): TunePoint => ({
  thresholdX, thresholdH,
  result: { utterances: 10, accuracy, steps: 1, denseOps: 1, ops: 1, occupancy, occupancyX: occupancy, occupancyH: occupancy, opsSaving: 1 / occupancy, usPerFrame: 1 },
});

describe('threshold choice', () => {
  it('picks the lowest occupancy within the budget, ties to higher accuracy', () => {
    const pts = [point(0.1, 0, 0.95, 0.5), point(0.2, 0, 0.948, 0.3), point(0.3, 0, 0.94, 0.1), point(0.25, 0, 0.949, 0.3)];
    expect(chooseThresholds(pts, 0.95, 0.5)?.thresholdX).toBe(0.25);
    expect(chooseThresholds(pts, 0.95, 1)?.thresholdX).toBe(0.3);
    expect(chooseThresholds(pts, 0.99, 0.5)).toBeNull();
  });

  it('budgets word accuracy (1 - WER) for CTC models, not string accuracy', () => {
    const ctc = (x: number, accuracy: number, wer: number, occupancy: number): TunePoint => {
      const p = point(x, 0, accuracy, occupancy);
      return { ...p, result: { ...p.result, wer } };
    };
    // Dense: 90 % of strings, 3 % WER. The 0.3 point loses 6 strings in 100 but only 0.8 WER points.
    const dense = ctc(0, 0.9, 0.03, 1).result;
    const pts = [ctc(0.1, 0.9, 0.03, 0.5), ctc(0.2, 0.89, 0.05, 0.2), ctc(0.3, 0.84, 0.038, 0.1)];
    expect(tuneScore(dense, 'ctc')).toBeCloseTo(0.97, 12);
    expect(chooseThresholds(pts, tuneScore(dense, 'ctc'), 1, 'ctc')?.thresholdX).toBe(0.3);
    expect(chooseThresholds(pts, tuneScore(dense, 'ctc'), 0.5, 'ctc')?.thresholdX).toBe(0.1);
    // Read as a classifier, the same points would choose by string accuracy.
    expect(chooseThresholds(pts, dense.accuracy, 1)?.thresholdX).toBe(0.2);
    const table = tuneTable({ dense, points: pts, maxAccuracyDrop: 1, readout: 'ctc', chosen: pts[2]! });
    expect(table).toContain('| strings right % | WER % | drop (WER points) |');
    expect(table).toMatch(/\| 0\.3 \| 0 \| 84\.00 \| 3\.80 \| 0\.80 \| 10\.00 \|.*\*\*yes\*\*/);
    expect(tunePlot({ dense, points: pts, maxAccuracyDrop: 1, readout: 'ctc', chosen: pts[2]! }, 's')).toContain('word accuracy');
  });

  it('budgets clips right for a keyword-stream model on isolated clips, not 1 - keyword error rate', () => {
    const kws = (x: number, accuracy: number, wer: number, occupancy: number, agreement?: number): TunePoint => {
      const p = point(x, 0, accuracy, occupancy);
      return { ...p, result: { ...p.result, wer }, ...(agreement !== undefined ? { agreement } : {}) };
    };
    // 100 clips, 80 with a keyword: dense gets 95 right (5 errors: 6.25 % keyword error rate). The
    // 0.3 point errs on 1 more clip (94 % of the clips, 7.5 %: 1.25 points of keyword error rate).
    const dense = kws(0, 0.95, 0.0625, 1).result;
    const pts = [kws(0.1, 0.95, 0.0625, 0.5, 0.99), kws(0.3, 0.94, 0.075, 0.1, 0.97)];
    expect(tuneScore(dense, 'ctc', true)).toBe(0.95);
    expect(chooseThresholds(pts, tuneScore(dense, 'ctc', true), 1, 'ctc', undefined, true)?.thresholdX).toBe(0.3);
    // Scored as word accuracy, the same clip would cost 1.25 points and break a 1-point budget.
    expect(chooseThresholds(pts, tuneScore(dense, 'ctc'), 1, 'ctc')?.thresholdX).toBe(0.1);
    // The disagreement budget holds for clip decisions as for any other.
    expect(chooseThresholds(pts, tuneScore(dense, 'ctc', true), 1, 'ctc', 2, true)?.thresholdX).toBe(0.1);
    const r: TuneResult = { dense, points: pts, maxAccuracyDrop: 1, readout: 'ctc', clips: true, chosen: pts[1]! };
    const table = tuneTable(r);
    expect(table).toContain('| clips right % | keyword error rate % | drop (points) |');
    expect(table).toMatch(/\| 0\.3 \| 0 \| 94\.00 \| 7\.50 \| 1\.00 \| 97\.00 \| 10\.00 \|.*\*\*yes\*\*/);
    expect(tunePlot(r, 's')).toContain('clips right (%)');
    expect(chooseThresholdsAcross([r], 1)).toEqual({ thresholdX: 0.3, thresholdH: 0 });
    expect(chooseThresholdsAcross([{ ...r, clips: false }], 1)).toEqual({ thresholdX: 0.1, thresholdH: 0 });
    expect(tuneTableAcross({ sweeps: [{ label: 'clean', result: r }], maxAccuracyDrop: 1, chosen: { thresholdX: 0.3, thresholdH: 0 } })).toMatch(/\| 0\.3 \| 0 \| 94\.00 \| 1\.00 \| 97\.00 \| 10\.00 \| 10\.00 \| \*\*yes\*\* \|/);
  });
});

describe('a disagreement budget', () => {
  const agreeing = (x: number, accuracy: number, occupancy: number, agreement?: number): TunePoint => ({ ...point(x, 0, accuracy, occupancy), ...(agreement !== undefined ? { agreement } : {}) });

  it('skips points that change too many of dense\'s decisions, even when their accuracy holds', () => {
    // The 0.3 point keeps the accuracy (errors made and mended cancel) but changes 3 % of the decisions.
    const pts = [agreeing(0.1, 0.95, 0.5, 0.995), agreeing(0.2, 0.949, 0.3, 0.99), agreeing(0.3, 0.95, 0.1, 0.97)];
    expect(chooseThresholds(pts, 0.95, 0.5)?.thresholdX).toBe(0.3);
    expect(chooseThresholds(pts, 0.95, 0.5, 'mean', 2)?.thresholdX).toBe(0.2);
    expect(chooseThresholds(pts, 0.95, 0.5, 'mean', 0.5)?.thresholdX).toBe(0.1);
    expect(chooseThresholds(pts, 0.95, 0.5, 'mean', 0.1)).toBeNull();
    // A point whose agreement was never measured cannot show it keeps the budget.
    expect(chooseThresholds([agreeing(0.3, 0.95, 0.1)], 0.95, 0.5, 'mean', 50)).toBeNull();
    expect(chooseThresholds([agreeing(0.3, 0.95, 0.1)], 0.95, 0.5)?.thresholdX).toBe(0.3);
  });

  it('holds under every condition in a sweep across conditions', () => {
    const sweep = (dense: number, pts: TunePoint[]): TuneResult => ({ dense: point(NaN, NaN, dense, 1).result, points: pts, maxAccuracyDrop: 0.5, chosen: null });
    const clean = sweep(0.95, [agreeing(0.1, 0.95, 0.3, 1), agreeing(0.3, 0.95, 0.1, 0.995)]);
    const tel = sweep(0.9, [agreeing(0.1, 0.9, 0.3, 0.995), agreeing(0.3, 0.9, 0.1, 0.96)]);
    expect(chooseThresholdsAcross([clean, tel], 0.5)).toEqual({ thresholdX: 0.3, thresholdH: 0 });
    expect(chooseThresholdsAcross([clean, tel], 0.5, 1)).toEqual({ thresholdX: 0.1, thresholdH: 0 });
    expect(chooseThresholdsAcross([clean, tel], 0.5, 0.1)).toBeNull();
    expect(() => chooseThresholdsAcross([clean, tel], 0.5, -1)).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    const table = tuneTableAcross({ sweeps: [{ label: 'clean', result: clean }, { label: 'telephone', result: tel }], maxAccuracyDrop: 0.5, maxDisagreement: 1, chosen: { thresholdX: 0.1, thresholdH: 0 } });
    expect(table).toContain('| clean: accuracy % | clean: drop | clean: agrees % | clean: occupancy % |');
    expect(table).toContain('| 0.3 | 0 | 95.00 | 0.00 | 99.50 | 10.00 | 90.00 | 0.00 | 96.00 | 10.00 | 10.00 |  |');
  });

  it('counts the decisions two evaluations share, refusing different utterance counts', () => {
    expect(agreementOf(['1', '2', '3', '4'], ['1', '2', '0', '4'])).toBe(0.75);
    expect(agreementOf([], [])).toBe(1);
    expect(() => agreementOf(['1'], ['1', '2'])).toThrow(expect.objectContaining({ code: 'E_MISMATCH', message: expect.stringMatching(/found 1 and 2 decisions/) }));
  });
});

describe('threshold choice across conditions', () => {
  const sweep = (dense: number, pts: TunePoint[]): TuneResult => ({ dense: point(NaN, NaN, dense, 1).result, points: pts, maxAccuracyDrop: 0.5, chosen: null });
  it('keeps the budget under every condition and takes the lowest mean occupancy', () => {
    // Point (0.5, 0.3) is cheapest under clean but loses 2 points under telephone.
    const clean = sweep(0.95, [point(0.3, 0.1, 0.95, 0.2), point(0.5, 0.2, 0.948, 0.1), point(0.5, 0.3, 0.946, 0.05)]);
    const tel = sweep(0.9, [point(0.3, 0.1, 0.9, 0.25), point(0.5, 0.2, 0.899, 0.12), point(0.5, 0.3, 0.88, 0.06)]);
    expect(chooseThresholds(clean.points, 0.95, 0.5)).toMatchObject({ thresholdX: 0.5, thresholdH: 0.3 });
    expect(chooseThresholdsAcross([clean, tel], 0.5)).toEqual({ thresholdX: 0.5, thresholdH: 0.2 });
    expect(chooseThresholdsAcross([clean, tel], 2.5)).toEqual({ thresholdX: 0.5, thresholdH: 0.3 });
    expect(chooseThresholdsAcross([clean, tel], 0)).toEqual({ thresholdX: 0.3, thresholdH: 0.1 });
    expect(chooseThresholdsAcross([sweep(0.99, clean.points), tel], 0.5)).toBeNull();
    // Equal mean occupancy: the larger worst-case margin wins.
    const a = sweep(0.9, [point(0.1, 0, 0.9, 0.1), point(0.2, 0, 0.895, 0.1)]);
    expect(chooseThresholdsAcross([a], 1)).toEqual({ thresholdX: 0.1, thresholdH: 0 });
    // Sweeps over different grids cannot be compared.
    expect(() => chooseThresholdsAcross([clean, sweep(0.9, tel.points.slice(1))], 0.5)).toThrow(expect.objectContaining({ code: 'E_MISMATCH' }));
    const table = tuneTableAcross({ sweeps: [{ label: 'clean', result: clean }, { label: 'telephone', result: tel }], maxAccuracyDrop: 0.5, chosen: { thresholdX: 0.5, thresholdH: 0.2 } });
    expect(table).toContain('| 0.5 | 0.2 | 94.80 | 0.20 | 10.00 | 89.90 | 0.10 | 12.00 | 11.00 | **yes** |');
    expect(table.match(/\*\*yes\*\*/g)).toHaveLength(1);
  });

  it('parses --conditions, refusing empty and repeated ones', () => {
    expect(parseConditions('clean; telephone;gain=-20')).toEqual([
      { label: 'clean', condition: {} },
      { label: 'telephone', condition: { channel: 'telephone' } },
      { label: 'gain=-20', condition: { gainDb: -20 } },
    ]);
    expect(() => parseConditions('clean;;telephone')).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(() => parseConditions('clean;clean')).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(() => parseConditions('loud')).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(conditionStateFile('/d/tune.md.json', 2)).toBe('/d/tune.md.2.json');
  });
});

describe('tuneThresholds through the runtime', () => {
  const model = initModel({ cell: 'gru', inputSize: 4, hiddenSize: 8, layers: 1, classes: 3, seed: 4 });
  const ds = bumpDataset(24, 3, 4, 9);

  it('sweeps the grid, agrees with the float64 evaluator, writes table and plot, and resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-tune-'));
    const stateFile = join(dir, 'tune.json');
    const o = { gridX: [0, 0.3], gridH: [0, 0.1], maxAccuracyDrop: 5, readout: 'mean' as const, stateFile, progress: false };
    const r = await tuneThresholds(model, ds, o);
    expect(r.points).toHaveLength(4);
    const ref = evaluateModel(model, ds, { readout: 'mean' });
    expect(r.dense.accuracy).toBe(ref.accuracy);
    const p = r.points.find((q) => q.thresholdX === 0.3 && q.thresholdH === 0.1)!;
    const refDelta = evaluateModel(model, ds, { readout: 'mean', delta: { thresholdX: 0.3, thresholdH: 0.1 } });
    expect(p.result.accuracy).toBe(refDelta.accuracy);
    expect(p.result.occupancy).toBeCloseTo(refDelta.occupancy, 12);
    expect(p.result.occupancy).toBeLessThan(1);
    const within = r.points.filter((q) => q.result.accuracy >= r.dense.accuracy - 0.05 - 1e-12);
    expect(r.chosen!.result.occupancy).toBe(Math.min(...within.map((q) => q.result.occupancy)));
    expect(tuneTable(r)).toContain('**yes**');
    const svg = tunePlot(r, 'sweep');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle/g)!.length).toBe(5); // 4 points + the ring around the chosen one
    // Resume keeps finished points: a value planted in the state file survives.
    const st = JSON.parse(readFileSync(stateFile, 'utf8'));
    st.points[0].result.accuracy = 0.123;
    writeFileSync(stateFile, JSON.stringify(st));
    const again = await tuneThresholds(model, ds, { ...o, resume: true });
    expect(again.points[0]!.result.accuracy).toBe(0.123);
  });

  it('resumes only its own sweep: another model or data set, or a malformed state file, is refused', async () => {
    // --resume took the finished points of whatever sweep had left the state file (it is named
    // after --table, not the model), and a hand-edited point without a result crashed later.
    const dir = mkdtempSync(join(tmpdir(), 'dk-tune-'));
    const stateFile = join(dir, 'tune.json');
    const o = { gridX: [0, 0.3], gridH: [0, 0.1], maxAccuracyDrop: 5, readout: 'mean' as const, stateFile, progress: false };
    await tuneThresholds(model, ds, o);
    const other = initModel({ cell: 'gru', inputSize: 4, hiddenSize: 8, layers: 1, classes: 3, seed: 5 });
    await expect(tuneThresholds(other, ds, { ...o, resume: true })).rejects.toThrow(/^tune: state file .*tune\.json holds a sweep of another model, data set or readout; start without --resume, or give another --table$/);
    await expect(tuneThresholds(model, bumpDataset(24, 3, 4, 10), { ...o, resume: true })).rejects.toThrow(/holds a sweep of another model, data set or readout/);
    const st = JSON.parse(readFileSync(stateFile, 'utf8'));
    delete st.points[1].result;
    writeFileSync(stateFile, JSON.stringify(st));
    await expect(tuneThresholds(model, ds, { ...o, resume: true })).rejects.toThrow(/^tune: state file .*: expected point 1 to hold thresholdX, thresholdH, result \(accuracy, occupancy, opsSaving\) and agreement$/);
    writeFileSync(stateFile, JSON.stringify({ ...st, points: 'x' }));
    await expect(tuneThresholds(model, ds, { ...o, resume: true })).rejects.toMatchObject({ code: 'E_FORMAT' });
    // The same sweep still resumes (the planted value survives), as above.
    await tuneThresholds(model, ds, o);
    const good = JSON.parse(readFileSync(stateFile, 'utf8'));
    good.points[0].result.accuracy = 0.123;
    writeFileSync(stateFile, JSON.stringify(good));
    expect((await tuneThresholds(model, ds, { ...o, resume: true })).points[0]!.result.accuracy).toBe(0.123);
  });

  it('sweeps across conditions: each condition is its own sweep, resumable from its own state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-tune-'));
    const stateFile = join(dir, 'tune.json');
    const noisy = bumpDataset(24, 3, 4, 10);
    const o = { gridX: [0, 0.3], gridH: [0, 0.1], maxAccuracyDrop: 5, readout: 'mean' as const, stateFile, progress: false };
    const r = await tuneThresholdsAcross(model, [{ label: 'a', ds }, { label: 'b', ds: noisy }], o);
    expect(r.sweeps.map((s) => s.label)).toEqual(['a', 'b']);
    const alone = await tuneThresholds(model, noisy, { ...o, stateFile: undefined });
    expect(r.sweeps[1]!.result.points.map((p) => p.result.accuracy)).toEqual(alone.points.map((p) => p.result.accuracy));
    expect(r.chosen).toEqual(chooseThresholdsAcross(r.sweeps.map((s) => s.result), 5));
    expect(tunePlotAcross(r, 't').match(/<circle/g)!.length).toBe(8 + 2); // 4 points per condition, the chosen one ringed under each
    const st = JSON.parse(readFileSync(conditionStateFile(stateFile, 1), 'utf8'));
    st.points[0].result.accuracy = 0.123;
    writeFileSync(conditionStateFile(stateFile, 1), JSON.stringify(st));
    const again = await tuneThresholdsAcross(model, [{ label: 'a', ds }, { label: 'b', ds: noisy }], { ...o, resume: true });
    expect(again.sweeps[1]!.result.points[0]!.result.accuracy).toBe(0.123);
    expect(again.sweeps[0]!.result.points[0]!.result.accuracy).not.toBe(0.123);
  });

  it('measures each point\'s agreement with dense from the decisions, and budgets it', async () => {
    const o = { gridX: [0, 0.3, 1], gridH: [0, 0.3], maxAccuracyDrop: 100, readout: 'mean' as const, progress: false };
    const r = await tuneThresholds(model, ds, o);
    const dense = evaluateWithSession(model, ds, 'mean');
    // One decision per utterance, and the accuracy is the share of decisions that are the label.
    expect(dense.decisions).toHaveLength(ds.utterances.length);
    expect(dense.decisions!.filter((d, i) => Number(d) === ds.utterances[i]!.label).length / ds.utterances.length).toBe(dense.accuracy);
    for (const p of r.points) {
      const delta = evaluateWithSession(model, ds, 'mean', { thresholdX: p.thresholdX, thresholdH: p.thresholdH });
      expect(p.agreement).toBe(agreementOf(dense.decisions!, delta.decisions!));
      // Points keep the agreement, not the decisions.
      expect(p.result.decisions).toBeUndefined();
    }
    const coarse = r.points.find((p) => p.thresholdX === 1 && p.thresholdH === 0.3)!;
    expect(coarse.agreement).toBeLessThan(1);
    // Without an accuracy limit, the disagreement budget alone decides.
    const limit = 100 * (1 - coarse.agreement!) - 0.01;
    const budgeted = await tuneThresholds(model, ds, { ...o, maxDisagreement: limit });
    expect(budgeted.maxDisagreement).toBe(limit);
    expect(budgeted.chosen).not.toBeNull();
    expect(100 * (1 - budgeted.chosen!.agreement!)).toBeLessThanOrEqual(limit);
    expect(budgeted.chosen!.result.occupancy).toBeGreaterThan(r.chosen!.result.occupancy);
    expect(tuneTable(budgeted)).toContain('| agrees with dense % |');
    await expect(tuneThresholds(model, ds, { ...o, maxDisagreement: 101 })).rejects.toMatchObject({ code: 'E_OPTION' });
  });

  it('stops on abort with E_INTERRUPTED and rejects bad grids', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(tuneThresholds(model, ds, { gridX: [0, 0.1], gridH: [0], maxAccuracyDrop: 1, readout: 'mean', signal: ac.signal, progress: false })).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
    await expect(tuneThresholds(model, ds, { gridX: [-1], gridH: [0], maxAccuracyDrop: 1, readout: 'mean' })).rejects.toMatchObject({ code: 'E_OPTION' });
    await expect(tuneThresholds(model, ds, { gridX: [0], gridH: [0], maxAccuracyDrop: 101, readout: 'mean' })).rejects.toMatchObject({ code: 'E_OPTION' });
  });

  it('session evaluation reads a deltakit-trained task from metadata and refuses other models', () => {
    expect(() => modelTask(model)).toThrowError(/metadata of a deltakit-trained classifier/);
    const e = evaluateWithSession(model, ds, 'last');
    expect(e.utterances).toBe(24);
    expect(e.opsSaving).toBe(1);
    expect(evaluateModel(model, ds, { readout: 'last' }).accuracy).toBe(e.accuracy);
  });

  it('plots escape labels', () => {
    const svg = scatterSvg([{ x: 0.5, y: 0.9, label: 'a<b&c' }], { title: 't', xLabel: 'x', yLabel: 'y' });
    expect(svg).toContain('a&lt;b&amp;c');
  });
});
