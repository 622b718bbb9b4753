import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Q1_7,
  Q8_8,
  dequantizeCode,
  isOutOfRange,
  parseQFormat,
  qTraits,
  quantizeArray,
  quantizeCode,
  roundHalfEven,
  saturateBits,
  shiftRoundHalfEven,
  wrapBits,
} from '../../src/quant/format.js';
import { codeOf } from '../helpers/errors.js';


describe('Qm.n formats', () => {
  it('counts the sign bit in m', () => {
    expect(qTraits(Q8_8)).toMatchObject({ bits: 16, minCode: -32768, maxCode: 32767, min: -128, max: 32767 / 256 });
    expect(qTraits(Q1_7)).toMatchObject({ bits: 8, minCode: -128, maxCode: 127, min: -1, max: 127 / 128 });
  });

  it('parses names, with saturate as the default overflow', () => {
    expect(parseQFormat('Q8.8')).toEqual({ intBits: 8, fracBits: 8, overflow: 'saturate' });
    expect(parseQFormat('q1.7:wrap')).toEqual({ intBits: 1, fracBits: 7, overflow: 'wrap' });
    for (const bad of ['Q8', '8.8', 'Q0.8', 'Q20.20', 'Q1.7:clip', '']) expect(codeOf(() => parseQFormat(bad))).toBe('E_OPTION');
  });

  it('rounds half to even at every kind of tie', () => {
    const cases: Array<[number, number]> = [
      [0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [-0.5, 0], [-1.5, -2], [-2.5, -2], [0.49999, 0], [0.50001, 1], [-0.50001, -1], [7, 7],
    ];
    // `+ 0` folds -0 into 0: the sign of a zero is not part of a fixed-point code.
    for (const [x, r] of cases) expect(roundHalfEven(x) + 0).toBe(r);
  });

  it('quantises Q1.7 by hand: ties, saturation at both ends', () => {
    expect(quantizeCode(0.3, Q1_7)).toBe(38); // 38.4 -> 38
    expect(quantizeCode(1 / 256, Q1_7)).toBe(0); // 0.5 -> 0 (even)
    expect(quantizeCode(3 / 256, Q1_7)).toBe(2); // 1.5 -> 2
    expect(quantizeCode(-3 / 256, Q1_7)).toBe(-2); // -1.5 -> -2
    expect(quantizeCode(0.996, Q1_7)).toBe(127); // 127.49 -> 127
    expect(quantizeCode(0.9961, Q1_7)).toBe(127); // 127.5008 -> 128 -> saturates to 127
    expect(quantizeCode(1, Q1_7)).toBe(127);
    expect(quantizeCode(-1, Q1_7)).toBe(-128);
    expect(quantizeCode(-1.01, Q1_7)).toBe(-128);
    expect(quantizeCode(Infinity, Q1_7)).toBe(127);
    expect(quantizeCode(-Infinity, Q8_8)).toBe(-32768);
    expect(codeOf(() => quantizeCode(NaN, Q8_8))).toBe('E_VALUE');
  });

  it('wraps instead of saturating when the format says so', () => {
    const w = parseQFormat('Q1.7:wrap');
    expect(quantizeCode(1, w)).toBe(-128); // 128 wraps
    expect(quantizeCode(-1 - 1 / 128, w)).toBe(127); // -129 wraps
    expect(quantizeCode(2, w)).toBe(0); // 256 wraps
    expect(codeOf(() => quantizeCode(Infinity, w))).toBe('E_VALUE');
  });

  it('flags out-of-range values after rounding, not before', () => {
    expect(isOutOfRange(127.4 / 128, Q1_7)).toBe(false);
    expect(isOutOfRange(127.6 / 128, Q1_7)).toBe(true);
    expect(isOutOfRange(-128.5 / 128, Q1_7)).toBe(false); // -128.5 rounds to -128 (even)
    expect(isOutOfRange(-128.6 / 128, Q1_7)).toBe(true);
  });

  it('wraps and saturates integers to a register width', () => {
    expect(wrapBits(128, 8)).toBe(-128);
    expect(wrapBits(-129, 8)).toBe(127);
    expect(wrapBits(0x1ffff, 16)).toBe(-1);
    expect(wrapBits(2 ** 23, 24)).toBe(-(2 ** 23));
    expect(wrapBits(-(2 ** 23) - 1, 24)).toBe(2 ** 23 - 1);
    expect(saturateBits(300, 8)).toBe(127);
    expect(saturateBits(-300, 8)).toBe(-128);
    expect(saturateBits(-5, 8)).toBe(-5);
  });

  it('shifts with round half to even like the RTL, on hand cases', () => {
    // Units of 2^-7: 64 = 0.5, 192 = 1.5, -64 = -0.5, -192 = -1.5, 320 = 2.5.
    expect(shiftRoundHalfEven(64, 7)).toBe(0);
    expect(shiftRoundHalfEven(192, 7)).toBe(2);
    expect(shiftRoundHalfEven(320, 7)).toBe(2);
    expect(shiftRoundHalfEven(-64, 7) + 0).toBe(0);
    expect(shiftRoundHalfEven(-192, 7)).toBe(-2);
    expect(shiftRoundHalfEven(65, 7)).toBe(1);
    expect(shiftRoundHalfEven(63, 7)).toBe(0);
    expect(shiftRoundHalfEven(-65, 7)).toBe(-1);
    expect(shiftRoundHalfEven(5, 0)).toBe(5);
  });

  it('shift rounding equals round-half-even of the exact quotient (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 26), max: 2 ** 26 }), fc.integer({ min: 1, max: 12 }), (v, s) => {
        expect(shiftRoundHalfEven(v, s) + 0).toBe(roundHalfEven(v / 2 ** s) + 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('quantise then dequantise is within half a step inside the range (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: -127, max: 127, noNaN: true }), (x) => {
        const c = quantizeCode(x, Q8_8);
        expect(Math.abs(dequantizeCode(c, Q8_8) - x)).toBeLessThanOrEqual(1 / 512);
      }),
    );
    expect(Array.from(quantizeArray([0.5, -1, 2], Q1_7))).toEqual([64, -128, 127]);
  });
});
