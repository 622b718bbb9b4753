/**
 * The simulator's workload and engines for the reset-before GRU: q = r*h columns of W_hn are
 * traced, counted and charged in a second, dependent phase.
 */
import { describe, expect, it } from 'vitest';
import { randomModel, smoothStream } from '../../src/model/random.js';
import type { Model } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/session.js';
import { denseWorkload, simulate, syntheticTrace, workloadFromTrace, workloadOccupancy, type SimOutcome, type SimReport } from '../../src/sim/index.js';
import { expectCode } from '../helpers/errors.js';

function ok(r: SimOutcome): SimReport {
  if (!r.ok) throw new Error(`expected a result, got: ${r.reason}`);
  return r;
}
const before = (): Model => randomModel(3, 16, [{ kind: 'gru', hiddenSize: 32, resetAfter: false }, { kind: 'linear', outputSize: 4 }]);
const afterOf = (m: Model): Model => ({ ...m, layers: m.layers.map((l) => (l.kind === 'gru' ? { ...l, resetAfter: undefined } : l)) });

describe('simulator: reset-before GRU', () => {
  it('a session trace becomes a workload whose fired columns are x + h + q, as the session counted', () => {
    const m = before();
    const opts = { thresholdX: 0.1, thresholdH: 0.05 };
    const s = createSession(m, { ...opts, trace: true });
    s.run(smoothStream(2, 60, 16, 0.2));
    const w = workloadFromTrace(m, s.trace(), opts);
    const l0 = w.layers[0]!;
    expect(l0.qCols).toBe(32);
    expect(l0.hRows).toBe(64);
    const st = s.stats().layers[0]!;
    expect(l0.xIdx!.length + l0.hIdx!.length + l0.qIdx!.length).toBe(st.firedX + st.firedH + st.firedQ!);
    expect(workloadOccupancy(w)).toBeCloseTo((st.firedX + st.firedH + st.firedQ!) / (60 * (16 + 32 + 32)), 12);
    // Dense MACs are the same matrices as the reset-after form: 3H (I + H).
    expect(l0.denseMacs).toBe(3 * 32 * (16 + 32));
    for (const arch of ['deltarnn', 'spartus', 'rnnaccel']) {
      const r = ok(simulate(w, arch, arch === 'deltarnn' ? {} : {}));
      // The session's ops are 2 per MAC; the column engines count the MACs of the fired columns.
      if (arch !== 'rnnaccel') expect(2 * r.layers[0]!.macs).toBe(st.ops);
    }
  });

  it('costs the second pass: same dense MACs as reset-after, more cycles (r activation, then q columns)', () => {
    const m = before();
    for (const arch of ['deltarnn', 'rnnaccel']) {
      const b = ok(simulate(denseWorkload(m, 4), arch));
      const a = ok(simulate(denseWorkload(afterOf(m), 4), arch));
      expect(b.layers[0]!.macs).toBe(a.layers[0]!.macs);
      expect(b.layers[0]!.cycles).toBeGreaterThan(a.layers[0]!.cycles);
    }
  });

  it('synthetic traces sample q at the hidden occupancy; EdgeDRNN refuses as a value; traces without firedQ are E_SHAPE', () => {
    const m = before();
    const t = syntheticTrace(m, { steps: 5, occupancyX: 0.5, occupancyH: 0.25 });
    expect(t[0]![0]!.firedQ!.length).toBe(8);
    ok(simulate(workloadFromTrace(m, t), 'spartus'));
    const e = simulate(denseWorkload(randomModel(3, 16, [{ kind: 'gru', hiddenSize: 32, resetAfter: false }]), 2), 'edgedrnn');
    expect(e).toMatchObject({ ok: false, reason: expect.stringMatching(/reset-before GRU: EdgeDRNN computes the reset-after/) });
    const noQ = t.map((step) => step.map((l) => (l ? { firedX: l.firedX, firedH: l.firedH } : null)));
    expectCode(() => workloadFromTrace(m, noQ), 'E_SHAPE', /lacks firedQ/);
  });
});
