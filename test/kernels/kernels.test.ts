/**
 * Differential tests: every WebAssembly kernel against its float64 reference in
 * src/kernels/ref/, on every build this engine runs (relaxed SIMD on Node 22+, SIMD128, scalar),
 * asserting which build ran (loader path + the module's own simd_build / relaxed_build flags).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { kernelBuild, loadKernels, wasmSimdSupported, type WasmKernels } from '../../src/kernels/wasm/loader.js';
import { activationCodesRef, CODE_QMAX, packRows8F32, packRows8I8, rowSums } from '../../src/kernels/ref/pack.js';
import { BUILDS_HERE, DEFAULT_BUILD_EXPECTED, PATH_OF_BUILD } from '../helpers/builds.js';
import { int16QMax, matmatRef, matvecI8Ref, matvecRef, quantizeI16Ref } from '../../src/kernels/ref/matvec.js';
import { deltaAccumulateI8Ref, deltaAccumulateRef, deltaEncodeRef } from '../../src/kernels/ref/delta.js';
import { gruGatesRef, lstmGatesRef, qrnnStepsRef, sruStepsRef } from '../../src/kernels/ref/gates.js';
import { quantizeI8 } from '../../src/kernels/ref/quantize.js';

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

it('the fastest build this engine runs correctly is the one that loads by default', () => {
  expect(wasmSimdSupported()).toBe(true);
  expect(kernelBuild()).toBe(DEFAULT_BUILD_EXPECTED);
  const k = loadKernels();
  expect(k.path).toBe(PATH_OF_BUILD[DEFAULT_BUILD_EXPECTED]);
  expect(k.exports.simd_build()).toBe(1);
  expect(k.exports.relaxed_build()).toBe(DEFAULT_BUILD_EXPECTED === 'relaxed-simd' ? 1 : 0);
  expect(loadKernels({ simd: false }).exports.simd_build()).toBe(0);
});

describe.each(BUILDS_HERE)('%s kernels match their references', (build) => {
  const k: WasmKernels = loadKernels({ build });
  const fused = build === 'relaxed-simd';
  it('runs the requested build', () => {
    expect(k.path).toBe(PATH_OF_BUILD[build]);
    expect(k.build).toBe(build);
    expect(k.exports.simd_build()).toBe(build === 'scalar' ? 0 : 1);
    expect(k.exports.relaxed_build()).toBe(fused ? 1 : 0);
  });

  const put = (data: ArrayLike<number>, kind: 'f32' | 'i32' | 'i16' | 'i8' = 'f32'): number => {
    const bytes = { f32: 4, i32: 4, i16: 2, i8: 1 }[kind];
    const p = k.alloc(data.length * bytes + 64);
    const view = kind === 'f32' ? k.f32(p, data.length) : kind === 'i32' ? k.i32(p, data.length) : kind === 'i16' ? k.i16(p, data.length) : k.i8(p, data.length);
    view.set(data as ArrayLike<number>);
    return p;
  };

  it.each([[4, 4], [8, 12], [64, 40], [132, 256]])('matvec_f32 %i x %i', (rows, cols) => {
    const rng = new Rng(rows * 1000 + cols);
    const w = rng.uniformArray(rows * cols, -1, 1);
    const b = rng.uniformArray(rows, -1, 1);
    const x = rng.uniformArray(cols, -1, 1);
    const pw = put(w), pb = put(b), px = put(x), py = k.alloc(rows * 4);
    k.exports.matvec_f32(pw, pb, rows, cols, px, py);
    const ref = matvecRef(w, b, rows, cols, x);
    expect(maxDiff(k.f32(py, rows), ref)).toBeLessThan(1e-5 * Math.sqrt(cols));
  });

  it.each([[4, 16], [12, 48], [64, 1024]])('quantize_i16 and matvec_i8 %i x %i (integer sums exact)', (rows, cols) => {
    const rng = new Rng(rows + cols);
    const wf = rng.uniformArray(rows * cols, -1, 1);
    const { q, scale } = quantizeI8(wf, rows, cols, 'row');
    const b = rng.uniformArray(rows, -1, 1);
    const x = new Float32Array(rng.uniformArray(cols, -3, 3));
    const qmax = int16QMax(cols);
    const px = put(x), pxq = k.alloc(cols * 2);
    const s = k.exports.quantize_i16(px, cols, qmax, pxq);
    const refQ = quantizeI16Ref(x, qmax);
    expect(s).toBe(refQ.scale);
    expect(Array.from(k.i16(pxq, cols))).toEqual(Array.from(refQ.xq));
    const pw = put(q, 'i8'), ps = put(scale), pb = put(b), py = k.alloc(rows * 4);
    k.exports.matvec_i8(pw, ps, pb, rows, cols, pxq, s, py);
    const ref = matvecI8Ref(q, scale, b, rows, cols, refQ.xq, refQ.scale);
    // Only the final scaling is float32: relative error of a few ulps of each row's magnitude.
    const y = k.f32(py, rows);
    for (let r = 0; r < rows; r++) expect(Math.abs(y[r]! - ref.y[r]!)).toBeLessThan(1e-6 * (Math.abs(ref.acc[r]! * scale[r]! * s) + Math.abs(b[r]!) + 1));
  });

  it('matvec_i8 sums stay exact at the extreme values int16QMax allows', () => {
    const rows = 4, cols = 4096;
    const q = new Int8Array(rows * cols).fill(-127);
    const qmax = int16QMax(cols);
    const xq = new Int16Array(cols).fill(-qmax);
    const pw = put(q, 'i8'), pxq = put(xq, 'i16'), ps = put(new Float32Array(rows).fill(1)), pb = put(new Float32Array(rows)), py = k.alloc(16);
    k.exports.matvec_i8(pw, ps, pb, rows, cols, pxq, 1, py);
    const ref = matvecI8Ref(q, new Float32Array(rows).fill(1), new Float32Array(rows), rows, cols, xq, 1);
    expect(ref.acc[0]).toBe(127 * qmax * cols); // no int32 wrap in the reference either
    expect(Array.from(k.f32(py, rows))).toEqual(Array.from(ref.y, (v) => Math.fround(v)));
  });

  it.each([0, 0.3, 0.9])('delta_encode at threshold %f (inclusive)', (th) => {
    const rng = new Rng(7);
    const n = 37;
    const x = new Float32Array(rng.uniformArray(n, -1, 1));
    const prev = new Float32Array(rng.uniformArray(n, -1, 1));
    // One delta exactly at the threshold must fire (|d| >= th).
    prev[5] = Math.fround(x[5]! - Math.fround(th));
    const refPrev = new Float32Array(prev);
    const px = put(x), pp = put(prev), pi = k.alloc(n * 4), pv = k.alloc(n * 4);
    const cnt = k.exports.delta_encode(px, pp, n, th, pi, pv);
    const ref = deltaEncodeRef(x, refPrev, Math.fround(th));
    expect(cnt).toBe(ref.idx.length);
    expect(Array.from(k.i32(pi, cnt))).toEqual(ref.idx);
    expect(maxDiff(k.f32(pv, cnt), ref.vals)).toBeLessThan(1e-6);
    expect(Array.from(k.f32(pp, n))).toEqual(Array.from(refPrev));
    if (Math.fround(x[5]! - prev[5]!) === Math.fround(th)) expect(ref.idx).toContain(5);
  });

  // int8: every count of leftover columns (n mod 8 = 0..7) with and without groups of eight,
  // and more than one chunk of 512 columns (600, 1030), on row ranges [0, ld) and [16, 48).
  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 23, 50, 600, 1030])('delta_f32 and delta_i8 with %i fired columns', (nFired) => {
    const rng = new Rng(11 + nFired);
    const ld = 96, cols = 1100;
    const w = rng.uniformArray(ld * cols, -1, 1); // column-major: column j at j*ld
    const idx: number[] = [];
    for (let j = 0; j < cols && idx.length < nFired; j++) if (rng.uniform(0, 1) < 0.95) idx.push(j);
    while (idx.length < nFired) idx.push(idx.length);
    const vals = rng.uniformArray(idx.length, -1, 1);
    const acc0 = rng.uniformArray(ld, -1, 1);
    // int8 with per-row scales: quantise the (ld, cols) row-major view, store it column-major.
    const rowMajor = new Float32Array(ld * cols);
    for (let j = 0; j < cols; j++) for (let r = 0; r < ld; r++) rowMajor[r * cols + j] = w[j * ld + r]!;
    const qm = quantizeI8(rowMajor, ld, cols, 'row');
    const qcm = new Int8Array(ld * cols);
    for (let j = 0; j < cols; j++) for (let r = 0; r < ld; r++) qcm[j * ld + r] = qm.q[r * cols + j]!;
    for (const [r0, r1] of [[0, ld], [16, 48]] as const) {
      const pw = put(w), pi = put(idx, 'i32'), pv = put(vals), pa = put(acc0);
      k.exports.delta_f32(pw, ld, r0, r1, pi, pv, idx.length, pa);
      const ref = Float64Array.from(acc0);
      deltaAccumulateRef(w, ld, r0, r1, idx, Float32Array.from(vals), idx.length, ref);
      expect(maxDiff(k.f32(pa, ld), ref)).toBeLessThan(1e-5 * Math.sqrt(nFired + 1));
      const err0 = new Float32Array(rng.uniformArray(cols, -1e-4, 1e-4));
      const pq = put(qcm, 'i8'), ps = put(qm.scale), pa8 = put(acc0), pt = k.alloc(ld * 4), pe = put(err0);
      const wide0 = k.exports.delta_i8_wide_passes();
      k.exports.delta_i8(pq, ld, r0, r1, ps, pi, pv, idx.length, pa8, pt, pe);
      // The SIMD builds run every full group of eight columns (per chunk of 512) as one wide
      // pass; the scalar build has no wide path.
      let groups = 0;
      for (let k0 = 0; k0 < nFired; k0 += 512) groups += Math.min(512, nFired - k0) >> 3;
      expect(k.exports.delta_i8_wide_passes() - wide0).toBe(build === 'scalar' ? 0 : groups);
      const ref8 = Float64Array.from(acc0);
      const err = new Float32Array(err0);
      const sums = deltaAccumulateI8Ref(qcm, ld, r0, r1, qm.scale, idx, vals, idx.length, ref8, err);
      // The integer sums of the last chunk and the carried errors are exact; only the final
      // scaling is float32.
      expect(Array.from(k.i32(pt, ld).subarray(r0, r1))).toEqual(Array.from(sums.subarray(r0, r1)));
      expect(Array.from(k.f32(pe, cols))).toEqual(Array.from(err));
      expect(maxDiff(k.f32(pa8, ld), ref8)).toBeLessThan(1e-5 * Math.sqrt(nFired + 1));
      // Rows outside [r0, r1) are untouched.
      if (r0 > 0) expect(k.f32(pa8, ld)[0]).toBe(Math.fround(acc0[0]!));
    }
  });

  it('delta_i8 coefficients quantise the deltas to 16 bits relative to the largest one', () => {
    const ld = 16;
    const q = new Int8Array(ld * 2).fill(1);
    const vals = new Float32Array([1, 1e-6]);
    const pq = put(q, 'i8'), ps = put(new Float32Array(ld).fill(1)), pi = put([0, 1], 'i32'), pv = put(vals), pa = k.alloc(ld * 4), pt = k.alloc(ld * 4), pe = k.alloc(8);
    k.exports.delta_i8(pq, ld, 0, ld, ps, pi, pv, 2, pa, pt, pe);
    // 1e-6 is below half a quantisation step (1/65534) of the largest delta: it rounds to 0 and
    // is carried in err to the element's next delta instead of being lost.
    expect(k.i32(pt, ld)[0]).toBe(32767);
    expect(Math.abs(k.f32(pa, ld)[0]! - 1)).toBeLessThan(1e-6);
    expect(k.f32(pe, 2)[1]).toBe(Math.fround(1e-6));
    // 40 more such deltas of element 1 alone: the carried error makes them count.
    const pi1 = put([1], 'i32'), pv1 = put([1e-6]);
    k.f32(pa, ld).fill(0);
    for (let s = 0; s < 40; s++) k.exports.delta_i8(pq, ld, 0, ld, ps, pi1, pv1, 1, pa, pt, pe);
    expect(Math.abs(k.f32(pa, ld)[0]! + k.f32(pe, 2)[1]! - 41e-6)).toBeLessThan(1e-9);
  });

  it.each([[8, 8], [16, 40], [64, 256], [200, 776]])('matvec_f32_p8 %i x %i (8-row packed layout)', (rows, cols) => {
    const rng = new Rng(rows * 7 + cols);
    const w = rng.uniformArray(rows * cols, -1, 1);
    const b = rng.uniformArray(rows, -1, 1);
    const x = rng.uniformArray(cols, -1, 1);
    const pw = put(packRows8F32(w, rows, cols)), pb = put(b), px = put(x), py = k.alloc(rows * 4);
    k.exports.matvec_f32_p8(pw, pb, rows, cols, px, py);
    // Fused or not, each output is a sum of cols float32 products: the same bound as matvec_f32.
    expect(maxDiff(k.f32(py, rows), matvecRef(w, b, rows, cols, x))).toBeLessThan(1e-5 * Math.sqrt(cols));
  });

  it.each([[1, 8, 16], [2, 8, 16], [1, 24, 64], [2, 40, 768], [2, 16, 2048]] as const)('quantize_codes and matvec_i8_p8, %i plane(s), %i x %i (integer sums exact)', (planes, rows, cols) => {
    const rng = new Rng(planes * 1000 + rows + cols);
    const wf = rng.uniformArray(rows * cols, -1, 1);
    const { q, scale } = quantizeI8(wf, rows, cols, 'row');
    // Extreme weights in one row: -127 and 127 against the largest codes.
    for (let c = 0; c < cols; c++) q[c] = c % 2 ? 127 : -127;
    const b = rng.uniformArray(rows, -1, 1);
    const x = new Float32Array(rng.uniformArray(cols, -3, 3));
    const qmax = Math.min(CODE_QMAX[planes], int16QMax(cols));
    const px = put(x), phi = k.alloc(cols), plo = k.alloc(cols);
    const s = k.exports.quantize_codes(px, cols, qmax, planes, phi, plo);
    const refQ = quantizeI16Ref(x, qmax);
    expect(s).toBe(refQ.scale);
    const codes = activationCodesRef(refQ.xq, planes);
    expect(Array.from(new Uint8Array(k.memory.buffer, plo, cols))).toEqual(Array.from(codes.lo));
    if (planes === 2) expect(Array.from(new Uint8Array(k.memory.buffer, phi, cols))).toEqual(Array.from(codes.hi));
    const pw = put(packRows8I8(q, rows, cols), 'i8'), ps = put(scale), prs = put(rowSums(q, rows, cols), 'i32'), pb = put(b), py = k.alloc(rows * 4);
    k.exports.matvec_i8_p8(pw, ps, prs, pb, rows, cols, planes, phi, plo, s, py);
    const ref = matvecI8Ref(q, scale, b, rows, cols, refQ.xq, refQ.scale);
    // The offset correction is exact: only the final scaling (fused or not) is float32.
    const y = k.f32(py, rows);
    for (let r = 0; r < rows; r++) expect(Math.abs(y[r]! - ref.y[r]!)).toBeLessThan(1e-6 * (Math.abs(ref.acc[r]! * scale[r]! * s) + Math.abs(b[r]!) + 1));
  });

  it('tanh and sigmoid within 3e-7 of float64 over [-12, 12] (rational tanh on the SIMD builds)', () => {
    // tanh through activate(kind 2); sigmoid through gru_gates: with gi = gh = 0 except the z
    // block and h = 1, n = tanh(0) = 0 and h' = z = sigmoid(gi_z).
    const n = 4096;
    const xs = Float32Array.from({ length: n }, (_, i) => -12 + (24 * i) / (n - 1));
    const py = put(xs);
    k.exports.activate(py, n, 2);
    expect(maxDiff(k.f32(py, n), Array.from(xs, (x) => Math.tanh(x)))).toBeLessThan(3e-7);
    const gi = new Float32Array(3 * n);
    gi.set(xs, n);
    const pgi = put(gi), pgh = put(new Float32Array(3 * n)), ph = put(new Float32Array(n).fill(1));
    k.exports.gru_gates(pgi, pgh, ph, n);
    expect(maxDiff(k.f32(ph, n), Array.from(xs, (x) => 1 / (1 + Math.exp(-x))))).toBeLessThan(3e-7);
  });

  // hp 16: the GRU kernel's two-vector loop only; 20: that loop and its one-vector tail; 4: the tail only.
  it.each([[13, 16], [18, 20], [3, 4]])('gru_gates and lstm_gates, H = %i (padded to %i)', (H, hp) => {
    const rng = new Rng(3 + hp);
    const gi = rng.uniformArray(4 * hp, -6, 6), gh = rng.uniformArray(4 * hp, -6, 6);
    const h0 = rng.uniformArray(hp, -1, 1), c0 = rng.uniformArray(hp, -2, 2);
    const pgi = put(gi), pgh = put(gh), ph = put(h0), pc = put(c0);
    k.exports.gru_gates(pgi, pgh, ph, hp);
    const h = Float64Array.from(h0);
    gruGatesRef(Float32Array.from(gi), Float32Array.from(gh), h, hp, H);
    expect(maxDiff(k.f32(ph, H), h)).toBeLessThan(2e-6);
    const ph2 = put(h0);
    k.exports.lstm_gates(pgi, pgh, pc, ph2, hp);
    const c = Float64Array.from(Float32Array.from(c0));
    const h2 = Float64Array.from(h0);
    lstmGatesRef(Float32Array.from(gi), Float32Array.from(gh), c, h2, hp, H);
    expect(maxDiff(k.f32(pc, H), c)).toBeLessThan(2e-6);
    expect(maxDiff(k.f32(ph2, H), h2)).toBeLessThan(2e-6);
  });

  it('gru/lstm gates with kept activations: the full pass and the blend-only pass equal the plain kernels bit for bit', () => {
    const rng = new Rng(31);
    const hp = 20;
    const gi = rng.uniformArray(4 * hp, -5, 5), gh = rng.uniformArray(4 * hp, -5, 5);
    const h0 = rng.uniformArray(hp, -1, 1), c0 = rng.uniformArray(hp, -2, 2);
    const pgi = put(gi), pgh = put(gh), keep = k.alloc(3 * hp * 4);
    // GRU: two steps on the same memories, plain kernel against keep + blend.
    const ha = put(h0), hb = put(h0);
    k.exports.gru_gates(pgi, pgh, ha, hp);
    k.exports.gru_gates_keep(pgi, pgh, hb, hp, keep);
    expect(Array.from(k.f32(hb, hp))).toEqual(Array.from(k.f32(ha, hp)));
    k.exports.gru_gates(pgi, pgh, ha, hp);
    k.exports.gru_blend(keep, hb, hp);
    expect(Array.from(k.f32(hb, hp))).toEqual(Array.from(k.f32(ha, hp)));
    // LSTM.
    const la = put(h0), lb = put(h0), ca = put(c0), cb = put(c0);
    k.exports.lstm_gates(pgi, pgh, ca, la, hp);
    k.exports.lstm_gates_keep(pgi, pgh, cb, lb, hp, keep);
    expect(Array.from(k.f32(lb, hp))).toEqual(Array.from(k.f32(la, hp)));
    for (let s = 0; s < 3; s++) {
      k.exports.lstm_gates(pgi, pgh, ca, la, hp);
      k.exports.lstm_blend(keep, cb, lb, hp);
    }
    expect(Array.from(k.f32(cb, hp))).toEqual(Array.from(k.f32(ca, hp)));
    expect(Array.from(k.f32(lb, hp))).toEqual(Array.from(k.f32(la, hp)));
  });

  it('gate activations saturate without NaN at extreme pre-activations', () => {
    const hp = 8;
    const gi = new Float32Array(3 * hp).map((_, i) => (i % 2 ? 1e30 : -1e30));
    const pgi = put(gi), pgh = put(new Float32Array(3 * hp)), ph = put(new Float32Array(hp).fill(0.5));
    k.exports.gru_gates(pgi, pgh, ph, hp);
    for (const v of k.f32(ph, hp)) expect(Number.isFinite(v)).toBe(true);
  });

  it.each([1, 3, 4, 9, 32])('matmat_f32 over %i steps', (steps) => {
    const rng = new Rng(steps);
    const rows = 24, cols = 40;
    const w = rng.uniformArray(rows * cols, -1, 1), b = rng.uniformArray(rows, -1, 1), x = rng.uniformArray(steps * cols, -1, 1);
    const pw = put(w), pb = put(b), px = put(x), py = k.alloc(steps * rows * 4);
    k.exports.matmat_f32(pw, pb, rows, cols, px, steps, py);
    expect(maxDiff(k.f32(py, steps * rows), matmatRef(w, b, rows, cols, x, steps))).toBeLessThan(1e-5);
  });

  it.each([5, 32])('matmat_f32 with an X block beyond L2 (column-blocked path) over %i steps', (steps) => {
    // steps * cols > 65536 floats switches the kernel from whole rows to column blocks.
    const rng = new Rng(100 + steps);
    const rows = 8, cols = 16384;
    const w = rng.uniformArray(rows * cols, -1, 1), b = rng.uniformArray(rows, -1, 1), x = rng.uniformArray(steps * cols, -1, 1);
    const pw = put(w), pb = put(b), px = put(x), py = k.alloc(steps * rows * 4);
    k.exports.matmat_f32(pw, pb, rows, cols, px, steps, py);
    expect(maxDiff(k.f32(py, steps * rows), matmatRef(w, b, rows, cols, x, steps))).toBeLessThan(1e-3);
  });

  // matmat_f32_p8: logical sizes that are not multiples of the blocks (8 rows, 8 columns, the
  // 4 x 2 tiles' 2 frames), zero-padded as the executors pad them; the padding must not leak.
  it.each([
    [13, 7, 1], [13, 7, 2], [13, 7, 3], [21, 30, 4], [5, 45, 5], [40, 17, 16], [27, 100, 17], [64, 64, 32],
  ])('matmat_f32_p8 %i rows x %i cols over %i steps (padded to the 8-row packed layout)', (R, C, steps) => {
    const rng = new Rng(R * 7919 + C * 31 + steps);
    const rows = Math.ceil(R / 8) * 8, cols = Math.ceil(C / 8) * 8;
    const w = rng.uniformArray(R * C, -1, 1), b = rng.uniformArray(R, -1, 1), x = rng.uniformArray(steps * C, -1, 1);
    const wPad = new Float32Array(rows * cols), bPad = new Float32Array(rows), xPad = new Float32Array(steps * cols);
    for (let r = 0; r < R; r++) { bPad[r] = b[r]!; for (let c = 0; c < C; c++) wPad[r * cols + c] = w[r * C + c]!; }
    for (let t = 0; t < steps; t++) for (let c = 0; c < C; c++) xPad[t * cols + c] = x[t * C + c]!;
    const pw = put(packRows8F32(wPad, rows, cols)), pb = put(bPad), px = put(xPad), py = k.alloc(steps * rows * 4);
    k.f32(py, steps * rows).fill(Number.NaN); // every output must be written
    k.exports.matmat_f32_p8(pw, pb, rows, cols, px, steps, py);
    const ref = matmatRef(w, b, R, C, x, steps);
    const got = k.f32(py, steps * rows);
    let worst = 0;
    for (let t = 0; t < steps; t++) {
      for (let r = 0; r < R; r++) worst = Math.max(worst, Math.abs(got[t * rows + r]! - ref[t * R + r]!));
      for (let r = R; r < rows; r++) expect(got[t * rows + r]).toBe(0); // zero rows, zero bias
    }
    expect(worst).toBeLessThan(2e-6 * Math.sqrt(C));
  });

  it.each([3, 4])('matmat_f32_p8 with rows wider than one column chunk (partial sums added to Y) over %i steps', (steps) => {
    // cols > 8192 floats: the kernel cuts the 8-row block into column chunks that stay in L2.
    const rng = new Rng(200 + steps);
    const rows = 16, cols = 8192 + 8 * 13;
    const w = rng.uniformArray(rows * cols, -1, 1), b = rng.uniformArray(rows, -1, 1), x = rng.uniformArray(steps * cols, -1, 1);
    const pw = put(packRows8F32(w, rows, cols)), pb = put(b), px = put(x), py = k.alloc(steps * rows * 4);
    k.exports.matmat_f32_p8(pw, pb, rows, cols, px, steps, py);
    expect(maxDiff(k.f32(py, steps * rows), matmatRef(w, b, rows, cols, x, steps))).toBeLessThan(2e-6 * Math.sqrt(cols));
  });

  it('matmat_f32_p8 over T steps equals T single-step mat-vecs (matvec_f32_p8) on the same packed weights', () => {
    const rng = new Rng(77);
    const rows = 24, cols = 56, steps = 7;
    const w = rng.uniformArray(rows * cols, -1, 1), b = rng.uniformArray(rows, -1, 1), x = rng.uniformArray(steps * cols, -1, 1);
    const pw = put(packRows8F32(w, rows, cols)), pb = put(b), px = put(x), py = k.alloc(steps * rows * 4), p1 = k.alloc(rows * 4);
    k.exports.matmat_f32_p8(pw, pb, rows, cols, px, steps, py);
    for (let t = 0; t < steps; t++) {
      k.exports.matvec_f32_p8(pw, pb, rows, cols, px + t * cols * 4, p1);
      // Same summation order for frame 0 and odd leftovers (the 8-row sweep); the 4 x 2 tiles sum
      // one column group at a time, so frames 1.. may differ by rounding only.
      expect(maxDiff(k.f32(py + t * rows * 4, rows), k.f32(p1, rows))).toBeLessThan(1e-5);
    }
  });

  it.each([false, true])('sru_steps (projection %s) and qrnn_steps', (proj) => {
    const rng = new Rng(proj ? 5 : 6);
    const H = 10, hp = 12, steps = 5;
    const ustride = (proj ? 4 : 3) * hp;
    const u = rng.uniformArray(steps * ustride, -3, 3), b = rng.uniformArray(2 * hp, -1, 1), x = rng.uniformArray(steps * hp, -1, 1);
    const c0 = rng.uniformArray(hp, -1, 1);
    const pu = put(u), pb = put(b), px = put(x), pc = put(c0), ph = k.alloc(steps * hp * 4);
    k.exports.sru_steps(pu, ustride, pb, px, hp, proj ? 1 : 0, pc, ph, hp, hp, steps);
    const c = Float64Array.from(Float32Array.from(c0));
    const ref = sruStepsRef(Float32Array.from(u), ustride, Float32Array.from(b), Float32Array.from(x), hp, proj, c, hp, H, steps);
    const got = k.f32(ph, steps * hp);
    for (let t = 0; t < steps; t++) expect(maxDiff(got.subarray(t * hp, t * hp + H), ref.subarray(t * H, t * H + H))).toBeLessThan(3e-6);
    const pc2 = put(c0), ph2 = k.alloc(steps * hp * 4);
    k.exports.qrnn_steps(pu, ustride, pc2, ph2, hp, hp, steps);
    const c2 = Float64Array.from(Float32Array.from(c0));
    const ref2 = qrnnStepsRef(Float32Array.from(u), ustride, c2, hp, H, steps);
    const got2 = k.f32(ph2, steps * hp);
    for (let t = 0; t < steps; t++) expect(maxDiff(got2.subarray(t * hp, t * hp + H), ref2.subarray(t * H, t * H + H))).toBeLessThan(3e-6);
  });
});

it('the allocator hands out zeroed memory, also a freed block returned to the bump region', () => {
  const k = loadKernels();
  const a = k.alloc(64);
  k.f32(a, 16).fill(7);
  k.free(a);
  const b = k.alloc(64);
  expect(Array.from(k.f32(b, 16)).every((v) => v === 0)).toBe(true);
  k.free(b);
});

it('the allocator reuses freed blocks and keeps alignment', () => {
  const k = loadKernels();
  const before = k.allocatedBytes();
  const a = k.alloc(100), b = k.alloc(33);
  expect(a % 16).toBe(0);
  expect(b % 16).toBe(0);
  k.free(a);
  const c = k.alloc(64);
  expect(c).toBe(a);
  k.free(b);
  k.free(c);
  expect(k.allocatedBytes()).toBe(before);
});
