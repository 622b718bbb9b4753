/**
 * Seeded random models of every layer kind: for tests, benchmarks and the demo. Weights are
 * uniform in +-scale/sqrt(fan-in), as PyTorch initialises its recurrent layers.
 */
import { Rng } from '../core/rng.js';
import type { Activation, GruLayer, Layer, Model } from './types.js';

export type LayerRecipe =
  | { kind: 'gru'; hiddenSize: number; resetAfter?: boolean }
  | { kind: 'lstm' | 'sru'; hiddenSize: number }
  | { kind: 'qrnn'; hiddenSize: number; window: 1 | 2 }
  | { kind: 'linear'; outputSize: number; activation?: Activation };

/**
 * @example const m = randomModel(1, 40, [{ kind: 'gru', hiddenSize: 64 }, { kind: 'linear', outputSize: 11 }]);
 */
export function randomModel(seed: number, inputSize: number, recipes: LayerRecipe[], scale = 1): Model {
  const rng = new Rng(seed);
  let I = inputSize;
  const u = (n: number, fanIn: number) => rng.uniformArray(n, -scale / Math.sqrt(fanIn), scale / Math.sqrt(fanIn));
  const layers: Layer[] = recipes.map((r) => {
    let layer: Layer;
    switch (r.kind) {
      case 'gru':
      case 'lstm': {
        const G = r.kind === 'gru' ? 3 : 4;
        const H = r.hiddenSize;
        layer = { kind: r.kind, inputSize: I, hiddenSize: H, weightIh: u(G * H * I, H), weightHh: u(G * H * H, H), biasIh: u(G * H, H), biasHh: u(G * H, H) };
        if (r.kind === 'gru' && r.resetAfter === false) (layer as GruLayer).resetAfter = false;
        I = H;
        break;
      }
      case 'sru': {
        const H = r.hiddenSize;
        layer = { kind: 'sru', inputSize: I, hiddenSize: H, weight: u((I === H ? 3 : 4) * H * I, I), bias: u(2 * H, H) };
        I = H;
        break;
      }
      case 'qrnn': {
        const H = r.hiddenSize;
        layer = { kind: 'qrnn', inputSize: I, hiddenSize: H, window: r.window, weight: u(3 * H * r.window * I, r.window * I), bias: u(3 * H, H) };
        I = H;
        break;
      }
      case 'linear':
        layer = { kind: 'linear', inputSize: I, outputSize: r.outputSize, weight: u(r.outputSize * I, I), bias: u(r.outputSize, I), activation: r.activation ?? 'none' };
        I = r.outputSize;
        break;
    }
    return layer;
  });
  return { name: `random-${seed}`, layers, meta: { generator: `randomModel(seed=${seed})` } };
}

/**
 * A smooth random stream (T, I) flat: a leaky random walk per channel, so consecutive frames
 * differ a little, as speech features or sensor readings do.
 *
 * @example const frames = smoothStream(1, 100, 40);
 */
export function smoothStream(seed: number, T: number, I: number, stepSize = 0.1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(T * I);
  const v = new Float64Array(I);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < I; i++) {
      v[i] = 0.95 * v[i]! + stepSize * rng.normal();
      out[t * I + i] = v[i]!;
    }
  }
  return out;
}
