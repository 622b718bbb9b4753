/**
 * Reports of a simulation: a summary table for people, JSON for scripts.
 */
import type { SimOutcome, SimReport } from '../simulate.js';

function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits + 1)).toString();
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Percentile of per-step values (nearest rank). */
export function percentile(values: Float64Array, q: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * The summary table `deltakit sim` prints: one row per layer and a total.
 *
 * @example console.log(formatReport(simulate(w, 'edgedrnn')));
 */
export function formatReport(r: SimOutcome): string {
  if (!r.ok) return `${r.arch}: cannot run this model: ${r.reason}`;
  const head = ['layer', 'occupancy', 'latency us/step', 'cycles', 'stall cycles', 'DRAM bytes', 'MACs', 'util %', 'eff. GOp/s', 'energy uJ'];
  const rows = r.layers.map((l) =>
    l.onAccelerator
      ? [`${l.index} ${l.kind}`, fmt(l.occupancy), fmt(l.latencyUs), fmt(l.cycles), fmt(l.stallCycles), fmt(l.dramBytes), fmt(l.macs), fmt(100 * l.utilisation), fmt(l.effectiveGops), fmt(l.energyUJ)]
      : [`${l.index} ${l.kind}`, 'off-chip', '-', '-', '-', '-', '-', '-', '-', '-'],
  );
  const t = r.total;
  rows.push(['total', fmt(t.occupancy), fmt(t.latencyUs), fmt(t.cycles), fmt(t.stallCycles), fmt(t.dramBytes), fmt(t.macs), fmt(100 * t.utilisation), fmt(t.effectiveGops), fmt(t.energyUJ)]);
  const lines = [
    `${r.title}`,
    `${t.steps} steps (${r.workloadSource} trace) at ${r.clockMHz} MHz; peak ${fmt(t.peakGops)} GOp/s`,
    '',
    table(head, rows),
    '',
    `latency per step: mean ${fmt(t.latencyUs)} us, p99 ${fmt(r.cyclePercentiles.p99 / r.clockMHz)} us, max ${fmt(t.maxLatencyUs)} us` +
      (t.addedLatencySteps > 0 ? ` (+${t.addedLatencySteps} steps of blocking delay)` : ''),
    `effective ${fmt(t.effectiveGops)} GOp/s = ${fmt(t.speedupOverPeak)}x the dense peak; ${fmt(t.speedupOverDenseUpdate)}x faster than the dense update on the same hardware`,
    `DRAM ${fmt(t.dramBytesPerStep)} bytes/step; energy ${fmt(t.energyPerStepUJ)} uJ/step`,
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}

/**
 * One line per accelerator (`deltakit sim --arch all`): which hardware meets a latency or energy
 * budget on this run, and which cannot run the model at all (and why).
 *
 * @example console.log(formatComparison(ARCH_NAMES.map((a) => simulate(w, a))));
 */
export function formatComparison(results: SimOutcome[]): string {
  const head = ['accelerator', 'latency us/step', 'p99 us', 'eff. GOp/s', 'x dense update', 'util %', 'DRAM bytes/step', 'energy uJ/step'];
  const notes: string[] = [];
  const rows = results.map((r) => {
    if (!r.ok) {
      notes.push(`${r.arch}: cannot run this model: ${r.reason}`);
      return [r.arch, 'n/a', '-', '-', '-', '-', '-', '-'];
    }
    const t = r.total;
    return [r.arch, fmt(t.latencyUs), fmt(r.cyclePercentiles.p99 / r.clockMHz), fmt(t.effectiveGops), fmt(t.speedupOverDenseUpdate), fmt(100 * t.utilisation), fmt(t.dramBytesPerStep), fmt(t.energyPerStepUJ)];
  });
  const first = results.find((r): r is SimReport => r.ok);
  // EdgeDRNN may replay the fixed-point machine's trace while the others replay the session's.
  const others = results.filter((r): r is SimReport => r.ok && r.workloadSource !== first?.workloadSource);
  const sources = others.length ? `; ${others.map((r) => `${r.arch}: ${r.workloadSource} trace, occupancy ${fmt(r.total.occupancy)}`).join('; ')}` : '';
  const head1 = first ? `${first.total.steps} steps (${first.workloadSource} trace), occupancy ${fmt(first.total.occupancy)}${sources}; presets as published (docs/simulator.md)` : 'no accelerator can run this model';
  return [head1, '', table(head, rows), ...notes.map((n) => `note: ${n}`)].join('\n');
}

/**
 * The JSON `deltakit sim --json` prints: parameters, totals, per-layer figures, per-step
 * latency percentiles (and the per-step arrays with perStep: true).
 *
 * @example JSON.stringify(reportToJson(r))
 */
export function reportToJson(r: SimOutcome, options: { perStep?: boolean } = {}): Record<string, unknown> {
  if (!r.ok) return { ok: false, arch: r.arch, reason: r.reason };
  const ps = r.perStep;
  const out: Record<string, unknown> = {
    ok: true,
    arch: r.arch,
    title: r.title,
    params: r.spec.params,
    workload: r.workloadSource,
    total: r.total,
    latencyUs: {
      mean: r.total.latencyUs,
      p50: r.cyclePercentiles.p50 / r.clockMHz,
      p99: r.cyclePercentiles.p99 / r.clockMHz,
      max: r.total.maxLatencyUs,
    },
    layers: r.layers,
    energyTable: r.energy,
    notes: r.notes,
  };
  if (options.perStep) {
    const peakMacs = r.peakMacsPerCycle;
    out.perStep = {
      latencyUs: Array.from(ps.cycles, (c) => c / r.clockMHz),
      utilisation: Array.from(ps.cycles, (c, t) => (c > 0 && peakMacs > 0 ? ps.macs[t]! / (peakMacs * c) : 0)),
      // The dense network's ops are the same every step (the published results: effective = dense ops / time).
      effectiveGops: Array.from(ps.cycles, (c) => (c > 0 ? (r.total.denseOps / r.total.steps) / (c / r.clockMHz) / 1e3 : 0)),
      cycles: Array.from(ps.cycles),
      stallCycles: Array.from(ps.stallCycles),
      dramBytes: Array.from(ps.dramBytes),
      macs: Array.from(ps.macs),
      // Per layer (model order), per step: 0 for layers off the accelerator.
      layerCycles: ps.layerCycles.map((a) => Array.from(a)),
    };
  }
  return out;
}

/** A report's headline numbers as one flat record (the CSV row of a sweep). */
export function summaryRow(r: SimReport): Record<string, number> {
  const t = r.total;
  return {
    latencyUs: t.latencyUs,
    maxLatencyUs: t.maxLatencyUs,
    cycles: t.cycles,
    stallCycles: t.stallCycles,
    effectiveGops: t.effectiveGops,
    speedupOverPeak: t.speedupOverPeak,
    speedupOverDenseUpdate: t.speedupOverDenseUpdate,
    utilisation: t.utilisation,
    occupancy: t.occupancy,
    dramBytesPerStep: t.dramBytesPerStep,
    energyPerStepUJ: t.energyPerStepUJ,
  };
}
