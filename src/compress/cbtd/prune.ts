/**
 * Column-Balanced Targeted Dropout (CBTD), applied post-training.
 *
 * For a weight matrix of R rows (G*H) and N processing elements per array, sub-column p of
 * column j holds rows p, p+N, p+2N, ... (the rows PE p multiplies for column j). In every
 * (sub-column, column) pair the k = floor(len * gamma) smallest-magnitude weights are each
 * dropped with probability alpha. At alpha = 1 every PE keeps the same count per column, so a
 * fired column costs the same number of cycles on every PE (balanced work).
 */
import { check } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { validateModel, type Layer, type Model } from '../../model/types.js';
import { checkPes } from './balance.js';

export interface CbtdOptions {
  /** Fraction of each sub-column targeted for dropping (TIMIT setup: 0.94). */
  gamma: number;
  /** Processing elements per array, N (TIMIT setup: 64). */
  pes: number;
  /** Drop probability of a targeted weight; 1 (the end of the training ramp) prunes deterministically. */
  alpha?: number;
  /** Seed of the drop draws when alpha < 1. */
  seed?: number;
  /** Gamma for linear (FC) layers; undefined leaves them dense (speech-commands setup used 0.75). */
  gammaFc?: number;
}

function checkOptions(o: CbtdOptions): Required<Omit<CbtdOptions, 'gammaFc'>> & { gammaFc: number | undefined } {
  check(o !== null && typeof o === 'object', 'E_OPTION', () => `CBTD options: expected { gamma, pes[, alpha, seed, gammaFc] }, found ${o === null ? 'null' : typeof o}`);
  const gammaOk = (g: unknown) => typeof g === 'number' && Number.isFinite(g) && g >= 0 && g < 1;
  check(gammaOk(o.gamma), 'E_VALUE', () => `gamma: expected a number in [0, 1), found ${String(o.gamma)}`);
  check(o.gammaFc === undefined || gammaOk(o.gammaFc), 'E_VALUE', () => `gammaFc: expected a number in [0, 1), found ${String(o.gammaFc)}`);
  checkPes(o.pes);
  const alpha = o.alpha ?? 1;
  check(Number.isFinite(alpha) && alpha >= 0 && alpha <= 1, 'E_VALUE', () => `alpha: expected a number in [0, 1], found ${String(alpha)}`);
  return { gamma: o.gamma, pes: o.pes, alpha, seed: o.seed ?? 0, gammaFc: o.gammaFc };
}

/**
 * CBTD on one row-major (rows, cols) matrix; returns a new pruned copy.
 * Ties in magnitude are broken by row index (lower row dropped first) so the result is
 * deterministic.
 *
 * @example const wp = cbtdPruneMatrix(layer.weightHh, 3 * H, H, { gamma: 0.94, pes: 64 });
 */
export function cbtdPruneMatrix(w: Float32Array, rows: number, cols: number, options: CbtdOptions, rng?: Rng): Float32Array {
  const o = checkOptions(options);
  check(w.length === rows * cols, 'E_SHAPE', () => `cbtdPruneMatrix: expected ${rows}x${cols} = ${rows * cols} values, found ${w.length}`);
  const out = new Float32Array(w);
  const N = o.pes;
  const r = rng ?? new Rng(o.seed);
  const maxLen = Math.ceil(rows / N);
  const order = new Int32Array(maxLen);
  const mags = new Float64Array(maxLen);
  for (let j = 0; j < cols; j++) {
    for (let p = 0; p < N && p < rows; p++) {
      const len = Math.ceil((rows - p) / N);
      const k = Math.floor(len * o.gamma);
      if (k === 0) continue;
      for (let s = 0; s < len; s++) {
        order[s] = s;
        mags[s] = Math.abs(w[(p + s * N) * cols + j]!);
      }
      // Insertion sort: sub-columns are short (rows / N, 64 in the TIMIT setup).
      for (let a = 1; a < len; a++) {
        const v = order[a]!;
        const mv = mags[v]!;
        let b = a - 1;
        while (b >= 0 && mags[order[b]!]! > mv) {
          order[b + 1] = order[b]!;
          b--;
        }
        order[b + 1] = v;
      }
      for (let s = 0; s < k; s++) {
        if (o.alpha >= 1 || r.next() < o.alpha) out[(p + order[s]! * N) * cols + j] = 0;
      }
    }
  }
  return out;
}

/**
 * CBTD on every weight matrix of a model (biases are never pruned). Recurrent layers
 * use gamma; linear layers use gammaFc when given and stay dense otherwise.
 * Returns a new Model sharing the untouched tensors.
 *
 * @example const pruned = cbtdPruneModel(model, { gamma: 0.94, pes: 64 });
 */
export function cbtdPruneModel(model: Model, options: CbtdOptions): Model {
  validateModel(model);
  const o = checkOptions(options);
  const rng = new Rng(o.seed);
  const layers: Layer[] = model.layers.map((l) => {
    switch (l.kind) {
      case 'gru':
      case 'lstm': {
        const R = (l.kind === 'gru' ? 3 : 4) * l.hiddenSize;
        return {
          ...l,
          weightIh: cbtdPruneMatrix(l.weightIh, R, l.inputSize, o, rng),
          weightHh: cbtdPruneMatrix(l.weightHh, R, l.hiddenSize, o, rng),
        };
      }
      case 'sru':
      case 'qrnn': {
        const R = l.weight.length / (l.kind === 'qrnn' ? l.window * l.inputSize : l.inputSize);
        const C = l.weight.length / R;
        return { ...l, weight: cbtdPruneMatrix(l.weight, R, C, o, rng) };
      }
      case 'linear':
        if (o.gammaFc === undefined) return l;
        return { ...l, weight: cbtdPruneMatrix(l.weight, l.outputSize, l.inputSize, { ...o, gamma: o.gammaFc }, rng) };
    }
  });
  return {
    name: model.name,
    layers,
    meta: { ...model.meta, cbtd: JSON.stringify({ gamma: o.gamma, pes: o.pes, alpha: o.alpha, gammaFc: o.gammaFc ?? null }) },
  };
}
