/**
 * The CBTD balance check: does every PE hold the same number of nonzero weights in every
 * column? That is what makes a fired column cost the same K cycles on every PE of an array
 *; an unbalanced matrix makes the busiest PE set the pace.
 */
import { check } from '../../core/errors.js';
import { validateModel, type Model } from '../../model/types.js';

/** Nonzero counts of one (rows, cols) matrix split over N PEs (sub-column p = rows p, p+N, ...). */
export interface MatrixBalance {
  /** Which tensor: `layers.{k}.weight_ih` etc. */
  name: string;
  rows: number;
  cols: number;
  pes: number;
  /** Fewest nonzeros any PE holds in any column. */
  minPerPe: number;
  /** Most nonzeros any PE holds in any column: the cycles a fired column costs (K). */
  maxPerPe: number;
  /** minPerPe === maxPerPe. */
  balanced: boolean;
  nonzeros: number;
  /** 1 - nonzeros / (rows * cols). */
  sparsity: number;
}

/** Most PEs per array a CBTD balance, prune or storage takes (each PE gets a counter per column). */
export const MAX_PES = 4096;

/**
 * Check a PE count (E_VALUE): prune, balance check, storage and CBTD training all take it, and a
 * count of 3e8 allocated 2.4 GB of counters (prune --check --pes 3e8), 1e12 none at all.
 */
export function checkPes(pes: unknown): asserts pes is number {
  check(Number.isInteger(pes) && (pes as number) >= 1 && (pes as number) <= MAX_PES, 'E_VALUE', () => `pes: expected an integer in 1..${MAX_PES}, found ${String(pes)}`);
}

/**
 * Count nonzeros per (column, PE) of a row-major matrix.
 *
 * @example const b = checkMatrixBalance('w', w, 192, 64, 16); if (!b.balanced) console.log(b.minPerPe, b.maxPerPe);
 */
export function checkMatrixBalance(name: string, w: Float32Array, rows: number, cols: number, pes: number): MatrixBalance {
  checkPes(pes);
  const counts = new Int32Array(pes);
  let min = Infinity;
  let max = 0;
  let nonzeros = 0;
  const activePes = Math.min(pes, rows);
  for (let j = 0; j < cols; j++) {
    counts.fill(0);
    for (let r = 0; r < rows; r++) {
      if (w[r * cols + j] !== 0) counts[r % pes]!++;
    }
    for (let p = 0; p < activePes; p++) {
      const c = counts[p]!;
      nonzeros += c;
      if (c < min) min = c;
      if (c > max) max = c;
    }
  }
  if (min === Infinity) min = 0;
  return { name, rows, cols, pes, minPerPe: min, maxPerPe: max, balanced: min === max, nonzeros, sparsity: 1 - nonzeros / (rows * cols) };
}

/** The weight matrices of a model with their shapes (biases excluded: CBTD never prunes them). */
export function weightMatrices(model: Model): Array<{ name: string; w: Float32Array; rows: number; cols: number }> {
  const out: Array<{ name: string; w: Float32Array; rows: number; cols: number }> = [];
  model.layers.forEach((l, k) => {
    switch (l.kind) {
      case 'gru':
      case 'lstm': {
        const R = (l.kind === 'gru' ? 3 : 4) * l.hiddenSize;
        out.push({ name: `layers.${k}.weight_ih`, w: l.weightIh, rows: R, cols: l.inputSize });
        out.push({ name: `layers.${k}.weight_hh`, w: l.weightHh, rows: R, cols: l.hiddenSize });
        break;
      }
      case 'sru':
        out.push({ name: `layers.${k}.weight`, w: l.weight, rows: l.weight.length / l.inputSize, cols: l.inputSize });
        break;
      case 'qrnn':
        out.push({ name: `layers.${k}.weight`, w: l.weight, rows: 3 * l.hiddenSize, cols: l.window * l.inputSize });
        break;
      case 'linear':
        out.push({ name: `layers.${k}.weight`, w: l.weight, rows: l.outputSize, cols: l.inputSize });
        break;
    }
  });
  return out;
}

/**
 * Balance of every weight matrix of a model for N PEs per array.
 *
 * @example const report = checkModelBalance(pruned, 64); report.every((m) => m.balanced);
 */
export function checkModelBalance(model: Model, pes: number): MatrixBalance[] {
  validateModel(model);
  checkPes(pes);
  return weightMatrices(model).map((m) => checkMatrixBalance(m.name, m.w, m.rows, m.cols, pes));
}
