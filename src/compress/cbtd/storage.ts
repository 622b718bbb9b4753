/**
 * CBTD-compressed weight storage: what a Spartus-like array keeps per PE.
 *
 * For each column j and PE p, the K nonzero weights of sub-column p (rows p, p+N, ...) are
 * stored as values plus their local row index s (global row = p + N*s). K is the largest
 * nonzero count of any (column, PE) pair: a balanced CBTD matrix needs no padding; otherwise
 * short lists are padded with zero values (an idle MAC slot, as in hardware).
 *
 * Layout, column-major so that one fired column is one contiguous block:
 *   values[(j * N + p) * K + s], localRows[(j * N + p) * K + s].
 */
import { check } from '../../core/errors.js';

export interface CbtdMatrix {
  rows: number;
  cols: number;
  /** PEs per array, N. */
  pes: number;
  /** Slots per (column, PE): the cycles one fired column costs. */
  k: number;
  /** Nonzero values, (cols, pes, k). Padding slots hold 0. */
  values: Float32Array;
  /** Local row index of each slot (row = p + pes * localRow); padding slots hold 0. */
  localRows: Uint16Array;
  /** True nonzeros (excluding padding). */
  nonzeros: number;
  /** Whether every (column, PE) pair holds exactly k nonzeros. */
  balanced: boolean;
}

/**
 * Compress a row-major (rows, cols) matrix for N PEs.
 *
 * @example const m = encodeCbtd(layer.weightHh, 3 * H, H, 64); // m.k cycles per fired column
 */
export function encodeCbtd(w: Float32Array, rows: number, cols: number, pes: number): CbtdMatrix {
  check(w.length === rows * cols, 'E_SHAPE', () => `encodeCbtd: expected ${rows}x${cols} = ${rows * cols} values, found ${w.length}`);
  check(Number.isInteger(pes) && pes >= 1 && pes <= rows, 'E_VALUE', () => `encodeCbtd: pes must be an integer in 1..rows (${rows}), found ${pes}`);
  check(Math.ceil(rows / pes) <= 65536, 'E_LIMIT', () => `encodeCbtd: sub-columns of ${Math.ceil(rows / pes)} rows exceed the 16-bit local row index`);
  let k = 0;
  let minCount = Infinity;
  let nonzeros = 0;
  const counts = new Int32Array(pes);
  for (let j = 0; j < cols; j++) {
    counts.fill(0);
    for (let r = 0; r < rows; r++) if (w[r * cols + j] !== 0) counts[r % pes]!++;
    for (let p = 0; p < pes; p++) {
      const c = counts[p]!;
      nonzeros += c;
      if (c > k) k = c;
      if (c < minCount) minCount = c;
    }
  }
  const values = new Float32Array(cols * pes * k);
  const localRows = new Uint16Array(cols * pes * k);
  for (let j = 0; j < cols; j++) {
    for (let p = 0; p < pes; p++) {
      let slot = (j * pes + p) * k;
      for (let s = 0, r = p; r < rows; s++, r += pes) {
        const v = w[r * cols + j]!;
        if (v !== 0) {
          values[slot] = v;
          localRows[slot] = s;
          slot++;
        }
      }
    }
  }
  return { rows, cols, pes, k, values, localRows, nonzeros, balanced: minCount === k };
}

/**
 * Expand a CBTD matrix back to row-major dense (the definition of what it stores).
 *
 * @example maxAbsDiff(decodeCbtd(encodeCbtd(w, R, C, 16)), w) === 0
 */
export function decodeCbtd(m: CbtdMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  const { pes, k, cols } = m;
  for (let j = 0; j < cols; j++) {
    for (let p = 0; p < pes; p++) {
      const base = (j * pes + p) * k;
      for (let s = 0; s < k; s++) {
        const v = m.values[base + s]!;
        if (v !== 0) out[(p + pes * m.localRows[base + s]!) * cols + j] = v;
      }
    }
  }
  return out;
}

/**
 * Bytes the hardware needs for this storage: per slot a weight of `weightBits` and a local row
 * index of ceil(log2(rows / N)) bits (at least 1).
 *
 * @example cbtdStorageBytes(m, 8) // vs dense m.rows * m.cols bytes
 */
export function cbtdStorageBytes(m: CbtdMatrix, weightBits: number): number {
  const indexBits = Math.max(1, Math.ceil(Math.log2(Math.ceil(m.rows / m.pes))));
  return Math.ceil((m.cols * m.pes * m.k * (weightBits + indexBits)) / 8);
}

const cache = new WeakMap<Float32Array, Map<number, CbtdMatrix>>();

/** encodeCbtd cached by the identity of the weight array, so every session of a model shares one copy. */
export function cbtdCached(w: Float32Array, rows: number, cols: number, pes: number): CbtdMatrix {
  let byPes = cache.get(w);
  if (!byPes) cache.set(w, (byPes = new Map()));
  let m = byPes.get(pes);
  if (!m) byPes.set(pes, (m = encodeCbtd(w, rows, cols, pes)));
  return m;
}
