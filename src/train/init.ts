/**
 * Fresh trainable models with PyTorch's default initialisation (uniform in +-1/sqrt(H) for
 * recurrent layers, +-1/sqrt(I) for the head), deterministic from a seed.
 */
import { check } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Layer, Model } from '../model/types.js';

export interface ArchitectureOptions {
  cell: 'gru' | 'lstm';
  inputSize: number;
  hiddenSize: number;
  layers: number;
  classes: number;
  seed?: number;
  name?: string;
}

/**
 * A recurrent stack plus a linear head, initialised like torch.nn.GRU / nn.LSTM / nn.Linear.
 *
 * @example const model = initModel({ cell: 'gru', inputSize: 40, hiddenSize: 64, layers: 1, classes: 11, seed: 1 });
 */
export function initModel(o: ArchitectureOptions): Model {
  check(o.cell === 'gru' || o.cell === 'lstm', 'E_OPTION', () => `cell: expected gru or lstm, found ${String(o.cell)}`);
  for (const [k, v] of [['inputSize', o.inputSize], ['hiddenSize', o.hiddenSize], ['layers', o.layers], ['classes', o.classes]] as const) {
    check(Number.isInteger(v) && v > 0 && v <= 4096, 'E_OPTION', () => `${k}: expected an integer in 1..4096, found ${v}`);
  }
  check(o.layers <= 8, 'E_OPTION', () => `layers: expected at most 8, found ${o.layers}`);
  const rng = new Rng(o.seed ?? 1);
  const H = o.hiddenSize;
  const G = o.cell === 'gru' ? 3 : 4;
  const k = 1 / Math.sqrt(H);
  const layers: Layer[] = [];
  for (let l = 0; l < o.layers; l++) {
    const I = l === 0 ? o.inputSize : H;
    layers.push({
      kind: o.cell,
      inputSize: I,
      hiddenSize: H,
      weightIh: rng.uniformArray(G * H * I, -k, k),
      weightHh: rng.uniformArray(G * H * H, -k, k),
      biasIh: rng.uniformArray(G * H, -k, k),
      biasHh: rng.uniformArray(G * H, -k, k),
    });
  }
  const kh = 1 / Math.sqrt(H);
  layers.push({ kind: 'linear', inputSize: H, outputSize: o.classes, weight: rng.uniformArray(o.classes * H, -kh, kh), bias: rng.uniformArray(o.classes, -kh, kh), activation: 'none' });
  return { name: o.name ?? `${o.cell}-${o.layers}x${H}`, layers, meta: {} };
}

/**
 * The trainable tensors of a model, in a fixed order (the optimiser's and checkpoint's order).
 *
 * @example for (const p of modelParams(model)) console.log(p.name, p.value.length);
 */
export function modelParams(model: Model): Array<{ name: string; layer: number; key: string; value: Float32Array }> {
  const out: Array<{ name: string; layer: number; key: string; value: Float32Array }> = [];
  model.layers.forEach((l, i) => {
    if (l.kind === 'linear') {
      out.push({ name: `layers.${i}.weight`, layer: i, key: 'weight', value: l.weight });
      out.push({ name: `layers.${i}.bias`, layer: i, key: 'bias', value: l.bias });
    } else if (l.kind === 'gru' || l.kind === 'lstm') {
      out.push({ name: `layers.${i}.weight_ih`, layer: i, key: 'weight_ih', value: l.weightIh });
      out.push({ name: `layers.${i}.weight_hh`, layer: i, key: 'weight_hh', value: l.weightHh });
      out.push({ name: `layers.${i}.bias_ih`, layer: i, key: 'bias_ih', value: l.biasIh });
      out.push({ name: `layers.${i}.bias_hh`, layer: i, key: 'bias_hh', value: l.biasHh });
    }
  });
  return out;
}
