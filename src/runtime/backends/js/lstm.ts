/**
 * LSTM executor for the js backend, dense or delta, weights column-major. Defined by
 * lstmStepRef and deltaLstmStepRef.
 */
import type { LstmLayer } from '../../../model/types.js';
import { columnMajor } from '../../plan.js';
import type { ExecutorConfig } from '../types.js';
import { accumulateColumns } from './encode.js';
import { JsRecurrentExecutor } from './recurrent.js';

export class JsLstmExecutor extends JsRecurrentExecutor {
  readonly path = 'js';
  private readonly wIhT: Float32Array;
  private readonly wHhT: Float32Array;

  constructor(layer: LstmLayer, config: ExecutorConfig) {
    super(layer, config);
    const H = layer.hiddenSize;
    this.wIhT = columnMajor(layer.weightIh, 4 * H, layer.inputSize);
    this.wHhT = columnMajor(layer.weightHh, 4 * H, H);
  }

  protected accumulate(nx: number, nh: number): void {
    const R = 4 * this.layer.hiddenSize;
    accumulateColumns(this.wIhT, R, 0, R, this.firedXIdx, this.firedXDelta, nx, this.m, 0);
    accumulateColumns(this.wHhT, R, 0, R, this.firedHIdx, this.firedHDelta, nh, this.m, 0);
  }
}
