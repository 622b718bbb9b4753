/**
 * Reference fused gate activations in float64, on the wasm kernels' layout: gate
 * blocks hp apart. They define wasm `gru_gates`, `lstm_gates`, `sru_steps`, `qrnn_steps`.
 */
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** r, z, n from gi + gh (n uses r * gh_n); h updated in place: h = (1 - z) n + z h. */
export function gruGatesRef(gi: ArrayLike<number>, gh: ArrayLike<number>, h: Float64Array, hp: number, H: number): void {
  for (let k = 0; k < H; k++) {
    const r = sigmoid(gi[k]! + gh[k]!);
    const z = sigmoid(gi[hp + k]! + gh[hp + k]!);
    const n = Math.tanh(gi[2 * hp + k]! + r * gh[2 * hp + k]!);
    h[k] = (1 - z) * n + z * h[k]!;
  }
}

/** Gates i, f, g, o of gi + gh; c = f c + i g, h = o tanh(c), both in place. */
export function lstmGatesRef(gi: ArrayLike<number>, gh: ArrayLike<number>, c: Float64Array, h: Float64Array, hp: number, H: number): void {
  for (let k = 0; k < H; k++) {
    const i = sigmoid(gi[k]! + gh[k]!);
    const f = sigmoid(gi[hp + k]! + gh[hp + k]!);
    const g = Math.tanh(gi[2 * hp + k]! + gh[2 * hp + k]!);
    const o = sigmoid(gi[3 * hp + k]! + gh[3 * hp + k]!);
    c[k] = f * c[k]! + i * g;
    h[k] = o * Math.tanh(c[k]!);
  }
}

/**
 * SRU over T steps: u rows [xt | f | r | p?] (ustride apart), b = [b_f | b_r], highway input
 * x rows (xstride apart) or the projection block p; c in place; returns h (T rows of H).
 */
export function sruStepsRef(
  u: ArrayLike<number>, ustride: number, b: ArrayLike<number>, x: ArrayLike<number>, xstride: number, proj: boolean,
  c: Float64Array, hp: number, H: number, steps: number,
): Float64Array {
  const h = new Float64Array(steps * H);
  for (let t = 0; t < steps; t++) {
    const u0 = t * ustride;
    for (let k = 0; k < H; k++) {
      const f = sigmoid(u[u0 + hp + k]! + b[k]!);
      const r = sigmoid(u[u0 + 2 * hp + k]! + b[hp + k]!);
      c[k] = f * c[k]! + (1 - f) * u[u0 + k]!;
      const hw = proj ? u[u0 + 3 * hp + k]! : x[t * xstride + k]!;
      h[t * H + k] = r * Math.tanh(c[k]!) + (1 - r) * hw;
    }
  }
  return h;
}

/** QRNN over T steps: u rows [Z | F | O] (bias included); c in place; returns h (T rows of H). */
export function qrnnStepsRef(u: ArrayLike<number>, ustride: number, c: Float64Array, hp: number, H: number, steps: number): Float64Array {
  const h = new Float64Array(steps * H);
  for (let t = 0; t < steps; t++) {
    const u0 = t * ustride;
    for (let k = 0; k < H; k++) {
      const z = Math.tanh(u[u0 + k]!);
      const f = sigmoid(u[u0 + hp + k]!);
      const o = sigmoid(u[u0 + 2 * hp + k]!);
      c[k] = f * c[k]! + (1 - f) * z;
      h[t * H + k] = o * c[k]!;
    }
  }
  return h;
}
