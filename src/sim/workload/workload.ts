/**
 * The simulator's workload: which weight columns each step of a real run fetched, per layer.
 * It is built from a session's streamed trace (src/runtime: `onTrace`), so the simulator counts what
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

/** A growable Int32Array (doubling), so a builder holds 4 bytes per index and no object per step. */
class IntBuffer {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/**
 * Builds a workload step by step from a stream of StepTrace (a session's or the fixed-point
 * machine's onTrace): per layer 4 bytes per fired index plus 9 bytes per step, instead of the
 * objects of an in-memory trace.
 *
 * @example
 * const b = new WorkloadBuilder(model);
 * const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.1, onTrace: (st) => b.add(st) });
 * s.run(frames);
 * const w = b.build({ thresholdX: 0.1, thresholdH: 0.1 });
 */
export class WorkloadBuilder {
  private readonly shapes: Array<{ rows: number; xCols: number; hCols: number; hRows: number; qCols: number }>;
  private delta: boolean[] | null = null;
  private bias: boolean[] = [];
  private readonly xPtr: IntBuffer[];
  private readonly xIdx: IntBuffer[];
  private readonly hPtr: IntBuffer[];
  private readonly hIdx: IntBuffer[];
  /** Reset-before GRU layers: the q = r*h firings (empty buffers for other layers). */
  private readonly qPtr: IntBuffer[];
  private readonly qIdx: IntBuffer[];
  private readonly biasFlags: IntBuffer[];
  steps = 0;

  constructor(readonly model: Model) {
    this.shapes = model.layers.map((layer) => {
      const shape = layerShape(layer);
      const qCols = layer.kind === 'gru' && !isResetAfter(layer) ? layer.hiddenSize : 0;
      return { ...shape, qCols, hRows: qCols > 0 ? 2 * qCols : shape.rows };
    });
    const make = () => model.layers.map(() => new IntBuffer());
    this.xPtr = make();
    this.xIdx = make();
    this.hPtr = make();
    this.hIdx = make();
    this.qPtr = make();
    this.qIdx = make();
    this.biasFlags = make();
    for (const b of [...this.xPtr, ...this.hPtr, ...this.qPtr]) b.push(0);
  }

  /** Append one step (indices strictly increasing, within the layer's sizes: E_VALUE otherwise). */
  add(st: StepTrace): void {
    const t = this.steps;
    const L = this.model.layers.length;
    // Entries past the model's layers are ignored (a trace of a longer stack replays on its prefix).
    check(st.length >= L, 'E_SHAPE', () => `workload: trace has ${st.length} layers, model has ${L}`);
    if (!this.delta) {
      this.delta = st.slice(0, L).map((e) => e !== null);
      this.bias = st.slice(0, L).map((e) => e !== null && e.bias !== undefined);
    }
    for (let k = 0; k < L; k++) {
      const e = st[k];
      if (!this.delta[k]) {
        check(e === null, 'E_SHAPE', () => `workload: layer ${k} is dense at step 0 but traced at step ${t}`);
        continue;
      }
      check(e !== null && e !== undefined, 'E_SHAPE', () => `workload: layer ${k} is traced at step 0 but not at step ${t}`);
      const { xCols, hCols, qCols } = this.shapes[k]!;
      // Plain loops (no closure per element): traces run to millions of indices.
      // Indices in encoder order (strictly increasing): the cycle engines rely on it.
      const fx = e.firedX;
      const xi = this.xIdx[k]!;
      for (let q = 0; q < fx.length; q++) {
        if (!(fx[q]! >= 0 && fx[q]! < xCols)) fail('E_VALUE', `workload: layer ${k} step ${t}: input index ${fx[q]} outside 0..${xCols - 1}`);
        if (q > 0 && !(fx[q]! > fx[q - 1]!)) fail('E_VALUE', `workload: layer ${k} step ${t}: input indices must be strictly increasing, found ${fx[q - 1]} then ${fx[q]}`);
        xi.push(fx[q]!);
      }
      const fh = e.firedH;
      const hi = this.hIdx[k]!;
      for (let q = 0; q < fh.length; q++) {
        if (!(fh[q]! >= 0 && fh[q]! < hCols)) fail('E_VALUE', `workload: layer ${k} step ${t}: hidden index ${fh[q]} outside 0..${hCols - 1}`);
        if (q > 0 && !(fh[q]! > fh[q - 1]!)) fail('E_VALUE', `workload: layer ${k} step ${t}: hidden indices must be strictly increasing, found ${fh[q - 1]} then ${fh[q]}`);
        hi.push(fh[q]!);
      }
      if (qCols > 0) {
        const fq = e.firedQ;
        check(fq !== undefined, 'E_SHAPE', () => `workload: layer ${k} is a reset-before GRU; its trace at step ${t} lacks firedQ (the q = r*h firings)`);
        const qi = this.qIdx[k]!;
        for (let q = 0; q < fq.length; q++) {
          if (!(fq[q]! >= 0 && fq[q]! < qCols)) fail('E_VALUE', `workload: layer ${k} step ${t}: q index ${fq[q]} outside 0..${qCols - 1}`);
          if (q > 0 && !(fq[q]! > fq[q - 1]!)) fail('E_VALUE', `workload: layer ${k} step ${t}: q indices must be strictly increasing, found ${fq[q - 1]} then ${fq[q]}`);
          qi.push(fq[q]!);
        }
        this.qPtr[k]!.push(qi.length);
      }
      this.xPtr[k]!.push(xi.length);
      this.hPtr[k]!.push(hi.length);
      // Bias flags are kept when the trace records them (the fixed-point machine, trace files).
      if (this.bias[k]) {
        check(e.bias !== undefined, 'E_SHAPE', () => `workload: layer ${k} records the bias flag at step 0 but not at step ${t}`);
        this.biasFlags[k]!.push(e.bias ? 1 : 0);
      }
    }
    this.steps++;
  }

  build(thresholds: { thresholdX?: number | null; thresholdH?: number | null } = {}, source: Workload['source'] = 'session', extra: { firstStep?: number } = {}): Workload {
    check(this.steps > 0, 'E_VALUE', () => 'workload: expected a trace of at least one step, found none');
    const layers: LayerWorkload[] = this.model.layers.map((layer, k) => {
      const { rows, xCols, hCols, hRows, qCols } = this.shapes[k]!;
      const delta = this.delta![k]!;
      const q = delta && qCols > 0;
      return {
        layer,
        kind: layer.kind,
        rows,
        xCols,
        hCols,
        delta,
        xPtr: delta ? this.xPtr[k]!.toArray() : null,
        xIdx: delta ? this.xIdx[k]!.toArray() : null,
        hPtr: delta ? this.hPtr[k]!.toArray() : null,
        hIdx: delta ? this.hIdx[k]!.toArray() : null,
        hRows,
        qCols,
        qPtr: q ? this.qPtr[k]!.toArray() : null,
        qIdx: q ? this.qIdx[k]!.toArray() : null,
        denseMacs: rows * xCols + hRows * hCols + qCols * qCols,
        bias: delta && this.bias[k] ? Uint8Array.from(this.biasFlags[k]!.toArray()) : null,
      };
    });
    return { steps: this.steps, layers, thresholdX: thresholds.thresholdX ?? null, thresholdH: thresholds.thresholdH ?? null, source, ...(extra.firstStep ? { firstStep: extra.firstStep } : {}) };
  }
}

/**
 * Build a workload from a session trace. Layers whose trace entry is null ran dense (linear,
 * SRU, QRNN, or a dense session) and fire every column.
 *
 * @example
 * const b = new WorkloadBuilder(model);
 * const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.1, onTrace: (st) => b.add(st) });
 * s.run(frames);
 * const w = b.build({ thresholdX: 0.1, thresholdH: 0.1 }); // or workloadFromTrace(model, steps, ...)
 */
export function workloadFromTrace(
  model: Model,
  trace: StepTrace[],
  thresholds: { thresholdX?: number | null; thresholdH?: number | null } = {},
  source: Workload['source'] = 'session',
  extra: { firstStep?: number } = {},
): Workload {
  check(trace.length > 0, 'E_VALUE', () => 'workload: expected a trace of at least one step, found none');
  const b = new WorkloadBuilder(model);
  for (const st of trace) b.add(st);
  return b.build(thresholds, source, extra);
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
