import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { synthesiserOf } from '../../src/data/corpus.js';
import { readHeldout } from '../../src/data/heldout.js';
import { createSession } from '../../src/runtime/session.js';
import { builtinHeldout, builtinSpec, loadBuiltinModel } from '../../src/train/builtin.js';
import { ctcBeamSearch, ctcGreedy, editDistance } from '../../src/train/ctc.js';
import { evaluateWithSession, modelTask } from '../../src/train/task.js';

/**
 * Floors on the committed held-out strings (40 strings, 154 digits; docs/training.md has the
 * measured values, on this set and on the full test split).
 */
const MAX_DENSE_WER = 0.04;
const MIN_DENSE_STRINGS = 0.9;

describe('the committed connected-digit model', () => {
  it('is a DeltaGRU with a CTC head (11 digits + blank), tuned thresholds and the trained voice split', async () => {
    const model = await loadBuiltinModel('digit-strings');
    expect(model.layers.map((l) => l.kind)).toEqual(['gru', 'linear']);
    const task = modelTask(model);
    expect(task.corpus).toBe('digit-strings');
    expect(task.readout).toBe('ctc');
    expect(task.classes).toHaveLength(11);
    expect(model.layers[1]!.kind === 'linear' && model.layers[1]!.outputSize).toBe(12);
    expect(Number(model.meta['thresholdX'])).toBeGreaterThan(0);
    expect(Number(model.meta['thresholdH'])).toBeGreaterThan(0);
    expect(model.meta['tunedOn']).toMatch(/digit-strings\/validation, max word accuracy drop/);
    const trainVoices = new Set<string>(JSON.parse(model.meta['trainVoices'] ?? '[]'));
    expect(trainVoices.size).toBeGreaterThan(50);
    for (const u of readHeldout(builtinSpec('digit-strings').heldoutBase).utterances) expect(trainVoices.has(u.voice)).toBe(false);
  });

  it('reads held-out strings of both synthesisers: WER, delta within a point of dense, >= 5x fewer ops', async () => {
    const model = await loadBuiltinModel('digit-strings');
    const task = modelTask(model);
    const { dataset, source } = builtinHeldout(task, 'committed', { spec: builtinSpec('digit-strings') });
    expect(source).toBe('committed');
    expect(dataset.utterances.length).toBe(40);
    expect(new Set(dataset.utterances.map((u) => synthesiserOf(u.voice)))).toEqual(new Set(['espeak-ng', 'festival']));
    const thresholds = { thresholdX: Number(model.meta['thresholdX']), thresholdH: Number(model.meta['thresholdH']) };
    const dense = evaluateWithSession(model, dataset, 'ctc');
    const delta = evaluateWithSession(model, dataset, 'ctc', thresholds);
    expect(dense.wer!).toBeLessThanOrEqual(MAX_DENSE_WER);
    expect(dense.accuracy).toBeGreaterThanOrEqual(MIN_DENSE_STRINGS);
    // 154 digits: one digit is 0.65 points; the delta network may cost at most two.
    expect(delta.wer!).toBeLessThanOrEqual(dense.wer! + 0.0131);
    expect(delta.opsSaving).toBeGreaterThanOrEqual(5);
    // Beam search reads the same outputs at least as well as greedy decoding, string by string
    // on most strings (it maximises the labelling's probability, greedy the path's).
    const s = createSession(model, thresholds);
    let greedyErrors = 0;
    let beamErrors = 0;
    for (const u of dataset.utterances) {
      s.reset();
      const y = s.run(u.features);
      greedyErrors += editDistance(u.words, ctcGreedy(y, u.frames, s.outputSize));
      beamErrors += editDistance(u.words, ctcBeamSearch(y, u.frames, s.outputSize, 8));
    }
    const words = dataset.utterances.reduce((a, u) => a + u.words.length, 0);
    expect(greedyErrors / words).toBeCloseTo(delta.wer!, 12);
    expect(beamErrors).toBeLessThanOrEqual(greedyErrors + 2);
  });
});

describe('deltakit demo --task digit-strings', () => {
  it('prints strings right and WER, dense against delta, and streams digits as they are recognised', async () => {
    const r = await cli('demo', '--task', 'digit-strings', '--data', 'committed');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/built-in model digit-strings-deltagru-1x64: 40 log-mel -> GRU 64 -> Linear 12/);
    expect(r.out).toMatch(/held-out set: 40 utterances by 8 voices never heard in training \(espeak-ng 5, festival 3; committed features\)/);
    expect(r.out).toMatch(/network\s+strings right\s+WER\s+occupancy/);
    expect(r.out).toMatch(/dense GRU\s+\d+\.\d %\s+\d+\.\d %\s+100\.0 %/);
    // Three strings streamed through the delta network: each digit with the time it was emitted.
    const said = [...r.out.matchAll(/said "([a-z ]+)" -> streamed: (.*)/g)];
    expect(said).toHaveLength(3);
    for (const [, , heard] of said) expect(heard).toMatch(/^([a-z]+@\d+\.\d\ds ?)+$/);
    expect(r.out).toMatch(/ops: \d+\.\d+x fewer than dense .*word error rate -?\d+\.\d points against dense/);
  });

  it('runs from the committed copy on a machine without the synthesisers', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--task', 'digit-strings', '--steps', '2000'], {
      encoding: 'utf8',
      env: { ...process.env, DELTAKIT_ESPEAK: '/nonexistent/espeak-ng' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/voices never heard in training \(.*committed features\)/);
    expect(r.stdout).toMatch(/strings right/);
  });
});
