/**
 * GRU executor for the js backend, dense or delta, weights column-major so a fired
 * element's column (all gates) is contiguous. Defined by gruStepRef and deltaGruStepRef.
 */
import type { GruLayer } from '../../../model/types.js';
import { columnMajor } from '../../plan.js';
import type { ExecutorConfig } from '../types.js';
import { accumulateColumns } from './encode.js';
import { JsRecurrentExecutor } from './recurrent.js';

export class JsGruExecutor extends JsRecurrentExecutor {
  readonly path = 'js';
  private readonly wIhT: Float32Array;
  private readonly wHhT: Float32Array;

  constructor(layer: GruLayer, config: ExecutorConfig) {
    super(layer, config);
    const H = layer.hiddenSize;
    this.wIhT = columnMajor(layer.weightIh, 3 * H, layer.inputSize);
    this.wHhT = columnMajor(layer.weightHh, 3 * H, H);
  }

  protected accumulate(nx: number, nh: number): void {
    const H = this.layer.hiddenSize;
    // Input columns: r, z, n rows onto Mr, Mz, Mnx (contiguous).
    accumulateColumns(this.wIhT, 3 * H, 0, 3 * H, this.firedXIdx, this.firedXDelta, nx, this.m, 0);
    // Hidden columns: r, z rows onto Mr, Mz; n rows onto Mnh (reset-after only: the reset-before
    // form feeds W_hn with q = r * h in accumulateCandidate, once r is known).
    accumulateColumns(this.wHhT, 3 * H, 0, 2 * H, this.firedHIdx, this.firedHDelta, nh, this.m, 0);
    if (!this.resetBefore) accumulateColumns(this.wHhT, 3 * H, 2 * H, H, this.firedHIdx, this.firedHDelta, nh, this.m, 3 * H);
  }

  protected override accumulateCandidate(nq: number): void {
    const H = this.layer.hiddenSize;
    accumulateColumns(this.wHhT, 3 * H, 2 * H, H, this.firedQIdx, this.firedQDelta, nq, this.m, 3 * H);
  }
}
