/**
 * EdgeDRNN cycle-exact timing: hand-computed small cases, then the event-driven engine against a
 * literal cycle-by-cycle model (test/helpers/edgedrnn-clocked.ts) on random layer stacks and
 * firing patterns, including the fixed-point machine's own firing at thresholds 0 to 0.5.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { randomModel } from '../../src/model/random.js';
import type { StepTrace } from '../../src/runtime/types.js';
import { edgedrnnEngine, resolveSpec, simulate, traceEdgeDrnnWorkload, workloadFromTrace, type Workload } from '../../src/sim/index.js';
import { clockedLayerCycles } from '../helpers/edgedrnn-clocked.js';

const ix = (...a: number[]) => Int32Array.from(a);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const spec = resolveSpec('edgedrnn');

function engineLayerCycles(w: Workload): number[][] {
  const out = edgedrnnEngine(w, spec);
  if (!out.ok) throw new Error(out.reason);
  return out.perStep.layerCycles.map((a) => Array.from(a));
}

describe('EdgeDRNN timing, hand-computed (I = H = 16: 6 beats per column; a layer takes E + 1 + 9 + 10 cycles)', () => {
  const model = randomModel(1, 16, [{ kind: 'gru', hiddenSize: 16 }]);
  const step = (x: number[], h: number[], bias: boolean): StepTrace => [{ firedX: ix(...x), firedH: ix(...h), bias }];
  const cycles = (trace: StepTrace[]) => engineLayerCycles(workloadFromTrace(model, trace, { thresholdX: 0.1, thresholdH: 0.1 }, 'fixed-point'))[0]!;
  const tail = 1 + 9 + 10;

  it('nothing fires: the two empty end-of-part entries; the hidden one is the last MAC cycle, at I + H + 6', () => {
    // input part's entry queued at I + 2 = 18, MAC cycle 20; hidden part's at I + H + 4 = 36, MAC cycle 38.
    expect(cycles([step([], [], false)])).toEqual([38 + tail]);
    // The bias column (queued 2, beats 5..10) hides inside the encoder's scan.
    expect(cycles([step([], [], true)])).toEqual([38 + tail]);
  });

  it('the last element of a part fired: no empty entry for that part; columns start 3 cycles after queueing', () => {
    // input 15 queued at 18, beats 21..26; hidden 15 queued at I + 5 + 15 = 36, beats 39..44.
    expect(cycles([step([15], [15], false)])).toEqual([44 + tail]);
    // hidden 0 queued at 21 (beats 24..29), then the hidden part's empty entry (36): MAC cycle 38.
    expect(cycles([step([], [0], false)])).toEqual([38 + tail]);
  });

  it('everything fires: MAC-bound, 33 columns back to back from cycle 5', () => {
    // bias queued at 2: first beat 5; 33 x 6 = 198 beats end at 202; the queue never fills.
    expect(cycles([step(range(16), range(16), true)])).toEqual([202 + tail]);
  });

  it('a full queue stops the whole encoder, and the stall moves the end-of-part entry', () => {
    const w = workloadFromTrace(model, [step(range(16), [], true)], { thresholdX: 0.1 }, 'fixed-point');
    // Depth 32: MAC-bound, 17 columns from cycle 5 end at 106; the hidden part's empty entry
    // (queued 36) takes the next cycle, 107.
    expect(engineLayerCycles(w)[0]![0]).toBe(107 + tail);
    const q1 = edgedrnnEngine(w, resolveSpec('edgedrnn', { encoderQueueDepth: 1 }));
    if (!q1.ok) throw new Error(q1.reason);
    // Depth 1: an entry leaves the memory for the MAC's register when the previous column's last
    // beat issues, and the encoder sees the slot a cycle later: input k (k >= 2) is queued the
    // cycle after column k-1 enters the register, its beats end at 16 + 6k (input 15: 106); the
    // encoder stood still 77 cycles for the inputs and 5 more after input 15, so the hidden
    // part's entry is queued at 36 + 82 = 118 and takes cycle 120.
    expect(q1.perStep.layerCycles[0]![0]).toBe(120 + tail);
    expect(clockedLayerCycles({ I: 16, H: 16, bias: true, firedX: new Set(range(16)), firedH: new Set(), queueDepth: 1 })).toBe(120 + tail);
  });

  it('two layers run one after the other, and steps have no hand-off', () => {
    const two = randomModel(2, 16, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 16 }]);
    const t: StepTrace[] = [
      [
        { firedX: ix(), firedH: ix(), bias: false },
        { firedX: ix(), firedH: ix(), bias: false },
      ],
    ];
    const r = simulate(workloadFromTrace(two, t, { thresholdX: 0.1 }, 'fixed-point'), 'edgedrnn');
    if (!r.ok) throw new Error(r.reason);
    expect(r.total.cycles).toBe(2 * (38 + tail));
  });

  it('a padded input: the empty input entry sits at the padded end (I = 8 for 5 inputs)', () => {
    const m = randomModel(3, 5, [{ kind: 'gru', hiddenSize: 16 }]);
    // I_pad = 8: hidden part's entry at 8 + 16 + 4 = 28, MAC cycle 30; input 4 fired (not the last).
    const c = engineLayerCycles(workloadFromTrace(m, [[{ firedX: ix(4), firedH: ix(), bias: false }]], { thresholdX: 0 }, 'fixed-point'))[0]!;
    expect(c).toEqual([30 + tail]);
  });
});

describe('EdgeDRNN engine against the cycle-by-cycle model', () => {
  const SIZES = [16, 16, 24, 32, 48, 64, 128, 256, 512, 768];

  it('random stacks and firing patterns: equal on every layer of every step (300 layers)', () => {
    const rng = new Rng(2024);
    let layersChecked = 0;
    for (let c = 0; layersChecked < 300; c++) {
      const H = SIZES[rng.int(SIZES.length)]!;
      const L = 1 + rng.int(4);
      const I = 1 + rng.int(Math.min(H + 40, 200));
      const model = randomModel(c, I, Array.from({ length: L }, () => ({ kind: 'gru' as const, hiddenSize: H })));
      // Dense patterns only for small H (the clocked model walks every cycle).
      const densities = H <= 64 ? [0, 0.02, 0.1, 0.3, 0.7, 1] : [0, 0.01, 0.05, 0.1, 0.2];
      const steps = 2;
      const trace: StepTrace[] = [];
      for (let t = 0; t < steps; t++) {
        trace.push(
          model.layers.map((layer) => {
            const nIn = layer.inputSize;
            const px = densities[rng.int(densities.length)]!;
            const ph = densities[rng.int(densities.length)]!;
            const pick = (n: number, p: number) => ix(...range(n).filter(() => rng.uniform(0, 1) < p));
            const x = pick(nIn, px);
            const h = pick(H, ph);
            // Sometimes force the last elements to fire (no empty end-of-part entry).
            return { firedX: rng.uniform(0, 1) < 0.2 && !x.includes(nIn - 1) ? ix(...x, nIn - 1) : x, firedH: rng.uniform(0, 1) < 0.2 && !h.includes(H - 1) ? ix(...h, H - 1) : h, bias: rng.uniform(0, 1) < 0.5 };
          }),
        );
      }
      const depth = rng.uniform(0, 1) < 0.2 ? 1 + rng.int(8) : 32;
      const s = resolveSpec('edgedrnn', { encoderQueueDepth: depth });
      const out = edgedrnnEngine(workloadFromTrace(model, trace, { thresholdX: 0.1, thresholdH: 0.1 }, 'fixed-point'), s);
      if (!out.ok) throw new Error(out.reason);
      trace.forEach((st, t) => {
        let stepTotal = 0;
        st.forEach((e, k) => {
          const Ipad = Math.ceil(model.layers[k]!.inputSize / 8) * 8;
          const ref = clockedLayerCycles({ I: Ipad, H, bias: e!.bias!, firedX: new Set(e!.firedX), firedH: new Set(e!.firedH), queueDepth: depth });
          expect(out.perStep.layerCycles[k]![t], `case ${c} H=${H} I=${I} layer ${k} step ${t} depth ${depth}`).toBe(ref);
          stepTotal += ref;
          layersChecked++;
        });
        expect(out.perStep.cycles[t]).toBe(stepTotal);
      });
    }
  });

  it('the fixed-point machine\'s firing at thresholds 0 to 0.5 (sizes 16 to 768, 1 to 4 layers)', () => {
    const rng = new Rng(7);
    const cases: Array<[number, number, number]> = [
      [16, 1, 0], [16, 2, 0.05], [16, 4, 0.5], [32, 3, 0.1], [64, 2, 0], [128, 1, 0.25], [256, 2, 0.5], [768, 2, 0.1],
    ];
    for (const [H, L, th] of cases) {
      const I = 3 + rng.int(40);
      const model = randomModel(H + L, I, Array.from({ length: L }, () => ({ kind: 'gru' as const, hiddenSize: H })));
      const T = H >= 512 ? 3 : 8;
      const frames = Float32Array.from({ length: T * I }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 5)) * 0.5);
      const { workload } = traceEdgeDrnnWorkload(model, frames, { thresholdX: th, thresholdH: th });
      const out = edgedrnnEngine(workload, spec);
      if (!out.ok) throw new Error(out.reason);
      for (let t = 0; t < T; t++) {
        for (let k = 0; k < L; k++) {
          const lw = workload.layers[k]!;
          const x = Array.from(lw.xIdx!.subarray(lw.xPtr![t]!, lw.xPtr![t + 1]!));
          const h = Array.from(lw.hIdx!.subarray(lw.hPtr![t]!, lw.hPtr![t + 1]!));
          const ref = clockedLayerCycles({ I: Math.ceil(lw.xCols / 8) * 8, H, bias: lw.bias![t] === 1, firedX: new Set(x), firedH: new Set(h) });
          expect(out.perStep.layerCycles[k]![t], `H=${H} L=${L} th=${th} step ${t} layer ${k}`).toBe(ref);
        }
      }
      // The bias column fires on the first step only (1.0 >= thx): the machine recorded it.
      expect(Array.from(workload.layers[0]!.bias!)).toEqual(range(T).map((t) => (t === 0 ? 1 : 0)));
    }
  });
});
