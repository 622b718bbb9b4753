/**
 * Seeded random models of every layer kind: for tests, benchmarks and the demo. Weights are
 * uniform in +-scale/sqrt(fan-in), as PyTorch initialises its recurrent layers.
 */
import { check } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { MAX_LAYER_SIZE, validateModel, type Activation, type GruLayer, type Layer, type Model } from './types.js';

/**
 * Most float32 values randomModel and smoothStream allocate (1 GiB): beyond, a size typed one
 * digit too long was a RangeError ("Invalid typed array length") or an out-of-memory crash.
 */
export const MAX_RANDOM_VALUES = 1 << 28;

function checkSize(name: string, v: unknown): asserts v is number {
  check(Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_LAYER_SIZE, (Number.isInteger(v) && (v as number) > MAX_LAYER_SIZE ? 'E_LIMIT' : 'E_SHAPE'), () => `randomModel: ${name} must be an integer in 1..${MAX_LAYER_SIZE}, found ${String(v)}`);
}

/** The recipes checked before anything is allocated: known kinds, sizes, total weight count. */
function checkRecipes(inputSize: number, recipes: LayerRecipe[], scale: number): void {
  checkSize('inputSize', inputSize);
  check(Array.isArray(recipes) && recipes.length > 0, 'E_SHAPE', () => `randomModel: expected a non-empty array of layer recipes, found ${Array.isArray(recipes) ? 'none' : recipes === null ? 'null' : typeof recipes}`);
  check(Number.isFinite(scale) && scale > 0, 'E_VALUE', () => `randomModel: scale must be a finite number > 0, found ${String(scale)}`);
  let I = inputSize;
  let total = 0;
  recipes.forEach((r, k) => {
    check(r !== null && typeof r === 'object' && ['gru', 'lstm', 'sru', 'qrnn', 'linear'].includes(r.kind), 'E_UNSUPPORTED', () => `randomModel: layer ${k}: kind must be gru, lstm, sru, qrnn or linear, found ${r === null || typeof r !== 'object' ? String(r) : JSON.stringify(String(r.kind))}`);
    const H = r.kind === 'linear' ? r.outputSize : r.hiddenSize;
    checkSize(`layer ${k} (${r.kind}) ${r.kind === 'linear' ? 'outputSize' : 'hiddenSize'}`, H);
    if (r.kind === 'qrnn') check(r.window === 1 || r.window === 2, 'E_UNSUPPORTED', () => `randomModel: layer ${k} (qrnn): window must be 1 or 2, found ${String(r.window)}`);
    const rows = r.kind === 'gru' ? 3 * H : r.kind === 'lstm' ? 4 * H : r.kind === 'sru' ? (I === H ? 3 : 4) * H : r.kind === 'qrnn' ? 3 * H : H;
    const cols = r.kind === 'qrnn' ? r.window * I : I;
    total += rows * cols + (r.kind === 'gru' || r.kind === 'lstm' ? rows * H + 2 * rows : 3 * H);
    I = H;
  });
  check(total <= MAX_RANDOM_VALUES, 'E_LIMIT', () => `randomModel: at most ${MAX_RANDOM_VALUES} weights (1 GiB of float32), found ${total}`);
}

export type LayerRecipe =
  | { kind: 'gru'; hiddenSize: number; resetAfter?: boolean }
  | { kind: 'lstm' | 'sru'; hiddenSize: number }
  | { kind: 'qrnn'; hiddenSize: number; window: 1 | 2 }
  | { kind: 'linear'; outputSize: number; activation?: Activation };

/**
 * @example const m = randomModel(1, 40, [{ kind: 'gru', hiddenSize: 64 }, { kind: 'linear', outputSize: 11 }]);
 */
export function randomModel(seed: number, inputSize: number, recipes: LayerRecipe[], scale = 1): Model {
  checkRecipes(inputSize, recipes, scale);
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
  const model: Model = { name: `random-${seed}`, layers, meta: { generator: `randomModel(seed=${seed})` } };
  validateModel(model);
  return model;
}

/**
 * A smooth random stream (T, I) flat: a leaky random walk per channel, so consecutive frames
 * differ a little, as speech features or sensor readings do.
 *
 * @example const frames = smoothStream(1, 100, 40);
 */
export function smoothStream(seed: number, T: number, I: number, stepSize = 0.1): Float32Array {
  check(Number.isInteger(T) && T >= 0 && Number.isInteger(I) && I >= 0, 'E_SHAPE', () => `smoothStream: T and I must be integers >= 0, found T ${String(T)}, I ${String(I)}`);
  check(T * I <= MAX_RANDOM_VALUES, 'E_LIMIT', () => `smoothStream: at most ${MAX_RANDOM_VALUES} values (1 GiB of float32), found ${T} x ${I} = ${T * I}`);
  check(Number.isFinite(stepSize), 'E_VALUE', () => `smoothStream: stepSize must be finite, found ${String(stepSize)}`);
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
