/**
 * Run a cycle engine on a workload and derive the figures the papers report, the same way for
 * every accelerator (the published results conventions: one multiply-accumulate = 2 ops; effective throughput =
 * the dense network's op count / the time taken).
 */
import { energyMicrojoules, energyTable, type EnergyTable } from './cost/energy.js';
import { check } from '../core/errors.js';
import { ENGINES } from './engine/index.js';
import { perStepArrays, type EngineCounts, type LayerCounts } from './engine/types.js';
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
  /** Per-step cycle percentiles (kept exactly, whether or not the per-step arrays are). */
  cyclePercentiles: { p50: number; p99: number };
  arch: ArchName;
  title: string;
  spec: ArchSpec;
  clockMHz: number;
  /** Multiply-accumulates the hardware can do per cycle. */
  peakMacsPerCycle: number;
  workloadSource: Workload['source'];
  /** Per-step arrays (empty when a streamed simulation was asked not to keep them). */
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

/** Exact percentiles of integer-valued samples in memory bounded by the number of distinct values. */
class Histogram {
  private readonly counts = new Map<number, number>();
  n = 0;
  add(v: number): void {
    this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
    this.n++;
  }
  /** Nearest rank, as percentile() of report/format.ts. */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.min(this.n, Math.max(1, Math.ceil(q * this.n)));
    let seen = 0;
    for (const v of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(v)!;
      if (seen >= rank) return v;
    }
    return 0;
  }
}

/**
 * Simulate a workload on one accelerator.
 *
 * @example
 * const r = simulate(builder.build({ thresholdX: 0.1, thresholdH: 0.1 }), 'edgedrnn', { set: { clockMHz: 125 } }); // a WorkloadBuilder fed by onTrace
 * if (r.ok) console.log(r.total.latencyUs, r.total.effectiveGops);
 */
export function simulate(w: Workload, arch: string, options: SimulateOptions = {}): SimOutcome {
  check(w !== null && typeof w === 'object' && Array.isArray(w.layers), 'E_OPTION', () => `simulate: expected a workload (syntheticWorkload, traceWorkload...), found ${w === null ? 'null' : typeof w}`);
  return simulateStream([w], arch, { ...options, keepPerStep: true });
}

/**
 * Simulate a run given as consecutive chunks (e.g. the chunks of a trace file, see
 * openTraceFile): one chunk is held at a time, so arbitrarily long runs replay in bounded memory.
 * Per-step arrays are kept only with keepPerStep (8 bytes per step per array); the latency
 * percentiles are exact either way.
 *
 * @example const r = simulateStream(traceWorkloads(openTraceFile('run.dktrace')), 'edgedrnn');
 */
export function simulateStream(chunks: Iterable<Workload>, arch: string, options: SimulateOptions & { keepPerStep?: boolean } = {}): SimOutcome {
  const spec = resolveSpec(arch, options.set ?? {});
  let first: Workload | null = null;
  let steps = 0;
  let layerCounts: LayerCounts[] = [];
  let peak = 0;
  let addedLatencySteps = 0;
  const notes = new Set<string>();
  const hist = new Histogram();
  let cycles = 0;
  let maxCycles = 0;
  const kept: Array<EngineCounts['perStep']> = [];
  for (const w of chunks) {
    const out = ENGINES[spec.arch](w, spec);
    if (!out.ok) return { ok: false, arch: spec.arch, reason: out.reason };
    if (!first) {
      first = w;
      layerCounts = out.layers.map((c) => ({ ...c }));
    } else {
      check(w.layers.length === first.layers.length, 'E_SHAPE', () => `simulate: chunks disagree on the layer count (${first!.layers.length} then ${w.layers.length})`);
      out.layers.forEach((c, k) => {
        const acc = layerCounts[k]!;
        for (const key of Object.keys(c) as Array<keyof LayerCounts>) if (key !== 'onAccelerator') (acc[key] as number) += c[key] as number;
      });
    }
    peak = out.peakMacsPerCycle;
    addedLatencySteps = out.addedLatencySteps;
    for (const n of out.notes) notes.add(n);
    for (let t = 0; t < w.steps; t++) {
      const v = out.perStep.cycles[t]!;
      cycles += v;
      if (v > maxCycles) maxCycles = v;
      hist.add(v);
    }
    if (options.keepPerStep) kept.push(out.perStep);
    steps += w.steps;
  }
  check(first !== null && steps > 0, 'E_VALUE', () => 'simulate: expected at least one step, found none');
  const w = first;
  const perStep = concatPerStep(kept, options.keepPerStep ? steps : 0, w.layers.length);
  const clockMHz = spec.params.clockMHz!;
  const table = energyTable(spec.params.weightBits ?? 8);
  for (const [k, pj] of Object.entries(options.energy ?? {})) {
    // An unknown entry was dropped and a NaN one made the energy of the report NaN (null in JSON).
    check(k in table, 'E_OPTION', () => `energy: expected entries among ${Object.keys(table).join(', ')}, found '${k}'`);
    check(pj === undefined || (typeof pj === 'number' && Number.isFinite(pj) && pj >= 0), 'E_VALUE', () => `energy ${k}: expected a finite number >= 0, found ${String(pj)}`);
    if (pj !== undefined) table[k as keyof EnergyTable] = { pj, source: 'user override' };
  }
  const us = (cycles: number) => cycles / clockMHz;
  const layers: LayerReport[] = layerCounts.map((c, k) => {
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
    addedLatencySteps,
  };
  return {
    ok: true,
    arch: spec.arch,
    title: PRESETS[spec.arch].title,
    spec,
    clockMHz,
    peakMacsPerCycle: peak,
    workloadSource: w.source,
    perStep,
    cyclePercentiles: { p50: hist.quantile(0.5), p99: hist.quantile(0.99) },
    layers,
    total,
    notes: [...notes],
    energy: table,
  };
}

function concatPerStep(parts: Array<EngineCounts['perStep']>, steps: number, nLayers: number): EngineCounts['perStep'] {
  if (parts.length === 1) return parts[0]!;
  const out = perStepArrays(steps, nLayers);
  let o = 0;
  for (const p of parts) {
    out.cycles.set(p.cycles, o);
    out.stallCycles.set(p.stallCycles, o);
    out.dramBytes.set(p.dramBytes, o);
    out.macs.set(p.macs, o);
    p.layerCycles.forEach((a, k) => out.layerCycles[k]!.set(a, o));
    o += p.cycles.length;
  }
  return out;
}
