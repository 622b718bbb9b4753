import { describe, expect, it } from 'vitest';
import { initModel } from '../../src/train/init.js';
import { backwardSequence, forwardSequence, tapeLoss, zeroGrads, type DeltaThresholds } from '../../src/train/net.js';
import { sequenceGradWasm } from '../../src/train/fast.js';
import { evaluateModel } from '../../src/train/evaluate.js';
import { DEFAULT_TRAIN_CONFIG, trainClassifier } from '../../src/train/trainer.js';
import { bumpDataset, jumpySequence } from './helpers.js';
import { expectGradsClose } from '../helpers/grads.js';


describe('wasm training path equals the float64 definition (net.ts)', () => {
  // Odd sizes exercise the padding to multiples of 4 (I = 5, H = 7, G*H = 21 or 28, T = 13).
  for (const cell of ['gru', 'lstm'] as const) {
    for (const delta of [undefined, { thresholdX: 0.4, thresholdH: 0.05 }] as Array<DeltaThresholds | undefined>) {
      for (const readout of ['mean', 'last'] as const) {
        it(`${cell}, 2 layers, ${delta ? 'delta' : 'dense'}, ${readout} readout`, () => {
          const model = initModel({ cell, inputSize: 5, hiddenSize: 7, layers: 2, classes: 3, seed: 21 });
          const x = jumpySequence(5, 13, 8);
          const o = { readout, delta, l1: 0.03 };
          const ref = zeroGrads(model);
          const tape = forwardSequence(model, x, 13, o);
          backwardSequence(model, tape, 2, o, ref, 0.5);
          const fast = zeroGrads(model);
          const r = sequenceGradWasm(model, x, 13, 2, o, fast, 0.5);
          expect(r.path).toMatch(/^wasm-/);
          expect(r.loss).toBeCloseTo(tapeLoss(tape, 2), 5);
          expect(r.countX).toEqual(tape.layers.map((l) => l.countX));
          expect(r.countH).toEqual(tape.layers.map((l) => l.countH));
          if (delta) expect(r.countX[0]).toBeLessThan(13 * 5);
          expectGradsClose(model, ref, fast);
        });
      }
    }
  }

  it('trains with backend wasm to what the js backend reaches', async () => {
    const train = bumpDataset(96, 3, 4, 1);
    const validation = bumpDataset(30, 3, 4, 2);
    const cfg = { ...DEFAULT_TRAIN_CONFIG, hiddenSize: 8, denseEpochs: 6, deltaEpochs: 2, batchSize: 8, lr: 3e-2, deltaLr: 5e-3, thresholdX: 0.2, thresholdH: 0.05, l1: 1e-2, seed: 2 };
    const a = await trainClassifier(train, validation, cfg, { progress: false });
    const b = await trainClassifier(train, validation, { ...cfg, backend: 'wasm' }, { progress: false });
    const accA = evaluateModel(a.model, validation, { readout: 'mean' }).accuracy;
    const accB = evaluateModel(b.model, validation, { readout: 'mean' }).accuracy;
    expect(accB).toBeGreaterThan(0.85);
    expect(Math.abs(accA - accB)).toBeLessThanOrEqual(0.1);
  });
});
