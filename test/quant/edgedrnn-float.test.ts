import { describe, expect, it } from 'vitest';
import { runModelRef } from '../../src/cells/reference-model.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { quantizeModel } from '../../src/quant/calibrate.js';
import { runEdgeDrnn } from '../../src/quant/edgedrnn/machine.js';
import { buildEdgeDrnnProgram, quantizeStimulus } from '../../src/quant/edgedrnn/program.js';
import { LUT_STEP } from '../../src/quant/lut.js';

/**
 * The bit-exact machine and the float64 DeltaGRU (edgedrnn bias convention) on the same quantised
 * weights, the same Q8.8 inputs and the same thresholds differ only by the hardware's rounding:
 * LUT activations on a 1/16 grid, Q8.8 pre-activations and states. Measured on these seeds:
 * max |error| 0.033-0.051, mean 0.009-0.012; the bounds below leave a margin but would catch
 * any real arithmetic slip (a wrong gate, a lost bias, a misplaced r), which errs by O(0.1-1).
 */
describe('EdgeDRNN machine vs float DeltaGRU', () => {
  const cases: Array<[seed: number, layers: number, thresholdCode: number]> = [
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 8],
    [4, 1, 16],
  ];
  for (const [seed, L, th] of cases) {
    it(`agrees within the LUT step: seed ${seed}, ${L} layer(s), thresholds ${th}/256`, () => {
      const model = randomModel(seed, 5, Array.from({ length: L }, () => ({ kind: 'gru' as const, hiddenSize: 16 })), 1);
      const { model: q } = quantizeModel(model);
      const T = 150;
      // Inputs on the Q8.8 grid so that input quantisation is not part of the comparison.
      const frames = Float32Array.from(smoothStream(seed, T, 5, 0.1), (v) => Math.round(v * 256) / 256);
      const built = buildEdgeDrnnProgram(q, { thresholdX: th / 256, thresholdH: th / 256 });
      expect(built.program.config.inputSize).toBe(8);
      const hw = runEdgeDrnn(built.program, quantizeStimulus(frames, 5, 8));
      const ref = runModelRef(q, frames, { thresholdX: th / 256, thresholdH: th / 256, biasConvention: 'edgedrnn' }).outputs;
      expect(hw.length).toBe(ref.length);
      let max = 0;
      let sum = 0;
      for (let i = 0; i < ref.length; i++) {
        const e = Math.abs(hw[i]! / 256 - ref[i]!);
        max = Math.max(max, e);
        sum += e;
      }
      expect(max).toBeLessThan(1.5 * LUT_STEP);
      expect(sum / ref.length).toBeLessThan(LUT_STEP / 3);
      // Not trivially equal: the hardware rounding must show somewhere.
      expect(max).toBeGreaterThan(0);
    });
  }
});
