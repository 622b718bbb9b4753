import { describe, expect, it } from 'vitest';
import { cbtdPruneModel, cbtdStorageBytes, encodeCbtd } from '../../src/compress/cbtd/index.js';
import type { LstmLayer } from '../../src/model/types.js';
import { DeltakitError } from '../../src/core/errors.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import type { StepTrace } from '../../src/runtime/types.js';
import { createSession } from '../../src/runtime/session.js';
import {
  codecBits,
  denseWorkload,
  formatReport,
  parseOverrides,
  reportToJson,
  resolveSpec,
  simulate,
  syntheticTrace,
  workloadFromTrace,
  workloadOccupancy,
  PRESETS,
  PARAMS,
  type SimOutcome,
  type SimReport,
} from '../../src/sim/index.js';

function ok(r: SimOutcome): SimReport {
  if (!r.ok) throw new Error(`expected a result, got: ${r.reason}`);
  return r;
}
const ix = (...a: number[]) => Int32Array.from(a);

describe('EdgeDRNN engine, cycle by cycle', () => {
  // GRU I = 8, H = 16: 3H = 48 rows = 6 beats of 64 bits per column; a layer takes its last MAC
  // cycle E + 1 + 9 + 5 * 16 / 8 = E + 20 cycles; no step hand-off. (test/sim/edgedrnn-cycles.test.ts
  // has the full rules and the cycle-by-cycle reference.)
  const model = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 16 }]);
  const one = (firedX: number[], firedH: number[] = []): StepTrace[] => [[{ firedX: ix(...firedX), firedH: ix(...firedH) }]];

  it('one fired input plus the bias column', () => {
    // bias queued 2, beats 5..10; input 2 queued 5, beats 11..16; the input part's empty entry
    // (input 7 did not fire) queued 10, MAC cycle 17; the hidden part's queued I + H + 4 = 28, cycle 30.
    const r = ok(simulate(workloadFromTrace(model, one([2]), { thresholdX: 0.1 }), 'edgedrnn'));
    expect(r.total.cycles).toBe(30 + 20);
    expect(r.total.dramBytes).toBe(2 * 48);
    expect(r.layers[0]!.firedColumns).toBe(1);
  });

  it('the bias column does not fire when thresholdX > 1 (the bias pseudo-delta is compared with thx) and the report says so', () => {
    const r = ok(simulate(workloadFromTrace(model, one([2]), { thresholdX: 1.5 }), 'edgedrnn'));
    expect(r.total.dramBytes).toBe(48);
    expect(r.notes.join()).toMatch(/never adds the biases/);
  });

  it('a full queue stalls the encoder', () => {
    const all = [0, 1, 2, 3, 4, 5, 6, 7];
    const deep = ok(simulate(workloadFromTrace(model, one(all), { thresholdX: 0.1 }), 'edgedrnn'));
    // 9 columns back to back from cycle 5 end at 58; the hidden part's empty entry takes cycle 59.
    expect(deep.total.cycles).toBe(59 + 20);
    const shallow = ok(simulate(workloadFromTrace(model, one(all), { thresholdX: 0.1 }), 'edgedrnn', { set: { encoderQueueDepth: 1 } }));
    // Depth 1: column n is queued the cycle after column n-1 entered the MAC's register; the
    // encoder stands still 42 cycles in all, so the hidden part's entry is queued at 28 + 42 = 70
    // and takes cycle 72.
    expect(shallow.total.cycles).toBe(72 + 20);
  });

  it('DRAM first-access latency: hidden behind the stream with prefetch, paid per column without', () => {
    const all = [0, 1, 2, 3, 4, 5, 6, 7];
    const w = workloadFromTrace(model, one(all), { thresholdX: 0.1 });
    const pre = ok(simulate(w, 'edgedrnn', { set: { dramFirstAccessCycles: 10 } }));
    // The bias burst's first beat waits 3 + 10 cycles (15); then 9 columns back to back end at
    // 68; the empty entry (no weights) takes cycle 69.
    expect(pre.total.cycles).toBe(69 + 20);
    const noPre = ok(simulate(w, 'edgedrnn', { set: { dramFirstAccessCycles: 10, dramPrefetch: 0 } }));
    // Each burst is requested after the previous column's last beat: columns start 15, 31, ..., 143;
    // the last ends at 148, the empty entry takes cycle 149.
    expect(noPre.total.cycles).toBe(149 + 20);
    expect(noPre.total.stallCycles).toBe(150 - (9 * 6 + 1));
  });

  it('refuses what the hardware cannot run, as a value', () => {
    const lstm = randomModel(1, 8, [{ kind: 'lstm', hiddenSize: 16 }]);
    const r1 = simulate(denseWorkload(lstm, 1), 'edgedrnn');
    expect(r1.ok).toBe(false);
    const odd = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 12 }]);
    expect(simulate(denseWorkload(odd, 1), 'edgedrnn')).toMatchObject({ ok: false, reason: expect.stringMatching(/multiple of 8/) });
    const mixed = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 32 }]);
    expect(simulate(denseWorkload(mixed, 1), 'edgedrnn').ok).toBe(false);
    expect(formatReport(r1)).toMatch(/cannot run/);
  });

  it('linear heads run off the accelerator and are not counted', () => {
    const m = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 3 }]);
    const r = ok(simulate(denseWorkload(m, 1), 'edgedrnn'));
    expect(r.layers[1]!.onAccelerator).toBe(false);
    expect(r.layers[1]!.cycles).toBe(0);
    expect(r.total.denseOps).toBe(2 * 48 * 24);
  });
});

describe('column engines (Spartus, DeltaRNN)', () => {
  // LSTM I = 64, H = 64: 256 rows over 64 PEs = 4 per sub-column; gamma 0.5 keeps K = 2.
  const model = cbtdPruneModel(randomModel(2, 64, [{ kind: 'lstm', hiddenSize: 64 }]), { gamma: 0.5, pes: 64 });
  const trace = (x: number[]): StepTrace[] => [[{ firedX: ix(...x), firedH: ix() }]];

  it('a fired column costs K cycles on array j mod 8; the busiest array sets the pace', () => {
    // Activation 8 + 4 * ceil(64 / 64) = 12; scan ceil(128 / 64) = 2.
    const spread = ok(simulate(workloadFromTrace(model, trace([0, 1, 2, 3])), 'spartus'));
    expect(spread.total.cycles).toBe(2 + 12);
    const piled = ok(simulate(workloadFromTrace(model, trace([0, 8, 16, 24])), 'spartus'));
    expect(piled.total.cycles).toBe(8 + 12);
    // 7 of 8 arrays idle while array 0 works 8 cycles: mean wait 8 - 8/8 = 7.
    expect(piled.total.stallCycles).toBe(7);
    expect(piled.total.macs).toBe(4 * 128);
    // 4 columns x 64 PEs x K = 2 slots of an 8-bit weight and a 2-bit local row index.
    expect(piled.total.sramBytes).toBe((4 * 64 * 2 * 10) / 8);
  });

  it('Spartus refuses a model that does not fit on chip; its storage is exactly the CBTD storage', () => {
    const r = simulate(denseWorkload(model, 1), 'spartus', { set: { onChipWeightBytes: 1000 } });
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/on chip/) });
    const l = model.layers[0] as LstmLayer;
    const bytes = cbtdStorageBytes(encodeCbtd(l.weightIh, 256, 64, 64), 8) + cbtdStorageBytes(encodeCbtd(l.weightHh, 256, 64, 64), 8);
    expect(simulate(denseWorkload(model, 1), 'spartus', { set: { onChipWeightBytes: bytes } }).ok).toBe(true);
    expect(simulate(denseWorkload(model, 1), 'spartus', { set: { onChipWeightBytes: bytes - 1 } }).ok).toBe(false);
  });

  it('DeltaRNN pays ceil(3H / PEs) per column whatever the weights', () => {
    const gru = randomModel(3, 16, [{ kind: 'gru', hiddenSize: 256 }]);
    const r = ok(simulate(workloadFromTrace(gru, [[{ firedX: ix(1, 2, 3), firedH: ix(5) }]]), 'deltarnn'));
    // 4 columns x 1 cycle, scan ceil(272 / 16) = 17 dominates; activation 8 + 1 * 256 / 16 = 24.
    expect(r.total.cycles).toBe(17 + 24);
    expect(simulate(denseWorkload(randomModel(1, 8, [{ kind: 'lstm', hiddenSize: 16 }]), 1), 'deltarnn').ok).toBe(false);
  });
});

describe('RNNAccel engine', () => {
  it('output-stationary passes, fill, activation and the decoder', () => {
    const m = randomModel(4, 16, [{ kind: 'gru', hiddenSize: 32 }]);
    const r = ok(simulate(denseWorkload(m, 3), 'rnnaccel'));
    // 96 rows -> 3 row groups x (16 + 32) columns + 2 fills of 4; activation 4 + 32.
    expect(r.total.cycles / 3).toBe(3 * 48 + 8 + 36);
    expect(r.total.dramBytesPerStep).toBe(codecBits(96 * 48, 16, 4) / 8);
    // A slow decoder becomes the bottleneck.
    const slow = ok(simulate(denseWorkload(m, 1), 'rnnaccel', { set: { decoderWeightsPerCycle: 8 } }));
    expect(slow.total.cycles).toBe(96 * 48 / 8 + 36);
    expect(slow.total.stallCycles).toBe(96 * 48 / 8 - (3 * 48 + 8));
    const raw = ok(simulate(denseWorkload(m, 1), 'rnnaccel', { set: { codebookBits: 0 } }));
    expect(raw.total.dramBytesPerStep).toBe(96 * 48 * 2);
  });
});

describe('workloads', () => {
  it('from a real session trace: fired counts and occupancy match the session statistics', () => {
    const m = randomModel(6, 12, [{ kind: 'gru', hiddenSize: 24 }, { kind: 'lstm', hiddenSize: 16 }, { kind: 'linear', outputSize: 4 }]);
    const s = createSession(m, { thresholdX: 0.1, thresholdH: 0.05, trace: true });
    s.run(smoothStream(2, 50, 12));
    const w = workloadFromTrace(m, s.trace(), { thresholdX: 0.1, thresholdH: 0.05 });
    const st = s.stats();
    expect(w.steps).toBe(50);
    expect(w.layers[0]!.xIdx!.length).toBe(st.layers[0]!.firedX);
    expect(w.layers[1]!.hIdx!.length).toBe(st.layers[1]!.firedH);
    expect(w.layers[2]!.delta).toBe(false);
    expect(workloadOccupancy(w)).toBeCloseTo(st.occupancy, 12);
    expect(st.occupancy).toBeLessThan(1);
    const r = ok(simulate(w, 'spartus'));
    expect(r.total.occupancy).toBeCloseTo(st.occupancy, 12);
    expect(r.total.macs).toBe(st.layers[0]!.ops / 2 + st.layers[1]!.ops / 2);
  });

  it('rejects traces that do not fit the model', () => {
    const m = randomModel(6, 4, [{ kind: 'gru', hiddenSize: 8 }]);
    expect(() => workloadFromTrace(m, [])).toThrow(DeltakitError);
    expect(() => workloadFromTrace(m, [[{ firedX: ix(4), firedH: ix() }]])).toThrow(/outside/);
    expect(() => workloadFromTrace(m, [[null, null]])).not.toThrow(); // extra entries are ignored
    expect(() => workloadFromTrace(randomModel(6, 4, [{ kind: 'gru', hiddenSize: 8 }, { kind: 'gru', hiddenSize: 8 }]), [[null]])).toThrow(/layers/);
  });

  it('synthetic traces fire exactly round(occupancy * n) distinct sorted elements, reproducibly', () => {
    const m = randomModel(7, 40, [{ kind: 'gru', hiddenSize: 100 }, { kind: 'linear', outputSize: 3 }]);
    const a = syntheticTrace(m, { steps: 20, occupancyX: 0.25, occupancyH: 0.1, seed: 3 });
    const b = syntheticTrace(m, { steps: 20, occupancyX: 0.25, occupancyH: 0.1, seed: 3 });
    expect(a).toEqual(b);
    for (const st of a) {
      const e = st[0]!;
      expect(e.firedX.length).toBe(10);
      expect(e.firedH.length).toBe(10);
      expect(new Set(e.firedX).size).toBe(10);
      expect(Array.from(e.firedX)).toEqual(Array.from(e.firedX).sort((p, q) => p - q));
      expect(st[1]).toBeNull();
    }
    expect(() => syntheticTrace(m, { steps: 2, occupancyX: 1.5 })).toThrow(/occupancyX/);
  });
});

describe('specs, overrides, reports', () => {
  it('every preset value names its source, and every parameter is declared once with a unit', () => {
    for (const p of Object.values(PRESETS)) {
      for (const [name, v] of Object.entries(p.params)) {
        expect(PARAMS).toHaveProperty(name);
        expect(v!.source.length).toBeGreaterThan(5);
      }
    }
  });

  it('rejects unknown architectures, parameters and values with codes', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as DeltakitError).code;
      }
      return 'none';
    };
    expect(code(() => resolveSpec('tpu'))).toBe('E_OPTION');
    expect(code(() => resolveSpec('edgedrnn', { timeBlock: 2 }))).toBe('E_OPTION');
    expect(code(() => resolveSpec('edgedrnn', { clockMHz: -1 }))).toBe('E_VALUE');
    expect(code(() => resolveSpec('edgedrnn', { clockMHz: 0 }))).toBe('E_VALUE');
    expect(code(() => parseOverrides(['clockMHz'])).valueOf()).toBe('E_OPTION');
    expect(code(() => parseOverrides(['clockMHz=fast']))).toBe('E_VALUE');
    expect(parseOverrides(['clockMHz=200', 'pes=16'])).toEqual({ clockMHz: 200, pes: 16 });
  });

  it('clock scales latency, not cycles; energy overrides change energy', () => {
    const m = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 16 }]);
    const w = denseWorkload(m, 2);
    const a = ok(simulate(w, 'edgedrnn'));
    const b = ok(simulate(w, 'edgedrnn', { set: { clockMHz: 250 } }));
    expect(b.total.cycles).toBe(a.total.cycles);
    expect(b.total.latencyUs).toBeCloseTo(a.total.latencyUs / 2, 12);
    const c = ok(simulate(w, 'edgedrnn', { energy: { dramByte: 2 * a.energy.dramByte.pj } }));
    expect(c.total.energyUJ - a.total.energyUJ).toBeCloseTo(a.total.dramBytes * a.energy.dramByte.pj * 1e-6, 9);
    expect(a.layers.reduce((s, l) => s + l.energyUJ, 0)).toBeCloseTo(a.total.energyUJ, 9);
  });

  it('the table and the JSON carry latency, cycles, GOp/s, DRAM bytes, utilisation, energy per layer and total', () => {
    const m = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 16 }]);
    const r = ok(simulate(denseWorkload(m, 3), 'edgedrnn'));
    const text = formatReport(r);
    for (const h of ['latency us/step', 'cycles', 'DRAM bytes', 'util %', 'eff. GOp/s', 'energy uJ', 'total', '0 gru', '1 gru']) expect(text).toContain(h);
    const j = JSON.parse(JSON.stringify(reportToJson(r, { perStep: true }))) as { total: Record<string, number>; layers: unknown[]; perStep: { cycles: number[] } };
    expect(j.total.cycles).toBe(r.total.cycles);
    expect(j.layers).toHaveLength(2);
    expect(j.perStep.cycles).toHaveLength(3);
    const ps = (j as unknown as { perStep: { latencyUs: number[]; utilisation: number[]; cycles: number[] } }).perStep;
    expect(ps.latencyUs[1]).toBeCloseTo(ps.cycles[1]! / 125, 12);
    expect(ps.utilisation[1]).toBeGreaterThan(0.5);
    expect(ps.utilisation[1]).toBeLessThanOrEqual(1);
    const eff = (j as unknown as { perStep: { effectiveGops: number[] } }).perStep.effectiveGops;
    expect(eff[2]).toBeCloseTo(r.total.denseOps / 3 / ps.latencyUs[2]! / 1e3, 9);
    for (const k of ['latencyUs', 'effectiveGops', 'dramBytes', 'utilisation', 'energyUJ']) expect(typeof j.total[k]).toBe('number');
  });
});
