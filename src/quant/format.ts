/**
 * Fixed-point formats as data: `Qm.n` counts the sign bit in m, so Q8.8 is a 16-bit
 * signed integer scaled by 2^-8 and Q1.7 is an 8-bit one scaled by 2^-7.
 *
 * A format is a plain record plus a traits table (bits, scale, range), like the quantised block
 * formats of ggml: every converter below reads the record, nothing is hidden in a class.
 * Quantising is round half to even of x * 2^n (what numpy/torch `round` and the EdgeDRNN RTL do),
 * then either saturation (clamp to the two's-complement range) or wrap (keep the low m+n bits).
 */
import { check, fail } from '../core/errors.js';

export type Overflow = 'saturate' | 'wrap';

/** A signed fixed-point format Qm.n: m integer bits including the sign, n fraction bits. */
export interface QFormat {
  /** Integer bits, the sign bit included (Q8.8 -> 8). */
  intBits: number;
  /** Fraction bits (Q8.8 -> 8). */
  fracBits: number;
  /** What happens to values outside the range. */
  overflow: Overflow;
}

/** The derived numbers of a format (its traits). */
export interface QTraits {
  name: string;
  bits: number;
  /** Value of one least-significant bit: 2^-fracBits. */
  step: number;
  /** Smallest and largest integer codes. */
  minCode: number;
  maxCode: number;
  /** Smallest and largest representable real values. */
  min: number;
  max: number;
}

/** The formats of the EdgeDRNN hardware. */
export const Q8_8: QFormat = Object.freeze({ intBits: 8, fracBits: 8, overflow: 'saturate' });
export const Q1_7: QFormat = Object.freeze({ intBits: 1, fracBits: 7, overflow: 'saturate' });

/**
 * Parse `Q8.8`, `q1.7`, optionally followed by `:wrap` or `:saturate` (default saturate).
 *
 * @example parseQFormat('Q1.7') // { intBits: 1, fracBits: 7, overflow: 'saturate' }
 */
export function parseQFormat(text: string): QFormat {
  check(typeof text === 'string', 'E_OPTION', () => `fixed-point format: expected text such as "Q8.8", found ${text === null ? 'null' : typeof text}`);
  const m = /^[Qq](\d{1,2})\.(\d{1,2})(?::(wrap|saturate))?$/.exec(text.trim());
  if (!m) fail('E_OPTION', `fixed-point format: expected Qm.n (e.g. Q8.8, Q1.7[:wrap]), found "${text}"`);
  const f: QFormat = { intBits: Number(m[1]), fracBits: Number(m[2]), overflow: (m[3] as Overflow | undefined) ?? 'saturate' };
  checkQFormat(f);
  return f;
}

/** Check that a format is usable: 1 <= m, 0 <= n, m + n <= 32 (codes stay exact in JS numbers). */
export function checkQFormat(f: QFormat): void {
  // A format given as text ('Q1.7') made quantizeModel write all-NaN weights without a word.
  check(f !== null && typeof f === 'object', 'E_OPTION', () => `fixed-point format: expected { intBits, fracBits, overflow } (parseQFormat(${typeof f === 'string' ? JSON.stringify(f) : "'Q1.7'"}) makes one), found ${f === null ? 'null' : `${typeof f} ${JSON.stringify(f)}`.slice(0, 60)}`);
  check(Number.isInteger(f.intBits) && f.intBits >= 1, 'E_OPTION', () => `fixed-point format: integer bits (sign included) must be >= 1, found ${f.intBits}`);
  check(Number.isInteger(f.fracBits) && f.fracBits >= 0, 'E_OPTION', () => `fixed-point format: fraction bits must be >= 0, found ${f.fracBits}`);
  check(f.intBits + f.fracBits <= 32, 'E_OPTION', () => `fixed-point format: at most 32 bits, found ${f.intBits + f.fracBits}`);
  check(f.overflow === 'saturate' || f.overflow === 'wrap', 'E_OPTION', () => `fixed-point format: overflow must be saturate or wrap, found ${String(f.overflow)}`);
}

export function formatName(f: QFormat): string {
  return `Q${f.intBits}.${f.fracBits}${f.overflow === 'wrap' ? ':wrap' : ''}`;
}

/** @example qTraits(Q8_8).max // 127.99609375 */
export function qTraits(f: QFormat): QTraits {
  checkQFormat(f);
  const bits = f.intBits + f.fracBits;
  const step = 2 ** -f.fracBits;
  const minCode = -(2 ** (bits - 1));
  const maxCode = 2 ** (bits - 1) - 1;
  return { name: formatName(f), bits, step, minCode, maxCode, min: minCode * step, max: maxCode * step };
}

/**
 * Round half to even, on reals (the rounding of numpy.round, torch.round and the RTL).
 *
 * @example roundHalfEven(2.5) // 2;  roundHalfEven(-1.5) // -2
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Two's-complement wrap of an integer to `bits` bits (what a register of that width keeps).
 * Exact for |v| < 2^53.
 *
 * @example wrapBits(128, 8) // -128;  wrapBits(0x1ffff, 16) // -1
 */
export function wrapBits(v: number, bits: number): number {
  const m = 2 ** bits;
  let r = v % m;
  if (r < 0) r += m;
  return r >= m / 2 ? r - m : r;
}

/** Clamp an integer to the signed range of `bits` bits. @example saturateBits(300, 8) // 127 */
export function saturateBits(v: number, bits: number): number {
  const hi = 2 ** (bits - 1) - 1;
  const lo = -(2 ** (bits - 1));
  return v > hi ? hi : v < lo ? lo : v;
}

/**
 * Integer arithmetic shift right by `shift` bits with round half to even, as the RTL does it:
 * add 2^(shift-1) when the kept LSB is odd and 2^(shift-1) - 1 when it is even, then floor.
 * Exact for |v| < 2^53 (no float rounding is involved: only floor of an exact quotient).
 *
 * @example shiftRoundHalfEven(192, 7) // 2 (1.5 -> 2);  shiftRoundHalfEven(64, 7) // 0 (0.5 -> 0)
 */
export function shiftRoundHalfEven(v: number, shift: number): number {
  if (shift === 0) return v;
  const q = 2 ** shift;
  const keptLsbOdd = Math.floor(v / q) % 2 !== 0;
  const half = 2 ** (shift - 1);
  return Math.floor((v + (keptLsbOdd ? half : half - 1)) / q);
}

/**
 * Quantise a real to its integer code: round half to even of x * 2^n, then saturate or wrap.
 * NaN is an error (a NaN has no code); +-Infinity saturates (or is an error in wrap mode).
 *
 * @example quantizeCode(0.3, Q1_7) // 38;  quantizeCode(-2, Q1_7) // -128
 */
export function quantizeCode(x: number, f: QFormat): number {
  check(!Number.isNaN(x), 'E_VALUE', () => `quantize to ${formatName(f)}: NaN has no fixed-point code`);
  const bits = f.intBits + f.fracBits;
  if (!Number.isFinite(x)) {
    check(f.overflow === 'saturate', 'E_VALUE', () => `quantize to ${formatName(f)}: ${x} cannot wrap`);
    return x > 0 ? 2 ** (bits - 1) - 1 : -(2 ** (bits - 1));
  }
  const r = roundHalfEven(x * 2 ** f.fracBits);
  return f.overflow === 'saturate' ? saturateBits(r, bits) : wrapBits(r, bits);
}

/** The real value of an integer code. @example dequantizeCode(38, Q1_7) // 0.296875 */
export function dequantizeCode(code: number, f: QFormat): number {
  return code * 2 ** -f.fracBits;
}

/** Quantise then dequantise: the value the format actually represents. */
export function quantizeValue(x: number, f: QFormat): number {
  return dequantizeCode(quantizeCode(x, f), f);
}

/** Whether x * 2^n before rounding lies outside the range (the value is clipped or wrapped). */
export function isOutOfRange(x: number, f: QFormat): boolean {
  const t = qTraits(f);
  const r = roundHalfEven(x * 2 ** f.fracBits);
  return r > t.maxCode || r < t.minCode;
}

/**
 * Quantise an array to integer codes (Int32Array holds every format up to 32 bits).
 *
 * @example quantizeArray(new Float32Array([0.5, -1]), Q1_7) // Int32Array [64, -128]
 */
export function quantizeArray(x: ArrayLike<number>, f: QFormat): Int32Array {
  checkQFormat(f);
  const out = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = quantizeCode(x[i]!, f);
  return out;
}

/** Codes back to reals, as Float32Array (exact for formats of up to 24 significant bits). */
export function dequantizeArray(codes: ArrayLike<number>, f: QFormat): Float32Array {
  checkQFormat(f);
  const out = new Float32Array(codes.length);
  const s = 2 ** -f.fracBits;
  for (let i = 0; i < codes.length; i++) out[i] = codes[i]! * s;
  return out;
}
