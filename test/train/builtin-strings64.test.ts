import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadModel } from '../../src/model/io.js';
import { readHeldout } from '../../src/data/heldout.js';
import { MODELS_DIR, builtinSpec, loadBuiltinModel } from '../../src/train/builtin.js';
import { modelTask } from '../../src/train/task.js';
import { evaluateHeldoutBySynthesiser } from '../helpers/heldout-eval.js';

/**
 * models/digit-strings-deltagru64.safetensors: the previous built-in connected-digit model, a GRU of
 * 64 units (a third of the built-in's dense ops per frame) started from the GRU 64 digit classifier
 * of its time, kept as the smaller model (docs/training.md, "The previous built-in string model").
 * It shares the built-in's string corpus and voice split, so the committed held-out strings
 * (models/digit-strings-heldout) serve both; its feature statistics are its own (the held-out
 * features are stored before normalisation).
 */
const FILE = join(MODELS_DIR, 'digit-strings-deltagru64.safetensors');

/** Bounds on the committed held-out strings (40 strings, 154 digits; one digit is 0.65 points),
 * measured 0.65 % WER dense and delta (one digit) at 5.20x fewer ops (espeak-ng 0 / 0 % at 5.25x,
 * Festival 2.17 / 2.17 % at 5.05x); the bounds allow two more digits dense, three delta. */
const MAX_DENSE_WER = 0.02;
const MAX_DELTA_WER = 0.026;
const MIN_OPS_SAVING = 5;

describe('the committed connected-digit DeltaGRU 64 (the previous built-in)', () => {
  it('is a DeltaGRU 64 with a CTC head (11 digits + blank), its own tuned thresholds and the built-in\'s string voice split', async () => {
    const model = await loadModel(FILE);
    const builtin = await loadBuiltinModel('digit-strings');
    expect(model.layers.map((l) => l.kind)).toEqual(['gru', 'linear']);
    expect(model.layers[0]!.inputSize).toBe(40);
    expect(model.layers[0]!.kind === 'gru' && model.layers[0]!.hiddenSize).toBe(64);
    const builtinGru = builtin.layers[0]!;
    expect(builtinGru.kind === 'gru' && builtinGru.hiddenSize).toBe(128);
    expect(model.layers[1]!.kind === 'linear' && model.layers[1]!.outputSize).toBe(12);
    const task = modelTask(model);
    expect(task.corpus).toBe('digit-strings');
    expect(task.readout).toBe('ctc');
    expect(task.classes).toEqual(modelTask(builtin).classes);
    expect(task.stats.frontEnd).toBe('level');
    expect(model.meta['corpusOptions']).toBe(builtin.meta['corpusOptions']);
    expect(Number(model.meta['thresholdX'])).toBe(0.4);
    expect(Number(model.meta['thresholdH'])).toBe(0.15);
    expect(model.meta['tunedOn']).toMatch(/digit-strings\/validation, max word accuracy drop 1\.5/);
    // The same training voices as the built-in string model: the held-out strings are unheard by both.
    const trainVoices = new Set<string>(JSON.parse(model.meta['trainVoices'] ?? '[]'));
    expect(trainVoices.size).toBeGreaterThan(50);
    expect(model.meta['trainVoices']).toBe(builtin.meta['trainVoices']);
    for (const u of readHeldout(builtinSpec('digit-strings').heldoutBase).utterances) expect(trainVoices.has(u.voice)).toBe(false);
  });

  it('keeps its measured word error rate on the committed held-out strings, dense and delta, and its ops saving', async () => {
    const model = await loadModel(FILE);
    const { all, bySynth, source } = evaluateHeldoutBySynthesiser(model, 'digit-strings');
    expect(source).toBe('committed');
    expect(all.utterances).toBe(40);
    expect(bySynth['espeak-ng'].utterances).toBe(25);
    expect(bySynth.festival.utterances).toBe(15);
    const { dense, delta } = all;
    expect(dense.wer!).toBeLessThanOrEqual(MAX_DENSE_WER);
    expect(delta.wer!).toBeLessThanOrEqual(MAX_DELTA_WER);
    expect(delta.opsSaving).toBeGreaterThanOrEqual(MIN_OPS_SAVING);
    expect(dense.opsSaving).toBeCloseTo(1, 12);
  });
});
