/**
 * LSTM executor for the js backend, dense or delta (SPEC §2-3). Defined by lstmStepRef and
 * deltaLstmStepRef in src/cells/lstm/. One 4H memory (gates i, f, g, o) starting at b_ih + b_hh;
 * dense mode reloads it each step and fires every element with its full value.
 */
import { sigmoid } from '../../../core/math.js';
import type { LstmLayer } from '../../../model/types.js';
import { columnMajor } from '../../plan.js';
import type { ExecutorConfig, LayerExecutor } from '../types.js';
import { accumulateColumns, encodeAll, encodeDeltas } from './encode.js';

export class JsLstmExecutor implements LayerExecutor {
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
  private readonly c: Float64Array;

  constructor(
    readonly layer: LstmLayer,
    private readonly config: ExecutorConfig,
  ) {
    const H = layer.hiddenSize;
    const I = layer.inputSize;
    this.delta = config.delta;
    this.wIhT = columnMajor(layer.weightIh, 4 * H, I);
    this.wHhT = columnMajor(layer.weightHh, 4 * H, H);
    this.firedXIdx = new Int32Array(I);
    this.firedHIdx = new Int32Array(H);
    this.firedXDelta = new Float64Array(I);
    this.firedHDelta = new Float64Array(H);
    this.m = new Float64Array(4 * H);
    this.m0 = new Float64Array(4 * H);
    for (let r = 0; r < 4 * H; r++) this.m0[r] = layer.biasIh[r]! + layer.biasHh[r]!;
    this.xPrev = new Float64Array(I);
    this.hPrev = new Float64Array(H);
    this.h = new Float64Array(H);
    this.c = new Float64Array(H);
    this.reset();
  }

  reset(): void {
    this.m.set(this.m0);
    this.xPrev.fill(0);
    this.hPrev.fill(0);
    this.h.fill(0);
    this.c.fill(0);
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
    accumulateColumns(this.wIhT, 4 * H, 0, 4 * H, this.firedXIdx, this.firedXDelta, nx, m, 0);
    accumulateColumns(this.wHhT, 4 * H, 0, 4 * H, this.firedHIdx, this.firedHDelta, nh, m, 0);
    const h = this.h;
    const c = this.c;
    for (let k = 0; k < H; k++) {
      const i = sigmoid(m[k]!);
      const f = sigmoid(m[H + k]!);
      const g = Math.tanh(m[2 * H + k]!);
      const o = sigmoid(m[3 * H + k]!);
      c[k] = f * c[k]! + i * g;
      h[k] = o * Math.tanh(c[k]!);
    }
    this.lastFiredX = nx;
    this.lastFiredH = nh;
    return h;
  }
}
