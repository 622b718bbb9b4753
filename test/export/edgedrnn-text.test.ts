import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import {
  formatActivationWords,
  formatRegisters,
  formatWeightImage,
  parseActivationWords,
  parseHexWords,
  parseRegisters,
  parseWeightImage,
} from '../../src/model/export/edgedrnn/text.js';
import { configFromRegisters, configToRegisters, parseTestbench } from '../../src/model/export/edgedrnn/testbench.js';
import { errorOf } from '../helpers/errors.js';


// Two lines in the layout of the published testbench files (hdl/tb/edgedrnn_tb_*.txt): hex word,
// then ` //` and the lanes in decimal, highest lane first.
const STIM_LINE = '000000000000FFF4FFDB000A00100100 // 0, 0, 0, -12, -37, 10, 16, 256,\n';
const PARAM_LINE = '1624F50D0902151B // 22, 36, -11, 13, 9, 2, 21, 27,\n';

describe('EdgeDRNN testbench text formats', () => {
  it('reads lane 0 from the lowest bits, as the comment (highest lane first) says', () => {
    expect(Array.from(parseActivationWords(STIM_LINE).codes)).toEqual([256, 16, 10, -37, -12, 0, 0, 0]);
    expect(Array.from(parseWeightImage(PARAM_LINE).weights)).toEqual([27, 21, 2, 9, 13, -11, 36, 22]);
  });

  it('writes byte for byte the published layout', () => {
    expect(formatActivationWords([256, 16, 10, -37, -12, 0, 0, 0])).toBe(STIM_LINE);
    expect(formatWeightImage([27, 21, 2, 9, 13, -11, 36, 22])).toBe(PARAM_LINE);
    expect(formatRegisters([0, 0, 0, 2, 8, 16, 16])).toBe('0000 // 0,\n0000 // 0,\n0000 // 0,\n0002 // 2,\n0008 // 8,\n0010 // 16,\n0010 // 16,\n');
  });

  it('round-trips random words (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 8, maxLength: 8 * 20 }), (v) => {
        const codes = v.slice(0, v.length - (v.length % 8));
        expect(Array.from(parseActivationWords(formatActivationWords(codes)).codes)).toEqual(codes);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 8, maxLength: 8 * 20 }), (v) => {
        const w = v.slice(0, v.length - (v.length % 8));
        expect(Array.from(parseWeightImage(formatWeightImage(w)).weights)).toEqual(w);
      }),
    );
  });

  it('accepts what $readmemh accepts: comments, blank lines, lower case, _, spaces, @address', () => {
    const text = [
      '// weights of layer 0',
      '',
      '  1624f50d_0902151b   // lower case and an underscore  ',
      '/* a block',
      '   comment */ 28280D0F2019372C',
      '@2',
      '0000000000000000 0000000000000001\t',
      '\r',
      'ff // short tokens are zero-extended',
    ].join('\n');
    const { weights, lines } = parseWeightImage(text);
    expect(weights.length).toBe(5 * 8);
    expect(Array.from(weights.slice(0, 8))).toEqual([27, 21, 2, 9, 13, -11, 36, 22]);
    expect(weights[3 * 8]).toBe(1);
    expect(Array.from(weights.slice(32, 40))).toEqual([-1, 0, 0, 0, 0, 0, 0, 0]);
    expect(lines).toEqual([3, 5, 7, 7, 9]);
  });

  it('rejects malformed words with their line number', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['0000000000000000\n00000000000000G0\n', 2, /malformed word/],
      ['0000000000000000 // ok\n\n12345678901234567\n', 3, /wider than 16/],
      ['0,1\n', 1, /malformed word/],
      ['xxxxxxxxxxxxxxxx\n', 1, /malformed word/],
      ['0000000000000000\n@5\n', 2, /address/],
      ['@zz\n', 1, /malformed address/],
    ];
    for (const [text, line, msg] of cases) {
      const e = errorOf(() => parseWeightImage(text, 'params'));
      expect(e?.code).toBe('E_FORMAT');
      expect(e?.message).toMatch(new RegExp(`params: line ${line}:`));
      expect(e?.message).toMatch(msg);
    }
    expect(errorOf(() => parseHexWords('00 /* never closed\n', 4, 'x'))?.code).toBe('E_FORMAT');
  });

  it('fuzz: a line with a non-hex character is E_FORMAT naming that line, never a silent zero', () => {
    const hexWord = fc.stringMatching(/^[0-9A-F]{32}$/);
    const junkChar = fc.constantFrom('G', 'x', 'z', '-', '+', '.', ',', ';', '#', '$', 'é');
    fc.assert(
      fc.property(fc.array(hexWord, { minLength: 1, maxLength: 30 }), fc.nat(), fc.nat(31), junkChar, (words, pick, pos, junk) => {
        const bad = pick % words.length;
        const lines = words.map((w, i) => (i === bad ? w.slice(0, pos) + junk + w.slice(pos + 1) : w) + ' // comment, 1, 2,');
        const e = errorOf(() => parseActivationWords(lines.join('\n'), 'gold'));
        expect(e?.code).toBe('E_FORMAT');
        expect(e?.message).toContain(`gold: line ${bad + 1}:`);
      }),
      { numRuns: 300 },
    );
  });

  it('fuzz: arbitrary text either parses or fails with E_FORMAT, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          const { codes } = parseActivationWords(s);
          expect(codes.length % 8).toBe(0);
        } catch (e) {
          expect(e).toBeInstanceOf(DeltakitError);
          expect((e as DeltakitError).code).toBe('E_FORMAT');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reads and writes the configuration registers', () => {
    const cfg = { weightBase: 0, thresholdX: 64, thresholdH: 32, inputSize: 40, hiddenSizes: [256, 256] };
    const text = formatRegisters(configToRegisters(cfg));
    expect(text.split('\n').length - 1).toBe(32);
    const { regs, lines } = parseRegisters(text);
    expect(configFromRegisters(regs, lines)).toEqual(cfg);
    expect(errorOf(() => configFromRegisters([0, 0, 0, 3, 8, 16, 16]))?.code).toBe('E_FORMAT');
    expect(errorOf(() => configFromRegisters([0, 0, 0, 5, 8, 16, 16, 16, 16, 16]))?.code).toBe('E_HW_LIMIT');
    expect(errorOf(() => configFromRegisters([0, 0]))?.code).toBe('E_FORMAT');
  });

  it('checks that the files agree with each other', () => {
    const creg = formatRegisters(configToRegisters({ weightBase: 0, thresholdX: 0, thresholdH: 0, inputSize: 8, hiddenSizes: [16] }));
    const params = formatWeightImage(new Int8Array(3 * 16 * (1 + 8 + 16)));
    expect(parseTestbench({ params, creg }).program.weights.length).toBe(1200);
    expect(errorOf(() => parseTestbench({ params: params + PARAM_LINE, creg }))?.message).toMatch(/needs 150 64-bit words, the file holds 151/);
    expect(errorOf(() => parseTestbench({ params, creg, stim: formatActivationWords(new Int16Array(8)) + STIM_LINE.replace('0000', '0001') }))?.code).toBeUndefined();
    const cregWide = formatRegisters(configToRegisters({ weightBase: 0, thresholdX: 0, thresholdH: 0, inputSize: 16, hiddenSizes: [16] }));
    const paramsWide = formatWeightImage(new Int8Array(3 * 16 * (1 + 16 + 16)));
    expect(errorOf(() => parseTestbench({ params: paramsWide, creg: cregWide, stim: STIM_LINE }))?.code).toBe('E_SHAPE');
  });
});
