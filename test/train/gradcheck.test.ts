import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/model/types.js';
import { backwardSequence, forwardSequence, zeroGrads, type ForwardOptions } from '../../src/train/net.js';
import { initModel } from '../../src/train/init.js';
import { jumpySequence } from './helpers.js';
import { finiteDifferenceError } from '../helpers/grads.js';

/** Worst relative error of the analytic gradient against central finite differences (step 1e-2). */
function gradCheck(model: Model, x: Float32Array, T: number, label: number, o: ForwardOptions, samples = 12): number {
  return finiteDifferenceError(model, x, T, label, o, { samples, eps: 1e-2 });
}


describe('BPTT gradients match finite differences', () => {
  for (const cell of ['gru', 'lstm'] as const) {
    for (const readout of ['mean', 'last'] as const) {
      it(`dense ${cell}, 2 layers, ${readout} readout`, () => {
        const model = initModel({ cell, inputSize: 5, hiddenSize: 6, layers: 2, classes: 4, seed: 3 });
        expect(gradCheck(model, jumpySequence(5, 9, 1), 9, 2, { readout, l1: 0.05 })).toBeLessThan(1e-3);
      });
      it(`delta ${cell}, 2 layers, ${readout} readout, L1 penalty (straight-through surrogate)`, () => {
        const model = initModel({ cell, inputSize: 5, hiddenSize: 6, layers: 2, classes: 4, seed: 4 });
        const o: ForwardOptions = { readout, delta: { thresholdX: 0.5, thresholdH: 0.05 }, l1: 0.05 };
        const x = jumpySequence(5, 9, 2);
        const tape = forwardSequence(model, x, 9, o);
        // The check is only meaningful when some deltas are skipped and some fire.
        const l0 = tape.layers[0]!;
        expect(l0.countX).toBeGreaterThan(0);
        expect(l0.countX).toBeLessThan(9 * 5);
        expect(l0.countH).toBeLessThan(8 * 6);
        expect(gradCheck(model, x, 9, 1, o)).toBeLessThan(1e-3);
      });
    }
  }
  it('the straight-through gradient differs from the dense one when deltas are skipped', () => {
    const model = initModel({ cell: 'gru', inputSize: 5, hiddenSize: 6, layers: 1, classes: 3, seed: 9 });
    const x = jumpySequence(5, 8, 3);
    const gd = zeroGrads(model);
    backwardSequence(model, forwardSequence(model, x, 8, { readout: 'mean' }), 0, { readout: 'mean' }, gd);
    const gs = zeroGrads(model);
    const o: ForwardOptions = { readout: 'mean', delta: { thresholdX: 0.8, thresholdH: 0.1 } };
    backwardSequence(model, forwardSequence(model, x, 8, o), 0, o, gs);
    let diff = 0;
    for (let i = 0; i < gd[0]!['weight_ih']!.length; i++) diff = Math.max(diff, Math.abs(gd[0]!['weight_ih']![i]! - gs[0]!['weight_ih']![i]!));
    expect(diff).toBeGreaterThan(1e-4);
  });
});

describe('BPTT gradients of the reset-before GRU (Keras reset_after=False) match finite differences', () => {
  const beforeModel = (seed: number): Model => {
    const m = initModel({ cell: 'gru', inputSize: 5, hiddenSize: 6, layers: 2, classes: 4, seed });
    for (const l of m.layers) if (l.kind === 'gru') l.resetAfter = false;
    return m;
  };
  for (const readout of ['mean', 'last'] as const) {
    it(`dense, 2 layers, ${readout} readout`, () => {
      expect(gradCheck(beforeModel(3), jumpySequence(5, 9, 1), 9, 2, { readout })).toBeLessThan(1e-3);
    });
    it(`delta, 2 layers, ${readout} readout, L1 penalty (straight-through surrogate, q thresholded too)`, () => {
      const model = beforeModel(4);
      const o: ForwardOptions = { readout, delta: { thresholdX: 0.5, thresholdH: 0.05 }, l1: 0.05 };
      const x = jumpySequence(5, 9, 2);
      const tape = forwardSequence(model, x, 9, o);
      const l0 = tape.layers[0]!;
      expect(l0.countQ).toBeGreaterThan(0);
      expect(l0.countQ).toBeLessThan(9 * 6);
      expect(gradCheck(model, x, 9, 1, o)).toBeLessThan(1e-3);
    });
  }
  it('its forward pass is the delta runtime: outputs equal the session (delta) and the reference (dense)', async () => {
    const { runModelRef } = await import('../../src/cells/index.js');
    const model = beforeModel(6);
    const x = jumpySequence(5, 12, 3);
    const dense = forwardSequence(model, x, 12, { readout: 'mean' });
    const rec = { ...model, layers: model.layers.slice(0, 2) };
    const ref = runModelRef(rec, x);
    let worst = 0;
    for (let i = 0; i < ref.outputs.length; i++) worst = Math.max(worst, Math.abs(ref.outputs[i]! - dense.layers[1]!.h[i]!));
    expect(worst).toBeLessThan(1e-9);
    const o = { thresholdX: 0.3, thresholdH: 0.05 };
    const delta = forwardSequence(model, x, 12, { readout: 'mean', delta: o });
    const refD = runModelRef(rec, x, o);
    worst = 0;
    for (let i = 0; i < refD.outputs.length; i++) worst = Math.max(worst, Math.abs(refD.outputs[i]! - delta.layers[1]!.h[i]!));
    expect(worst).toBeLessThan(1e-9);
  });
});
