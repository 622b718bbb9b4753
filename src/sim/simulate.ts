/**
 * Run a cycle engine on a workload and derive the figures the papers report, the same way for
 * every accelerator (SPEC §1 conventions: one multiply-accumulate = 2 ops; effective throughput =
 * the dense network's op count / the time taken).
 */
import { energyMicrojoules, energyTable, type EnergyTable } from './cost/energy.js';
import { ENGINES } from './engine/index.js';
import type { EngineCounts, LayerCounts } from './engine/types.js';
import type { ArchName, ArchSpec } from './spec/params.js';
import { PRESETS, resolveSpec } from './spec/presets.js';
import { denseWorkload, type Workload } from './workload/workload.js';

export interface LayerReport extends LayerCounts {
  index: number;
  kind: string;
  /** Dense-network ops of this layer over all steps (2 per multiply-accumulate). */
  denseOps: number;
  /** Fired columns / all columns. */
  occupancy: number;
  /** Mean time per step spent in this layer. */
  latencyUs: number;
  effectiveGops: number;
  /** Useful MACs / (peak MACs per cycle * cycles). */
  utilisation: number;
  energyUJ: number;
}

export interface SimTotals {
  steps: number;
  cycles: number;
  stallCycles: number;
  dramBytes: number;
  dramBytesPerStep: number;
  sramBytes: number;
  macs: number;
  denseOps: number;
  /** Mean latency of one step. */
  latencyUs: number;
  /** Worst step. */
  maxLatencyUs: number;
  effectiveGops: number;
  /** 2 * peak MACs per cycle * clock. */
  peakGops: number;
  /** effectiveGops / peakGops: how far sparsity takes the design past its dense peak. */
  speedupOverPeak: number;
  /** Mean latency of the same hardware doing the dense update (every column) / this latency. */
  speedupOverDenseUpdate: number;
  utilisation: number;
  occupancy: number;
  energyUJ: number;
  energyPerStepUJ: number;
  /** Steps of delay from time-blocking (Sung & Park), 0 otherwise. */
  addedLatencySteps: number;
}

export interface SimReport {
  ok: true;
  arch: ArchName;
  title: string;
  spec: ArchSpec;
  clockMHz: number;
  /** Multiply-accumulates the hardware can do per cycle. */
  peakMacsPerCycle: number;
  workloadSource: Workload['source'];
  perStep: EngineCounts['perStep'];
  layers: LayerReport[];
  total: SimTotals;
  notes: string[];
  energy: EnergyTable;
}

export type SimOutcome = SimReport | { ok: false; arch: ArchName; reason: string };

export interface SimulateOptions {
  /** Parameter overrides (`--set`). */
  set?: Partial<Record<string, number>>;
  /** Energy-table overrides, in pJ (staticMilliwatts in mW). */
  energy?: Partial<Record<keyof EnergyTable, number>>;
}

/**
 * Simulate a workload on one accelerator.
 *
 * @example
 * const r = simulate(workloadFromTrace(model, session.trace()), 'edgedrnn', { set: { clockMHz: 125 } });
 * if (r.ok) console.log(r.total.latencyUs, r.total.effectiveGops);
 */
export function simulate(w: Workload, arch: string, options: SimulateOptions = {}): SimOutcome {
  const spec = resolveSpec(arch, options.set ?? {});
  const out = ENGINES[spec.arch](w, spec);
  if (!out.ok) return { ok: false, arch: spec.arch, reason: out.reason };
  const clockMHz = spec.params.clockMHz!;
  const table = energyTable(spec.params.weightBits ?? 8);
  for (const [k, pj] of Object.entries(options.energy ?? {})) {
    if (pj !== undefined && k in table) table[k as keyof EnergyTable] = { pj, source: 'user override' };
  }
  const us = (cycles: number) => cycles / clockMHz;
  const steps = w.steps;
  const peak = out.peakMacsPerCycle;
  const layers: LayerReport[] = out.layers.map((c, k) => {
    const lw = w.layers[k]!;
    const denseOps = c.onAccelerator ? 2 * lw.denseMacs * steps : 0;
    const seconds = us(c.cycles) * 1e-6;
    return {
      ...c,
      index: k,
      kind: lw.kind,
      denseOps,
      occupancy: c.onAccelerator ? c.firedColumns / ((lw.xCols + lw.hCols + lw.qCols) * steps) : 0,
      latencyUs: us(c.cycles) / steps,
      effectiveGops: seconds > 0 ? denseOps / seconds / 1e9 : 0,
      utilisation: c.cycles > 0 ? c.macs / (peak * c.cycles) : 0,
      energyUJ: energyMicrojoules({ ...c, seconds }, table),
    };
  });
  let cycles = 0;
  let maxCycles = 0;
  for (let t = 0; t < steps; t++) {
    const v = out.perStep.cycles[t]!;
    cycles += v;
    if (v > maxCycles) maxCycles = v;
  }
  const sum = (f: (l: LayerReport) => number) => layers.reduce((a, l) => a + f(l), 0);
  const seconds = us(cycles) * 1e-6;
  const denseOps = sum((l) => l.denseOps);
  const macs = sum((l) => l.macs);
  const accel = layers.filter((l) => l.onAccelerator);
  const columnsAll = accel.reduce((a, l) => a + (w.layers[l.index]!.xCols + w.layers[l.index]!.hCols + w.layers[l.index]!.qCols) * steps, 0);
  const effectiveGops = seconds > 0 ? denseOps / seconds / 1e9 : 0;
  const peakGops = (2 * peak * clockMHz) / 1000;
  const energyUJ = energyMicrojoules(
    {
      macs,
      dramBytes: sum((l) => l.dramBytes),
      sramBytes: sum((l) => l.sramBytes),
      encoderElements: sum((l) => l.encoderElements),
      activations: sum((l) => l.activations),
      seconds,
    },
    table,
  );
  // The same hardware on the dense update (every column fires): what "x over dense" compares with.
  let speedupOverDenseUpdate = 1;
  if (w.source !== 'dense') {
    const dense = ENGINES[spec.arch](denseWorkload({ name: 'dense', layers: w.layers.map((l) => l.layer), meta: {} }, 2), spec);
    if (dense.ok) speedupOverDenseUpdate = (dense.perStep.cycles[0]! + dense.perStep.cycles[1]!) / 2 / (cycles / steps);
  }
  const total: SimTotals = {
    steps,
    cycles,
    stallCycles: sum((l) => l.stallCycles),
    dramBytes: sum((l) => l.dramBytes),
    dramBytesPerStep: sum((l) => l.dramBytes) / steps,
    sramBytes: sum((l) => l.sramBytes),
    macs,
    denseOps,
    latencyUs: us(cycles) / steps,
    maxLatencyUs: us(maxCycles),
    effectiveGops,
    peakGops,
    speedupOverPeak: peakGops > 0 ? effectiveGops / peakGops : 0,
    speedupOverDenseUpdate,
    utilisation: cycles > 0 ? macs / (peak * cycles) : 0,
    occupancy: columnsAll > 0 ? sum((l) => (l.onAccelerator ? l.firedColumns : 0)) / columnsAll : 0,
    energyUJ,
    energyPerStepUJ: energyUJ / steps,
    addedLatencySteps: out.addedLatencySteps,
  };
  return { ok: true, arch: spec.arch, title: PRESETS[spec.arch].title, spec, clockMHz, peakMacsPerCycle: peak, workloadSource: w.source, perStep: out.perStep, layers, total, notes: out.notes, energy: table };
}
