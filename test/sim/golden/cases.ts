/**
 * The golden simulation cases: fixed seeds, one per accelerator and a few parameter variants.
 * `npx tsx test/sim/golden/make.ts` regenerates expected.json after an intended model change;
 * test/sim/golden.test.ts compares every run against it exactly.
 */
import { cbtdPruneModel } from '../../../src/compress/cbtd/index.js';
import { randomModel } from '../../../src/model/random.js';
import { simulate, syntheticWorkload, type SimOutcome } from '../../../src/sim/index.js';

export interface GoldenCase {
  name: string;
  run(): SimOutcome;
}

const gru = () => randomModel(31, 24, [{ kind: 'gru', hiddenSize: 64 }, { kind: 'gru', hiddenSize: 64 }, { kind: 'linear', outputSize: 8 }]);
const lstm = () => cbtdPruneModel(randomModel(32, 64, [{ kind: 'lstm', hiddenSize: 128 }]), { gamma: 0.875, pes: 64 });
const mixed = () => randomModel(33, 16, [{ kind: 'lstm', hiddenSize: 48 }, { kind: 'sru', hiddenSize: 48 }, { kind: 'qrnn', hiddenSize: 32, window: 2 }, { kind: 'linear', outputSize: 10 }]);

export const CASES: GoldenCase[] = [
  { name: 'edgedrnn', run: () => simulate(syntheticWorkload(gru(), { steps: 40, occupancyX: 0.15, occupancyH: 0.08, seed: 5 }), 'edgedrnn') },
  { name: 'edgedrnn-dram-latency', run: () => simulate(syntheticWorkload(gru(), { steps: 40, occupancyX: 0.15, seed: 5 }), 'edgedrnn', { set: { dramFirstAccessCycles: 30, dramPrefetch: 0 } }) },
  { name: 'edgedrnn-shallow-queue', run: () => simulate(syntheticWorkload(gru(), { steps: 40, occupancyX: 0.3, seed: 6, denseFirstStep: true }), 'edgedrnn', { set: { encoderQueueDepth: 2 } }) },
  { name: 'spartus', run: () => simulate(syntheticWorkload(lstm(), { steps: 40, occupancyX: 0.2, seed: 7 }), 'spartus') },
  { name: 'deltarnn', run: () => simulate(syntheticWorkload(gru(), { steps: 40, occupancyX: 0.1, seed: 8 }), 'deltarnn') },
  { name: 'rnnaccel', run: () => simulate(syntheticWorkload(mixed(), { steps: 10, occupancyX: 1, seed: 9 }), 'rnnaccel') },
  { name: 'rnnaccel-timeblock', run: () => simulate(syntheticWorkload(mixed(), { steps: 10, occupancyX: 1, seed: 9 }), 'rnnaccel', { set: { timeBlock: 4, decoderWeightsPerCycle: 16 } }) },
];

/** What is compared: the totals and per-layer counts (numbers rounded to 9 significant digits). */
export function digest(r: SimOutcome): unknown {
  if (!r.ok) return { ok: false, reason: r.reason };
  const round = (v: number) => Number(v.toPrecision(9));
  const pick = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number').map(([k, v]) => [k, round(v as number)]));
  return { total: pick(r.total), layers: r.layers.map(pick), firstSteps: Array.from(r.perStep.cycles.subarray(0, 5)) };
}
