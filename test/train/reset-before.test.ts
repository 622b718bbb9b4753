/**
 * Fine-tuning a reset-before GRU (an imported Keras reset_after=False model) as a delta network:
 * the trainer keeps the form, improves the model, and what it trains is what the runtime runs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSession } from '../../src/runtime/session.js';
import { evaluateModel } from '../../src/train/evaluate.js';
import { initModel } from '../../src/train/init.js';
import { DEFAULT_TRAIN_CONFIG, trainClassifier, type TrainConfig } from '../../src/train/trainer.js';
import { bumpDataset } from './helpers.js';
import { expectCode } from '../helpers/errors.js';
import { sequenceGradWasm } from '../../src/train/fast.js';
import { zeroGrads } from '../../src/train/net.js';

const cfg: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, hiddenSize: 8, layers: 1, denseEpochs: 6, deltaEpochs: 2, batchSize: 8, lr: 3e-2, deltaLr: 5e-3, thresholdX: 0.2, thresholdH: 0.05, l1: 1e-2, seed: 2 };

describe('training a reset-before GRU', () => {
  it('fine-tunes an initial reset-before model dense then delta, keeping the form, through a checkpoint', async () => {
    const train = bumpDataset(96, 3, 4, 1);
    const validation = bumpDataset(30, 3, 4, 2);
    const init = initModel({ cell: 'gru', inputSize: 4, hiddenSize: 8, layers: 1, classes: 3, seed: 5 });
    for (const l of init.layers) if (l.kind === 'gru') l.resetAfter = false;
    const delta = { thresholdX: cfg.thresholdX, thresholdH: cfg.thresholdH };
    const before = evaluateModel(init, validation, { readout: 'mean', delta });
    const checkpoint = join(mkdtempSync(join(tmpdir(), 'dk-rb-')), 'run.ckpt');
    const r = await trainClassifier(train, validation, cfg, { progress: false, init, checkpoint });
    expect(r.model.layers[0]!.kind === 'gru' && r.model.layers[0]!.resetAfter).toBe(false);
    const after = evaluateModel(r.model, validation, { readout: 'mean', delta });
    expect(after.accuracy).toBeGreaterThan(before.accuracy);
    expect(after.accuracy).toBeGreaterThan(0.85);
    // The delta model runs on the js session; its occupancy is below 1 (deltas skipped work).
    const s = createSession(r.model, { thresholdX: cfg.thresholdX, thresholdH: cfg.thresholdH });
    s.run(validation.utterances[0]!.features);
    expect(s.stats().occupancy).toBeLessThan(1);
    expect(s.stats().layers[0]!.firedQ).toBeGreaterThan(0);
  });

  it('the wasm training path refuses it with one coded error', () => {
    const m = initModel({ cell: 'gru', inputSize: 6, hiddenSize: 4, layers: 1, classes: 3, seed: 5 });
    for (const l of m.layers) if (l.kind === 'gru') l.resetAfter = false;
    expectCode(() => sequenceGradWasm(m, new Float32Array(12), 2, 0, { readout: 'mean' }, zeroGrads(m)), 'E_UNSUPPORTED', /train backend wasm.*reset-before/);
  });
});
