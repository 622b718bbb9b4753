/**
 * Column-parallel delta engine shared by Spartus and DeltaRNN: weights on chip,
 * fired element j (index in [x; h]) goes to array j mod M, and within an array a fired column
 * costs `cost(j)` cycles. The MAC phase of a layer ends when the busiest array ends (the others
 * wait: that wait is the stall we report, averaged over arrays). The encoder scans
 * encoderElementsPerCycle elements per cycle concurrently; then the activation phase
 * actLatency + actInterval*ceil(H/actLanes) overlaps nothing.
 *
 * Spartus: cost(j) = nonzeros of the busiest PE in column j (CBTD storage; K when balanced).
 * DeltaRNN: cost = ceil(rows / PEs) for every column (dense weights, one column per cycle).
 *
 * A reset-before GRU runs two dependent MAC phases per step: x and h columns (h columns carry the
 * r, z rows only), then the r activation, then the fired q = r*h columns of W_hn (H rows each),
 * whose encoding and column sums cannot start before r is known; then the activation phase.
 */
import { param } from '../spec/presets.js';
import type { ArchSpec } from '../spec/params.js';
import { columnMap } from '../workload/mapping.js';
import type { Workload } from '../workload/workload.js';
import { activationCycles, emptyLayerCounts, perStepArrays, type EngineOutcome } from './types.js';

export interface ColumnEngineOptions {
  /** Use per-column CBTD costs (Spartus) instead of dense ceil(rows/PEs) (DeltaRNN). */
  cbtd: boolean;
  /** Cells the hardware runs. */
  cells: ReadonlyArray<'gru' | 'lstm'>;
  name: string;
}

/**
 * The column-parallel engine with its options (cost mode, supported cells); see the file header.
 *
 * @example const out = columnEngine(workload, resolveSpec('spartus'), { cbtd: true, cells: ['lstm'], name: 'Spartus' });
 */
export function columnEngine(w: Workload, spec: ArchSpec, o: ColumnEngineOptions): EngineOutcome {
  const N = param(spec, 'pes');
  const M = Math.max(1, Math.round(param(spec, 'arrays')));
  const wb = param(spec, 'weightBits');
  const onChip = param(spec, 'onChipWeightBytes');
  const encRate = param(spec, 'encoderElementsPerCycle');
  const layerHandoff = param(spec, 'layerHandoffCycles');
  const stepHandoff = param(spec, 'stepHandoffCycles');
  const notes: string[] = [];

  // Per layer: cycles and useful MACs of each column, and stored bytes.
  let storedBytes = 0;
  const costs: Array<{ cost: Int32Array; macs: Int32Array; bytesPerSlot: number } | null> = [];
  for (const [k, lw] of w.layers.entries()) {
    if (lw.kind === 'linear') {
      costs.push(null);
      continue;
    }
    if (!(o.cells as readonly string[]).includes(lw.kind)) return { ok: false, reason: `layer ${k} is ${lw.kind}: ${o.name} runs ${o.cells.join('/')} layers only` };
    const cols = lw.xCols + lw.hCols + lw.qCols;
    if (o.cbtd) {
      const map = columnMap(lw.layer, N);
      const indexBits = Math.max(1, Math.ceil(Math.log2(Math.ceil(lw.rows / N))));
      // Each CBTD slot stores a weight and its local row index.
      costs.push({ cost: map.maxPerPe, macs: map.nonzeros, bytesPerSlot: (wb + indexBits) / 8 });
      let slots = 0;
      for (let j = 0; j < cols; j++) slots += map.maxPerPe[j]! * N;
      storedBytes += (slots * (wb + indexBits)) / 8;
    } else {
      // Rows per column: x columns `rows`, h columns `hRows` (2H for a reset-before GRU), q columns H.
      const rowsOf = (j: number) => (j < lw.xCols ? lw.rows : j < lw.xCols + lw.hCols ? lw.hRows : lw.qCols);
      const cost = new Int32Array(cols);
      const macs = new Int32Array(cols);
      for (let j = 0; j < cols; j++) {
        cost[j] = Math.ceil(rowsOf(j) / N);
        macs[j] = rowsOf(j);
      }
      costs.push({ cost, macs, bytesPerSlot: wb / 8 });
      storedBytes += (lw.denseMacs * wb) / 8;
    }
  }
  if (onChip > 0 && storedBytes > onChip) {
    return { ok: false, reason: `${o.name} keeps weights on chip: the model needs ${Math.ceil(storedBytes)} bytes, the chip has ${onChip} (onChipWeightBytes)` };
  }
  if (w.layers.some((l) => l.kind === 'linear')) notes.push('linear layers run outside the accelerator and are not counted');

  const T = w.steps;
  const perStep = perStepArrays(T, w.layers.length);
  const layers = w.layers.map((lw) => emptyLayerCounts(lw.kind !== 'linear'));
  const work = new Float64Array(M);
  const work2 = new Float64Array(M);
  for (let t = 0; t < T; t++) {
    let stepCycles = 0;
    let stepStall = 0;
    let stepMacs = 0;
    for (let k = 0; k < w.layers.length; k++) {
      const lw = w.layers[k]!;
      const cm = costs[k];
      if (!cm) continue;
      const c = layers[k]!;
      const { cost, macs, bytesPerSlot } = cm;
      work.fill(0);
      work2.fill(0);
      let nFired = 0;
      let layerMacs = 0;
      let sramSlots = 0;
      const I = lw.xCols;
      if (lw.delta) {
        const xi = lw.xIdx!;
        for (let q = lw.xPtr![t]!, e = lw.xPtr![t + 1]!; q < e; q++) {
          const j = xi[q]!;
          work[j % M]! += cost[j]!;
          layerMacs += macs[j]!;
        }
        const hi = lw.hIdx!;
        for (let q = lw.hPtr![t]!, e = lw.hPtr![t + 1]!; q < e; q++) {
          const j = I + hi[q]!;
          work[j % M]! += cost[j]!;
          layerMacs += macs[j]!;
        }
        nFired = lw.xPtr![t + 1]! - lw.xPtr![t]! + lw.hPtr![t + 1]! - lw.hPtr![t]!;
        if (lw.qCols > 0) {
          const qi = lw.qIdx!;
          for (let q = lw.qPtr![t]!, e = lw.qPtr![t + 1]!; q < e; q++) {
            const j = I + lw.hCols + qi[q]!;
            work2[j % M]! += cost[j]!;
            layerMacs += macs[j]!;
          }
          nFired += lw.qPtr![t + 1]! - lw.qPtr![t]!;
        }
      } else {
        const cols = I + lw.hCols;
        for (let j = 0; j < cols; j++) {
          work[j % M]! += cost[j]!;
          layerMacs += macs[j]!;
        }
        for (let j = cols; j < cols + lw.qCols; j++) {
          work2[j % M]! += cost[j]!;
          layerMacs += macs[j]!;
        }
        nFired = cols + lw.qCols;
      }
      let busiest = 0;
      let sum = 0;
      let busiest2 = 0;
      let sum2 = 0;
      for (let a = 0; a < M; a++) {
        const v = work[a]!;
        sum += v;
        if (v > busiest) busiest = v;
        const v2 = work2[a]!;
        sum2 += v2;
        if (v2 > busiest2) busiest2 = v2;
      }
      sramSlots = (sum + sum2) * N;
      const scan = Math.ceil((I + lw.hCols) / encRate);
      let macPhase = Math.max(scan, busiest);
      let stall = macPhase - sum / M;
      if (lw.qCols > 0) {
        // Second phase: r's activation, then q's encoding and W_hn's fired columns.
        const phase2 = Math.max(Math.ceil(lw.qCols / encRate), busiest2);
        macPhase += activationCycles(spec, lw.qCols) + phase2;
        stall += phase2 - sum2 / M;
      }
      const act = activationCycles(spec, lw.hCols);
      const cycles = macPhase + act + layerHandoff;
      c.cycles += cycles;
      c.stallCycles += stall;
      c.sramBytes += o.cbtd ? sramSlots * bytesPerSlot : layerMacs * bytesPerSlot;
      c.macs += layerMacs;
      c.encoderElements += I + lw.hCols + lw.qCols;
      c.activations += lw.hCols;
      c.firedColumns += nFired;
      perStep.layerCycles[k]![t] = cycles;
      stepCycles += cycles;
      stepStall += stall;
      stepMacs += layerMacs;
    }
    stepCycles += stepHandoff;
    perStep.cycles[t] = stepCycles;
    perStep.stallCycles[t] = stepStall;
    perStep.macs[t] = stepMacs;
  }
  return { ok: true, perStep, layers, peakMacsPerCycle: N * M, addedLatencySteps: 0, notes };
}

/** Spartus: CBTD column costs, LSTM (and GRU) layers, 8 arrays of 64 PEs by default. */
export function spartusEngine(w: Workload, spec: ArchSpec): EngineOutcome {
  return columnEngine(w, spec, { cbtd: true, cells: ['lstm', 'gru'], name: 'Spartus' });
}

/** DeltaRNN: dense column costs, GRU layers, one array. */
export function deltarnnEngine(w: Workload, spec: ArchSpec): EngineOutcome {
  return columnEngine(w, spec, { cbtd: false, cells: ['gru'], name: 'DeltaRNN' });
}
