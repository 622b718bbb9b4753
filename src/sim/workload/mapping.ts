/**
 * Mapping: how a layer's weights land on a PE array. For a CBTD array (Spartus) a fired column
 * costs as many cycles as the busiest of its N PEs holds nonzeros in that column; a dense array
 * pays ceil(rows / N) whatever the values. Computed once per (layer, N) from the real weights.
 */
import type { Layer } from '../../model/types.js';
import { isResetAfter } from '../../cells/gru/definition.js';

export interface ColumnMap {
  /** Per column (x columns first, then h columns, then a reset-before GRU's q columns): nonzeros of the busiest PE (cycles per fired column). */
  maxPerPe: Int32Array;
  /** Per column: nonzero weights (useful multiply-accumulates per fired column). */
  nonzeros: Int32Array;
}

function layerRows(layer: Layer): number {
  switch (layer.kind) {
    case 'gru':
    case 'qrnn':
      return 3 * layer.hiddenSize;
    case 'lstm':
      return 4 * layer.hiddenSize;
    case 'sru':
      return (layer.inputSize === layer.hiddenSize ? 3 : 4) * layer.hiddenSize;
    case 'linear':
      return layer.outputSize;
  }
}

function matrices(layer: Layer): Array<{ w: Float32Array; cols: number }> {
  switch (layer.kind) {
    case 'gru':
    case 'lstm':
      if (layer.kind === 'gru' && !isResetAfter(layer)) {
        // Reset-before: h columns feed r, z (rows 0..2H); W_hn's columns are fired by q (rows 2H..3H).
        const H = layer.hiddenSize;
        return [
          { w: layer.weightIh, cols: layer.inputSize },
          { w: layer.weightHh.subarray(0, 2 * H * H), cols: H },
          { w: layer.weightHh.subarray(2 * H * H), cols: H },
        ];
      }
      return [
        { w: layer.weightIh, cols: layer.inputSize },
        { w: layer.weightHh, cols: layer.hiddenSize },
      ];
    case 'sru':
      return [{ w: layer.weight, cols: layer.inputSize }];
    case 'qrnn':
      return [{ w: layer.weight, cols: layer.window * layer.inputSize }];
    case 'linear':
      return [{ w: layer.weight, cols: layer.inputSize }];
  }
}

const cache = new WeakMap<Layer, Map<number, ColumnMap>>();

/**
 * Whether a layer carries no weights: a trace replayed without its model (src/sim/trace). Its
 * column map counts every weight as nonzero (the dense-weight cost).
 */
export function isShapeOnly(layer: Layer): boolean {
  return 'weight' in layer ? layer.weight.length === 0 : layer.weightIh.length === 0;
}

/**
 * Per-column cost of a layer on an array of N PEs (sub-column p = rows p, p+N, ...).
 *
 * @example const map = columnMap(layer, 64); map.maxPerPe[j] // cycles for fired column j
 */
export function columnMap(layer: Layer, pes: number): ColumnMap {
  let byPes = cache.get(layer);
  if (!byPes) cache.set(layer, (byPes = new Map()));
  const hit = byPes.get(pes);
  if (hit) return hit;
  const mats = matrices(layer);
  const totalCols = mats.reduce((a, m) => a + m.cols, 0);
  const maxPerPe = new Int32Array(totalCols);
  const nonzeros = new Int32Array(totalCols);
  if (isShapeOnly(layer)) {
    const rows = layerRows(layer);
    maxPerPe.fill(Math.ceil(rows / pes));
    nonzeros.fill(rows);
    const map = { maxPerPe, nonzeros };
    byPes.set(pes, map);
    return map;
  }
  const counts = new Int32Array(pes);
  let c0 = 0;
  for (const { w, cols } of mats) {
    const rows = w.length / cols;
    for (let j = 0; j < cols; j++) {
      counts.fill(0);
      let nz = 0;
      for (let r = 0; r < rows; r++) {
        if (w[r * cols + j] !== 0) {
          counts[r % pes]!++;
          nz++;
        }
      }
      let mx = 0;
      for (let p = 0; p < pes; p++) if (counts[p]! > mx) mx = counts[p]!;
      maxPerPe[c0 + j] = mx;
      nonzeros[c0 + j] = nz;
    }
    c0 += cols;
  }
  const map = { maxPerPe, nonzeros };
  byPes.set(pes, map);
  return map;
}
