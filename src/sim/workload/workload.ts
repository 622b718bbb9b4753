/**
 * The simulator's workload: which weight columns each step of a real run fetched, per layer.
 * It is built from a session trace (src/runtime: `trace: true`), so the simulator counts what
 * the run did and has no arithmetic of its own (DESIGN.md).
 *
 * Fired indices are stored per layer in CSR form over steps (ptr of T+1 offsets, flat indices),
 * which keeps a 100k-step trace compact and lets the engines walk it without allocation.
 */
import { requireResetAfter } from '../../cells/gru/definition.js';
import { check, fail } from '../../core/errors.js';
import type { Layer, Model } from '../../model/types.js';
import type { StepTrace } from '../../runtime/types.js';

export interface LayerWorkload {
  /** The model layer (its weights give the mapping, e.g. CBTD nonzeros per PE). */
  layer: Layer;
  kind: Layer['kind'];
  /** Rows of one weight column (G*H for GRU/LSTM, output rows otherwise). */
  rows: number;
  /** Input-side columns (I, or window*I for QRNN). */
  xCols: number;
  /** Hidden-side columns (H for GRU/LSTM, 0 otherwise). */
  hCols: number;
  /** Whether the run skipped columns (a delta layer). Dense layers fire every column. */
  delta: boolean;
  /** Per step offsets into xIdx (T+1 entries); null for dense layers. */
  xPtr: Int32Array | null;
  xIdx: Int32Array | null;
  hPtr: Int32Array | null;
  hIdx: Int32Array | null;
  /** Multiply-accumulates of the dense layer per step (weights of all columns). */
  denseMacs: number;
  /**
   * Per step, 1 when the layer's bias pseudo-column fired (EdgeDRNN stores the biases as an
   * extra weight column): recorded by the fixed-point machine or a trace file. Null: the engine
   * infers it (first step after reset when 1.0 >= thresholdX).
   */
  bias: Uint8Array | null;
}

export interface Workload {
  steps: number;
  layers: LayerWorkload[];
  /** Thresholds of the run (null for a dense run). The EdgeDRNN bias column depends on thresholdX. */
  thresholdX: number | null;
  thresholdH: number | null;
  /** Where the trace came from: a float session run, the EdgeDRNN fixed-point machine, synthetic occupancy, or the dense update. */
  source: 'session' | 'fixed-point' | 'synthetic' | 'dense' | 'trace-file';
  /** Index of this workload's first step in the run (a chunk of a streamed trace starts later than 0). */
  firstStep?: number;
}

/** Shape of one layer as the engines see it. */
export function layerShape(layer: Layer): { rows: number; xCols: number; hCols: number } {
  switch (layer.kind) {
    case 'gru':
      return { rows: 3 * layer.hiddenSize, xCols: layer.inputSize, hCols: layer.hiddenSize };
    case 'lstm':
      return { rows: 4 * layer.hiddenSize, xCols: layer.inputSize, hCols: layer.hiddenSize };
    case 'sru':
      return { rows: (layer.inputSize === layer.hiddenSize ? 3 : 4) * layer.hiddenSize, xCols: layer.inputSize, hCols: 0 };
    case 'qrnn':
      return { rows: 3 * layer.hiddenSize, xCols: layer.window * layer.inputSize, hCols: 0 };
    case 'linear':
      return { rows: layer.outputSize, xCols: layer.inputSize, hCols: 0 };
  }
}

function packCsr(lists: Int32Array[]): { ptr: Int32Array; idx: Int32Array } {
  const ptr = new Int32Array(lists.length + 1);
  let n = 0;
  for (let t = 0; t < lists.length; t++) {
    ptr[t] = n;
    n += lists[t]!.length;
  }
  ptr[lists.length] = n;
  const idx = new Int32Array(n);
  for (let t = 0; t < lists.length; t++) idx.set(lists[t]!, ptr[t]!);
  return { ptr, idx };
}

/**
 * Build a workload from a session trace. Layers whose trace entry is null ran dense (linear,
 * SRU, QRNN, or a dense session) and fire every column.
 *
 * @example
 * const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.1, trace: true });
 * s.run(frames);
 * const w = workloadFromTrace(model, s.trace(), { thresholdX: 0.1, thresholdH: 0.1 });
 */
export function workloadFromTrace(
  model: Model,
  trace: StepTrace[],
  thresholds: { thresholdX?: number | null; thresholdH?: number | null } = {},
  source: Workload['source'] = 'session',
  extra: { firstStep?: number } = {},
): Workload {
  check(trace.length > 0, 'E_VALUE', () => 'workload: expected a trace of at least one step, found none');
  const layers: LayerWorkload[] = model.layers.map((layer, k) => {
    if (layer.kind === 'gru') requireResetAfter(layer, `simulator workload (layer ${k})`);
    const { rows, xCols, hCols } = layerShape(layer);
    const first = trace[0]![k];
    check(first !== undefined, 'E_SHAPE', () => `workload: trace has ${trace[0]!.length} layers, model has ${model.layers.length}`);
    const delta = first !== null;
    let x: { ptr: Int32Array; idx: Int32Array } | null = null;
    let h: { ptr: Int32Array; idx: Int32Array } | null = null;
    // Bias flags are kept when the trace records them (the fixed-point machine, trace files).
    const bias = delta && first.bias !== undefined ? new Uint8Array(trace.length) : null;
    if (delta) {
      const xs: Int32Array[] = [];
      const hs: Int32Array[] = [];
      trace.forEach((st, t) => {
        const e = st[k];
        check(e !== null && e !== undefined, 'E_SHAPE', () => `workload: layer ${k} is traced at step 0 but not at step ${t}`);
        // Plain loops (no closure per element): traces run to millions of indices.
        // Indices in encoder order (strictly increasing): the cycle engines rely on it.
        const fx = e.firedX;
        for (let q = 0; q < fx.length; q++) {
          if (!(fx[q]! >= 0 && fx[q]! < xCols)) fail('E_VALUE', `workload: layer ${k} step ${t}: input index ${fx[q]} outside 0..${xCols - 1}`);
          if (q > 0 && !(fx[q]! > fx[q - 1]!)) fail('E_VALUE', `workload: layer ${k} step ${t}: input indices must be strictly increasing, found ${fx[q - 1]} then ${fx[q]}`);
        }
        const fh = e.firedH;
        for (let q = 0; q < fh.length; q++) {
          if (!(fh[q]! >= 0 && fh[q]! < hCols)) fail('E_VALUE', `workload: layer ${k} step ${t}: hidden index ${fh[q]} outside 0..${hCols - 1}`);
          if (q > 0 && !(fh[q]! > fh[q - 1]!)) fail('E_VALUE', `workload: layer ${k} step ${t}: hidden indices must be strictly increasing, found ${fh[q - 1]} then ${fh[q]}`);
        }
        xs.push(e.firedX);
        hs.push(e.firedH);
        if (bias) {
          check(e.bias !== undefined, 'E_SHAPE', () => `workload: layer ${k} records the bias flag at step 0 but not at step ${t}`);
          bias[t] = e.bias ? 1 : 0;
        }
      });
      x = packCsr(xs);
      h = packCsr(hs);
    }
    return {
      layer,
      kind: layer.kind,
      rows,
      xCols,
      hCols,
      delta,
      xPtr: x?.ptr ?? null,
      xIdx: x?.idx ?? null,
      hPtr: h?.ptr ?? null,
      hIdx: h?.idx ?? null,
      denseMacs: rows * (xCols + hCols),
      bias,
    };
  });
  return { steps: trace.length, layers, thresholdX: thresholds.thresholdX ?? null, thresholdH: thresholds.thresholdH ?? null, source, ...(extra.firstStep ? { firstStep: extra.firstStep } : {}) };
}

/**
 * A dense workload: every column of every layer fires every step (what a dense update costs).
 *
 * @example const dense = denseWorkload(model, 2);
 */
export function denseWorkload(model: Model, steps: number): Workload {
  check(Number.isInteger(steps) && steps > 0, 'E_VALUE', () => `denseWorkload: steps must be a positive integer, found ${steps}`);
  const trace: StepTrace[] = [];
  for (let t = 0; t < steps; t++) trace.push(model.layers.map(() => null));
  return workloadFromTrace(model, trace, {}, 'dense');
}

/** Fired columns of one layer in one step (x + h), whatever the storage. */
export function firedColumns(lw: LayerWorkload, t: number): number {
  if (!lw.delta) return lw.xCols + lw.hCols;
  return lw.xPtr![t + 1]! - lw.xPtr![t]! + (lw.hPtr![t + 1]! - lw.hPtr![t]!);
}

/** Fraction of columns fired over the whole workload (delta layers only; 1 when none). */
export function workloadOccupancy(w: Workload): number {
  let fired = 0;
  let total = 0;
  for (const lw of w.layers) {
    if (!lw.delta) continue;
    fired += lw.xIdx!.length + lw.hIdx!.length;
    total += (lw.xCols + lw.hCols) * w.steps;
  }
  return total > 0 ? fired / total : 1;
}
