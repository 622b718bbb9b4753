import { describe, expect, it } from 'vitest';
import { gruStepRef, lstmStepRef, qrnnStepRef, sruStepRef, linearRef } from '../../src/cells/index.js';
import type { GruLayer, LstmLayer, QrnnLayer, SruLayer } from '../../src/model/types.js';

const sig = (v: number) => 1 / (1 + Math.exp(-v));
const f32 = (a: number[]) => Float32Array.from(a);

// Hand-computed single-unit cases: each equation of PyTorch's cell definitions checked on numbers worked out here.
describe('float64 references, hand-computed', () => {
  it('GRU applies the reset gate after the hidden product (PyTorch form)', () => {
    // I = H = 1; W_ir=0.5, W_iz=-0.25, W_in=1; W_hr=0.3, W_hz=0.2, W_hn=-0.7; biases distinct.
    const layer: GruLayer = {
      kind: 'gru', inputSize: 1, hiddenSize: 1,
      weightIh: f32([0.5, -0.25, 1]), weightHh: f32([0.3, 0.2, -0.7]),
      biasIh: f32([0.1, 0.2, 0.3]), biasHh: f32([-0.1, 0.05, 0.4]),
    };
    const x = 0.8, h = 0.6;
    const r = sig(0.5 * x + 0.1 + 0.3 * h - 0.1);
    const z = sig(-0.25 * x + 0.2 + 0.2 * h + 0.05);
    const n = Math.tanh(1 * x + 0.3 + r * (-0.7 * h + 0.4));
    const expected = (1 - z) * n + z * h;
    expect(gruStepRef(layer, [x], [h])[0]).toBeCloseTo(expected, 6);
  });

  it('LSTM gates i, f, g, o', () => {
    const layer: LstmLayer = {
      kind: 'lstm', inputSize: 1, hiddenSize: 1,
      weightIh: f32([0.5, -0.5, 0.25, 1]), weightHh: f32([0.1, 0.2, 0.3, 0.4]),
      biasIh: f32([0, 0.5, 0, -0.5]), biasHh: f32([0.25, 0, 0.125, 0]),
    };
    const x = 0.5, h = -0.25, c = 0.75;
    const i = sig(0.25 + 0.25 - 0.025), f = sig(-0.25 + 0.5 - 0.05), g = Math.tanh(0.125 + 0.125 - 0.075), o = sig(0.5 - 0.5 - 0.1);
    const c1 = f * c + i * g;
    const s = lstmStepRef(layer, [x], { h: Float64Array.of(h), c: Float64Array.of(c) });
    expect(s.c[0]).toBeCloseTo(c1, 6);
    expect(s.h[0]).toBeCloseTo(o * Math.tanh(c1), 6);
  });

  it('SRU with I == H uses x as the highway; with I != H a fourth projection', () => {
    const same: SruLayer = { kind: 'sru', inputSize: 1, hiddenSize: 1, weight: f32([2, 0.5, -1]), bias: f32([0.25, 0.5]) };
    const x = 0.5, c = 0.2;
    const f = sig(0.25 + 0.25), r = sig(-0.5 + 0.5);
    const c1 = f * c + (1 - f) * 1;
    const out = sruStepRef(same, [x], { c: Float64Array.of(c) });
    expect(out.state.c[0]).toBeCloseTo(c1, 6);
    expect(out.h[0]).toBeCloseTo(r * Math.tanh(c1) + (1 - r) * x, 6);
    const proj: SruLayer = { kind: 'sru', inputSize: 2, hiddenSize: 1, weight: f32([1, 0, 0, 1, 1, 1, 0.5, -0.5]), bias: f32([0, 0]) };
    const p = sruStepRef(proj, [0.2, 0.4], { c: Float64Array.of(0) });
    const f2 = sig(0.4), r2 = sig(0.6);
    const c2 = (1 - f2) * 0.2;
    expect(p.h[0]).toBeCloseTo(r2 * Math.tanh(c2) + (1 - r2) * (0.1 - 0.2), 6);
  });

  it('QRNN window 2 reads the previous input; h = o * c', () => {
    const layer: QrnnLayer = { kind: 'qrnn', inputSize: 1, hiddenSize: 1, window: 2, weight: f32([1, 2, 0.5, -0.5, 1, 1]), bias: f32([0, 0.1, -0.1]) };
    const s1 = qrnnStepRef(layer, [0.3], { c: Float64Array.of(0), xPrev: Float64Array.of(0) });
    const s2 = qrnnStepRef(layer, [0.6], s1.state);
    const z = Math.tanh(0.6 + 2 * 0.3), f = sig(0.3 - 0.15 + 0.1), o = sig(0.6 + 0.3 - 0.1);
    const c1 = s1.state.c[0]!;
    expect(s2.h[0]).toBeCloseTo(o * (f * c1 + (1 - f) * z), 6);
  });

  it('Linear activations', () => {
    const base = { kind: 'linear' as const, inputSize: 2, outputSize: 2, weight: f32([1, -1, 0.5, 0.5]), bias: f32([0, -1]) };
    expect(Array.from(linearRef({ ...base, activation: 'none' }, [1, 2]))).toEqual([-1, 0.5]);
    expect(Array.from(linearRef({ ...base, activation: 'relu' }, [1, 2]))).toEqual([0, 0.5]);
    expect(linearRef({ ...base, activation: 'tanh' }, [1, 2])[0]).toBeCloseTo(Math.tanh(-1), 12);
  });
});
