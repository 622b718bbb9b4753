/**
 * The LSTM's optional peepholes, named once: engines that run only the plain PyTorch LSTM refuse
 * a layer with peepholes through `requireNoPeephole`, with one coded error.
 */
import { fail } from '../../core/errors.js';
import type { LstmLayer } from '../../model/types.js';

/** Refuse an LSTM with peepholes (ONNX input P) in an engine that runs only the plain form. */
export function requireNoPeephole(layer: LstmLayer, where: string): void {
  if (layer.peephole) fail('E_UNSUPPORTED', `${where}: expected an LSTM without peepholes, found one with peephole weights (ONNX input P); run it on the js backend or the float64 reference`);
}
