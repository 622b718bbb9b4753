// One layer step in one call: layer_step(desc, src, check) runs a whole GRU / LSTM / linear step
// (delta encoders, fired columns, gate activations, state update; or the dense mat-vecs, gates;
// or the readout) from a descriptor the host wrote once into linear memory. A session step is
// then one call per layer with no JavaScript between the kernels: at the sizes edge models run
// (a 64-unit GRU), the calls, argument conversions and JavaScript glue of the separate kernels
// cost as much as the arithmetic of a delta step (docs/performance.md, "Where a step goes").
//
// The host side is src/runtime/backends/wasm/step-desc.ts: the word offsets below must equal it
// (the differential tests in test/kernels/fused-step.test.ts fail on any mismatch).
//
// Reference: the same kernels called one by one (the executors' stepCalls), and through them
// the float64 cell definitions: the one call runs the same kernels in the same order.

import { delta_f32 } from './delta_f32';
import { delta_i8 } from './delta_i8';
import { delta_encode } from './encode';
import { gru_gates, gru_gates_keep, gru_blend, lstm_gates, lstm_gates_keep, lstm_blend, activate } from './gates';
import { matvec_f32 } from './matvec_f32';
import { matvec_i8, quantize_i16 } from './matvec_i8';
import { matvec_f32_p8, matvec_i8_p8, quantize_codes } from './packed';

// Descriptor words (i32, 4 bytes each).
// @ts-ignore: decorator
@inline const D_OP = 0; // 1 recurrent delta, 2 recurrent dense, 3 linear
// @ts-ignore: decorator
@inline const D_CELL = 1; // recurrent: 0 GRU, 1 LSTM; linear: activation kind
// @ts-ignore: decorator
@inline const D_KIND = 2; // weights and layout: 0 f32 row, 1 f32 p8, 2 int8 row, 3 int8 p8
// @ts-ignore: decorator
@inline const D_I = 3; // input size (linear: padded columns)
// @ts-ignore: decorator
@inline const D_H = 4; // hidden size (linear: padded rows)
// @ts-ignore: decorator
@inline const D_HP = 5;
// @ts-ignore: decorator
@inline const D_LD = 6; // memory rows (gates * hp, padded)
// @ts-ignore: decorator
@inline const D_IP = 7; // padded columns of the dense input / hidden matrices
// @ts-ignore: decorator
@inline const D_HC = 8;
// @ts-ignore: decorator
@inline const D_X = 9; // input (float32)
// @ts-ignore: decorator
@inline const D_XPREV = 10;
// @ts-ignore: decorator
@inline const D_H_ = 11; // h (linear: y)
// @ts-ignore: decorator
@inline const D_HPREV = 12;
// @ts-ignore: decorator
@inline const D_C = 13;
// @ts-ignore: decorator
@inline const D_GI = 14;
// @ts-ignore: decorator
@inline const D_GH = 15;
// @ts-ignore: decorator
@inline const D_WIH = 16;
// @ts-ignore: decorator
@inline const D_WHH = 17;
// @ts-ignore: decorator
@inline const D_SIH = 18;
// @ts-ignore: decorator
@inline const D_SHH = 19;
// @ts-ignore: decorator
@inline const D_BI = 20;
// @ts-ignore: decorator
@inline const D_BH = 21;
// @ts-ignore: decorator
@inline const D_RSIH = 22;
// @ts-ignore: decorator
@inline const D_RSHH = 23;
// @ts-ignore: decorator
@inline const D_IDXX = 24;
// @ts-ignore: decorator
@inline const D_VALSX = 25;
// @ts-ignore: decorator
@inline const D_IDXH = 26;
// @ts-ignore: decorator
@inline const D_VALSH = 27;
// @ts-ignore: decorator
@inline const D_KEEP = 28;
// @ts-ignore: decorator
@inline const D_TMP = 29;
// @ts-ignore: decorator
@inline const D_ERRX = 30;
// @ts-ignore: decorator
@inline const D_ERRH = 31;
// @ts-ignore: decorator
@inline const D_XQ = 32; // int8 row: int16 copy of x; int8 p8: the high code plane of x
// @ts-ignore: decorator
@inline const D_HQ = 33;
// @ts-ignore: decorator
@inline const D_XLO = 34; // int8 p8: the low code planes
// @ts-ignore: decorator
@inline const D_HLO = 35;
// @ts-ignore: decorator
@inline const D_CTL = 36; // the executor's control block (in its saved state)

// Control block words: per executor (thresholds, activation bits), saved and restored with the
// state when another session's executor of the same layer steps.
// @ts-ignore: decorator
@inline const C_KEEP_VALID = 0; // i32: the kept activations match the memories
// @ts-ignore: decorator
@inline const C_THX = 1; // f32
// @ts-ignore: decorator
@inline const C_THH = 2; // f32
// @ts-ignore: decorator
@inline const C_NX = 3; // i32 out: fired inputs of the last step
// @ts-ignore: decorator
@inline const C_NH = 4; // i32 out: fired hidden elements
// @ts-ignore: decorator
@inline const C_PLANES = 5; // i32: int8 p8 activation code planes (1 or 2)
// @ts-ignore: decorator
@inline const C_QMAXX = 6; // f32: quantisation range of x (codes or int16)
// @ts-ignore: decorator
@inline const C_QMAXH = 7; // f32

// Calls of layer_step since instantiation: tests read it to prove the one-call path ran.
let steps: i32 = 0;
export function layer_steps(): i32 {
  return steps;
}

// @ts-ignore: decorator
@inline
function dw(d: usize, word: i32): i32 {
  return load<i32>(d + ((<usize>word) << 2));
}
// @ts-ignore: decorator
@inline
function dp(d: usize, word: i32): usize {
  return <usize>load<i32>(d + ((<usize>word) << 2));
}

// 1 when all n values at x are finite (x - x is 0 for finite x and NaN otherwise).
function allFinite(x: usize, n: i32): bool {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + ((<usize>i) << 2));
      acc = f32x4.add(acc, f32x4.sub(v, v));
    }
    if (i32x4.bitmask(f32x4.ne(acc, acc)) != 0) return false;
  }
  let s: f32 = 0;
  for (; i < n; i++) {
    const v = load<f32>(x + ((<usize>i) << 2));
    s += v - v;
  }
  return s == 0;
}

// Recurrent delta step (GRU reset-after, or LSTM).
function deltaStep(d: usize): void {
  const ctl = dp(d, D_CTL);
  const I = dw(d, D_I), H = dw(d, D_H), hp = dw(d, D_HP), ld = dw(d, D_LD);
  const h = dp(d, D_H_);
  const nx = delta_encode(dp(d, D_X), dp(d, D_XPREV), I, load<f32>(ctl + (C_THX << 2)), dp(d, D_IDXX), dp(d, D_VALSX));
  const nh = delta_encode(h, dp(d, D_HPREV), H, load<f32>(ctl + (C_THH << 2)), dp(d, D_IDXH), dp(d, D_VALSH));
  store<i32>(ctl + (C_NX << 2), nx);
  store<i32>(ctl + (C_NH << 2), nh);
  const gi = dp(d, D_GI), gh = dp(d, D_GH);
  if (dw(d, D_KIND) >= 2) {
    const tmp = dp(d, D_TMP);
    delta_i8(dp(d, D_WIH), ld, 0, ld, dp(d, D_SIH), dp(d, D_IDXX), dp(d, D_VALSX), nx, gi, tmp, dp(d, D_ERRX));
    delta_i8(dp(d, D_WHH), ld, 0, ld, dp(d, D_SHH), dp(d, D_IDXH), dp(d, D_VALSH), nh, gh, tmp, dp(d, D_ERRH));
  } else {
    delta_f32(dp(d, D_WIH), ld, 0, ld, dp(d, D_IDXX), dp(d, D_VALSX), nx, gi);
    delta_f32(dp(d, D_WHH), ld, 0, ld, dp(d, D_IDXH), dp(d, D_VALSH), nh, gh);
  }
  const keep = dp(d, D_KEEP);
  const lstm = dw(d, D_CELL) == 1;
  // Nothing fired and the kept activations match the memories: only the state update, bit for
  // bit what the full gate pass would compute.
  if (nx + nh == 0 && load<i32>(ctl + (C_KEEP_VALID << 2)) != 0) {
    if (lstm) lstm_blend(keep, dp(d, D_C), h, hp);
    else gru_blend(keep, h, hp);
    return;
  }
  if (lstm) lstm_gates_keep(gi, gh, dp(d, D_C), h, hp, keep);
  else gru_gates_keep(gi, gh, h, hp, keep);
  store<i32>(ctl + (C_KEEP_VALID << 2), 1);
}

// Recurrent dense step: gi = W_ih x + b_ih, gh = W_hh h + b_hh, then the gates.
function denseStep(d: usize): void {
  const ctl = dp(d, D_CTL);
  const kind = dw(d, D_KIND);
  const ld = dw(d, D_LD), ip = dw(d, D_IP), hc = dw(d, D_HC), hp = dw(d, D_HP);
  const x = dp(d, D_X), h = dp(d, D_H_), gi = dp(d, D_GI), gh = dp(d, D_GH);
  const bi = dp(d, D_BI), bh = dp(d, D_BH);
  if (kind == 3) {
    const planes = load<i32>(ctl + (C_PLANES << 2));
    const xhi = dp(d, D_XQ), xlo = dp(d, D_XLO), hhi = dp(d, D_HQ), hlo = dp(d, D_HLO);
    const sx = quantize_codes(x, ip, load<f32>(ctl + (C_QMAXX << 2)), planes, xhi, xlo);
    matvec_i8_p8(dp(d, D_WIH), dp(d, D_SIH), dp(d, D_RSIH), bi, ld, ip, planes, xhi, xlo, sx, gi);
    const sh = quantize_codes(h, hc, load<f32>(ctl + (C_QMAXH << 2)), planes, hhi, hlo);
    matvec_i8_p8(dp(d, D_WHH), dp(d, D_SHH), dp(d, D_RSHH), bh, ld, hc, planes, hhi, hlo, sh, gh);
  } else if (kind == 2) {
    const xq = dp(d, D_XQ), hq = dp(d, D_HQ);
    const sx = quantize_i16(x, ip, load<f32>(ctl + (C_QMAXX << 2)), xq);
    matvec_i8(dp(d, D_WIH), dp(d, D_SIH), bi, ld, ip, xq, sx, gi);
    const sh = quantize_i16(h, hc, load<f32>(ctl + (C_QMAXH << 2)), hq);
    matvec_i8(dp(d, D_WHH), dp(d, D_SHH), bh, ld, hc, hq, sh, gh);
  } else if (kind == 1) {
    matvec_f32_p8(dp(d, D_WIH), bi, ld, ip, x, gi);
    matvec_f32_p8(dp(d, D_WHH), bh, ld, hc, h, gh);
  } else {
    matvec_f32(dp(d, D_WIH), bi, ld, ip, x, gi);
    matvec_f32(dp(d, D_WHH), bh, ld, hc, h, gh);
  }
  if (dw(d, D_CELL) == 1) lstm_gates(gi, gh, dp(d, D_C), h, hp);
  else gru_gates(gi, gh, h, hp);
}

// Linear: y = W x + b, then the activation. D_I / D_H hold the padded columns / rows.
function linearStep(d: usize): void {
  const ctl = dp(d, D_CTL);
  const kind = dw(d, D_KIND);
  const rows = dw(d, D_H), cols = dw(d, D_I);
  const x = dp(d, D_X), y = dp(d, D_H_), w = dp(d, D_WIH), b = dp(d, D_BI);
  if (kind == 3) {
    const planes = load<i32>(ctl + (C_PLANES << 2));
    const hi = dp(d, D_XQ), lo = dp(d, D_XLO);
    const s = quantize_codes(x, cols, load<f32>(ctl + (C_QMAXX << 2)), planes, hi, lo);
    matvec_i8_p8(w, dp(d, D_SIH), dp(d, D_RSIH), b, rows, cols, planes, hi, lo, s, y);
  } else if (kind == 2) {
    const xq = dp(d, D_XQ);
    const s = quantize_i16(x, cols, load<f32>(ctl + (C_QMAXX << 2)), xq);
    matvec_i8(w, dp(d, D_SIH), b, rows, cols, xq, s, y);
  } else if (kind == 1) {
    matvec_f32_p8(w, b, rows, cols, x, y);
  } else {
    matvec_f32(w, b, rows, cols, x, y);
  }
  activate(y, rows, dw(d, D_CELL));
}

// One layer step. src != 0: the input is first copied from src (the previous layer's output,
// `inputs` floats: D_I for recurrent layers, `n` for linear ones, given by the caller as n).
// check != 0: the input is checked finite before any state changes; -1 if it is not (the host
// then names the offending element). Returns 0 otherwise.
export function layer_step(d: usize, src: usize, n: i32, check: i32): i32 {
  const x = dp(d, D_X);
  if (src != 0) memory.copy(x, src, (<usize>n) << 2);
  if (check != 0 && !allFinite(x, n)) return -1;
  steps++;
  const op = dw(d, D_OP);
  if (op == 1) deltaStep(d);
  else if (op == 2) denseStep(d);
  else linearStep(d);
  return 0;
}
