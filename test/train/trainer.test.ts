import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkMatrixBalance } from '../../src/compress/cbtd/balance.js';
import { DeltakitError } from '../../src/core/errors.js';
import { createSession } from '../../src/runtime/session.js';
import { evaluateModel } from '../../src/train/evaluate.js';
import { initModel } from '../../src/train/init.js';
import { forwardSequence } from '../../src/train/net.js';
import { DEFAULT_TRAIN_CONFIG, specAugment, trainClassifier, type TrainConfig } from '../../src/train/trainer.js';
import { Rng } from '../../src/core/rng.js';
import { bumpDataset } from './helpers.js';

const tiny: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, hiddenSize: 8, layers: 1, denseEpochs: 6, deltaEpochs: 2, batchSize: 8, lr: 3e-2, deltaLr: 5e-3, thresholdX: 0.2, thresholdH: 0.05, l1: 1e-2, seed: 2 };

describe('trainer forward pass equals the streaming runtime', () => {
  for (const cell of ['gru', 'lstm'] as const) {
    it(`${cell}: delta forward (thresholds in the loop) matches createSession outputs and fired counts`, () => {
      const model = initModel({ cell, inputSize: 6, hiddenSize: 10, layers: 2, classes: 4, seed: 11 });
      const ds = bumpDataset(3, 4, 6, 5);
      for (const thresholds of [undefined, { thresholdX: 0.15, thresholdH: 0.08 }]) {
        for (const u of ds.utterances) {
          const tape = forwardSequence(model, u.features, u.frames, { readout: 'mean', delta: thresholds });
          const s = createSession(model, thresholds ?? {});
          const y = s.run(u.features);
          const mean = new Float64Array(4);
          for (let t = 0; t < u.frames; t++) for (let k = 0; k < 4; k++) mean[k] += y[t * 4 + k]! / u.frames;
          for (let k = 0; k < 4; k++) expect(Math.abs(mean[k]! - tape.logits[k]!)).toBeLessThan(1e-4);
          if (thresholds) {
            const st = s.stats();
            tape.layers.forEach((l, i) => {
              expect(st.layers[i]!.firedX).toBe(l.countX);
              expect(st.layers[i]!.firedH).toBe(l.countH);
            });
            // The thresholds really skipped work, so the comparison covers the delta path.
            expect(tape.layers[0]!.countX).toBeLessThan(u.frames * 6);
          }
        }
      }
    });
  }
});

describe('training', () => {
  const train = bumpDataset(96, 3, 4, 1);
  const validation = bumpDataset(30, 3, 4, 2);

  it('learns a task with a known answer; delta retraining keeps accuracy with fewer fired columns', async () => {
    const r = await trainClassifier(train, validation, tiny, { progress: false });
    expect(r.history).toHaveLength(8);
    expect(r.history.map((h) => h.phase)).toEqual(['dense', 'dense', 'dense', 'dense', 'dense', 'dense', 'delta', 'delta']);
    const dense = evaluateModel(r.model, validation, { readout: 'mean' });
    const delta = evaluateModel(r.model, validation, { readout: 'mean', delta: { thresholdX: tiny.thresholdX, thresholdH: tiny.thresholdH } });
    expect(dense.accuracy).toBeGreaterThan(0.85);
    expect(delta.accuracy).toBeGreaterThan(0.85);
    expect(delta.occupancy).toBeLessThan(0.8);
    expect(delta.opsSaving).toBeGreaterThan(1.2);
    expect(r.model.meta['readout']).toBe('mean');
    expect(r.model.meta['thresholdX']).toBe('0.2');
  });

  it('resumes after an interruption to exactly the weights of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-train-'));
    const cfg = { ...tiny, denseEpochs: 2, deltaEpochs: 1 };
    const full = await trainClassifier(train, validation, cfg, { progress: false });
    const checkpoint = join(dir, 'run.ckpt');
    const ac = new AbortController();
    ac.abort(); // stops after the first batch
    await expect(trainClassifier(train, validation, cfg, { progress: false, checkpoint, signal: ac.signal })).rejects.toMatchObject({ code: 'E_INTERRUPTED' });
    const resumed = await trainClassifier(train, validation, cfg, { progress: false, checkpoint, resume: true });
    full.model.layers.forEach((l, k) => {
      const m = resumed.model.layers[k]!;
      if (l.kind === 'linear' && m.kind === 'linear') expect(Array.from(m.weight)).toEqual(Array.from(l.weight));
      if (l.kind === 'gru' && m.kind === 'gru') {
        expect(Array.from(m.weightHh)).toEqual(Array.from(l.weightHh));
        expect(Array.from(m.biasIh)).toEqual(Array.from(l.biasIh));
      }
    });
    expect(resumed.history.map((h) => h.validation.accuracy)).toEqual(full.history.map((h) => h.validation.accuracy));
    // A checkpoint of another configuration is refused.
    await expect(trainClassifier(train, validation, { ...cfg, hiddenSize: 9 }, { progress: false, checkpoint, resume: true })).rejects.toMatchObject({ code: 'E_MISMATCH' });
  });

  it('CBTD during training ends with every PE holding the same number of weights per column', async () => {
    const cfg: TrainConfig = { ...tiny, denseEpochs: 3, deltaEpochs: 0, cbtd: { gamma: 0.5, pes: 4, rampEpochs: 2 } };
    const r = await trainClassifier(train, validation, cfg, { progress: false });
    expect(r.history.map((h) => h.cbtdAlpha)).toEqual([0.5, 1, 1]);
    const gru = r.model.layers[0]!;
    if (gru.kind !== 'gru') throw new Error('expected a GRU');
    for (const [w, cols] of [[gru.weightIh, 4], [gru.weightHh, 8]] as const) {
      const b = checkMatrixBalance('w', w, 24, cols, 4);
      expect(b.balanced).toBe(true);
      // 24 rows / 4 PEs = 6 per sub-column, floor(6 * 0.5) = 3 dropped, 3 kept.
      expect(b.maxPerPe).toBe(3);
    }
    expect(evaluateModel(r.model, validation, { readout: 'mean' }).accuracy).toBeGreaterThan(0.6);
  });

  it('rejects bad configurations and data with coded errors', async () => {
    await expect(trainClassifier(train, validation, { ...tiny, hiddenSize: 0 })).rejects.toMatchObject({ code: 'E_OPTION' });
    await expect(trainClassifier(train, validation, { ...tiny, denseEpochs: 0, deltaEpochs: 0 })).rejects.toMatchObject({ code: 'E_OPTION' });
    await expect(trainClassifier(train, validation, { ...tiny, thresholdX: -1 })).rejects.toBeInstanceOf(DeltakitError);
    await expect(trainClassifier({ ...train, utterances: [] }, validation, tiny)).rejects.toMatchObject({ code: 'E_VALUE' });
    const m = initModel({ cell: 'gru', inputSize: 4, hiddenSize: 3, layers: 1, classes: 2, seed: 1 });
    expect(() => forwardSequence(m, new Float32Array(7), 2, { readout: 'mean' })).toThrowError(/expected 2 frames/);
  });

  it('SpecAugment masks whole bands and whole frame spans, deterministically, and trains', async () => {
    const x = Float32Array.from({ length: 20 * 6 }, (_, i) => 1 + i);
    const a = { freqMasks: 1, freqWidth: 2, timeMasks: 1, timeWidth: 4 };
    const y = specAugment(x, 20, 6, a, new Rng(3));
    expect(Array.from(specAugment(x, 20, 6, a, new Rng(3)))).toEqual(Array.from(y));
    const zeroBands = [...Array(6).keys()].filter((b) => [...Array(20).keys()].every((t) => y[t * 6 + b] === 0));
    const zeroFrames = [...Array(20).keys()].filter((t) => [...Array(6).keys()].every((b) => y[t * 6 + b] === 0));
    let zeros = 0;
    for (const v of y) if (v === 0) zeros++;
    // Every zero lies in a masked band or a masked frame; nothing else changed.
    expect(zeros).toBe(zeroBands.length * 20 + zeroFrames.length * 6 - zeroBands.length * zeroFrames.length);
    expect(zeroBands.length).toBeLessThanOrEqual(2);
    expect(zeroFrames.length).toBeLessThanOrEqual(4);
    y.forEach((v, i) => expect(v === 0 || v === x[i]).toBe(true));
    const r = await trainClassifier(train, validation, { ...tiny, deltaEpochs: 0, specAugment: a }, { progress: false });
    expect(evaluateModel(r.model, validation, { readout: 'mean' }).accuracy).toBeGreaterThan(0.7);
    await expect(trainClassifier(train, validation, { ...tiny, specAugment: { ...a, freqWidth: -1 } })).rejects.toMatchObject({ code: 'E_OPTION' });
  });

  it('starts from given weights with init (the delta phase alone retrains a dense model)', async () => {
    const dense = await trainClassifier(train, validation, { ...tiny, deltaEpochs: 0 }, { progress: false });
    const before = (dense.model.layers[0] as { weightHh: Float32Array }).weightHh.slice();
    // The options name another width: with init the model's own architecture is trained and recorded.
    const retrained = await trainClassifier(train, validation, { ...tiny, hiddenSize: tiny.hiddenSize + 5, layers: 2, denseEpochs: 0, deltaEpochs: 1, deltaLr: 1e-4 }, { progress: false, init: dense.model });
    expect(JSON.parse(retrained.model.meta['trainConfig']!)).toMatchObject({ cell: 'gru', hiddenSize: tiny.hiddenSize, layers: 1 });
    const a = dense.model.layers[0]!;
    const b = retrained.model.layers[0]!;
    if (a.kind !== 'gru' || b.kind !== 'gru') throw new Error('expected GRU layers');
    let diff = 0;
    for (let i = 0; i < a.weightHh.length; i++) diff = Math.max(diff, Math.abs(a.weightHh[i]! - b.weightHh[i]!));
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(0.01);
    // The init model itself is not modified.
    expect(Array.from(a.weightHh)).toEqual(Array.from(before));
    expect(evaluateModel(retrained.model, validation, { readout: 'mean', delta: { thresholdX: tiny.thresholdX, thresholdH: tiny.thresholdH } }).accuracy).toBeGreaterThan(0.7);
  });
});
