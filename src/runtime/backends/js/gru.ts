/**
 * GRU executor for the js backend, dense or delta (SPEC §2-3). Defined by gruStepRef
 * (dense) and deltaGruStepRef (delta) in src/cells/gru/.
 *
 * Memory layout m = [Mr | Mz | Mnx | Mnh] (H each). Input columns (3H rows r, z, n) land on
 * [Mr | Mz | Mnx]; hidden columns land on [Mr | Mz] and Mnh. Dense mode is the same kernel
 * with the memories reloaded from the biases and every element fired with its full value, so
 * there is one accumulation path to get right. Accumulators are float64: over long streams
 * the delta memories then drift by ~1e-16 per step instead of float32's ~1e-7.
 */
import { sigmoid } from '../../../core/math.js';
import type { GruLayer } from '../../../model/types.js';
import { columnMajor } from '../../plan.js';
import type { ExecutorConfig, LayerExecutor } from '../types.js';
import { accumulateColumns, encodeAll, encodeDeltas } from './encode.js';

export class JsGruExecutor implements LayerExecutor {
  readonly delta: boolean;
  readonly path = 'js';
  lastFiredX = 0;
  lastFiredH = 0;
  readonly firedXIdx: Int32Array;
  readonly firedHIdx: Int32Array;
  private readonly firedXDelta: Float64Array;
  private readonly firedHDelta: Float64Array;
  private readonly wIhT: Float32Array;
  private readonly wHhT: Float32Array;
  private readonly m: Float64Array;
  private readonly m0: Float64Array;
  private readonly xPrev: Float64Array;
  private readonly hPrev: Float64Array;
  private readonly h: Float64Array;

  constructor(
    readonly layer: GruLayer,
    private readonly config: ExecutorConfig,
  ) {
    const H = layer.hiddenSize;
    const I = layer.inputSize;
    this.delta = config.delta;
    this.wIhT = columnMajor(layer.weightIh, 3 * H, I);
    this.wHhT = columnMajor(layer.weightHh, 3 * H, H);
    this.firedXIdx = new Int32Array(I);
    this.firedHIdx = new Int32Array(H);
    this.firedXDelta = new Float64Array(I);
    this.firedHDelta = new Float64Array(H);
    this.m = new Float64Array(4 * H);
    this.m0 = new Float64Array(4 * H);
    // Initial memories (SPEC §3). Dense mode always uses the PyTorch (cudnn) placement.
    const edgedrnn = config.delta && config.biasConvention === 'edgedrnn';
    for (let k = 0; k < H; k++) {
      this.m0[k] = layer.biasIh[k]! + layer.biasHh[k]!;
      this.m0[H + k] = layer.biasIh[H + k]! + layer.biasHh[H + k]!;
      this.m0[2 * H + k] = layer.biasIh[2 * H + k]! + (edgedrnn ? layer.biasHh[2 * H + k]! : 0);
      this.m0[3 * H + k] = edgedrnn ? 0 : layer.biasHh[2 * H + k]!;
    }
    this.xPrev = new Float64Array(I);
    this.hPrev = new Float64Array(H);
    this.h = new Float64Array(H);
    this.reset();
  }

  reset(): void {
    this.m.set(this.m0);
    this.xPrev.fill(0);
    this.hPrev.fill(0);
    this.h.fill(0);
  }

  step(x: Float64Array): Float64Array {
    const H = this.layer.hiddenSize;
    const m = this.m;
    let nx: number;
    let nh: number;
    if (this.delta) {
      nx = encodeDeltas(x, this.xPrev, this.config.thresholdX, this.firedXIdx, this.firedXDelta);
      nh = encodeDeltas(this.h, this.hPrev, this.config.thresholdH, this.firedHIdx, this.firedHDelta);
    } else {
      m.set(this.m0);
      nx = encodeAll(x, this.firedXIdx, this.firedXDelta);
      nh = encodeAll(this.h, this.firedHIdx, this.firedHDelta);
    }
    // Input columns: r, z, n rows onto Mr, Mz, Mnx (contiguous).
    accumulateColumns(this.wIhT, 3 * H, 0, 3 * H, this.firedXIdx, this.firedXDelta, nx, m, 0);
    // Hidden columns: r, z rows onto Mr, Mz; n rows onto Mnh.
    accumulateColumns(this.wHhT, 3 * H, 0, 2 * H, this.firedHIdx, this.firedHDelta, nh, m, 0);
    accumulateColumns(this.wHhT, 3 * H, 2 * H, H, this.firedHIdx, this.firedHDelta, nh, m, 3 * H);
    const h = this.h;
    for (let k = 0; k < H; k++) {
      const r = sigmoid(m[k]!);
      const z = sigmoid(m[H + k]!);
      const n = Math.tanh(m[2 * H + k]! + r * m[3 * H + k]!);
      h[k] = (1 - z) * n + z * h[k]!;
    }
    this.lastFiredX = nx;
    this.lastFiredH = nh;
    return h;
  }
}
