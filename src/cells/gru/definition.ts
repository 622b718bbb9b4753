/**
 * The GRU's two formulations, named once. Every engine asks here which one a layer uses, and an
 * engine that runs only one of them refuses the other with one coded error.
 *
 * reset-after  (PyTorch, cuDNN, ONNX linear_before_reset=1, Keras reset_after=True):
 *   n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 * reset-before (Cho et al. 2014, ONNX's default linear_before_reset=0, Keras reset_after=False,
 *   TensorFlow 1, TensorFlow.js resetAfter=false):
 *   n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)
 * r, z and h' = (1 - z) n + z h are the same in both. Gate rows are r, z, n in both.
 */
import { fail } from '../../core/errors.js';
import type { GruLayer } from '../../model/types.js';

export type GruVariant = 'reset-after' | 'reset-before';

/** True for the PyTorch form (the default when a layer does not say). */
export function isResetAfter(layer: GruLayer): boolean {
  return layer.resetAfter !== false;
}

/** The layer's formulation by name. */
export function gruVariant(layer: GruLayer): GruVariant {
  return isResetAfter(layer) ? 'reset-after' : 'reset-before';
}

/**
 * Refuse a reset-before GRU in an engine that implements only the PyTorch form, with one coded
 * error naming the engine (`where`).
 *
 * @example requireResetAfter(layer, 'the EdgeDRNN export');
 */
export function requireResetAfter(layer: GruLayer, where: string): void {
  if (!isResetAfter(layer)) {
    fail(
      'E_UNSUPPORTED',
      `${where}: expected a reset-after GRU (PyTorch form, ONNX linear_before_reset=1, Keras reset_after=True), found a reset-before GRU (linear_before_reset=0 / reset_after=False); run it on the js backend or the float64 reference`,
    );
  }
}
