/**
 * The simulator against the published figures. The published temporal
 * sparsities come from data we do not have, so each delta figure is checked at a
 * stated occupancy of a synthetic trace; docs/simulator.md tabulates the same numbers.
 */
import { describe, expect, it } from 'vitest';
import { cbtdPruneModel } from '../../src/compress/cbtd/index.js';
import { randomModel } from '../../src/model/random.js';
import { denseWorkload, simulate, syntheticWorkload, type SimOutcome, type SimReport } from '../../src/sim/index.js';

function ok(r: SimOutcome): SimReport {
  if (!r.ok) throw new Error(`expected a result, got: ${r.reason}`);
  return r;
}

describe('EdgeDRNN (2L-768H GRU, I = 40: ~5.4 M weights)', () => {
  const model = randomModel(1, 40, [{ kind: 'gru', hiddenSize: 768 }, { kind: 'gru', hiddenSize: 768 }]);

  it('dense: 2 GOp/s peak at 8 PEs and 125 MHz, ~5.4 ms per step', () => {
    const r = ok(simulate(denseWorkload(model, 2), 'edgedrnn'));
    expect(r.total.peakGops).toBeCloseTo(2, 12);
    expect(r.total.effectiveGops).toBeGreaterThan(1.98);
    expect(r.total.effectiveGops).toBeLessThanOrEqual(2);
    expect(r.total.latencyUs).toBeGreaterThan(5300);
    expect(r.total.latencyUs).toBeLessThan(5500);
    // 3H bytes per fired column: 2304 bytes x (809 + 1537 columns, bias included).
    expect(r.total.dramBytesPerStep).toBe(2304 * (809 + 1537));
  });

  it('~10 % occupancy: ~0.5 ms per step and ~20 GOp/s effective', () => {
    const at9 = ok(simulate(syntheticWorkload(model, { steps: 100, occupancyX: 0.09 }), 'edgedrnn'));
    const at10 = ok(simulate(syntheticWorkload(model, { steps: 100, occupancyX: 0.1 }), 'edgedrnn'));
    expect(at9.total.latencyUs).toBeGreaterThan(450);
    expect(at9.total.latencyUs).toBeLessThan(550);
    expect(at10.total.latencyUs).toBeGreaterThan(500);
    expect(at10.total.latencyUs).toBeLessThan(600);
    expect(at9.total.effectiveGops).toBeGreaterThan(20);
    expect(at10.total.effectiveGops).toBeGreaterThan(18);
    expect(at10.total.effectiveGops).toBeLessThan(21);
    // Up to 10x less DRAM traffic than dense.
    expect(at10.total.dramBytesPerStep).toBeLessThan(0.11 * 2304 * (809 + 1537));
  });
});

describe('Spartus (one 1024-unit DeltaLSTM layer, I = 120, CBTD gamma 0.94 on 64 PEs)', () => {
  const model = randomModel(2, 120, [{ kind: 'lstm', hiddenSize: 1024 }]);
  const pruned = cbtdPruneModel(model, { gamma: 0.94, pes: 64 });

  it('peak 204.8 GOp/s; a dense unpruned step runs near it', () => {
    const r = ok(simulate(denseWorkload(model, 1), 'spartus'));
    expect(r.total.peakGops).toBeCloseTo(204.8, 9);
    expect(r.total.effectiveGops).toBeGreaterThan(200);
    expect(r.total.effectiveGops).toBeLessThanOrEqual(204.8);
  });

  it('93.75 % CBTD sparsity and 18 % occupancy: ~1 us per step, ~9.4 TOp/s effective, ~46x over the dense peak', () => {
    const r = ok(simulate(syntheticWorkload(pruned, { steps: 100, occupancyX: 0.18 }), 'spartus'));
    expect(r.total.latencyUs).toBeGreaterThan(0.9);
    expect(r.total.latencyUs).toBeLessThan(1.1);
    expect(r.total.effectiveGops).toBeGreaterThan(8500);
    expect(r.total.effectiveGops).toBeLessThan(10_500);
    expect(r.total.speedupOverPeak).toBeGreaterThan(41);
    expect(r.total.speedupOverPeak).toBeLessThan(51);
  });
});

describe('DeltaRNN (1L-256H GRU, I = 40)', () => {
  const model = randomModel(3, 40, [{ kind: 'gru', hiddenSize: 256 }]);
  it('5.7x over its dense update at ~11 % occupancy, and then ~1 TOp/s effective', () => {
    const dense = ok(simulate(denseWorkload(model, 2), 'deltarnn'));
    const delta = ok(simulate(syntheticWorkload(model, { steps: 200, occupancyX: 0.11 }), 'deltarnn'));
    const speedup = dense.total.latencyUs / delta.total.latencyUs;
    expect(delta.total.speedupOverDenseUpdate).toBeCloseTo(speedup, 9);
    expect(speedup).toBeGreaterThan(5.2);
    expect(speedup).toBeLessThan(6.2);
    expect(delta.total.effectiveGops).toBeGreaterThan(900);
    expect(delta.total.effectiveGops).toBeLessThan(1300);
  });
});

describe('RNNAccel (32 MACs)', () => {
  it('~90 % MAC utilisation on a keyword-spotting LSTM (16 filterbank channels, 128 units, 12 classes)', () => {
    const kws = randomModel(4, 16, [{ kind: 'lstm', hiddenSize: 128 }, { kind: 'linear', outputSize: 12 }]);
    const r = ok(simulate(denseWorkload(kws, 4), 'rnnaccel'));
    expect(r.total.utilisation).toBeGreaterThan(0.87);
    expect(r.total.utilisation).toBeLessThan(0.94);
  });
});

describe('Multi-step SRU (Sung & Park)', () => {
  it('weight traffic per step falls by T; latency grows by T-1 steps', () => {
    const sru = randomModel(5, 64, [{ kind: 'sru', hiddenSize: 64 }, { kind: 'sru', hiddenSize: 64 }]);
    const w = denseWorkload(sru, 16);
    const base = ok(simulate(w, 'rnnaccel', { set: { timeBlock: 1 } }));
    for (const T of [2, 4, 8, 16]) {
      const r = ok(simulate(w, 'rnnaccel', { set: { timeBlock: T } }));
      expect(r.total.dramBytesPerStep * T).toBeCloseTo(base.total.dramBytesPerStep, 6);
      expect(r.total.addedLatencySteps).toBe(T - 1);
      expect(r.total.macs).toBe(base.total.macs);
    }
  });
});
