/**
 * The WebAssembly fast path of the trainer: the same forward and backward pass as
 * `forwardSequence` + `backwardSequence` (net.ts, the float64 definition), with every matrix
 * product on the runtime's SIMD kernels in float32:
 *
 * - forward, input side: one multi-step product `W_ih [xp_1 ... xp_T]` per layer (matmat_f32),
 *   possible because a layer's whole input sequence, hence its remembered xp_t, is known before
 *   its recurrence runs;
 * - forward, hidden side: `W_hh hp_t` per step (matvec_f32);
 * - backward: `W_hh^T dah_t` per step (matvec_f32 on a transposed copy), then after the time
 *   loop `dXP = DA W_ih` and the weight gradients `DA^T XP`, `DAH^T HP` as multi-step products.
 * Gates, thresholds, the penalty and the head stay in float64 JavaScript, exactly as in net.ts.
 * The differential test in test/train/fast.test.ts checks gradients against net.ts and that the
 * wasm path ran.
 */
import { check } from '../core/errors.js';
import { requireResetAfter } from '../cells/gru/definition.js';
import { loadKernels, type KernelPath, type WasmKernels } from '../kernels/wasm/loader.js';
import type { Model } from '../model/types.js';
import { checkSoftTarget, checkTarget, ctcHeadBackward, softCrossEntropy, headFrames, recordGateStep, trainableParts, type ForwardOptions, type Grads, type Readout, type DeltaThresholds, type Target } from './net.js';

const ceil4 = (n: number) => (n + 3) & ~3;

export interface FastStep {
  /** Cross-entropy plus penalty. */
  loss: number;
  probs: Float64Array;
  /** Which kernels ran (tests assert 'wasm-simd' or 'wasm-scalar'). */
  path: KernelPath;
  countX: number[];
  countH: number[];
  /** `ctc` readout: the head's output at every frame, (T, O). */
  frameLogits?: Float64Array;
}

let kernels: WasmKernels | null = null;

/**
 * The kernels the fast path uses (loaded once).
 *
 * @example trainKernels().path // 'wasm-simd'
 */
export function trainKernels(): WasmKernels {
  return (kernels ??= loadKernels());
}

/**
 * Forward + backward of one labelled sequence on the wasm kernels; adds `scale *` the gradient
 * to `grads` (same semantics as `backwardSequence(model, forwardSequence(...), ...)`).
 *
 * @example const r = sequenceGradWasm(model, frames, T, label, { readout: 'mean' }, grads, 1 / 16);
 */
export function sequenceGradWasm(model: Model, x: Float32Array, T: number, label: Target, o: { readout: Readout; delta?: DeltaThresholds; l1?: number; soft?: Float64Array }, grads: Grads, scale = 1): FastStep {
  const { rec, head } = trainableParts(model);
  rec.forEach((l, k) => l.kind === 'gru' && requireResetAfter(l, `train backend wasm (layer ${k}); use backend js`));
  check(T > 0 && x.length === T * rec[0]!.inputSize, 'E_SHAPE', () => `train: expected ${T} frames of ${rec[0]!.inputSize} values (${T * rec[0]!.inputSize}), found ${x.length}`);
  checkTarget(o.readout, label, head.outputSize);
  if (o.soft) checkSoftTarget(o.readout, o.soft, head.outputSize);
  const k = trainKernels();
  const ex = k.exports;
  const isDelta = o.delta !== undefined;
  const thx = o.delta?.thresholdX ?? 0;
  const thh = o.delta?.thresholdH ?? 0;
  const Tp = ceil4(T);
  // Allocate every buffer first: growing memory detaches earlier views.
  type Ptrs = Record<'wih' | 'bih' | 'whh' | 'bhh' | 'wihT' | 'whhT' | 'zeros' | 'xp' | 'ain' | 'hp' | 'acch' | 'dah' | 'dhp' | 'da' | 'dxp' | 'xpT' | 'daT' | 'hpT' | 'dahT' | 'gwi' | 'gwh', number>;
  const dims = rec.map((L) => {
    const G = L.kind === 'gru' ? 3 : 4;
    const I = L.inputSize, H = L.hiddenSize, GH = G * H;
    return { G, I, H, GH, Ip: ceil4(I), Hp: ceil4(H), GHp: ceil4(GH) };
  });
  const allocated: number[] = [];
  const sizes: number[] = [];
  const alloc = (floats: number) => {
    const n = Math.max(4, floats);
    const p = k.alloc(4 * n);
    allocated.push(p);
    sizes.push(n);
    return p;
  };
  const ptrs: Ptrs[] = dims.map(({ Ip, Hp, GHp }) => ({
    wih: alloc(GHp * Ip), bih: alloc(GHp), whh: alloc(GHp * Hp), bhh: alloc(GHp), wihT: alloc(Ip * GHp), whhT: alloc(Hp * GHp),
    zeros: alloc(Math.max(GHp, Ip, Hp)), xp: alloc(T * Ip), ain: alloc(T * GHp), hp: alloc(Hp), acch: alloc(GHp), dah: alloc(GHp), dhp: alloc(Hp),
    da: alloc(T * GHp), dxp: alloc(T * Ip), xpT: alloc(Ip * Tp), daT: alloc(GHp * Tp), hpT: alloc(Hp * Tp), dahT: alloc(GHp * Tp), gwi: alloc(GHp * Ip), gwh: alloc(GHp * Hp),
  }));
  try {
    const f = (p: number, n: number) => k.f32(p, n);
    // Zero every buffer ourselves: the padding (rows, columns and steps up to multiples of 4) and
    // the zero bias must be exactly 0, whatever the block held before.
    allocated.forEach((p, i) => f(p, sizes[i]!).fill(0));
    // ---- forward ----
    let input = Float64Array.from(x);
    const tapes: Array<{ xp: Float64Array; hp: Float64Array; firedH: Uint8Array; hpPrev: Float64Array; gates: Float64Array; aux: Float64Array; h: Float64Array; countX: number; countH: number }> = [];
    let penalty = 0;
    rec.forEach((L, li) => {
      const { I, H, GH, Ip, Hp, GHp } = dims[li]!;
      const p = ptrs[li]!;
      const wih = f(p.wih, GHp * Ip), whh = f(p.whh, GHp * Hp), wihT = f(p.wihT, Ip * GHp), whhT = f(p.whhT, Hp * GHp);
      for (let g = 0; g < GH; g++) {
        for (let i = 0; i < I; i++) wih[g * Ip + i] = wihT[i * GHp + g] = L.weightIh[g * I + i]!;
        for (let j = 0; j < H; j++) whh[g * Hp + j] = whhT[j * GHp + g] = L.weightHh[g * H + j]!;
      }
      f(p.bih, GHp).set(L.biasIh);
      f(p.bhh, GHp).set(L.biasHh);
      const tp = { xp: new Float64Array(T * I), hp: new Float64Array(T * H), firedH: new Uint8Array(T * H), hpPrev: new Float64Array(T * H), gates: new Float64Array(T * GH), aux: new Float64Array(T * H), h: new Float64Array(T * H), countX: 0, countH: 0 };
      // Input thresholding over the whole sequence (it does not depend on this layer's weights).
      const xpv = f(p.xp, T * Ip);
      const mem = new Float64Array(I);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < I; i++) {
          const v = input[t * I + i]!;
          if (!isDelta || Math.abs(v - mem[i]!) >= thx) {
            mem[i] = v;
            tp.countX++;
          }
          tp.xp[t * I + i] = mem[i]!;
          xpv[t * Ip + i] = mem[i]!;
        }
      }
      ex.matmat_f32(p.wih, p.bih, GHp, Ip, p.xp, T, p.ain);
      const ain = f(p.ain, T * GHp);
      const hpv = f(p.hp, Hp);
      const acch = f(p.acch, GHp);
      const hPrev = new Float64Array(H);
      const hpMem = new Float64Array(H);
      const cPrev = new Float64Array(H);
      let pen = 0;
      for (let t = 0; t < T; t++) {
        const ho = t * H;
        for (let j = 0; j < H; j++) {
          const v = hPrev[j]!;
          tp.hpPrev[ho + j] = hpMem[j]!;
          if (t > 0 && (!isDelta || Math.abs(v - hpMem[j]!) >= thh)) {
            if (isDelta) pen += Math.abs(v - hpMem[j]!);
            hpMem[j] = v;
            tp.firedH[ho + j] = 1;
            tp.countH++;
          }
          tp.hp[ho + j] = hpMem[j]!;
          hpv[j] = hpMem[j]!;
        }
        ex.matvec_f32(p.whh, p.bhh, GHp, Hp, p.hp, p.acch);
        const a = t * GHp;
        recordGateStep(L.kind, H, ain, a, acch, tp, t, hPrev, cPrev);
        for (let j = 0; j < H; j++) hPrev[j] = tp.h[ho + j]!;
      }
      if (o.l1 && isDelta) penalty += (o.l1 * pen) / T;
      tapes.push(tp);
      input = tp.h;
    });
    // ---- head and loss (as net.ts) ----
    const last = tapes[tapes.length - 1]!;
    const Hl = dims[dims.length - 1]!.H;
    const O = head.outputSize;
    const feat = new Float64Array(Hl);
    if (o.readout === 'mean') {
      for (let t = 0; t < T; t++) for (let j = 0; j < Hl; j++) feat[j] += last.h[t * Hl + j]!;
      for (let j = 0; j < Hl; j++) feat[j] /= T;
    } else for (let j = 0; j < Hl; j++) feat[j] = last.h[(T - 1) * Hl + j]!;
    const logits = new Float64Array(O);
    for (let c = 0; c < O; c++) {
      let s = head.bias[c]!;
      for (let j = 0; j < Hl; j++) s += head.weight[c * Hl + j]! * feat[j]!;
      logits[c] = s;
    }
    const m = Math.max(...logits);
    const probs = logits.map((v) => Math.exp(v - m));
    const zsum = probs.reduce((a, b) => a + b, 0);
    for (let c = 0; c < O; c++) probs[c] = probs[c]! / zsum;
    // ---- backward ----
    const gh = grads[grads.length - 1]!;
    let loss: number;
    let dOut: Float64Array;
    let frameLogits: Float64Array | undefined;
    if (o.readout === 'ctc') {
      // CTC: the head at every frame (as net.ts).
      frameLogits = headFrames(head, last.h, T);
      const r = ctcHeadBackward(head, last.h, frameLogits, T, label as readonly number[], gh, scale);
      loss = r.loss + penalty;
      dOut = r.dOut;
    } else {
      const lab = label as number;
      loss = (o.soft ? softCrossEntropy(probs, o.soft) : -Math.log(Math.max(probs[lab]!, 1e-300))) + penalty;
      const dfeat = new Float64Array(Hl);
      for (let c = 0; c < O; c++) {
        const d = scale * (probs[c]! - (o.soft ? o.soft[c]! : c === lab ? 1 : 0));
        gh['bias']![c] += d;
        for (let j = 0; j < Hl; j++) {
          gh['weight']![c * Hl + j] += d * feat[j]!;
          dfeat[j] += head.weight[c * Hl + j]! * d;
        }
      }
      dOut = new Float64Array(T * Hl);
      if (o.readout === 'mean') for (let t = 0; t < T; t++) for (let j = 0; j < Hl; j++) dOut[t * Hl + j] = dfeat[j]! / T;
      else for (let j = 0; j < Hl; j++) dOut[(T - 1) * Hl + j] = dfeat[j]!;
    }
    const penScale = isDelta ? (scale * (o.l1 ?? 0)) / T : 0;
    for (let li = rec.length - 1; li >= 0; li--) {
      const L = rec[li]!;
      const { I, H, GH, Ip, Hp, GHp } = dims[li]!;
      const p = ptrs[li]!;
      const tp = tapes[li]!;
      const g = grads[li]!;
      const gbi = g['bias_ih']!, gbh = g['bias_hh']!;
      const daV = f(p.da, T * GHp), daT = f(p.daT, GHp * Tp), dahT = f(p.dahT, GHp * Tp), dahV = f(p.dah, GHp), dhpV = f(p.dhp, Hp);
      const dh = new Float64Array(H);
      const dc = new Float64Array(H);
      const dPrev = new Float64Array(H);
      let tCur = 0;
      const put = (gi: number, a: number, ah: number) => {
        daV[tCur * GHp + gi] = a;
        daT[gi * Tp + tCur] = a;
        dahT[gi * Tp + tCur] = ah;
        dahV[gi] = ah;
        gbi[gi] += a;
        gbh[gi] += ah;
      };
      for (let t = T - 1; t >= 0; t--) {
        tCur = t;
        const ho = t * H;
        const go = t * GH;
        for (let j = 0; j < H; j++) dh[j] = dh[j]! + dOut[ho + j]!;
        for (let j = 0; j < H; j++) {
          // Pre-activation gradients of the gates; the hidden side differs only in the GRU's n gate.
          if (L.kind === 'gru') {
            const r = tp.gates[go + j]!, z = tp.gates[go + H + j]!, n = tp.gates[go + 2 * H + j]!;
            const hp = t > 0 ? tp.h[ho - H + j]! : 0;
            const d = dh[j]!;
            dPrev[j] = d * z;
            const dan = d * (1 - z) * (1 - n * n);
            const dar = dan * tp.aux[ho + j]! * r * (1 - r);
            const daz = d * (hp - n) * z * (1 - z);
            put(j, dar, dar);
            put(H + j, daz, daz);
            put(2 * H + j, dan, dan * r);
          } else {
            const ig = tp.gates[go + j]!, fg = tp.gates[go + H + j]!, gg = tp.gates[go + 2 * H + j]!, og = tp.gates[go + 3 * H + j]!;
            const c = tp.aux[ho + j]!;
            const cp = t > 0 ? tp.aux[ho - H + j]! : 0;
            const tc = Math.tanh(c);
            const d = dh[j]!;
            const dcj = dc[j]! + d * og * (1 - tc * tc);
            const dai = dcj * gg * ig * (1 - ig);
            const daf = dcj * cp * fg * (1 - fg);
            const dag = dcj * ig * (1 - gg * gg);
            const dao = d * tc * og * (1 - og);
            put(j, dai, dai);
            put(H + j, daf, daf);
            put(2 * H + j, dag, dag);
            put(3 * H + j, dao, dao);
            dc[j] = dcj * fg;
            dPrev[j] = 0;
          }
        }
        if (t > 0) {
          ex.matvec_f32(p.whhT, p.zeros, Hp, GHp, p.dah, p.dhp);
          for (let j = 0; j < H; j++) dPrev[j] += dhpV[j]!;
          if (penScale !== 0) {
            for (let j = 0; j < H; j++) if (tp.firedH[ho + j]) dPrev[j] += penScale * Math.sign(tp.h[ho - H + j]! - tp.hpPrev[ho + j]!);
          }
        }
        for (let j = 0; j < H; j++) dh[j] = dPrev[j]!;
      }
      // Input gradient and weight gradients as multi-step products (one pass over each matrix).
      ex.matmat_f32(p.wihT, p.zeros, Ip, GHp, p.da, T, p.dxp);
      const xpT = f(p.xpT, Ip * Tp), hpT = f(p.hpT, Hp * Tp);
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < I; i++) xpT[i * Tp + t] = tp.xp[t * I + i]!;
        for (let j = 0; j < H; j++) hpT[j * Tp + t] = tp.hp[t * H + j]!;
      }
      ex.matmat_f32(p.xpT, p.zeros, Ip, Tp, p.daT, GHp, p.gwi);
      ex.matmat_f32(p.hpT, p.zeros, Hp, Tp, p.dahT, GHp, p.gwh);
      const gwi = f(p.gwi, GHp * Ip), gwh = f(p.gwh, GHp * Hp), dxp = f(p.dxp, T * Ip);
      const gWi = g['weight_ih']!, gWh = g['weight_hh']!;
      for (let gi = 0; gi < GH; gi++) {
        for (let i = 0; i < I; i++) gWi[gi * I + i] += gwi[gi * Ip + i]!;
        for (let j = 0; j < H; j++) gWh[gi * H + j] += gwh[gi * Hp + j]!;
      }
      const dIn = new Float64Array(T * I);
      for (let t = 0; t < T; t++) for (let i = 0; i < I; i++) dIn[t * I + i] = dxp[t * Ip + i]!;
      dOut = dIn;
    }
    return { loss, probs, path: k.path, countX: tapes.map((t) => t.countX), countH: tapes.map((t) => t.countH), ...(frameLogits ? { frameLogits } : {}) };
  } finally {
    for (const p of allocated) k.free(p);
  }
}

export type { ForwardOptions };
