/**
 * RNNAccel cycle model: one array of P MACs computes every layer densely each step
 * (no temporal sparsity), output-stationary over rows: a (R, C) matrix pass takes
 * ceil(R / P) * C cycles plus arrayFillCycles. Weights arrive compressed (the stand-in codec of
 * src/compress/codebook: codebookBits-bit indices plus a per-layer codebook of 2^bits entries)
 * and are decoded on line at decoderWeightsPerCycle; the compressed stream is dramBusBits wide.
 * The slowest of MAC, decoder and bus sets the pass time. Then the activation pipeline.
 *
 * Sung & Park multi-step: for layers with no h-dependent product (SRU, QRNN, linear) a block
 * of timeBlock = T steps shares one pass over the weights, so the weight traffic and the
 * decoding per step fall by T, and the output of a step is ready up to T-1 steps later.
 */
import { layerOutputSize } from '../../model/types.js';
import { param } from '../spec/presets.js';
import type { ArchSpec } from '../spec/params.js';
import type { Workload } from '../workload/workload.js';
import { activationCycles, emptyLayerCounts, perStepArrays, type EngineOutcome } from './types.js';

/** Compressed bits of n weights under the stand-in codec (0 bits: uncompressed). */
export function codecBits(n: number, weightBits: number, codebookBits: number): number {
  return codebookBits > 0 ? n * codebookBits + 2 ** codebookBits * weightBits : n * weightBits;
}

/**
 * Raw RNNAccel counts per step and layer (every step costs the same: no temporal sparsity).
 *
 * @example const out = rnnaccelEngine(denseWorkload(model, 1), resolveSpec('rnnaccel', { timeBlock: 8 }));
 */
export function rnnaccelEngine(w: Workload, spec: ArchSpec): EngineOutcome {
  const P = param(spec, 'pes');
  const wb = param(spec, 'weightBits');
  const bus = param(spec, 'dramBusBits');
  const fill = param(spec, 'arrayFillCycles');
  const decRate = param(spec, 'decoderWeightsPerCycle');
  const cb = Math.round(param(spec, 'codebookBits'));
  const T = Math.max(1, Math.round(param(spec, 'timeBlock')));
  const layerHandoff = param(spec, 'layerHandoffCycles');
  const stepHandoff = param(spec, 'stepHandoffCycles');
  const notes: string[] = [];
  if (w.layers.some((l) => l.delta)) notes.push('RNNAccel does not skip zero deltas: every layer is computed densely');

  // Per layer, per step: cycles and traffic are the same every step (dense), so compute once.
  let blocked = false;
  const per = w.layers.map((lw) => {
    // [columns, rows] per matrix pass; a reset-before GRU's W_hh is two passes (r, z rows on h; n rows on q).
    const mats: Array<[number, number]> = lw.hCols > 0 ? [[lw.xCols, lw.rows], [lw.hCols, lw.hRows]] : [[lw.xCols, lw.rows]];
    if (lw.qCols > 0) mats.push([lw.qCols, lw.qCols]);
    const shareable = lw.kind === 'sru' || lw.kind === 'qrnn' || lw.kind === 'linear';
    const block = shareable ? T : 1;
    if (block > 1) blocked = true;
    let macCycles = 0;
    for (const [cols, rows] of mats) macCycles += Math.ceil(rows / P) * cols + fill;
    const n = lw.denseMacs;
    const bits = codecBits(n, wb, cb) / block;
    const decodeCycles = cb > 0 && decRate > 0 ? Math.ceil(n / decRate / block) : 0;
    const busCycles = Math.ceil(bits / bus);
    const passCycles = Math.max(macCycles, decodeCycles, busCycles);
    const units = layerOutputSize(lw.layer);
    // A reset-before GRU activates r before its q pass.
    const act = activationCycles(spec, units) + (lw.qCols > 0 ? activationCycles(spec, lw.qCols) : 0);
    return { cycles: passCycles + act + layerHandoff, stall: passCycles - macCycles, bytes: bits / 8, macs: n, units, cols: lw.xCols + lw.hCols + lw.qCols };
  });
  const steps = w.steps;
  const perStep = perStepArrays(steps, w.layers.length);
  const layers = w.layers.map(() => emptyLayerCounts(true));
  let stepCycles = stepHandoff;
  let stepStall = 0;
  let stepBytes = 0;
  let stepMacs = 0;
  per.forEach((p, k) => {
    const c = layers[k]!;
    c.cycles = p.cycles * steps;
    c.stallCycles = p.stall * steps;
    c.dramBytes = p.bytes * steps;
    c.macs = p.macs * steps;
    c.activations = p.units * steps;
    c.firedColumns = p.cols * steps;
    perStep.layerCycles[k]!.fill(p.cycles);
    stepCycles += p.cycles;
    stepStall += p.stall;
    stepBytes += p.bytes;
    stepMacs += p.macs;
  });
  perStep.cycles.fill(stepCycles);
  perStep.stallCycles.fill(stepStall);
  perStep.dramBytes.fill(stepBytes);
  perStep.macs.fill(stepMacs);
  if (blocked) notes.push(`SRU/QRNN/linear weights shared by blocks of ${T} steps: weight traffic per step / ${T}, up to ${T - 1} steps of extra latency`);
  return { ok: true, perStep, layers, peakMacsPerCycle: P, addedLatencySteps: blocked ? T - 1 : 0, notes };
}
