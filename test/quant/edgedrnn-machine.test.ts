import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import {
  type EdgeDrnnConfig,
  type EdgeDrnnProgram,
  checkHardwareLimits,
  hardwareWarnings,
  weightImageSize,
} from '../../src/quant/edgedrnn/hardware.js';
import { EdgeDrnnMachine, runEdgeDrnn } from '../../src/quant/edgedrnn/machine.js';
import { codeOf } from '../helpers/errors.js';

const H = 16;
const I = 8;
const ROWS = 3 * H;

function config(over: Partial<EdgeDrnnConfig> = {}): EdgeDrnnConfig {
  return { weightBase: 0, thresholdX: 0, thresholdH: 0, inputSize: I, hiddenSizes: [H], ...over };
}

/** A one-layer program with all weights 0 except the listed (column, row, value). */
function program(entries: Array<[number, number, number]>, over: Partial<EdgeDrnnConfig> = {}): EdgeDrnnProgram {
  const c = config(over);
  const weights = new Int8Array(weightImageSize(c));
  for (const [col, row, v] of entries) weights[col * ROWS + row] = v;
  return { config: c, weights };
}

/** Column of input i, of hidden unit j; row of gate g (0 r, 1 z, 2 n) unit k. */
const colX = (i: number) => 1 + i;
const colH = (j: number) => 1 + I + j;
const row = (g: number, k: number) => g * H + k;

function frame(values: Record<number, number>): Int32Array {
  const x = new Int32Array(I);
  for (const [i, v] of Object.entries(values)) x[Number(i)] = v;
  return x;
}


describe('EdgeDRNN bit-exact machine: hand-computed corners', () => {
  it('rounds the candidate pre-activation half to even (Mnx = 8.5 -> 8, 9.5 -> 10 in Q8.8)', () => {
    // Unit 0: Mnx = 64 * 17 = 1088 = 8.5 * 128 -> pre_n 8 -> tanh 0 -> h 0.
    // Unit 1: Mnx = 64 * 19 = 1216 = 9.5 * 128 -> pre_n 10 -> tanh 16; z = sig(0) = 128 -> h = 128*16/256 = 8.
    // Unit 2: Mnx = 99 * 11 = 1089 -> 8.5078 -> 9 -> tanh 16 -> h 8.
    const p = program([
      [colX(0), row(2, 0), 64],
      [colX(1), row(2, 1), 64],
      [colX(2), row(2, 2), 99],
    ]);
    const h = new EdgeDrnnMachine(p).step(frame({ 0: 17, 1: 19, 2: 11 }));
    expect(Array.from(h.slice(0, 4))).toEqual([0, 8, 8, 0]);
  });

  it('rounds z*h_prev half to even: h1 = 13, then 128*13/256 = 6.5 -> 6', () => {
    // Step 1: Mz = -100 * 512 -> pre_z -400 -> z 48; Mnx = 100 * 20 = 2000 -> 15.6 -> 16 -> n 16.
    //   h1 = rnd((256-48)*16/256) + rnd(48*0/256) = 13.
    // Step 2: input 0 back to 0 (delta -512 fires) -> Mz 0 -> z 128; n still 16.
    //   h2 = rnd(128*16/256) + rnd(128*13/256) = 8 + rnd(6.5) = 8 + 6 = 14 (half-up would give 15).
    const p = program([
      [colX(0), row(1, 0), -100],
      [colX(1), row(2, 0), 100],
    ]);
    const m = new EdgeDrnnMachine(p);
    expect(m.step(frame({ 0: 512, 1: 20 }))[0]).toBe(13);
    expect(m.step(frame({ 0: 0, 1: 20 }))[0]).toBe(14);
  });

  it('multiplies r into round7(Mnh) and aligns 2*Mnx, in the RTL order', () => {
    // Unit 0, step 1: Mnh = 0 (h_prev = 0). h1: Mnx = 127 * 100 = 12700 -> 99.2 -> 99 -> n = 96 (92..110);
    //   z = 128 -> h1 = 48.
    // Step 2: hidden 0 fires (dh = 48) into Mnh with weight 100: Mnh = 4800 -> round7 = 37.5 -> 38;
    //   r = sig(0) = 128; 2*Mnx + r*q = 25400 + 128*38 = 30264 -> /256 = 118.2 -> 118 -> n = 112;
    //   h2 = rnd(128*112/256) + rnd(128*48/256) = 56 + 24 = 80.
    const p = program([
      [colX(0), row(2, 0), 127],
      [colH(0), row(2, 0), 100],
    ]);
    const m = new EdgeDrnnMachine(p);
    expect(m.step(frame({ 0: 100 }))[0]).toBe(48);
    expect(m.step(frame({ 0: 100 }))[0]).toBe(80);
    expect(m.state.layers[0]!.mnh[0]).toBe(4800);
    expect(m.state.layers[0]!.mnx[0]).toBe(12700);
  });

  it('wraps accumulators at 24 bits and pre-activations at 16 bits', () => {
    // 8 inputs of 32767 with weight 127 on the r row: 8 * 127 * 32767 = 33291272, which a
    // 24-bit register holds as 33291272 - 2 * 2^24 = -263160.
    const big = program(Array.from({ length: 8 }, (_, i) => [colX(i), row(0, 0), 127] as [number, number, number]));
    const m = new EdgeDrnnMachine(big);
    m.step(frame(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [i, 32767]))));
    expect(m.state.layers[0]!.mr[0]).toBe(-263160);
    // Pre-activation wrap: Mz = 8 * 127 * 4141 = 4207256 -> /128 = 32869.2 -> 32869, which wraps
    // to 32869 - 65536 = -32667 in 16 bits -> sigmoid 0 (saturation would give 256).
    // With z = 0 and n = 0: h = 0 either way, so read z through h: put n = 16 via unit 0's n row.
    const wrapZ = program([
      ...Array.from({ length: 8 }, (_, i) => [colX(i), row(1, 0), 127] as [number, number, number]),
      [colX(0), row(2, 0), 1],
    ]);
    const m2 = new EdgeDrnnMachine(wrapZ);
    // n: Mnx = 4141 -> 32.4 -> 32 -> tanh 32 (25..40); z = 0 -> h = rnd(256 * 32 / 256) = 32.
    // Had the pre-activation saturated, z = 256 and h = 0.
    const h = m2.step(frame(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [i, 4141]))));
    expect(h[0]).toBe(32);
  });

  it('wraps the input delta at 16 bits (x from 32767 to -32768 is a delta of +1)', () => {
    const p = program([[colX(0), row(0, 0), 1]]);
    const m = new EdgeDrnnMachine(p);
    m.step(frame({ 0: 32767 }));
    expect(m.state.layers[0]!.mr[0]).toBe(32767);
    m.step(frame({ 0: -32768 }));
    expect(m.state.layers[0]!.mr[0]).toBe(32768);
    expect(m.state.layers[0]!.xPrev[0]).toBe(-32768);
  });

  it('fires when |delta| >= threshold (inclusive) and only then updates the remembered value', () => {
    const p = program([[colX(0), row(0, 0), 1]], { thresholdX: 5 });
    const m = new EdgeDrnnMachine(p);
    m.step(frame({ 0: 4 }));
    expect(m.stats().layers[0]!.firedX).toBe(0);
    expect(m.state.layers[0]!.xPrev[0]).toBe(0);
    m.step(frame({ 0: 5 }));
    expect(m.stats().layers[0]!.firedX).toBe(1);
    expect(m.state.layers[0]!.xPrev[0]).toBe(5);
    m.step(frame({ 0: 1 })); // delta -4: below
    m.step(frame({ 0: 0 })); // delta -5: fires
    expect(m.stats().layers[0]!.firedX).toBe(2);
    expect(m.state.layers[0]!.mr[0]).toBe(0);
  });

  it('adds the bias column once after reset, and again after reset()', () => {
    const p = program([[0, row(0, 0), 3]]);
    const m = new EdgeDrnnMachine(p);
    m.step(frame({}));
    m.step(frame({}));
    expect(m.state.layers[0]!.mr[0]).toBe(3 * 256);
    expect(m.stats().layers[0]!.firedBias).toBe(1);
    m.reset();
    m.step(frame({}));
    expect(m.state.layers[0]!.mr[0]).toBe(3 * 256);
    expect(m.stats()).toEqual({ steps: 1, layers: [{ firedBias: 1, firedX: 0, firedH: 0 }] });
  });

  it('never adds the biases when thx > 256/256, and warns about it', () => {
    const at = new EdgeDrnnMachine(program([[0, row(0, 0), 3]], { thresholdX: 256 }));
    at.step(frame({}));
    expect(at.state.layers[0]!.mr[0]).toBe(768);
    const above = new EdgeDrnnMachine(program([[0, row(0, 0), 3]], { thresholdX: 257 }));
    above.step(frame({}));
    above.step(frame({}));
    expect(above.state.layers[0]!.mr[0]).toBe(0);
    expect(hardwareWarnings(config({ thresholdX: 257 })).join()).toMatch(/never adds the biases/);
    expect(hardwareWarnings(config({ thresholdX: 256 }))).toEqual([]);
  });

  it('reads threshold registers as 10-bit signed: 1023 is -1, so every nonzero delta fires', () => {
    const m = new EdgeDrnnMachine(program([[colX(0), row(0, 0), 1]], { thresholdX: 1023 }));
    m.step(frame({ 0: 1 }));
    m.step(frame({ 0: 1 })); // zero delta never fires
    expect(m.stats().layers[0]).toEqual({ firedBias: 1, firedX: 1, firedH: 0 });
    expect(hardwareWarnings(config({ thresholdX: 1023 })).join()).toMatch(/wraps/);
  });

  it('traces the fired input and hidden indices per step, consistent with the counters', () => {
    const m = new EdgeDrnnMachine(program([[colX(1), row(2, 1), 64]], { thresholdX: 5, thresholdH: 1 }), { trace: true });
    m.step(frame({ 0: 5, 1: 19, 3: -7, 4: 4 }));
    m.step(frame({ 0: 5, 1: 19, 3: -7, 4: 4 }));
    const t = m.trace();
    expect(t.length).toBe(2);
    expect(Array.from(t[0]![0]!.firedX)).toEqual([0, 1, 3]);
    expect(Array.from(t[0]![0]!.firedH)).toEqual([]);
    expect(Array.from(t[1]![0]!.firedX)).toEqual([]);
    expect(Array.from(t[1]![0]!.firedH)).toEqual([1]); // h1[1] = 8 (see the rounding case)
    expect(m.stats().layers[0]).toEqual({ firedBias: 1, firedX: 3, firedH: 1 });
    m.reset();
    expect(m.trace()).toEqual([]);
    expect(new EdgeDrnnMachine(program([])).trace()).toEqual([]);
  });

  it('tests hidden deltas against thh, not thx', () => {
    // h1 = 8 on unit 1 (as in the rounding case); thh = 9 keeps it from firing, thh = 8 lets it.
    for (const [thh, fired] of [[9, 0], [8, 1]] as const) {
      const m = new EdgeDrnnMachine(program([[colX(1), row(2, 1), 64]], { thresholdH: thh }));
      m.step(frame({ 1: 19 }));
      m.step(frame({ 1: 19 }));
      expect(m.stats().layers[0]!.firedH).toBe(fired);
    }
  });
});

describe('EdgeDRNN hardware limits', () => {
  const cases: Array<[Partial<EdgeDrnnConfig>, RegExp]> = [
    [{ hiddenSizes: [24, 24, 24, 24, 24] }, /at most 4 layers/],
    [{ hiddenSizes: [12] }, /multiple of 8/],
    [{ hiddenSizes: [8] }, /at least 16/],
    [{ hiddenSizes: [1032] }, /at most 1024/],
    [{ hiddenSizes: [16, 32] }, /same H/],
    [{ inputSize: 5 }, /multiple of 8/],
    [{ thresholdX: 512 }, /at most 511\/256/],
    [{ thresholdH: 600 }, /at most 511\/256/],
    [{ hiddenSizes: [] }, /1\.\.4/],
  ];
  for (const [over, msg] of cases) {
    it(`rejects ${JSON.stringify(over)} naming the limit`, () => {
      let err: unknown;
      try {
        checkHardwareLimits(config(over));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DeltakitError);
      expect((err as DeltakitError).code).toBe('E_HW_LIMIT');
      expect((err as DeltakitError).message).toMatch(msg);
    });
  }

  it('accepts the published testbench configuration and 4 x 1024', () => {
    checkHardwareLimits(config({ hiddenSizes: [16, 16] }));
    checkHardwareLimits(config({ hiddenSizes: [1024, 1024, 1024, 1024], inputSize: 1024, thresholdX: 511, thresholdH: 511 }));
  });

  it('rejects a weight image of the wrong size and a frame of the wrong length', () => {
    expect(codeOf(() => new EdgeDrnnMachine({ config: config(), weights: new Int8Array(10) }))).toBe('E_SHAPE');
    expect(codeOf(() => new EdgeDrnnMachine(program([])).step(new Int32Array(5)))).toBe('E_SHAPE');
  });
});

// ---------------------------------------------------------------------------------------------
// An independent fixed-point dense GRU: no deltas, no wrapping accumulators; the memories are
// recomputed every step as full products (Mr = 256 b_r + W_ir x + W_hr h, ...), rounding by exact
// rational arithmetic and activations by their defining formula. With thresholds 0 the delta
// machine must equal it bit for bit (the 24-bit wrap cannot show through the 16-bit
// pre-activation, whose bits are accumulator bits 7..22).
function rheExact(num: number, den: number): number {
  const q = Math.floor(num / den);
  const r = num - q * den;
  if (2 * r < den) return q;
  if (2 * r > den) return q + 1;
  return q % 2 === 0 ? q : q + 1;
}
const w16 = (v: number) => {
  const r = ((v % 65536) + 65536) % 65536;
  return r >= 32768 ? r - 65536 : r;
};
const sigRef = (v: number) => {
  const y = 16 / (1 + Math.exp(-v / 256));
  return rheExact(Math.round(y * 2 ** 20), 2 ** 20) * 16;
};
const tanhRef = (v: number) => rheExact(Math.round(16 * Math.tanh(v / 256) * 2 ** 20), 2 ** 20) * 16;

function denseFixedGru(p: EdgeDrnnProgram, stim: Int32Array): Int32Array {
  const cfg = p.config;
  const L = cfg.hiddenSizes.length;
  const Hh = cfg.hiddenSizes[0]!;
  const T = stim.length / cfg.inputSize;
  const hs = cfg.hiddenSizes.map((h) => new Array<number>(h).fill(0));
  const out = new Int32Array(T * Hh);
  let colBase = 0;
  const bases: number[] = [];
  for (let l = 0; l < L; l++) {
    bases.push(colBase);
    colBase += 1 + (l === 0 ? cfg.inputSize : Hh) + Hh;
  }
  const wAt = (l: number, col: number, r: number) => p.weights[(bases[l]! + col) * 3 * Hh + r]!;
  for (let t = 0; t < T; t++) {
    let x: number[] = Array.from(stim.slice(t * cfg.inputSize, (t + 1) * cfg.inputSize));
    for (let l = 0; l < L; l++) {
      const In = x.length;
      const hPrev = hs[l]!;
      const hNew: number[] = [];
      for (let k = 0; k < Hh; k++) {
        const gate = (g: number, withX: boolean, withH: boolean) => {
          let m = withX ? 256 * wAt(l, 0, g * Hh + k) : 0;
          if (withX) for (let i = 0; i < In; i++) m += wAt(l, 1 + i, g * Hh + k) * x[i]!;
          if (withH) for (let j = 0; j < Hh; j++) m += wAt(l, 1 + In + j, g * Hh + k) * hPrev[j]!;
          return m;
        };
        const r = sigRef(w16(rheExact(gate(0, true, true), 128)));
        const z = sigRef(w16(rheExact(gate(1, true, true), 128)));
        const qMnh = w16(rheExact(gate(2, false, true), 128));
        const n = tanhRef(w16(rheExact(2 * gate(2, true, false) + r * qMnh, 256)));
        hNew.push(w16(w16(rheExact((256 - z) * n, 256)) + w16(rheExact(z * hPrev[k]!, 256))));
      }
      hs[l] = hNew;
      x = hNew;
    }
    out.set(x, t * Hh);
  }
  return out;
}

describe('EdgeDRNN machine with thresholds 0 equals an independent fixed-point dense GRU', () => {
  it('bit for bit on random programs and stimuli (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 2 }),
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.integer({ min: 2, max: 12 }),
        fc.constantFrom(256, 2048, 16384),
        (L, inWords, seed, T, amp) => {
          const cfg = config({ hiddenSizes: new Array(L).fill(H), inputSize: 8 * inWords });
          // Small seeded LCG: fast-check picks the seed, the test fills thousands of weights.
          let s = seed >>> 0;
          const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
          const weights = new Int8Array(weightImageSize(cfg));
          for (let i = 0; i < weights.length; i++) weights[i] = Math.floor(next() * 256) - 128;
          const stim = new Int32Array(T * cfg.inputSize);
          // Keep |x - xPrev| < 2^15 so the 16-bit delta never wraps (the dense form has no deltas).
          for (let i = 0; i < stim.length; i++) stim[i] = Math.floor((next() * 2 - 1) * amp);
          const p = { config: cfg, weights };
          expect(Array.from(runEdgeDrnn(p, stim))).toEqual(Array.from(denseFixedGru(p, stim)));
        },
      ),
      { numRuns: 40 },
    );
  });
});
