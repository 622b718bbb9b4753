/**
 * The simulator's workload: which weight columns each step of a real run fetched, per layer.
 * It is built from a session trace (src/runtime: `trace: true`), so the simulator counts what
 * the run did and has no arithmetic of its own (DESIGN.md).
 *
 * Fired indices are stored per layer in CSR form over steps (ptr of T+1 offsets, flat indices),
 * which keeps a 100k-step trace compact and lets the engines walk it without allocation.
 *
 * A reset-before GRU (src/cells/gru/definition.ts) has three column groups: x columns (3H rows),
 * h columns (2H rows: r, z) and, in a second pass once r is known, q = r*h columns (H rows of
 * W_hn). Its workload records the q firings too (qCols, qPtr, qIdx).
 */
import { isResetAfter } from '../../cells/gru/definition.js';
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
  /** Rows of one hidden-side column (= rows, except 2H for a reset-before GRU). */
  hRows: number;
  /** Reset-before GRU: q = r*h columns of W_hn (H, with H rows each) read in a second pass; 0 otherwise. */
  qCols: number;
  qPtr: Int32Array | null;
  qIdx: Int32Array | null;
  /** Whether the run skipped columns (a delta layer). Dense layers fire every column. */
  delta: boolean;
  /** Per step offsets into xIdx (T+1 entries); null for dense layers. */
  xPtr: Int32Array | null;
  xIdx: Int32Array | null;
  hPtr: Int32Array | null;
  hIdx: Int32Array | null;
  /** Multiply-accumulates of the dense layer per step (weights of all columns). */
  denseMacs: number;
}

export interface Workload {
  steps: number;
  layers: LayerWorkload[];
  /** Thresholds of the run (null for a dense run). The EdgeDRNN bias column depends on thresholdX. */
  thresholdX: number | null;
  thresholdH: number | null;
  /** Where the trace came from: a float session run, the EdgeDRNN fixed-point machine, synthetic occupancy, or the dense update. */
  source: 'session' | 'fixed-point' | 'synthetic' | 'dense';
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
): Workload {
  check(trace.length > 0, 'E_VALUE', () => 'workload: expected a trace of at least one step, found none');
  const layers: LayerWorkload[] = model.layers.map((layer, k) => {
    const { rows, xCols, hCols } = layerShape(layer);
    const qCols = layer.kind === 'gru' && !isResetAfter(layer) ? layer.hiddenSize : 0;
    const hRows = qCols > 0 ? 2 * qCols : rows;
    const first = trace[0]![k];
    check(first !== undefined, 'E_SHAPE', () => `workload: trace has ${trace[0]!.length} layers, model has ${model.layers.length}`);
    const delta = first !== null;
    let x: { ptr: Int32Array; idx: Int32Array } | null = null;
    let h: { ptr: Int32Array; idx: Int32Array } | null = null;
    let q: { ptr: Int32Array; idx: Int32Array } | null = null;
    if (delta) {
      const xs: Int32Array[] = [];
      const hs: Int32Array[] = [];
      const qs: Int32Array[] = [];
      trace.forEach((st, t) => {
        const e = st[k];
        check(e !== null && e !== undefined, 'E_SHAPE', () => `workload: layer ${k} is traced at step 0 but not at step ${t}`);
        // Plain loops (no closure per element): traces run to millions of indices.
        const fx = e.firedX;
        for (let q = 0; q < fx.length; q++) if (!(fx[q]! >= 0 && fx[q]! < xCols)) fail('E_VALUE', `workload: layer ${k} step ${t}: input index ${fx[q]} outside 0..${xCols - 1}`);
        const fh = e.firedH;
        for (let q = 0; q < fh.length; q++) if (!(fh[q]! >= 0 && fh[q]! < hCols)) fail('E_VALUE', `workload: layer ${k} step ${t}: hidden index ${fh[q]} outside 0..${hCols - 1}`);
        xs.push(e.firedX);
        hs.push(e.firedH);
        if (qCols > 0) {
          const fq = e.firedQ;
          check(fq !== undefined, 'E_SHAPE', () => `workload: layer ${k} is a reset-before GRU; its trace at step ${t} lacks firedQ (the q = r*h firings)`);
          for (let i = 0; i < fq.length; i++) if (!(fq[i]! >= 0 && fq[i]! < qCols)) fail('E_VALUE', `workload: layer ${k} step ${t}: q index ${fq[i]} outside 0..${qCols - 1}`);
          qs.push(fq);
        }
      });
      x = packCsr(xs);
      h = packCsr(hs);
      if (qCols > 0) q = packCsr(qs);
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
      hRows,
      qCols,
      qPtr: q?.ptr ?? null,
      qIdx: q?.idx ?? null,
      denseMacs: rows * xCols + hRows * hCols + qCols * qCols,
    };
  });
  return { steps: trace.length, layers, thresholdX: thresholds.thresholdX ?? null, thresholdH: thresholds.thresholdH ?? null, source };
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

/** Fired columns of one layer in one step (x + h, + q for a reset-before GRU), whatever the storage. */
export function firedColumns(lw: LayerWorkload, t: number): number {
  if (!lw.delta) return lw.xCols + lw.hCols + lw.qCols;
  return lw.xPtr![t + 1]! - lw.xPtr![t]! + (lw.hPtr![t + 1]! - lw.hPtr![t]!) + (lw.qPtr ? lw.qPtr[t + 1]! - lw.qPtr[t]! : 0);
}

/** Fraction of columns fired over the whole workload (delta layers only; 1 when none). */
export function workloadOccupancy(w: Workload): number {
  let fired = 0;
  let total = 0;
  for (const lw of w.layers) {
    if (!lw.delta) continue;
    fired += lw.xIdx!.length + lw.hIdx!.length + (lw.qIdx?.length ?? 0);
    total += (lw.xCols + lw.hCols + lw.qCols) * w.steps;
  }
  return total > 0 ? fired / total : 1;
}
