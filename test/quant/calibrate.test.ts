import { describe, expect, it } from 'vitest';
import { randomModel, smoothStream } from '../../src/model/random.js';
import type { Model } from '../../src/model/types.js';
import { formatCalibrationReport, quantizeModel, rangeStats } from '../../src/quant/calibrate.js';
import { Q1_7, Q8_8, parseQFormat } from '../../src/quant/format.js';

describe('quantizer and calibration report', () => {
  it('computes range, clipping and error by hand', () => {
    // Q1.7: 0.3 -> 38/128 (err 0.003125), 2 -> 127/128 (clipped), -1.5 -> -1 (clipped), 1/256 -> 0 (tie).
    const s = rangeStats([0.3, 2, -1.5, 1 / 256], Q1_7);
    expect(s).toMatchObject({ format: 'Q1.7', count: 4, min: -1.5, max: 2, clipped: 2, fractionClipped: 0.5 });
    expect(s.maxAbsError).toBeCloseTo(2 - 127 / 128, 12);
    const errs = [0.3 - 38 / 128, 2 - 127 / 128, 0.5, 1 / 256];
    expect(s.rmsError).toBeCloseTo(Math.sqrt(errs.reduce((a, e) => a + e * e, 0) / 4), 12);
  });

  it('snaps every tensor to the grid, reports each, and is idempotent', () => {
    const m = randomModel(7, 6, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 3 }], 4);
    const { model: q, report } = quantizeModel(m);
    expect(report.layers.map((l) => l.tensors.map((t) => t.name))).toEqual([
      ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'],
      ['weight', 'bias'],
    ]);
    // scale 4 puts weights in +-1, so some clip at the top (127/128) but none below -1.
    expect(report.fractionWeightsClipped).toBeGreaterThan(0);
    const gru = q.layers[0]!;
    if (gru.kind !== 'gru') throw new Error('expected gru');
    for (const v of gru.weightIh) {
      expect(Number.isInteger(v * 128)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(-1);
      expect(v).toBeLessThanOrEqual(127 / 128);
    }
    const again = quantizeModel(q);
    expect(again.report.fractionWeightsClipped).toBe(0);
    expect(again.report.layers[0]!.tensors.every((t) => t.maxAbsError === 0)).toBe(true);
    expect(m.layers[0]).not.toBe(q.layers[0]); // the float model is left untouched
  });

  it('reports activation ranges and the error against float with a stimulus', () => {
    const m = randomModel(8, 4, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 16 }], 1);
    const frames = smoothStream(8, 60, 4, 0.5);
    const { report } = quantizeModel(m, { frames, weightFormat: Q1_7, activationFormat: Q8_8 });
    for (const l of report.layers) {
      expect(l.input!.count).toBeGreaterThan(0);
      expect(l.output!.max).toBeLessThanOrEqual(1);
      expect(l.output!.min).toBeGreaterThanOrEqual(-1);
      // Q1.7 weights (step 1/128) move a 16-unit GRU's outputs by a few hundredths, not zero.
      expect(l.outputError!.maxAbs).toBeGreaterThan(0);
      expect(l.outputError!.maxAbs).toBeLessThan(0.1);
    }
    // A coarser format costs more.
    const coarse = quantizeModel(m, { frames, weightFormat: parseQFormat('Q1.3') }).report;
    expect(coarse.maxOutputError!).toBeGreaterThan(report.maxOutputError!);
    expect(formatCalibrationReport(report)).toMatch(/layer 1 \(gru\)[\s\S]*error vs float: max/);
  });

  it('counts wrapped values as clipped in wrap mode', () => {
    const model: Model = {
      name: 't',
      meta: {},
      layers: [{ kind: 'linear', inputSize: 2, outputSize: 1, weight: Float32Array.from([1.5, 0.25]), bias: Float32Array.from([0]), activation: 'none' }],
    };
    const { model: q, report } = quantizeModel(model, { weightFormat: parseQFormat('Q1.7:wrap') });
    expect(report.layers[0]!.tensors[0]!.clipped).toBe(1);
    const lin = q.layers[0]!;
    if (lin.kind !== 'linear') throw new Error('expected linear');
    expect(Array.from(lin.weight)).toEqual([-0.5, 0.25]); // 192 wraps to -64
  });
});
