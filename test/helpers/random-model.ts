/** Seeded random models and streams for tests (the same generators users get from the API). */
import type { LayerRecipe } from '../../src/model/random.js';
export { randomModel, smoothStream, type LayerRecipe } from '../../src/model/random.js';

/** One stack of every layer kind the runtime supports, for backend-against-reference tests. */
export const STACKS: Array<[string, LayerRecipe[]]> = [
  ['gru', [{ kind: 'gru', hiddenSize: 12 }]],
  ['gru x3 + linear', [{ kind: 'gru', hiddenSize: 9 }, { kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 8 }, { kind: 'linear', outputSize: 4 }]],
  ['lstm x2 + mlp', [{ kind: 'lstm', hiddenSize: 10 }, { kind: 'lstm', hiddenSize: 7 }, { kind: 'linear', outputSize: 6, activation: 'relu' }, { kind: 'linear', outputSize: 3, activation: 'tanh' }]],
  ['sru (I != H, I == H)', [{ kind: 'sru', hiddenSize: 8 }, { kind: 'sru', hiddenSize: 8 }]],
  ['qrnn w1 + w2', [{ kind: 'qrnn', hiddenSize: 8, window: 1 }, { kind: 'qrnn', hiddenSize: 6, window: 2 }, { kind: 'linear', outputSize: 2 }]],
];

