/**
 * The C export generates the default sigmoid / tanh gates only: a GRU or LSTM with ONNX
 * activations or clip is refused with E_UNSUPPORTED (not exported with the wrong functions);
 * so is a nonzero initial state (ONNX initial_h / initial_c: the C library resets to zero). The
 * reset-before GRU with default activations still exports.
 */
import { describe, expect, it } from 'vitest';
import { exportC } from '../../src/model/export/c/export.js';
import { randomModel } from '../../src/model/random.js';
import type { Model } from '../../src/model/types.js';
import { expectCode } from '../helpers/errors.js';

const withGates = (m: Model, patch: object): Model => ({ ...m, layers: m.layers.map((l) => (l.kind === 'gru' || l.kind === 'lstm' ? { ...l, ...patch } : l)) });

describe('C export and gate activations', () => {
  for (const kind of ['gru', 'lstm'] as const) {
    it(`${kind}: non-default activations or clip are E_UNSUPPORTED`, () => {
      const m = randomModel(2, 5, [{ kind, hiddenSize: 8 }, { kind: 'linear', outputSize: 2 }]);
      const acts = kind === 'gru' ? [{ name: 'hard_sigmoid' as const, alpha: 0.2, beta: 0.5 }, { name: 'tanh' as const }] : [{ name: 'hard_sigmoid' as const, alpha: 0.2, beta: 0.5 }, { name: 'tanh' as const }, { name: 'tanh' as const }];
      expectCode(() => exportC(withGates(m, { activations: acts })), 'E_UNSUPPORTED', /the C export: expected a .* default activations.*hard_sigmoid/);
      expectCode(() => exportC(withGates(m, { clip: 3 })), 'E_UNSUPPORTED', /clip 3/);
      expectCode(() => exportC(withGates(m, { initialH: new Float32Array(8).fill(0.5) })), 'E_UNSUPPORTED', /expected a zero initial state/);
      expect(Object.keys(exportC(m).files).length).toBeGreaterThan(0);
    });
  }
  it('a reset-before GRU with the default gates exports', () => {
    const m = randomModel(2, 5, [{ kind: 'gru', hiddenSize: 8, resetAfter: false }, { kind: 'linear', outputSize: 2 }]);
    expect(Object.keys(exportC(m).files).length).toBeGreaterThan(0);
  });
});
