/**
 * Invariants of the cycle engines over random traces (fast-check): bounds that follow from the
 * models' definitions, and monotonicity (firing more never makes a step faster).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cbtdPruneModel } from '../../src/compress/cbtd/index.js';
import { randomModel } from '../../src/model/random.js';
import type { StepTrace } from '../../src/runtime/types.js';
import { denseWorkload, simulate, workloadFromTrace, type SimOutcome, type SimReport } from '../../src/sim/index.js';

function ok(r: SimOutcome): SimReport {
  if (!r.ok) throw new Error(r.reason);
  return r;
}

const subset = (n: number) => fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }).map((a) => Int32Array.from(a.sort((p, q) => p - q)));

describe('EdgeDRNN engine invariants', () => {
  // I = 12 (padded to 16), H = 16: 3H = 48 rows = 6 cycles per column.
  const model = randomModel(1, 12, [{ kind: 'gru', hiddenSize: 16 }]);

  it('a step lies between the overlapped and the serial schedule, and more firing is never faster', () => {
    fc.assert(
      fc.property(subset(12), subset(16), fc.integer({ min: 0, max: 11 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 30 }), (x, h, extra, queue, lat) => {
        const set = { encoderQueueDepth: queue, dramFirstAccessCycles: lat };
        const trace: StepTrace[] = [[{ firedX: x, firedH: h }]];
        // Step 1 (not 0) so that the bias column does not fire.
        const two: StepTrace[] = [[{ firedX: new Int32Array(), firedH: new Int32Array() }], trace[0]!];
        const r = ok(simulate(workloadFromTrace(model, two, { thresholdX: 0.1 }), 'edgedrnn', { set }));
        const cycles = r.perStep.cycles[1]!;
        const n = x.length + h.length;
        // The encoder scans I (padded to 16) + H elements with its lead and part gap (16 + 16 + 6
        // cycles to the hidden part's end-of-part entry); the layer ends 1 + 9 + 5H/8 = 20 cycles
        // after its last MAC cycle. Overlapped: the scan or the beats, whichever is longer.
        // Serial: every fired column waits for its weights (3 cycles of lead, the DRAM latency, 6
        // beats) after the scan, plus the two end-of-part entries.
        const lower = Math.max(16 + 16 + 5, n * 6 + (n > 0 ? lat : 0)) + 20;
        const upper = 16 + 16 + 6 + n * (3 + 6 + lat) + 2 * 2 + 20;
        expect(cycles).toBeGreaterThanOrEqual(lower);
        expect(cycles).toBeLessThanOrEqual(upper);
        // Fire one more input element.
        if (!x.includes(extra)) {
          const more = Int32Array.from([...x, extra].sort((p, q) => p - q));
          const two2: StepTrace[] = [two[0]!, [{ firedX: more, firedH: h }]];
          const r2 = ok(simulate(workloadFromTrace(model, two2, { thresholdX: 0.1 }), 'edgedrnn', { set }));
          expect(r2.perStep.cycles[1]!).toBeGreaterThanOrEqual(cycles);
          expect(r2.perStep.dramBytes[1]!).toBe(r.perStep.dramBytes[1]! + 48);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('Spartus engine invariants', () => {
  const model = cbtdPruneModel(randomModel(2, 32, [{ kind: 'lstm', hiddenSize: 32 }]), { gamma: 0.5, pes: 16 });
  // 128 rows / 16 PEs = 8 per sub-column, 4 kept: K = 4 for every column.

  it('the busiest array bounds the step from below, the total work from above', () => {
    fc.assert(
      fc.property(subset(32), subset(32), (x, h) => {
        const r = ok(simulate(workloadFromTrace(model, [[{ firedX: x, firedH: h }]]), 'spartus', { set: { pes: 16 } }));
        const n = x.length + h.length;
        const act = 8 + 4 * Math.ceil(32 / 64);
        const scan = Math.ceil(64 / 64);
        const cycles = r.total.cycles;
        expect(cycles).toBeGreaterThanOrEqual(Math.max(scan, Math.ceil((4 * n) / 8)) + act);
        expect(cycles).toBeLessThanOrEqual(Math.max(scan, 4 * n) + act);
        expect(r.total.macs).toBe(n * 64);
        expect(r.total.utilisation).toBeLessThanOrEqual(1);
      }),
      { numRuns: 150 },
    );
  });
});

describe('derived figures', () => {
  it('a dense workload has occupancy 1, no speedup over itself, and effective <= peak', () => {
    for (const arch of ['edgedrnn', 'deltarnn', 'spartus', 'rnnaccel'] as const) {
      const m = randomModel(3, 16, [{ kind: 'gru', hiddenSize: 32 }]);
      const r = ok(simulate(denseWorkload(m, 3), arch));
      expect(r.total.occupancy).toBe(1);
      expect(r.total.speedupOverDenseUpdate).toBe(1);
      expect(r.total.effectiveGops).toBeLessThanOrEqual(r.total.peakGops * (1 + 1e-12));
      expect(r.total.utilisation).toBeLessThanOrEqual(1);
    }
  });
});
