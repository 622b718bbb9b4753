/**
 * The TypeScript reference of the generated C library: the same integer arithmetic, step for
 * step, so the C output must equal it bit for bit (fixed point). For f32 it is the float64
 * definition the C float code approximates (within 1e-5).
 *
 * Every integer below stays under 2^53, so plain JS numbers are exact; `floorDiv` and `rshr`
 * are the C right shifts (arithmetic; rshr adds half first: round half up).
 */
import { sigmoid } from '../../../core/math.js';
import { check } from '../../../core/errors.js';
import { roundHalfEven } from '../../../quant/format.js';
import { CELL_LIMIT, GATE_FRAC, PRE_FRAC, PRE_LIMIT, type LoweredLinear, type LoweredModel, type LoweredRecurrent } from '../../../quant/lowering.js';

/**
 * The gate tables: tanh at x = (k - 1024) / 128 for k = 0..2047 (over [-8, 8)), Q2.14, and the
 * sigmoid derived from it (sigmoid(x) = (1 + tanh(x / 2)) / 2, so the sigmoid is looked up at
 * half the index step), each looked up at the nearest entry without interpolation: a few
 * instructions per gate on a Cortex-M, error below 0.004 (tanh) and 0.002 (sigmoid), 4 kB of
 * flash per table.
 */
export const TANH_TABLE_SIZE = 2048;
export const TANH_Q14 = Int16Array.from({ length: TANH_TABLE_SIZE }, (_, k) => Math.round(Math.tanh((k - 1024) / 128) * 2 ** GATE_FRAC));
/** sigmoid(x) = (1 + tanh(x / 2)) / 2 from the tanh entries, rounded half up: its own table in C (two instructions fewer per gate). */
export const SIGMOID_Q14 = Int16Array.from(TANH_Q14, (t) => floorShift(16385 + t, 1));

/** floor(v / 2^s): C's arithmetic right shift. */
export function floorShift(v: number, s: number): number {
  return Math.floor(v / 2 ** s);
}

/** Round half up then shift: (v + 2^(s-1)) >> s; v itself when s == 0. */
export function rshr(v: number, s: number): number {
  return s === 0 ? v : Math.floor((v + 2 ** (s - 1)) / 2 ** s);
}

const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** An accumulator with `frac` fraction bits as a Q12 pre-activation, clamped to +-PRE_LIMIT. */
export function toPre(acc: number, frac: number): number {
  const s = frac - PRE_FRAC;
  if (s >= 0) return clamp(floorShift(acc, s), -PRE_LIMIT, PRE_LIMIT);
  const lim = Math.floor(PRE_LIMIT / 2 ** -s);
  return clamp(acc, -lim, lim) * 2 ** -s;
}

/** Table index of an accumulator: round half up of acc / 2^s, clamped to [-1024, 1023], plus 1024. */
export function gateIndex(acc: number, s: number): number {
  const v = s > 0 ? floorShift(acc + 2 ** (s - 1), s) : clamp(acc, -1024, 1024) * 2 ** -s;
  return clamp(v, -1024, 1023) + 1024;
}

/** tanh of an accumulator with `frac` fraction bits, Q2.14: the nearest entry (step 1/128, clamped to [-8, 8)). */
export function tanhAcc(acc: number, frac: number): number {
  return TANH_Q14[gateIndex(acc, frac - 7)]!;
}

/** sigmoid of an accumulator with `frac` fraction bits, Q2.14: (1 + tanh(x / 2)) / 2, rounded half up. */
export function sigmoidAcc(acc: number, frac: number): number {
  return SIGMOID_Q14[gateIndex(acc, frac - 6)]!;
}

/** Move a value from `from` to `to` fraction bits (round half up when narrowing), then saturate to `bits`. */
export function requantize(v: number, from: number, to: number, bits: number): number {
  const hi = 2 ** (bits - 1) - 1;
  let r: number;
  if (from > to) r = rshr(v, from - to);
  else r = clamp(v, -(2 ** 31) + 1, 2 ** 31 - 1) * 2 ** (to - from);
  return clamp(r, -hi - 1, hi);
}

export interface CReference {
  readonly lowered: LoweredModel;
  /** One step: input codes (fixed point) or reals (f32) in, output codes or reals out. */
  step(x: ArrayLike<number>): Float64Array;
  /** T steps over a flat (T * I) array; returns (T * O). */
  run(frames: ArrayLike<number>): Float64Array;
  reset(): void;
  /** Fired input / hidden elements of each layer in the last step (dense: full sizes; linear: I, 0). */
  readonly lastFiredX: number[];
  readonly lastFiredH: number[];
  /** Fired q = r * h elements of reset-before GRU layers (dense: H; other layers 0). */
  readonly lastFiredQ: number[];
}

interface RecState {
  h: Float64Array;
  xPrev: Float64Array;
  hPrev: Float64Array;
  m: Float64Array;
  c: Float64Array;
  /** Reset-before GRU: q = r * h of this step and its remembered copy. */
  q: Float64Array;
  qPrev: Float64Array;
}

/** Delta-encode v against prev with the inclusive rule; returns fired indices and deltas. */
function encode(v: ArrayLike<number>, prev: Float64Array, th: number): Array<[number, number]> {
  const fired: Array<[number, number]> = [];
  for (let j = 0; j < prev.length; j++) {
    const d = v[j]! - prev[j]!;
    if (d >= th || d <= -th) {
      prev[j] = v[j]!;
      fired.push([j, d]);
    }
  }
  return fired;
}

/**
 * The reference of a lowered model (see lowerModel).
 *
 * @example
 * const low = lowerModel(model, { precision: 'q15', thresholdX: 0.1, thresholdH: 0.1 });
 * const ref = createCReference(low);
 * const y = ref.run(quantizeCInput(low, frames)); // output codes, what the C library writes
 */
export function createCReference(lowered: LoweredModel): CReference {
  const fixed = lowered.precision !== 'f32';
  const actBits = lowered.actBits;
  const states: Array<RecState | null> = lowered.layers.map((l) =>
    l.kind === 'linear'
      ? null
      : {
          h: new Float64Array(l.hiddenSize),
          xPrev: new Float64Array(l.inputSize),
          hPrev: new Float64Array(l.hiddenSize),
          m: new Float64Array(4 * l.hiddenSize),
          c: new Float64Array(l.hiddenSize),
          q: new Float64Array(l.hiddenSize),
          qPrev: new Float64Array(l.hiddenSize),
        },
  );
  const lastFiredX = lowered.layers.map(() => 0);
  const lastFiredH = lowered.layers.map(() => 0);
  const lastFiredQ = lowered.layers.map(() => 0);

  const reset = () => {
    lowered.layers.forEach((l, k) => {
      const s = states[k];
      if (!s || l.kind === 'linear') return;
      s.h.fill(0);
      s.xPrev.fill(0);
      s.hPrev.fill(0);
      s.c.fill(0);
      s.qPrev.fill(0);
      s.m.set(l.deltaBias);
    });
  };
  reset();

  /** Memories of a recurrent layer for this step (dense: recomputed; delta: updated). */
  const memories = (l: LoweredRecurrent, s: RecState, x: ArrayLike<number>, k: number) => {
    const I = l.inputSize;
    const H = l.hiddenSize;
    const rowsIh = l.wih.length / I;
    // Reset-before GRU: only W_hh's r, z rows multiply h here; W_hn waits for q (see qPass).
    const rowsHh = l.resetAfter ? l.whh.length / H : 2 * H;
    const m = s.m;
    if (!l.delta) {
      m.set(l.denseBias);
      for (let r = 0; r < rowsIh; r++) {
        let a = 0;
        for (let j = 0; j < I; j++) a += l.wih[r * I + j]! * x[j]!;
        m[r]! += a;
      }
      for (let r = 0; r < rowsHh; r++) {
        let a = 0;
        for (let j = 0; j < H; j++) a += l.whh[r * H + j]! * s.h[j]!;
        m[l.hhOffset + r]! += a;
      }
      lastFiredX[k] = I;
      lastFiredH[k] = H;
      return;
    }
    const fx = encode(x, s.xPrev, l.thresholdX);
    for (const [j, d] of fx) for (let r = 0; r < rowsIh; r++) m[r]! += l.wih[r * I + j]! * d;
    const fh = encode(s.h, s.hPrev, l.thresholdH);
    for (const [j, d] of fh) for (let r = 0; r < rowsHh; r++) m[l.hhOffset + r]! += l.whh[r * H + j]! * d;
    lastFiredX[k] = fx.length;
    lastFiredH[k] = fh.length;
  };

  /** Reset-before GRU: q = r * h, then Mnh (rows 3H..4H) from W_hn's rows (2H..3H of whh) times q. */
  const qPass = (l: LoweredRecurrent, s: RecState, k: number) => {
    const H = l.hiddenSize;
    const m = s.m;
    for (let u = 0; u < H; u++) {
      s.q[u] = fixed ? rshr(sigmoidAcc(m[H + u]!, l.accFrac) * s.h[u]!, GATE_FRAC) : sigmoid(m[H + u]!) * s.h[u]!;
    }
    if (!l.delta) {
      for (let u = 0; u < H; u++) {
        let a = 0;
        for (let j = 0; j < H; j++) a += l.whh[(2 * H + u) * H + j]! * s.q[j]!;
        m[3 * H + u] = l.denseBias[3 * H + u]! + a;
      }
      lastFiredQ[k] = H;
      return;
    }
    const fq = encode(s.q, s.qPrev, l.thresholdH);
    for (const [j, d] of fq) for (let u = 0; u < H; u++) m[3 * H + u]! += l.whh[(2 * H + u) * H + j]! * d;
    lastFiredQ[k] = fq.length;
  };

  const gruBeforeUnitsFixed = (l: LoweredRecurrent, s: RecState) => {
    const H = l.hiddenSize;
    const m = s.m;
    const hiMax = 2 ** (actBits - 1) - 1;
    for (let u = 0; u < H; u++) {
      const z = sigmoidAcc(m[2 * H + u]!, l.accFrac);
      const nPre = toPre(m[u]!, l.accFrac) + toPre(m[3 * H + u]!, l.accFrac);
      const n = rshr(tanhAcc(nPre, PRE_FRAC), GATE_FRAC - l.hiddenFrac);
      s.h[u] = clamp(n + rshr(z * (s.h[u]! - n), GATE_FRAC), -hiMax - 1, hiMax);
    }
  };

  const gruUnitsFixed = (l: LoweredRecurrent, s: RecState) => {
    const H = l.hiddenSize;
    const m = s.m;
    const hiMax = 2 ** (actBits - 1) - 1;
    for (let u = 0; u < H; u++) {
      const r = sigmoidAcc(m[H + u]!, l.accFrac);
      const z = sigmoidAcc(m[2 * H + u]!, l.accFrac);
      const nPre = toPre(m[u]!, l.accFrac) + rshr(r * toPre(m[3 * H + u]!, l.accFrac), GATE_FRAC);
      const n = rshr(tanhAcc(nPre, PRE_FRAC), GATE_FRAC - l.hiddenFrac);
      const h = n + rshr(z * (s.h[u]! - n), GATE_FRAC);
      s.h[u] = clamp(h, -hiMax - 1, hiMax);
    }
  };

  const lstmUnitsFixed = (l: LoweredRecurrent, s: RecState) => {
    const H = l.hiddenSize;
    const m = s.m;
    const hiMax = 2 ** (actBits - 1) - 1;
    for (let u = 0; u < H; u++) {
      const i = sigmoidAcc(m[u]!, l.accFrac);
      const f = sigmoidAcc(m[H + u]!, l.accFrac);
      const g = tanhAcc(m[2 * H + u]!, l.accFrac);
      const o = sigmoidAcc(m[3 * H + u]!, l.accFrac);
      const c = clamp(rshr(f * s.c[u]!, GATE_FRAC) + rshr(i * g, GATE_FRAC), -CELL_LIMIT, CELL_LIMIT);
      s.c[u] = c;
      const tc = tanhAcc(c, GATE_FRAC);
      s.h[u] = clamp(rshr(o * tc, 2 * GATE_FRAC - l.hiddenFrac), -hiMax - 1, hiMax);
    }
  };

  const unitsFloat = (l: LoweredRecurrent, s: RecState) => {
    const H = l.hiddenSize;
    const m = s.m;
    for (let u = 0; u < H; u++) {
      if (l.kind === 'gru' && !l.resetAfter) {
        const z = sigmoid(m[2 * H + u]!);
        const n = Math.tanh(m[u]! + m[3 * H + u]!);
        s.h[u] = (1 - z) * n + z * s.h[u]!;
      } else if (l.kind === 'gru') {
        const r = sigmoid(m[H + u]!);
        const z = sigmoid(m[2 * H + u]!);
        const n = Math.tanh(m[u]! + r * m[3 * H + u]!);
        s.h[u] = (1 - z) * n + z * s.h[u]!;
      } else {
        const i = sigmoid(m[u]!);
        const f = sigmoid(m[H + u]!);
        const g = Math.tanh(m[2 * H + u]!);
        const o = sigmoid(m[3 * H + u]!);
        s.c[u] = f * s.c[u]! + i * g;
        s.h[u] = o * Math.tanh(s.c[u]!);
      }
    }
  };

  const linear = (l: LoweredLinear, x: ArrayLike<number>): Float64Array => {
    const y = new Float64Array(l.outputSize);
    for (let o = 0; o < l.outputSize; o++) {
      let a = l.bias[o]!;
      for (let j = 0; j < l.inputSize; j++) a += l.w[o * l.inputSize + j]! * x[j]!;
      if (!fixed) {
        y[o] = l.activation === 'relu' ? Math.max(a, 0) : l.activation === 'tanh' ? Math.tanh(a) : a;
      } else if (l.activation === 'tanh') {
        y[o] = requantize(tanhAcc(a, l.accFrac), GATE_FRAC, l.outputFrac, actBits);
      } else {
        y[o] = requantize(l.activation === 'relu' ? Math.max(a, 0) : a, l.accFrac, l.outputFrac, actBits);
      }
    }
    return y;
  };

  const step = (x: ArrayLike<number>): Float64Array => {
    check(x.length === lowered.inputSize, 'E_SHAPE', () => `frame: expected ${lowered.inputSize} values, found ${x.length}`);
    let v: ArrayLike<number> = x;
    lowered.layers.forEach((l, k) => {
      if (l.kind === 'linear') {
        v = linear(l, v);
        lastFiredX[k] = l.inputSize;
        lastFiredH[k] = 0;
        lastFiredQ[k] = 0;
        return;
      }
      const s = states[k]!;
      memories(l, s, v, k);
      lastFiredQ[k] = 0;
      if (!l.resetAfter) qPass(l, s, k);
      if (!fixed) unitsFloat(l, s);
      else if (l.kind === 'gru' && !l.resetAfter) gruBeforeUnitsFixed(l, s);
      else if (l.kind === 'gru') gruUnitsFixed(l, s);
      else lstmUnitsFixed(l, s);
      v = s.h;
    });
    return Float64Array.from(v);
  };

  return {
    lowered,
    step,
    run(frames) {
      const I = lowered.inputSize;
      check(frames.length % I === 0, 'E_SHAPE', () => `frames: expected a multiple of ${I} values, found ${frames.length}`);
      const T = frames.length / I;
      const out = new Float64Array(T * lowered.outputSize);
      for (let t = 0; t < T; t++) out.set(step(Array.prototype.slice.call(frames, t * I, (t + 1) * I) as number[]), t * lowered.outputSize);
      return out;
    },
    reset,
    lastFiredX,
    lastFiredH,
    lastFiredQ,
  };
}

/**
 * Float frames to the input codes of a fixed-point export (round half to even, saturate);
 * f32 exports take the reals unchanged.
 *
 * @example const codes = quantizeCInput(low, frames); // Int16Array for q15
 */
export function quantizeCInput(lowered: LoweredModel, frames: ArrayLike<number>): Int16Array | Int8Array | Float32Array {
  if (lowered.precision === 'f32') return Float32Array.from(frames);
  const out = lowered.actBits === 16 ? new Int16Array(frames.length) : new Int8Array(frames.length);
  const hi = 2 ** (lowered.actBits - 1) - 1;
  for (let i = 0; i < frames.length; i++) {
    out[i] = clamp(roundHalfEven(frames[i]! * 2 ** lowered.inputFrac), -hi - 1, hi);
  }
  return out;
}

/** Output codes back to reals (code * 2^-outputFrac); f32 unchanged. */
export function dequantizeCOutput(lowered: LoweredModel, codes: ArrayLike<number>): Float64Array {
  const s = lowered.precision === 'f32' ? 1 : 2 ** -lowered.outputFrac;
  return Float64Array.from(codes, (c) => c * s);
}
