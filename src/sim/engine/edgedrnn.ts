/**
 * EdgeDRNN cycle model, cycle-exact against the authors' RTL (hdl/ieu.sv encoder, hdl/axis_fifo.sv
 * queue, hdl/hpc.sv MAC and activation controller, the testbench's never-stalling weight stream).
 * Per layer, with cycle 0 the first cycle of the encoder's bias state:
 *  - the encoder queues the bias pseudo-column at cycle encoderLeadCycles (2), input element k
 *    at lead + 1 + k, and hidden element j at lead + 1 + I + encoderPartGapCycles + j
 *    (I + 5 + j: a 2-cycle gap between the parts); only fired elements are queued, except that
 *    when the last input (or last hidden) element did not fire, an empty end-of-part entry is
 *    queued in its place;
 *  - a weight column's first beat reaches the MAC array beatLeadCycles (3) after it was queued
 *    (the weight request goes through its own FIFO to the DRAM stream), never before the cycle
 *    after the previous entry's last MAC cycle; a column is ceil(3H * weightBits / dramBusBits)
 *    beats (3H/8). An empty entry has no weights: it takes endOfPartBeats (1) MAC cycle,
 *    endOfPartLeadCycles (2) after it was queued at the earliest;
 *  - the queue is encoderQueueDepth (32) entries of FIFO memory in front of the MAC's operand
 *    register: an entry leaves the memory when it enters the register (in the previous entry's
 *    last MAC cycle, or the cycle after it was queued when the register is free), and the
 *    encoder sees the free slot one cycle later (the FIFO count is a register). While the memory
 *    is full the whole encoder stands still, firing or not, and every later element moves;
 *  - the activation tail after the last MAC cycle E is actLatency + actInterval*ceil(H/actLanes)
 *    (9 + 5H/8) cycles, whose last cycle hands the last h over; the next layer's encoder starts
 *    the cycle after, so the layer takes E + 1 + 9 + 5H/8 cycles. No other hand-off: the step's
 *    period is the sum of its layers'.
 * So a layer whose MAC array keeps up with the encoder and whose last hidden element did not fire
 * has its last MAC cycle at I + H + 6 and takes I + H + 16 + 5H/8 cycles.
 *
 * The DRAM first-access latency (dramFirstAccessCycles, 0 in the RTL's testbench stream) delays
 * each weight column's first beat; with dramPrefetch the request goes out when the column is
 * queued, without it only after the previous entry's last MAC cycle.
 */
import { param } from '../spec/presets.js';
import type { ArchSpec } from '../spec/params.js';
import type { LayerWorkload, Workload } from '../workload/workload.js';
import { activationCycles, emptyLayerCounts, perStepArrays, type EngineOutcome } from './types.js';

/** The timing parameters of one EdgeDRNN layer (what `edgedrnnLayerCycles` reads). */
export interface EdgeDrnnTiming {
  /** Padded input size I (layer 0: the input zero-padded to a multiple of the PEs) and hidden size H. */
  inputSize: number;
  hiddenSize: number;
  /** Beats of one weight column. */
  columnBeats: number;
  encoderLead: number;
  encoderPartGap: number;
  encoderRate: number;
  queueDepth: number;
  beatLead: number;
  endOfPartBeats: number;
  endOfPartLead: number;
  dramLatency: number;
  prefetch: boolean;
  /** Activation tail after the last MAC cycle. */
  activation: number;
}

/** Cycles of one layer and step, and what was fetched. */
export interface EdgeDrnnLayerTiming {
  /** From the encoder's start to the start of the next layer's encoder. */
  cycles: number;
  /** Cycle (from the layer's start) of the last MAC cycle. */
  macEnd: number;
  /** Cycles up to macEnd in which the MAC array did nothing. */
  stallCycles: number;
  /** Cycles the encoder stood still on a full queue. */
  encoderStallCycles: number;
  /** Weight columns fetched (bias included), and empty end-of-part entries. */
  columns: number;
  emptyEntries: number;
}

/**
 * Event-driven timing of one layer and step: one pass over the queued entries in encoder order.
 * `ring` is scratch of at least queueDepth entries (it keeps when the last queueDepth entries
 * left the queue memory).
 *
 * @example const t = edgedrnnLayerCycles(timing, true, Int32Array.of(2), Int32Array.of(), new Float64Array(32));
 */
export function edgedrnnLayerCycles(
  tm: EdgeDrnnTiming,
  bias: boolean,
  firedX: ArrayLike<number>,
  firedH: ArrayLike<number>,
  ring: Float64Array,
  xRange: [number, number] = [0, firedX.length],
  hRange: [number, number] = [0, firedH.length],
): EdgeDrnnLayerTiming {
  const I = tm.inputSize;
  const H = tm.hiddenSize;
  const Q = tm.queueDepth;
  const rate = tm.encoderRate;
  let n = 0;
  let stall = 0;
  let lastQ = 0;
  let last = -Infinity; // last MAC cycle of the previous entry
  let busy = 0;
  let columns = 0;
  let empty = 0;
  const push = (nominal: number, weights: boolean) => {
    // The queue memory was full from the cycle after the previous entry was queued until
    // entry n - Q left it: the encoder stood still that long.
    if (n >= Q) {
      const left = ring[n % Q]!;
      if (left > lastQ) stall += left - lastQ;
    }
    const q = nominal + stall;
    let end: number;
    if (weights) {
      const ready = tm.prefetch ? q + tm.beatLead + tm.dramLatency : Math.max(q + tm.beatLead, last + 1) + tm.dramLatency;
      const first = ready > last + 1 ? ready : last + 1;
      end = first + tm.columnBeats - 1;
      busy += tm.columnBeats;
    } else {
      const first = Math.max(q + tm.endOfPartLead, last + 1);
      end = first + tm.endOfPartBeats - 1;
      busy += tm.endOfPartBeats;
    }
    // When this entry leaves the queue memory for the MAC's operand register.
    ring[n % Q] = Math.max(last, q + 1);
    last = end;
    lastQ = q;
    n++;
  };
  const at = (scanIndex: number, gap: number) => tm.encoderLead + Math.floor(scanIndex / rate) + gap;
  if (bias) {
    push(at(0, 0), true);
    columns++;
  }
  let lastFired = false;
  for (let q = xRange[0]; q < xRange[1]; q++) {
    const k = firedX[q]!;
    push(at(1 + k, 0), true);
    columns++;
    lastFired = k === I - 1;
  }
  if (!lastFired && tm.endOfPartBeats > 0) {
    push(at(I, 0), false);
    empty++;
  }
  lastFired = false;
  for (let q = hRange[0]; q < hRange[1]; q++) {
    const j = firedH[q]!;
    push(at(1 + I + j, tm.encoderPartGap), true);
    columns++;
    lastFired = j === H - 1;
  }
  if (!lastFired && tm.endOfPartBeats > 0) {
    push(at(I + H, tm.encoderPartGap), false);
    empty++;
  }
  // Without end-of-part entries a layer with nothing queued ends when the encoder does.
  const macEnd = n > 0 ? last : at(I + H, tm.encoderPartGap) + stall;
  return { cycles: macEnd + 1 + tm.activation, macEnd, stallCycles: macEnd + 1 - busy, encoderStallCycles: stall, columns, emptyEntries: empty };
}

/** The timing of a GRU layer of padded input I and hidden size H under a spec. */
export function edgedrnnTiming(spec: ArchSpec, I: number, H: number): EdgeDrnnTiming {
  const P = param(spec, 'pes');
  const wb = param(spec, 'weightBits');
  const bus = param(spec, 'dramBusBits');
  const R = 3 * H;
  return {
    inputSize: I,
    hiddenSize: H,
    columnBeats: Math.max(Math.ceil((R * wb) / bus), Math.ceil(R / P)),
    encoderLead: param(spec, 'encoderLeadCycles'),
    encoderPartGap: param(spec, 'encoderPartGapCycles'),
    encoderRate: param(spec, 'encoderElementsPerCycle'),
    queueDepth: Math.max(1, Math.round(param(spec, 'encoderQueueDepth'))),
    beatLead: param(spec, 'beatLeadCycles'),
    endOfPartBeats: param(spec, 'endOfPartBeats'),
    endOfPartLead: param(spec, 'endOfPartLeadCycles'),
    dramLatency: param(spec, 'dramFirstAccessCycles'),
    prefetch: param(spec, 'dramPrefetch') >= 1,
    activation: activationCycles(spec, H),
  };
}

/** Whether layer lw's bias pseudo-column fires at step t of the workload. */
export function biasFires(w: Workload, lw: LayerWorkload, t: number): boolean {
  // Recorded by the fixed-point machine (or a trace file): what the hardware did.
  if (lw.bias) return lw.bias[t] === 1;
  // The dense update fetches it every step; otherwise its pseudo-delta of 1.0 fires once after
  // reset, when 1.0 >= thx (hdl/ieu.sv: zero deltas never enter the queue).
  if (w.source === 'dense' || !lw.delta) return true;
  const thx = w.thresholdX;
  return (w.firstStep ?? 0) + t === 0 && (thx === null || thx <= 1);
}

/**
 * Raw EdgeDRNN counts per step and layer (simulate() derives the reported figures from them).
 *
 * @example const out = edgedrnnEngine(workload, resolveSpec('edgedrnn', { dramFirstAccessCycles: 20 }));
 */
export function edgedrnnEngine(w: Workload, spec: ArchSpec): EngineOutcome {
  const P = param(spec, 'pes');
  const wb = param(spec, 'weightBits');
  const layerHandoff = param(spec, 'layerHandoffCycles');
  const stepHandoff = param(spec, 'stepHandoffCycles');
  const notes: string[] = [];

  const recurrent = w.layers.filter((l) => l.kind !== 'linear');
  for (const [k, lw] of w.layers.entries()) {
    if (lw.kind !== 'gru' && lw.kind !== 'linear') return { ok: false, reason: `layer ${k} is ${lw.kind}: EdgeDRNN runs GRU layers only` };
    if (lw.qCols > 0) return { ok: false, reason: `layer ${k} is a reset-before GRU: EdgeDRNN computes the reset-after (PyTorch) form only` };
  }
  if (recurrent.length > 4) return { ok: false, reason: `EdgeDRNN runs at most 4 GRU layers, the model has ${recurrent.length}` };
  const H0 = recurrent[0]?.hCols ?? 0;
  for (const lw of recurrent) {
    const H = lw.hCols;
    if (H !== H0) return { ok: false, reason: `EdgeDRNN needs every layer of the same hidden size, found ${H0} and ${H}` };
    if (H % 8 !== 0 || H < 16 || H > 1024) return { ok: false, reason: `EdgeDRNN needs H a multiple of 8 in 16..1024, found ${H}` };
  }
  const I0 = recurrent[0] ? Math.ceil(recurrent[0].xCols / 8) * 8 : 0;
  if (I0 > 1024) return { ok: false, reason: `EdgeDRNN reads at most 1024 inputs (padded to a multiple of 8), found ${I0}` };
  if (w.layers.some((l) => l.kind === 'linear')) notes.push('linear layers run outside the accelerator (on the CPU) and are not counted');
  if (w.thresholdX !== null && w.thresholdX > 1 && !w.layers.some((l) => l.bias)) notes.push('thresholdX > 1.0: the bias pseudo-input never fires, the hardware never adds the biases');

  const T = w.steps;
  const perStep = perStepArrays(T, w.layers.length);
  const layers = w.layers.map((lw) => emptyLayerCounts(lw.kind === 'gru'));
  const timings = w.layers.map((lw) => (lw.kind === 'gru' ? edgedrnnTiming(spec, Math.ceil(lw.xCols / P) * P, lw.hCols) : null));
  const ring = new Float64Array(Math.max(1, Math.round(param(spec, 'encoderQueueDepth'))));
  const allX: Int32Array[] = [];
  const allH: Int32Array[] = [];
  for (const lw of w.layers) {
    allX.push(Int32Array.from({ length: lw.xCols }, (_, i) => i));
    allH.push(Int32Array.from({ length: lw.hCols }, (_, i) => i));
  }

  for (let t = 0; t < T; t++) {
    let stepCycles = 0;
    let stepStall = 0;
    let stepDram = 0;
    let stepMacs = 0;
    for (let k = 0; k < w.layers.length; k++) {
      const lw = w.layers[k]!;
      const tm = timings[k];
      if (!tm) continue;
      const c = layers[k]!;
      const R = lw.rows;
      const bias = biasFires(w, lw, t);
      const lt = lw.delta
        ? edgedrnnLayerCycles(tm, bias, lw.xIdx!, lw.hIdx!, ring, [lw.xPtr![t]!, lw.xPtr![t + 1]!], [lw.hPtr![t]!, lw.hPtr![t + 1]!])
        : edgedrnnLayerCycles(tm, bias, allX[k]!, allH[k]!, ring);
      const cycles = lt.cycles + layerHandoff;
      const bytes = (lt.columns * R * wb) / 8;
      c.cycles += cycles;
      c.stallCycles += lt.stallCycles;
      c.dramBytes += bytes;
      c.macs += lt.columns * R;
      c.encoderElements += 1 + tm.inputSize + tm.hiddenSize;
      c.activations += tm.hiddenSize;
      // The bias pseudo-column is fetched (bytes, MACs) but is not an input or hidden column.
      c.firedColumns += lt.columns - (bias ? 1 : 0);
      perStep.layerCycles[k]![t] = cycles;
      stepCycles += cycles;
      stepStall += lt.stallCycles;
      stepDram += bytes;
      stepMacs += lt.columns * R;
    }
    stepCycles += stepHandoff;
    perStep.cycles[t] = stepCycles;
    perStep.stallCycles[t] = stepStall;
    perStep.dramBytes[t] = stepDram;
    perStep.macs[t] = stepMacs;
  }
  return { ok: true, perStep, layers, peakMacsPerCycle: P, addedLatencySteps: 0, notes };
}
