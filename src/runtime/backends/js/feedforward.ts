/**
 * Executors for the layers without a delta variant: Linear, SRU and QRNN (js backend, dense,
 * float32 weights, float64 accumulation). Defined by linearRef, sruStepRef and qrnnStepRef.
 */
import { sigmoid } from '../../../core/math.js';
import type { Layer, LinearLayer, QrnnLayer, SruLayer } from '../../../model/types.js';
import type { LayerExecutor } from '../types.js';

/** y[r] = b[r] + sum_c w[r, c] x[c] over a row-major (rows, cols) matrix. */
function matVec(w: Float32Array, rows: number, cols: number, x: Float64Array, y: Float64Array, bias?: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    let s = bias ? bias[r]! : 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) s += w[base + c]! * x[c]!;
    y[r] = s;
  }
}

abstract class DenseExecutor<L extends Layer> implements LayerExecutor {
  readonly delta = false;
  readonly path = 'js';
  lastFiredX: number;
  lastFiredH = 0;
  readonly firedXIdx: Int32Array;
  readonly firedHIdx = new Int32Array(0);
  constructor(readonly layer: L) {
    this.lastFiredX = layer.inputSize;
    this.firedXIdx = Int32Array.from({ length: layer.inputSize }, (_, i) => i);
  }
  abstract reset(): void;
  abstract step(x: Float64Array): Float64Array;
}

export class JsLinearExecutor extends DenseExecutor<LinearLayer> {
  private readonly y: Float64Array;
  constructor(layer: LinearLayer) {
    super(layer);
    this.y = new Float64Array(layer.outputSize);
  }
  reset(): void {}
  step(x: Float64Array): Float64Array {
    const l = this.layer;
    matVec(l.weight, l.outputSize, l.inputSize, x, this.y, l.bias);
    if (l.activation === 'relu') for (let i = 0; i < this.y.length; i++) this.y[i] = Math.max(0, this.y[i]!);
    else if (l.activation === 'tanh') for (let i = 0; i < this.y.length; i++) this.y[i] = Math.tanh(this.y[i]!);
    return this.y;
  }
}

export class JsSruExecutor extends DenseExecutor<SruLayer> {
  private readonly u: Float64Array;
  private readonly c: Float64Array;
  private readonly h: Float64Array;
  constructor(layer: SruLayer) {
    super(layer);
    const H = layer.hiddenSize;
    this.u = new Float64Array((layer.inputSize === H ? 3 : 4) * H);
    this.c = new Float64Array(H);
    this.h = new Float64Array(H);
  }
  reset(): void {
    this.c.fill(0);
  }
  step(x: Float64Array): Float64Array {
    const l = this.layer;
    const H = l.hiddenSize;
    const projected = l.inputSize !== H;
    matVec(l.weight, this.u.length, l.inputSize, x, this.u);
    const { u, c, h } = this;
    for (let k = 0; k < H; k++) {
      const f = sigmoid(u[H + k]! + l.bias[k]!);
      const r = sigmoid(u[2 * H + k]! + l.bias[H + k]!);
      c[k] = f * c[k]! + (1 - f) * u[k]!;
      h[k] = r * Math.tanh(c[k]!) + (1 - r) * (projected ? u[3 * H + k]! : x[k]!);
    }
    return h;
  }
}

export class JsQrnnExecutor extends DenseExecutor<QrnnLayer> {
  private readonly xin: Float64Array;
  private readonly u: Float64Array;
  private readonly c: Float64Array;
  private readonly h: Float64Array;
  constructor(layer: QrnnLayer) {
    super(layer);
    const H = layer.hiddenSize;
    this.xin = new Float64Array(layer.window * layer.inputSize);
    this.u = new Float64Array(3 * H);
    this.c = new Float64Array(H);
    this.h = new Float64Array(H);
  }
  reset(): void {
    this.c.fill(0);
    this.xin.fill(0);
  }
  step(x: Float64Array): Float64Array {
    const l = this.layer;
    const H = l.hiddenSize;
    const I = l.inputSize;
    // xin = [x_t | x_{t-1}]: the second block still holds the previous input here.
    this.xin.set(x.subarray(0, I), 0);
    matVec(l.weight, 3 * H, l.window * I, this.xin, this.u, l.bias);
    if (l.window === 2) this.xin.copyWithin(I, 0, I);
    const { u, c, h } = this;
    for (let k = 0; k < H; k++) {
      const z = Math.tanh(u[k]!);
      const f = sigmoid(u[H + k]!);
      const o = sigmoid(u[2 * H + k]!);
      c[k] = f * c[k]! + (1 - f) * z;
      h[k] = o * c[k]!;
    }
    return h;
  }
}
