import { describe, expect, it } from 'vitest';
import { randomModel, smoothStream } from '../../src/model/random.js';
import type { GruLayer } from '../../src/model/types.js';
import { buildEdgeDrnnProgram, EdgeDrnnMachine, quantizeStimulus } from '../../src/quant/index.js';
import { simulate, traceEdgeDrnnWorkload, traceWorkload, type SimOutcome, type SimReport } from '../../src/sim/index.js';

function ok(r: SimOutcome): SimReport {
  if (!r.ok) throw new Error(r.reason);
  return r;
}

describe('EdgeDRNN workload from the bit-exact fixed-point machine', () => {
  const model = randomModel(12, 20, [{ kind: 'gru', hiddenSize: 32 }, { kind: 'gru', hiddenSize: 32 }, { kind: 'linear', outputSize: 5 }], 0.5);
  // b_hn = 0, as the authors train for EdgeDRNN (the hardware has one bias per gate).
  for (const l of model.layers) if (l.kind === 'gru') (l as GruLayer).biasHh.fill(0, 2 * l.hiddenSize);
  const frames = smoothStream(7, 80, 20, 0.2);

  it('replays exactly the columns the machine fetched, bias column included', () => {
    const { workload, firedBias } = traceEdgeDrnnWorkload(model, frames, { thresholdX: 0.1, thresholdH: 0.05 });
    expect(workload.source).toBe('fixed-point');
    // Independent run of the machine for its counters.
    const built = buildEdgeDrnnProgram(model, { thresholdX: 0.1, thresholdH: 0.05 });
    const m = new EdgeDrnnMachine(built.program);
    m.run(quantizeStimulus(frames, 20, built.program.config.inputSize));
    const st = m.stats();
    expect(firedBias).toBe(2); // once per layer, on the first step after reset
    expect(workload.layers[0]!.xIdx!.length).toBe(st.layers[0]!.firedX);
    expect(workload.layers[1]!.hIdx!.length).toBe(st.layers[1]!.firedH);
    const r = ok(simulate(workload, 'edgedrnn'));
    const columns = st.layers.reduce((a, l) => a + l.firedBias + l.firedX + l.firedH, 0);
    expect(r.total.dramBytes).toBe(columns * 3 * 32);
    expect(r.workloadSource).toBe('fixed-point');
  });

  it('fires about as often as the float session on the same thresholds', () => {
    const fp = traceEdgeDrnnWorkload(model, frames, { thresholdX: 0.1, thresholdH: 0.05 }).workload;
    const fl = traceWorkload(model, frames, { thresholdX: 0.1, thresholdH: 0.05 }).workload;
    const a = ok(simulate(fp, 'edgedrnn')).total.occupancy;
    const b = ok(simulate(fl, 'edgedrnn')).total.occupancy;
    expect(a).toBeGreaterThan(0.02);
    expect(a).toBeLessThan(0.98);
    expect(Math.abs(a - b)).toBeLessThan(0.1);
  });

  it('refuses what the hardware cannot hold', () => {
    const lstm = randomModel(1, 8, [{ kind: 'lstm', hiddenSize: 16 }]);
    expect(() => traceEdgeDrnnWorkload(lstm, new Float32Array(8), {})).toThrow(/EdgeDRNN/);
    expect(() => traceEdgeDrnnWorkload(model, frames, { thresholdX: 3 })).toThrow(/at most/);
  });
});
