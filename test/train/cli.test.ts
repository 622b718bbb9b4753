import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { loadModel, saveModel } from '../../src/model/io.js';
import { planCorpus } from '../../src/data/corpus.js';
import { modelTask } from '../../src/train/task.js';
import { captureOutput } from '../helpers/cli.js';

const { out, err } = captureOutput();

describe('deltakit train / tune / data: option errors', () => {
  it('reject bad options with one coded error line', async () => {
    expect(await main(['train', '--data', 'timit', '-o', '/tmp/x.safetensors'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --data: expected one of digits, kws/);
    err.length = 0;
    expect(await main(['tune', '/nonexistent.safetensors', '--max-accuracy-drop', '-1'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION/);
    err.length = 0;
    expect(await main(['data', 'build', 'digits', '--renditions', '1,2'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --renditions/);
  });
});

describe.skipIf(!espeakAvailable())('deltakit train / tune / data on a handful of synthesised utterances', () => {
  it('trains a tiny delta model, tunes its thresholds, writes table and plot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-cli-'));
    const corpus = ['--max-voices', '1', '--renditions', '2,1,1', '--cache-dir', join(dir, 'cache')];
    const modelPath = join(dir, 'm.safetensors');
    expect(await main(['data', 'build', 'digits', ...corpus])).toBe(0);
    expect(out.join('\n')).toMatch(/train\s+22\s+1/);
    expect(await main(['train', '--data', 'digits', '-o', modelPath, '--hidden', '8', '--epochs', '1', '--delta-epochs', '1', '--batch', '11', ...corpus])).toBe(0);
    expect(existsSync(modelPath)).toBe(true);
    // The finished run's checkpoint is removed (it was written after every epoch).
    expect(existsSync(`${modelPath}.ckpt`)).toBe(false);
    // data export writes raw features and says so; run applies the model's statistics and, with
    // the exported utterance boundaries, scores the utterances.
    const exp = join(dir, 'export');
    expect(await main(['data', 'export', 'digits', '--split', 'test', '-o', exp, ...corpus])).toBe(0);
    const meta = JSON.parse(readFileSync(join(exp, 'utterances.json'), 'utf8')) as { features: string; utterances: unknown[] };
    expect(meta.features).toMatch(/raw log-mel.*not normalised/);
    err.length = 0;
    expect(await main(['run', modelPath, '-i', join(exp, 'features.npy'), '-o', join(exp, 'y.npy'), '--segments', join(exp, 'utterances.json')])).toBe(0);
    expect(err.join('')).toMatch(/normalised with the model's feature statistics/);
    expect(err.join('')).toMatch(/accuracy [\d.]+ % on \d+ labelled utterances/);
    expect(meta.utterances.length).toBeGreaterThan(0);
    // A second export is refused without --force (and leaves the first intact).
    expect(await main(['data', 'export', 'digits', '--split', 'test', '-o', exp, ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_EXISTS/);
    const model = await loadModel(modelPath);
    const task = modelTask(model);
    expect(task.corpus).toBe('digits');
    expect(task.classes).toHaveLength(11);
    expect(task.stats.mean).toHaveLength(40);
    expect(model.meta['thresholdX']).toBe('0.5');
    // Refuses to overwrite without --force.
    expect(await main(['train', '--data', 'digits', '-o', modelPath, ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_EXISTS/);
    const table = join(dir, 't.md');
    const plot = join(dir, 't.svg');
    const code = await main(['tune', modelPath, '--data', 'digits', '--max-accuracy-drop', '100', '--grid-x', '0,0.5', '--grid-h', '0,0.2', '--table', table, '--plot', plot, ...corpus]);
    expect(code).toBe(0);
    expect(readFileSync(table, 'utf8')).toContain('| 0.5 | 0.2 |');
    expect(readFileSync(plot, 'utf8')).toContain('<svg');
    expect(existsSync(`${table}.json`)).toBe(false); // the resume state is removed on success
    expect(out.join('\n')).toMatch(/chosen: thresholdX 0\.5, thresholdH 0\.2/);
    // Across conditions: one sweep per condition, the choice within budget under both.
    out.length = 0;
    expect(await main(['tune', modelPath, '--conditions', 'clean;gain=-20', '--max-accuracy-drop', '100', '--grid-x', '0,0.5', '--grid-h', '0.2', '--table', table, '--plot', plot, '--force', ...corpus])).toBe(0);
    expect(readFileSync(table, 'utf8')).toMatch(/under clean, gain=-20/);
    // Per condition: accuracy, drop, agreement with dense, occupancy; then the mean occupancy.
    expect(readFileSync(table, 'utf8')).toMatch(/\| 0\.5 \| 0\.2 \| [\d.]+ \| -?[\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| -?[\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| \*\*yes\*\* \|/);
    expect(out.join('\n')).toMatch(/gain=-20\s+delta thx 0\.5 thh 0\.2/);
    expect(existsSync(`${table}.0.json`) || existsSync(`${table}.1.json`)).toBe(false);
    // A disagreement budget of 0 %: only a point that keeps every decision of dense may be chosen.
    out.length = 0;
    const strict = await main(['tune', modelPath, '--conditions', 'clean;gain=-20', '--max-accuracy-drop', '100', '--max-disagreement', '0', '--grid-x', '0,0.5', '--grid-h', '0,0.2', '--table', table, '--plot', plot, '--force', ...corpus]);
    const sweep = readFileSync(table, 'utf8');
    expect(sweep).toContain('Budget: at most 100 points below dense and at most 0 % of the decisions changed under every condition');
    const rows = sweep.split('\n').filter((l) => /^\| [\d.]+ \| [\d.]+ \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
    expect(rows).toHaveLength(4);
    // Cells: '', thx, thh, then accuracy, drop, agrees, occupancy per condition.
    const keepsAll = rows.filter((c) => c[5] === '100.00' && c[9] === '100.00');
    const chosen = rows.filter((c) => c[c.length - 2] === '**yes**');
    if (keepsAll.length === 0) {
      expect(strict).toBe(1);
      expect(out.join('\n')).toMatch(/no threshold pair stays within the budget \(at most 100 points below dense and at most 0 % of the decisions changed\)/);
    } else {
      expect(strict).toBe(0);
      expect(chosen).toHaveLength(1);
      expect(keepsAll).toContainEqual(chosen[0]);
    }
    err.length = 0;
    expect(await main(['tune', modelPath, '--max-disagreement', '150', '--table', table, '--plot', plot, '--force', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --max-disagreement/);
    err.length = 0;
    expect(await main(['tune', modelPath, '--conditions', 'clean', '--condition', 'telephone', '--table', table, '--plot', plot, '--force', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: tune: expected --condition or --conditions, found both/);
    expect(await main(['tune', modelPath, '--data', 'kws', '--table', table, '--plot', plot, '--force', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_MISMATCH/);
    // A model whose training voices include a tuning voice is refused.
    const leaky = join(dir, 'leaky.safetensors');
    const validationVoice = planCorpus('digits', 'validation', { maxVoices: 1 })[0]!.voice;
    await saveModel({ ...model, meta: { ...model.meta, trainVoices: JSON.stringify([validationVoice]) } }, leaky);
    err.length = 0;
    expect(await main(['tune', leaky, '--table', table, '--plot', plot, '--force', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_MISMATCH: tune: the validation split holds voices the model was trained on/);
  });

  it('trains with --vtlp: the training features are warped, the held-out ones are not, the range is recorded', async () => {
    const { dir, corpus, expectTrainingOnly, trainTiny } = tinyCorpus('dk-vtlp-');
    await expectTrainingOnly([], ['--vtlp', '1.2,1.2']);
    const modelPath = join(dir, 'v.safetensors');
    expect(await trainTiny(modelPath, ['--vtlp', '0.8,1.25'])).toBe(0);
    const meta = JSON.parse((await loadModel(modelPath)).meta['corpusOptions']!) as { vtlp?: number[] };
    expect(meta.vtlp).toEqual([0.8, 1.25]);
    err.length = 0;
    expect(await main(['train', '--data', 'digits', '-o', join(dir, 'w.safetensors'), '--vtlp', '1.25,0.8', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --vtlp: expected lo <= hi, found 1.25 and 0.8/);
  });

  it('trains with --narrowband: a share of the training features goes through the 8 kHz channel, the held-out ones do not, the share is recorded', async () => {
    const { dir, corpus, expectTrainingOnly, trainTiny } = tinyCorpus('dk-nb-');
    await expectTrainingOnly([], ['--narrowband', '0.75']);
    const modelPath = join(dir, 'n.safetensors');
    expect(await trainTiny(modelPath, ['--augment', '--narrowband', '0.25'])).toBe(0);
    const meta = JSON.parse((await loadModel(modelPath)).meta['corpusOptions']!) as { narrowband?: number; augment?: boolean };
    expect(meta.narrowband).toBe(0.25);
    expect(meta.augment).toBe(true);
    err.length = 0;
    expect(await main(['train', '--data', 'digits', '-o', join(dir, 'x.safetensors'), '--narrowband', '0.9', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --narrowband/);
  });

  it('trains with --pitch-shift: the training features move with the wider shift range, the held-out ones do not, the range is recorded', async () => {
    const { dir, corpus, expectTrainingOnly, trainTiny } = tinyCorpus('dk-ps-');
    await expectTrainingOnly(['--augment'], ['--pitch-shift', '600,700']);
    const modelPath = join(dir, 'p.safetensors');
    expect(await trainTiny(modelPath, ['--augment', '--pitch-shift', '-300,700'])).toBe(0);
    const meta = JSON.parse((await loadModel(modelPath)).meta['corpusOptions']!) as { pitchShift?: number[] };
    expect(meta.pitchShift).toEqual([-300, 700]);
    err.length = 0;
    expect(await main(['train', '--data', 'digits', '-o', join(dir, 'y.safetensors'), '--pitch-shift', '-300,700', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --pitch-shift: expected --augment/);
  });
});

describe.skipIf(!espeakAvailable())('deltakit train --distill', () => {
  it('trains towards a teacher with the same feature statistics, records it, and refuses others', async () => {
    const { dir, corpus, trainTiny } = tinyCorpus('dk-distill-');
    const teacherPath = join(dir, 't.safetensors');
    expect(await trainTiny(teacherPath, [])).toBe(0);
    const studentPath = join(dir, 's.safetensors');
    expect(await main(['train', '--data', 'digits', '-o', studentPath, '--init', teacherPath, '--distill', teacherPath, '--distill-weight', '0.7', '--epochs', '0', '--delta-epochs', '1', '--batch', '11', ...corpus])).toBe(0);
    const student = await loadModel(studentPath);
    const teacher = await loadModel(teacherPath);
    expect(student.meta['distilledFrom']).toBe(teacher.name);
    expect(JSON.parse(student.meta['trainConfig']!).distill).toBe(0.7);
    // Several files: an ensemble teacher, every member named in the metadata.
    const pairPath = join(dir, 'pair.safetensors');
    expect(await main(['train', '--data', 'digits', '-o', pairPath, '--init', teacherPath, '--distill', teacherPath, studentPath, '--epochs', '0', '--delta-epochs', '1', '--batch', '11', ...corpus])).toBe(0);
    expect((await loadModel(pairPath)).meta['distilledFrom']).toBe(`${teacher.name} + ${student.name}`);
    err.length = 0;
    expect(await main(['train', '--data', 'digits', '-o', join(dir, 'x.safetensors'), '--distill-weight', '0.7', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --distill-weight: only with --distill/);
    // A teacher that normalises its features otherwise would be fed features it never learnt from.
    const skewed = join(dir, 'skewed.safetensors');
    const stats = JSON.parse(teacher.meta['featureStats']!) as { mean: number[] };
    stats.mean[0] = stats.mean[0]! + 1;
    await saveModel({ ...teacher, meta: { ...teacher.meta, featureStats: JSON.stringify(stats) } }, skewed);
    err.length = 0;
    expect(await main(['train', '--data', 'digits', '-o', join(dir, 'y.safetensors'), '--init', teacherPath, '--distill', skewed, '--epochs', '0', '--delta-epochs', '1', ...corpus])).toBe(1);
    expect(err.join('')).toMatch(/E_MISMATCH: --distill: the teacher .* must normalise features with the statistics trained with here/);
  });
});

/** A one-voice digits corpus in a fresh directory, and `data export` of one split's features. */
function tinyCorpus(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const corpus = ['--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', join(dir, 'cache')];
  const exportOf = async (split: string, extra: string[]) => {
    const o = join(dir, `${split}${extra.join('')}`);
    expect(await main(['data', 'export', 'digits', '--split', split, '-o', o, ...corpus, ...extra])).toBe(0);
    return readFileSync(join(o, 'features.npy'));
  };
  /** The training split's features change with `option` (same size), the test split's do not. */
  const expectTrainingOnly = async (base: string[], option: string[]) => {
    const plain = await exportOf('train', base);
    const changed = await exportOf('train', [...base, ...option]);
    expect(changed.length).toBe(plain.length);
    expect(changed.equals(plain)).toBe(false);
    expect((await exportOf('test', [...base, ...option])).equals(await exportOf('test', base))).toBe(true);
  };
  /** One dense epoch of a GRU 8 on the tiny corpus. */
  const trainTiny = (out: string, extra: string[]) => main(['train', '--data', 'digits', '-o', out, '--hidden', '8', '--epochs', '1', '--delta-epochs', '0', '--batch', '11', ...extra, ...corpus]);
  return { dir, corpus, exportOf, expectTrainingOnly, trainTiny };
}
