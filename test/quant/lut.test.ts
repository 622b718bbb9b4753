import { describe, expect, it } from 'vitest';
import { roundHalfEven } from '../../src/quant/format.js';
import { sigmoidLut, tanhLut } from '../../src/quant/lut.js';

// The staircases exactly as the EdgeDRNN RTL lists them (first input of each output step), typed in
// independently of src/quant/lut.ts.
const SIGMOID_SPEC: Array<[number, number]> = [
  [-879, 16], [-580, 32], [-431, 48], [-325, 64], [-240, 80], [-165, 96], [-97, 112], [-32, 128],
  [33, 144], [98, 160], [166, 176], [241, 192], [326, 208], [432, 224], [581, 240],
];
const TANH_SPEC: Array<[number, number]> = [
  [-530, -240], [-385, -224], [-315, -208], [-268, -192], [-231, -176], [-201, -160], [-174, -144],
  [-151, -128], [-130, -112], [-110, -96], [-91, -80], [-73, -64], [-56, -48], [-40, -32], [-24, -16],
  [-8, 0], [9, 16], [25, 32], [41, 48], [57, 64], [74, 80], [92, 96], [111, 112], [131, 128],
  [152, 144], [175, 160], [202, 176], [232, 192], [269, 208], [316, 224], [386, 240],
];

describe('EdgeDRNN activation LUTs', () => {
  it('sigmoid steps at every SPEC breakpoint and not one input earlier', () => {
    let prev = 0;
    for (const [v, out] of SIGMOID_SPEC) {
      expect(sigmoidLut(v)).toBe(out);
      expect(sigmoidLut(v - 1)).toBe(prev);
      prev = out;
    }
    expect(sigmoidLut(879)).toBe(240);
    expect(sigmoidLut(880)).toBe(256);
    expect(sigmoidLut(-880)).toBe(0);
    expect(sigmoidLut(32767)).toBe(256);
    expect(sigmoidLut(-32768)).toBe(0);
  });

  it('tanh steps at every SPEC breakpoint and not one input earlier', () => {
    let prev = -256;
    for (const [v, out] of TANH_SPEC) {
      expect(tanhLut(v)).toBe(out);
      expect(tanhLut(v - 1)).toBe(prev);
      prev = out;
    }
    expect(tanhLut(530)).toBe(240);
    expect(tanhLut(531)).toBe(256);
    expect(tanhLut(-531)).toBe(-256);
    expect(tanhLut(32767)).toBe(256);
    expect(tanhLut(-32768)).toBe(-256);
  });

  it('equals round_half_even(16 f(v/256)) * 16 over the whole 16-bit input range', () => {
    let bad = 0;
    for (let v = -32768; v <= 32767; v++) {
      const s = roundHalfEven(16 / (1 + Math.exp(-v / 256))) * 16;
      const t = roundHalfEven(16 * Math.tanh(v / 256)) * 16;
      if (sigmoidLut(v) !== s || tanhLut(v) !== t) bad++;
    }
    expect(bad).toBe(0);
  });

  it('is monotone with steps of exactly 16', () => {
    for (let v = -1000; v < 1000; v++) {
      for (const f of [sigmoidLut, tanhLut]) {
        const d = f(v + 1) - f(v);
        expect(d === 0 || d === 16).toBe(true);
      }
    }
  });
});
