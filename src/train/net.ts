/**
 * Backpropagation through time for a stack of GRU / LSTM layers (dense or delta) with a Linear
 * head, one sequence at a time, in float64 (weights stay Float32Array, as the runtime uses them).
 *
 * Delta layers in the forward pass. Because the delta memories telescope,
 * `M_t = b + W_ih xp_t + W_hh hp_t`, where `xp_t` / `hp_t` are the remembered input and hidden
 * values after step t's thresholding. The trainer therefore evaluates the gates on (xp_t, hp_t)
 * and the state update on the true h_{t-1}: the same numbers the delta runtime computes with its
 * accumulating memories (cudnn bias convention), without the accumulation's rounding drift.
 *
 * Backward: straight-through for the threshold. dxp_t is passed to x_t and dhp_t to h_{t-1}
 * as if the threshold were the identity (Neil et al. 2017, Gao et al. 2020). The gradient is
 * therefore exactly the gradient of a surrogate in which the offsets `xp_t - x_t` and
 * `hp_t - h_{t-1}` are frozen constants: `forwardSequence(..., { frozen })` computes that
 * surrogate, which is what the finite-difference gradient checks in the tests differentiate.
 *
 * Regulariser: `l1 * sum_t sum_j |dh_t[j]| / T` per delta layer, dh_t the fired hidden
 * deltas (hp_t - hp_{t-1}); the remembered hp_{t-1} is treated as a constant in the gradient.
 * Dense networks have no thresholded deltas, so the penalty is zero for them.
 *
 * Reset-before GRU (resetAfter: false): the candidate's hidden product is W_hn qp + b_hn with
 * q_t = r_t * h_{t-1} (true h) thresholded against its own remembered copy qp (thresholdH), as the
 * delta runtime does (deltaGruStepRef). Straight-through for q too: dqp is passed to q, hence to r
 * and h_{t-1}; the frozen surrogate freezes qp - q as well. The L1 penalty counts h deltas only.
 *
 * Readout ([open], a documented choice): `mean` averages the head's logits over all frames (the
 * runtime's per-frame outputs averaged), `last` takes the last frame's logits.
 */
import { isResetAfter } from '../cells/gru/definition.js';
import { requireNoPeephole } from '../cells/lstm/definition.js';
import { requireDefaultActivations } from '../cells/activation.js';
import { check } from '../core/errors.js';
import { sigmoid } from '../core/math.js';
import type { GruLayer, LinearLayer, LstmLayer, Model } from '../model/types.js';
import { ctcLoss } from './ctc.js';

/** `mean`/`last`: one label per utterance; `ctc`: per-frame outputs (blank last) trained with CTC. */
export type Readout = 'mean' | 'last' | 'ctc';
/** What a sequence is trained towards: a class index, or for `ctc` the label sequence. */
export type Target = number | readonly number[];

/** Delta thresholds of the forward pass; absent means a dense network. */
export interface DeltaThresholds {
  thresholdX: number;
  thresholdH: number;
}

export interface ForwardOptions {
  delta?: DeltaThresholds;
  readout: Readout;
  /** Weight of the L1 penalty on fired hidden deltas (0 = none). */
  l1?: number;
  /** Evaluate the straight-through surrogate with offsets frozen from an earlier tape. */
  frozen?: Frozen;
}

/** Per recurrent layer, everything backward needs for one sequence. */
export interface LayerTape {
  kind: 'gru' | 'lstm';
  I: number;
  H: number;
  /** (T, I) the layer's input and its remembered version xp. */
  x: Float64Array;
  xp: Float64Array;
  /** (T, H) remembered hidden hp_t (the value the gates saw at step t). */
  hp: Float64Array;
  /** (T, H) 1 where the hidden delta fired at step t. */
  firedH: Uint8Array;
  /** (T, H) hp_{t-1}, the penalty's constant. */
  hpPrev: Float64Array;
  /** (T, G*H) post-activation gates: GRU r, z, n; LSTM i, f, g, o. */
  gates: Float64Array;
  /** GRU: (T, H) W_hn hp + b_hn. LSTM: (T, H) cell state c_t. */
  aux: Float64Array;
  /** (T, H) outputs h_t. */
  h: Float64Array;
  /** Fired input and hidden elements summed over the sequence. */
  countX: number;
  countH: number;
  /** Reset-before GRU only: (T, H) q_t = r_t * h_{t-1} and its remembered version qp_t. */
  q?: Float64Array;
  qp?: Float64Array;
  countQ?: number;
}

export interface Tape {
  T: number;
  layers: LayerTape[];
  logits: Float64Array;
  /** Softmax of the logits. */
  probs: Float64Array;
  /** `ctc` readout: the head's output at every frame, (T, O). */
  frameLogits?: Float64Array;
  /** L1 penalty value (already weighted by l1). */
  penalty: number;
}

/** Offsets frozen from a tape: the surrogate the straight-through gradient is exact for. */
export interface Frozen {
  layers: Array<{ ex: Float64Array; eh: Float64Array; firedH: Uint8Array; hpPrev: Float64Array; eq?: Float64Array }>;
}

/** Gradients, one Float64Array per tensor, named like `layerTensors` (weight_ih, ...). */
export type Grads = Array<Record<string, Float64Array>>;

type Rec = GruLayer | LstmLayer;

/**
 * Split a trainable model into its recurrent stack and its head; throws E_UNSUPPORTED otherwise.
 *
 * @example const { rec, head } = trainableParts(model);
 */
export function trainableParts(model: Model): { rec: Rec[]; head: LinearLayer } {
  const n = model.layers.length;
  check(n >= 2, 'E_UNSUPPORTED', () => `train: expected recurrent layers followed by one linear head, found ${n} layer(s)`);
  const head = model.layers[n - 1]!;
  check(head.kind === 'linear' && head.activation === 'none', 'E_UNSUPPORTED', () => `train: the last layer must be a linear head without activation, found ${head.kind}${head.kind === 'linear' ? ` (${head.activation})` : ''}`);
  const rec = model.layers.slice(0, n - 1);
  for (const [k, l] of rec.entries()) {
    check(l.kind === 'gru' || l.kind === 'lstm', 'E_UNSUPPORTED', () => `train: layer ${k} is ${l.kind}; the trainer handles gru and lstm layers`);
    if (l.kind === 'lstm') requireNoPeephole(l, `train (layer ${k})`);
    requireDefaultActivations(l as Rec, `train (layer ${k})`);
    check(!(l as Rec).initialH, 'E_UNSUPPORTED', () => `train (layer ${k}): expected a layer starting from a zero state, found an initial state (ONNX initial_h); the trainer starts every sequence from zero`);
  }
  return { rec: rec as Rec[], head: head as LinearLayer };
}

/**
 * Zeroed gradients shaped like the model's tensors.
 *
 * @example const grads = zeroGrads(model);
 */
export function zeroGrads(model: Model): Grads {
  return model.layers.map((l) => {
    const g: Record<string, Float64Array> = {};
    if (l.kind === 'linear') {
      g['weight'] = new Float64Array(l.weight.length);
      g['bias'] = new Float64Array(l.bias.length);
    } else if (l.kind === 'gru' || l.kind === 'lstm') {
      g['weight_ih'] = new Float64Array(l.weightIh.length);
      g['weight_hh'] = new Float64Array(l.weightHh.length);
      g['bias_ih'] = new Float64Array(l.biasIh.length);
      g['bias_hh'] = new Float64Array(l.biasHh.length);
    }
    return g;
  });
}

/**
 * One step of gate activations, recorded on the tape for BPTT: `pi` holds the input-side
 * pre-activations (W_ih xp + b_ih, G*H values from `piOff`), `ph` the hidden-side ones
 * (W_hh hp + b_hh). Writes gates, aux (GRU: W_hn hp + b_hn; LSTM: c) and h at step t; updates
 * cPrev (LSTM). Shared by the float64 trainer and its wasm fast path, which differ only in how
 * the pre-activations are computed.
 */
export function recordGateStep(
  kind: 'gru' | 'lstm',
  H: number,
  pi: ArrayLike<number>,
  piOff: number,
  ph: ArrayLike<number>,
  tape: { gates: Float64Array; aux: Float64Array; h: Float64Array },
  t: number,
  hPrev: Float64Array,
  cPrev: Float64Array,
): void {
  const ho = t * H;
  const go = t * (kind === 'gru' ? 3 : 4) * H;
  const a = piOff;
  if (kind === 'gru') {
    for (let j = 0; j < H; j++) {
      const r = sigmoid(pi[a + j]! + ph[j]!);
      const z = sigmoid(pi[a + H + j]! + ph[H + j]!);
      const anh = ph[2 * H + j]!;
      const n = Math.tanh(pi[a + 2 * H + j]! + r * anh);
      tape.gates[go + j] = r;
      tape.gates[go + H + j] = z;
      tape.gates[go + 2 * H + j] = n;
      tape.aux[ho + j] = anh;
      tape.h[ho + j] = (1 - z) * n + z * hPrev[j]!;
    }
  } else {
    for (let j = 0; j < H; j++) {
      const ig = sigmoid(pi[a + j]! + ph[j]!);
      const fg = sigmoid(pi[a + H + j]! + ph[H + j]!);
      const gg = Math.tanh(pi[a + 2 * H + j]! + ph[2 * H + j]!);
      const og = sigmoid(pi[a + 3 * H + j]! + ph[3 * H + j]!);
      const c = fg * cPrev[j]! + ig * gg;
      tape.gates[go + j] = ig;
      tape.gates[go + H + j] = fg;
      tape.gates[go + 2 * H + j] = gg;
      tape.gates[go + 3 * H + j] = og;
      tape.aux[ho + j] = c;
      tape.h[ho + j] = og * Math.tanh(c);
      cPrev[j] = c;
    }
  }
}


/**
 * One reset-before GRU step on the tape: r, z from the pre-activations, q = r * hPrev thresholded
 * into qp (or qp = q + eq in the frozen surrogate), then n = tanh(acc_n + W_hn qp + b_hn).
 * aux holds W_hn qp + b_hn.
 */
function resetBeforeStep(
  L: GruLayer, acc: Float64Array, accH: Float64Array, tape: LayerTape, t: number, hPrev: Float64Array,
  qMem: Float64Array, eq: Float64Array | undefined, isDelta: boolean, thh: number,
): void {
  const H = L.hiddenSize;
  const ho = t * H;
  const go = t * 3 * H;
  const q = tape.q!;
  const qp = tape.qp!;
  for (let j = 0; j < H; j++) {
    const r = sigmoid(acc[j]! + accH[j]!);
    tape.gates[go + j] = r;
    tape.gates[go + H + j] = sigmoid(acc[H + j]! + accH[H + j]!);
    const qv = r * hPrev[j]!;
    q[ho + j] = qv;
    let qpv: number;
    if (eq) qpv = qv + eq[ho + j]!;
    else if (!isDelta || Math.abs(qv - qMem[j]!) >= thh) {
      qpv = qv;
      tape.countQ!++;
    } else qpv = qMem[j]!;
    qMem[j] = qpv;
    qp[ho + j] = qpv;
  }
  const Wh = L.weightHh;
  for (let j = 0; j < H; j++) {
    let a = L.biasHh[2 * H + j]!;
    const row = (2 * H + j) * H;
    for (let k = 0; k < H; k++) a += Wh[row + k]! * qp[ho + k]!;
    const n = Math.tanh(acc[2 * H + j]! + a);
    const z = tape.gates[go + H + j]!;
    tape.gates[go + 2 * H + j] = n;
    tape.aux[ho + j] = a;
    tape.h[ho + j] = (1 - z) * n + z * hPrev[j]!;
  }
}

/**
 * Forward pass over one sequence `x` (T frames of the model's input size), recording the tape.
 *
 * @example const tape = forwardSequence(model, frames, T, { readout: 'mean', delta: { thresholdX: 0.2, thresholdH: 0.1 } });
 */
export function forwardSequence(model: Model, x: Float32Array, T: number, o: ForwardOptions): Tape {
  const { rec, head } = trainableParts(model);
  check(T > 0 && x.length === T * rec[0]!.inputSize, 'E_SHAPE', () => `train: expected ${T} frames of ${rec[0]!.inputSize} values (${T * rec[0]!.inputSize}), found ${x.length}`);
  const thx = o.delta ? o.delta.thresholdX : 0;
  const thh = o.delta ? o.delta.thresholdH : 0;
  const isDelta = o.delta !== undefined;
  let input: Float64Array = Float64Array.from(x);
  const layers: LayerTape[] = [];
  let penalty = 0;
  rec.forEach((L, li) => {
    const I = L.inputSize;
    const H = L.hiddenSize;
    const G = L.kind === 'gru' ? 3 : 4;
    const GH = G * H;
    const tape: LayerTape = {
      kind: L.kind, I, H, x: input, xp: new Float64Array(T * I), hp: new Float64Array(T * H), firedH: new Uint8Array(T * H), hpPrev: new Float64Array(T * H),
      gates: new Float64Array(T * GH), aux: new Float64Array(T * H), h: new Float64Array(T * H), countX: 0, countH: 0,
    };
    const fz = o.frozen?.layers[li];
    const before = L.kind === 'gru' && !isResetAfter(L);
    if (before) {
      tape.q = new Float64Array(T * H);
      tape.qp = new Float64Array(T * H);
      tape.countQ = 0;
    }
    const qMem = new Float64Array(H);
    const xpMem = new Float64Array(I);
    const hpMem = new Float64Array(H);
    const hPrev = new Float64Array(H);
    const cPrev = new Float64Array(H);
    const acc = new Float64Array(GH);
    const accH = new Float64Array(GH);
    const Wi = L.weightIh;
    const Wh = L.weightHh;
    let pen = 0;
    for (let t = 0; t < T; t++) {
      const xo = t * I;
      const ho = t * H;
      // Thresholding (or its frozen surrogate): fire when |delta| >= threshold.
      for (let i = 0; i < I; i++) {
        const v = input[xo + i]!;
        let xpv: number;
        if (fz) xpv = v + fz.ex[xo + i]!;
        else if (!isDelta || Math.abs(v - xpMem[i]!) >= thx) {
          xpv = v;
          tape.countX++;
        } else xpv = xpMem[i]!;
        xpMem[i] = xpv;
        tape.xp[xo + i] = xpv;
      }
      for (let j = 0; j < H; j++) {
        const v = hPrev[j]!;
        tape.hpPrev[ho + j] = hpMem[j]!;
        let hpv: number;
        if (fz) {
          hpv = v + fz.eh[ho + j]!;
          tape.firedH[ho + j] = fz.firedH[ho + j]!;
          tape.hpPrev[ho + j] = fz.hpPrev[ho + j]!;
        } else if (t > 0 && (!isDelta || Math.abs(v - hpMem[j]!) >= thh)) {
          // Step 0 has dh = 0 by definition: nothing fires.
          hpv = v;
          tape.firedH[ho + j] = 1;
          tape.countH++;
        } else hpv = t > 0 || !isDelta ? hpMem[j]! : 0;
        if (isDelta && tape.firedH[ho + j]) pen += Math.abs(v - tape.hpPrev[ho + j]!);
        hpMem[j] = hpv;
        tape.hp[ho + j] = hpv;
      }
      // Gate pre-activations: acc = W_ih xp + b_ih, accH = W_hh hp + b_hh (locals keep the
      // inner loops free of property loads).
      const bi = L.biasIh;
      const bh = L.biasHh;
      for (let g = 0; g < GH; g++) {
        let s = bi[g]!;
        const row = g * I;
        for (let i = 0; i < I; i++) s += Wi[row + i]! * xpMem[i]!;
        acc[g] = s;
        let sh = bh[g]!;
        const rowh = g * H;
        for (let j = 0; j < H; j++) sh += Wh[rowh + j]! * hpMem[j]!;
        accH[g] = sh;
      }
      if (before) resetBeforeStep(L as GruLayer, acc, accH, tape, t, hPrev, qMem, fz?.eq, isDelta, thh);
      else recordGateStep(L.kind, H, acc, 0, accH, tape, t, hPrev, cPrev);
      for (let j = 0; j < H; j++) hPrev[j] = tape.h[ho + j]!;
    }
    if (o.l1) penalty += (o.l1 * pen) / T;
    layers.push(tape);
    input = tape.h;
  });
  // Head on the pooled (or last) hidden state: mean of W h_t + b equals W mean(h) + b.
  const last = layers[layers.length - 1]!;
  const H = last.H;
  const feat = new Float64Array(H);
  if (o.readout === 'mean') {
    for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) feat[j] += last.h[t * H + j]!;
    for (let j = 0; j < H; j++) feat[j] /= T;
  } else for (let j = 0; j < H; j++) feat[j] = last.h[(T - 1) * H + j]!;
  const O = head.outputSize;
  const logits = new Float64Array(O);
  for (let k = 0; k < O; k++) {
    let s = head.bias[k]!;
    for (let j = 0; j < H; j++) s += head.weight[k * H + j]! * feat[j]!;
    logits[k] = s;
  }
  const frameLogits = o.readout === 'ctc' ? headFrames(head, last.h, T) : undefined;
  let m = -Infinity;
  for (const v of logits) m = Math.max(m, v);
  const probs = new Float64Array(O);
  let z = 0;
  for (let k = 0; k < O; k++) z += probs[k] = Math.exp(logits[k]! - m);
  for (let k = 0; k < O; k++) probs[k] = probs[k]! / z;
  return { T, layers, logits, probs, penalty, ...(frameLogits ? { frameLogits } : {}) };
}

/**
 * The head applied to every frame: (T, O) outputs of W h_t + b.
 *
 * @example const y = headFrames(head, lastLayerH, T);
 */
export function headFrames(head: LinearLayer, h: Float64Array, T: number): Float64Array {
  const O = head.outputSize;
  const H = head.inputSize;
  const y = new Float64Array(T * O);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < O; k++) {
      let s = head.bias[k]!;
      for (let j = 0; j < H; j++) s += head.weight[k * H + j]! * h[t * H + j]!;
      y[t * O + k] = s;
    }
  }
  return y;
}

/**
 * CTC through the head: loss, head gradients (added to `gh`, scaled) and the gradient reaching
 * the last layer's outputs, (T, H). Shared by the float64 and the wasm backends.
 */
export function ctcHeadBackward(head: LinearLayer, h: Float64Array, frameLogits: Float64Array, T: number, target: readonly number[], gh: Record<string, Float64Array>, scale: number): { loss: number; dOut: Float64Array } {
  const O = head.outputSize;
  const H = head.inputSize;
  const { loss, grad } = ctcLoss(frameLogits, T, O, target);
  const dOut = new Float64Array(T * H);
  if (!Number.isFinite(loss)) return { loss, dOut };
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < O; k++) {
      const d = scale * grad[t * O + k]!;
      if (d === 0) continue;
      gh['bias']![k] += d;
      for (let j = 0; j < H; j++) {
        gh['weight']![k * H + j] += d * h[t * H + j]!;
        dOut[t * H + j] += head.weight[k * H + j]! * d;
      }
    }
  }
  return { loss, dOut };
}

export function checkTarget(readout: Readout, target: Target, O: number): void {
  if (readout === 'ctc') {
    check(Array.isArray(target) && target.every((l) => Number.isInteger(l) && l >= 0 && l < O - 1), 'E_VALUE', () => `train: a CTC target must be a list of labels in 0..${O - 2} (blank = ${O - 1}), found ${JSON.stringify(target)}`);
  } else {
    check(typeof target === 'number' && Number.isInteger(target) && target >= 0 && target < O, 'E_VALUE', () => `train: label must be an integer in 0..${O - 1}, found ${JSON.stringify(target)}`);
  }
}


/**
 * Cross-entropy of a tape's prediction against a label, plus its penalty.
 *
 * @example const loss = tapeLoss(forwardSequence(model, x, T, { readout: 'mean' }), label);
 */
export function tapeLoss(tape: Tape, label: Target, soft?: Float64Array): number {
  if (tape.frameLogits) return ctcLoss(tape.frameLogits, tape.T, tape.frameLogits.length / tape.T, label as readonly number[]).loss + tape.penalty;
  if (soft) return softCrossEntropy(tape.probs, soft) + tape.penalty;
  return -Math.log(Math.max(tape.probs[label as number]!, 1e-300)) + tape.penalty;
}

/**
 * Cross-entropy -sum_c q_c log p_c of a prediction against a target distribution (distillation:
 * a one-hot label mixed with a teacher's posteriors). Its gradient with respect to the logits is
 * p - q, as for a one-hot label.
 *
 * @example softCrossEntropy(probs, Float64Array.from([0.1, 0.9]))
 */
export function softCrossEntropy(probs: ArrayLike<number>, soft: ArrayLike<number>): number {
  let loss = 0;
  for (let c = 0; c < soft.length; c++) if (soft[c]! > 0) loss -= soft[c]! * Math.log(Math.max(probs[c]!, 1e-300));
  return loss;
}

/**
 * E_VALUE unless `soft` is a distribution over the O classes (only for one-label readouts).
 */
export function checkSoftTarget(readout: Readout, soft: ArrayLike<number>, O: number): void {
  check(readout !== 'ctc', 'E_OPTION', () => 'train: a soft (distilled) target needs one label per utterance (readout mean or last), found readout ctc');
  let sum = 0;
  for (let c = 0; c < soft.length; c++) sum += soft[c]!;
  check(soft.length === O && Array.from(soft).every((v) => Number.isFinite(v) && v >= 0) && Math.abs(sum - 1) < 1e-6, 'E_VALUE', () => `train: a soft target must be ${O} probabilities summing to 1, found ${soft.length} values summing to ${sum}`);
}

/**
 * Offsets of a tape, to evaluate the straight-through surrogate (gradient checks).
 *
 * @example const f = freezeTape(tape); forwardSequence(model, x, T, { ...o, frozen: f });
 */
export function freezeTape(tape: Tape): Frozen {
  return {
    layers: tape.layers.map((l) => {
      const T = tape.T;
      const ex = new Float64Array(T * l.I);
      for (let i = 0; i < ex.length; i++) ex[i] = l.xp[i]! - l.x[i]!;
      const eh = new Float64Array(T * l.H);
      for (let t = 0; t < T; t++) for (let j = 0; j < l.H; j++) eh[t * l.H + j] = l.hp[t * l.H + j]! - (t > 0 ? l.h[(t - 1) * l.H + j]! : 0);
      const eq = l.q && l.qp ? l.qp.map((v, i) => v - l.q![i]!) : undefined;
      return { ex, eh, firedH: l.firedH.slice(), hpPrev: l.hpPrev.slice(), ...(eq ? { eq } : {}) };
    }),
  };
}

/**
 * Backward pass: add the gradient of `scale * (CE(label) + penalty)` to `grads` (with `o.soft`,
 * the cross-entropy against that distribution instead of the one-hot label).
 *
 * @example const g = zeroGrads(model); backwardSequence(model, tape, label, { readout: 'mean', l1: 1e-3 }, g, 1 / batch);
 */
export function backwardSequence(model: Model, tape: Tape, target: Target, o: { readout: Readout; l1?: number; delta?: DeltaThresholds; soft?: Float64Array }, grads: Grads, scale = 1): void {
  const { head } = trainableParts(model);
  const T = tape.T;
  const O = head.outputSize;
  checkTarget(o.readout, target, O);
  const last = tape.layers[tape.layers.length - 1]!;
  const Hl = last.H;
  if (o.readout === 'ctc') {
    check(tape.frameLogits !== undefined, 'E_VALUE', () => 'train: a CTC backward pass needs a tape recorded with readout ctc');
    const { dOut } = ctcHeadBackward(head, last.h, tape.frameLogits!, T, target as readonly number[], grads[grads.length - 1]!, scale);
    backwardLayers(model, tape, dOut, o, grads, scale);
    return;
  }
  const label = target as number;
  if (o.soft) checkSoftTarget(o.readout, o.soft, O);
  const dlog = new Float64Array(O);
  for (let k = 0; k < O; k++) dlog[k] = scale * (tape.probs[k]! - (o.soft ? o.soft[k]! : k === label ? 1 : 0));
  const gh = grads[grads.length - 1]!;
  const feat = new Float64Array(Hl);
  if (o.readout === 'mean') {
    for (let t = 0; t < T; t++) for (let j = 0; j < Hl; j++) feat[j] += last.h[t * Hl + j]!;
    for (let j = 0; j < Hl; j++) feat[j] /= T;
  } else for (let j = 0; j < Hl; j++) feat[j] = last.h[(T - 1) * Hl + j]!;
  const dfeat = new Float64Array(Hl);
  for (let k = 0; k < O; k++) {
    gh['bias']![k] += dlog[k]!;
    for (let j = 0; j < Hl; j++) {
      gh['weight']![k * Hl + j] += dlog[k]! * feat[j]!;
      dfeat[j] += head.weight[k * Hl + j]! * dlog[k]!;
    }
  }
  // dOut: gradient w.r.t. the current layer's outputs h_t, (T, H).
  let dOut: Float64Array = new Float64Array(T * Hl);
  if (o.readout === 'mean') for (let t = 0; t < T; t++) for (let j = 0; j < Hl; j++) dOut[t * Hl + j] = dfeat[j]! / T;
  else for (let j = 0; j < Hl; j++) dOut[(T - 1) * Hl + j] = dfeat[j]!;
  backwardLayers(model, tape, dOut, o, grads, scale);
}

/** Backward through the recurrent stack from the gradient reaching the last layer's outputs. */
function backwardLayers(model: Model, tape: Tape, dOut: Float64Array, o: { l1?: number; delta?: DeltaThresholds }, grads: Grads, scale: number): void {
  const { rec } = trainableParts(model);
  const T = tape.T;
  // The penalty exists only for delta networks (the retraining phase of the recipe).
  const l1 = o.delta ? (o.l1 ?? 0) : 0;
  for (let li = rec.length - 1; li >= 0; li--) {
    const L = rec[li]!;
    const tp = tape.layers[li]!;
    const g = grads[li]!;
    const I = tp.I;
    const H = tp.H;
    const GH = (L.kind === 'gru' ? 3 : 4) * H;
    const dIn = new Float64Array(T * I);
    const dh = new Float64Array(H); // gradient flowing into h_t from the future
    const dc = new Float64Array(H); // LSTM cell gradient from the future
    const da = new Float64Array(GH); // input-side pre-activation gradient
    const dah = new Float64Array(GH); // hidden-side (differs from da only in the GRU n gate)
    const Wi = L.weightIh;
    const Wh = L.weightHh;
    const gWi = g['weight_ih']!;
    const gWh = g['weight_hh']!;
    const gbi = g['bias_ih']!;
    const gbh = g['bias_hh']!;
    const penScale = (scale * l1) / T;
    const before = L.kind === 'gru' && !isResetAfter(L);
    const dqp = new Float64Array(before ? H : 0);
    for (let t = T - 1; t >= 0; t--) {
      const ho = t * H;
      const go = t * GH;
      const xo = t * I;
      for (let j = 0; j < H; j++) dh[j] = dh[j]! + dOut[ho + j]!;
      const dPrev = new Float64Array(H);
      if (before) {
        // n, z first; then dqp = W_hn^T dan (all of dan is needed), then r through q = r * h_{t-1}.
        for (let j = 0; j < H; j++) {
          const z = tp.gates[go + H + j]!;
          const n = tp.gates[go + 2 * H + j]!;
          const hp = t > 0 ? tp.h[ho - H + j]! : 0;
          const d = dh[j]!;
          dPrev[j] = d * z;
          const dan = d * (1 - z) * (1 - n * n);
          const daz = d * (hp - n) * z * (1 - z);
          da[H + j] = daz;
          da[2 * H + j] = dan;
          dah[H + j] = daz;
          dah[2 * H + j] = 0; // the n rows of W_hh multiply qp, handled here
          gbh[2 * H + j] += dan;
        }
        dqp.fill(0);
        const qpT = tp.qp!.subarray(ho, ho + H);
        for (let j = 0; j < H; j++) {
          const dan = da[2 * H + j]!;
          if (dan === 0) continue;
          const row = (2 * H + j) * H;
          for (let k = 0; k < H; k++) {
            gWh[row + k] += dan * qpT[k]!;
            dqp[k] += Wh[row + k]! * dan;
          }
        }
        for (let k = 0; k < H; k++) {
          const r = tp.gates[go + k]!;
          const hp = t > 0 ? tp.h[ho - H + k]! : 0;
          // Straight-through: dq = dqp.
          const dar = dqp[k]! * hp * r * (1 - r);
          da[k] = dar;
          dah[k] = dar;
          dPrev[k] += dqp[k]! * r;
        }
      } else if (L.kind === 'gru') {
        for (let j = 0; j < H; j++) {
          const r = tp.gates[go + j]!;
          const z = tp.gates[go + H + j]!;
          const n = tp.gates[go + 2 * H + j]!;
          const hp = t > 0 ? tp.h[ho - H + j]! : 0;
          const d = dh[j]!;
          const dn = d * (1 - z);
          const dz = d * (hp - n);
          dPrev[j] = d * z;
          const dan = dn * (1 - n * n);
          const dr = dan * tp.aux[ho + j]!;
          const dar = dr * r * (1 - r);
          const daz = dz * z * (1 - z);
          da[j] = dar;
          da[H + j] = daz;
          da[2 * H + j] = dan;
          dah[j] = dar;
          dah[H + j] = daz;
          dah[2 * H + j] = dan * r;
        }
      } else {
        for (let j = 0; j < H; j++) {
          const ig = tp.gates[go + j]!;
          const fg = tp.gates[go + H + j]!;
          const gg = tp.gates[go + 2 * H + j]!;
          const og = tp.gates[go + 3 * H + j]!;
          const c = tp.aux[ho + j]!;
          const cp = t > 0 ? tp.aux[ho - H + j]! : 0;
          const tc = Math.tanh(c);
          const d = dh[j]!;
          const dcj = dc[j]! + d * og * (1 - tc * tc);
          const dog = d * tc;
          da[j] = dcj * gg * ig * (1 - ig);
          da[H + j] = dcj * cp * fg * (1 - fg);
          da[2 * H + j] = dcj * ig * (1 - gg * gg);
          da[3 * H + j] = dog * og * (1 - og);
          dc[j] = dcj * fg;
        }
        dah.set(da);
      }
      // Weight gradients (outer products) and the straight-through input/hidden gradients.
      const xpT = tp.xp.subarray(xo, xo + I);
      const hpT = tp.hp.subarray(ho, ho + H);
      const dInT = dIn.subarray(xo, xo + I);
      for (let gi = 0; gi < GH; gi++) {
        const a = da[gi]!;
        const ah = dah[gi]!;
        gbi[gi] += a;
        if (!before || gi < 2 * H) gbh[gi] += ah;
        if (a !== 0) {
          const row = gi * I;
          for (let i = 0; i < I; i++) {
            gWi[row + i] += a * xpT[i]!;
            dInT[i] += Wi[row + i]! * a;
          }
        }
        if (ah !== 0 && t > 0) {
          const rowh = gi * H;
          for (let j = 0; j < H; j++) {
            gWh[rowh + j] += ah * hpT[j]!;
            dPrev[j] += Wh[rowh + j]! * ah;
          }
        }
      }
      if (penScale !== 0 && t > 0) {
        for (let j = 0; j < H; j++) {
          if (tp.firedH[ho + j]) {
            const dv = tp.h[ho - H + j]! - tp.hpPrev[ho + j]!;
            dPrev[j] += penScale * Math.sign(dv);
          }
        }
      }
      for (let j = 0; j < H; j++) dh[j] = dPrev[j]!;
    }
    dOut = dIn;
  }
}
