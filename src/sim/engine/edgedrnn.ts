/**
 * EdgeDRNN cycle model (SPEC §6). Per layer and step:
 *  - the delta encoder scans the bias pseudo-input, the I_pad inputs and the H hidden values at
 *    encoderElementsPerCycle, pushing fired ones into a queue of encoderQueueDepth entries (a
 *    full queue stalls the encoder);
 *  - the MAC array pops columns back to back; a column of 3H int8 weights is ceil(3H*wb/bus)
 *    beats of the DRAM stream (and at least ceil(3H/P) MAC cycles); a burst waits
 *    dramFirstAccessCycles for its first beat (hidden behind the previous burst with prefetch);
 *  - then the activation phase actLatency + actInterval*ceil(H/actLanes), overlapping nothing.
 * Layers and steps run strictly one after another.
 */
import { param } from '../spec/presets.js';
import type { ArchSpec } from '../spec/params.js';
import type { Workload } from '../workload/workload.js';
import { activationCycles, emptyLayerCounts, perStepArrays, type EngineOutcome } from './types.js';

/**
 * Raw EdgeDRNN counts per step and layer (simulate() derives the reported figures from them).
 *
 * @example const out = edgedrnnEngine(workload, resolveSpec('edgedrnn', { dramFirstAccessCycles: 20 }));
 */
export function edgedrnnEngine(w: Workload, spec: ArchSpec): EngineOutcome {
  const P = param(spec, 'pes');
  const wb = param(spec, 'weightBits');
  const bus = param(spec, 'dramBusBits');
  const lat = param(spec, 'dramFirstAccessCycles');
  const prefetch = param(spec, 'dramPrefetch') >= 1;
  const encRate = param(spec, 'encoderElementsPerCycle');
  const Q = Math.max(1, Math.round(param(spec, 'encoderQueueDepth')));
  const layerHandoff = param(spec, 'layerHandoffCycles');
  const stepHandoff = param(spec, 'stepHandoffCycles');
  const notes: string[] = [];

  const recurrent = w.layers.filter((l) => l.kind !== 'linear');
  for (const [k, lw] of w.layers.entries()) {
    if (lw.kind !== 'gru' && lw.kind !== 'linear') return { ok: false, reason: `layer ${k} is ${lw.kind}: EdgeDRNN runs GRU layers only` };
    if (lw.qCols > 0) return { ok: false, reason: `layer ${k} is a reset-before GRU: EdgeDRNN computes the reset-after (PyTorch) form only` };
  }
  if (recurrent.length > 4) return { ok: false, reason: `EdgeDRNN runs at most 4 GRU layers, the model has ${recurrent.length} (SPEC §4)` };
  const H0 = recurrent[0]?.hCols ?? 0;
  for (const lw of recurrent) {
    const H = lw.hCols;
    if (H !== H0) return { ok: false, reason: `EdgeDRNN needs every layer of the same hidden size, found ${H0} and ${H} (SPEC §4)` };
    if (H % 8 !== 0 || H < 16 || H > 1024) return { ok: false, reason: `EdgeDRNN needs H a multiple of 8 in 16..1024, found ${H} (SPEC §4)` };
  }
  if (w.layers.some((l) => l.kind === 'linear')) notes.push('linear layers run outside the accelerator (on the CPU) and are not counted');
  if (w.thresholdX !== null && w.thresholdX > 1) notes.push('thresholdX > 1.0: the bias pseudo-input never fires, the hardware never adds the biases (SPEC §4)');

  const T = w.steps;
  const perStep = perStepArrays(T);
  const layers = w.layers.map((lw) => emptyLayerCounts(lw.kind === 'gru'));
  const starts = new Float64Array(Q);
  let maxScan = 0;
  for (const lw of w.layers) maxScan = Math.max(maxScan, 1 + Math.ceil(lw.xCols / P) * P + lw.hCols);
  const positions = new Int32Array(maxScan);
  const thx = w.thresholdX;
  const dense = w.source === 'dense';

  for (let t = 0; t < T; t++) {
    let stepCycles = 0;
    let stepStall = 0;
    let stepDram = 0;
    let stepMacs = 0;
    for (let k = 0; k < w.layers.length; k++) {
      const lw = w.layers[k]!;
      if (lw.kind !== 'gru') continue;
      const c = layers[k]!;
      const H = lw.hCols;
      const R = lw.rows;
      const Ipad = Math.ceil(lw.xCols / P) * P;
      const scanLen = 1 + Ipad + H;
      const colCycles = Math.max(Math.ceil((R * wb) / bus), Math.ceil(R / P));
      // Bias column (SPEC §4): its pseudo-delta of 1.0 fires on the first step after reset when
      // 1.0 >= thx; afterwards its delta is 0, and zero deltas never enter the queue
      // (hdl/ieu.sv). A dense workload (the dense update) fetches it every step.
      const biasFires = t === 0 ? thx === null || thx <= 1 : dense;
      // Scan positions of the fired columns in encoder order: bias, inputs, hidden.
      let nPos = 0;
      if (biasFires) positions[nPos++] = 0;
      if (lw.delta) {
        const xi = lw.xIdx!;
        for (let q = lw.xPtr![t]!, e = lw.xPtr![t + 1]!; q < e; q++) positions[nPos++] = 1 + xi[q]!;
        const hi = lw.hIdx!;
        for (let q = lw.hPtr![t]!, e = lw.hPtr![t + 1]!; q < e; q++) positions[nPos++] = 1 + Ipad + hi[q]!;
      } else {
        for (let i = 0; i < lw.xCols; i++) positions[nPos++] = 1 + i;
        for (let j = 0; j < H; j++) positions[nPos++] = 1 + Ipad + j;
      }
      // Each fired column: encoder push (stalled by a full queue), DRAM burst, MAC beats.
      let encStall = 0;
      let macFree = 0;
      let lastIssue = 0;
      let stall = 0;
      for (let f = 0; f < nPos; f++) {
        let push = (positions[f]! + 1) / encRate + encStall;
        if (f >= Q) {
          const freed = starts[f % Q]!;
          if (freed > push) {
            encStall += freed - push;
            push = freed;
          }
        }
        const issue = prefetch ? (push > lastIssue ? push : lastIssue) : push > macFree ? push : macFree;
        const ready = issue + lat;
        const start = macFree > ready ? macFree : ready;
        stall += start - macFree;
        lastIssue = start;
        starts[f % Q] = start;
        macFree = start + colCycles;
      }
      const nFired = nPos;
      const scanEnd = scanLen / encRate + encStall;
      // The layer's MAC phase ends when both the encoder has scanned everything and the last column is done.
      const macPhase = Math.max(scanEnd, macFree);
      const act = activationCycles(spec, H);
      const cycles = Math.ceil(macPhase) + act + layerHandoff;
      const bytes = (nFired * R * wb) / 8;
      c.cycles += cycles;
      c.stallCycles += stall;
      c.dramBytes += bytes;
      c.macs += nFired * R;
      c.encoderElements += scanLen;
      c.activations += H;
      // The bias pseudo-column is fetched (bytes, MACs) but is not an input or hidden column.
      c.firedColumns += nFired - (biasFires ? 1 : 0);
      stepCycles += cycles;
      stepStall += stall;
      stepDram += bytes;
      stepMacs += nFired * R;
    }
    stepCycles += stepHandoff;
    perStep.cycles[t] = stepCycles;
    perStep.stallCycles[t] = stepStall;
    perStep.dramBytes[t] = stepDram;
    perStep.macs[t] = stepMacs;
  }
  return { ok: true, perStep, layers, peakMacsPerCycle: P, addedLatencySteps: 0, notes };
}
