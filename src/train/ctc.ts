/**
 * Connectionist temporal classification (Graves et al. 2006) for connected digit strings: the
 * loss and its gradient, streaming greedy decoding that emits a digit as soon as it is
 * recognised, a small prefix beam search, and word error rate.
 *
 * Conventions: per-frame logits over K = classes + 1 outputs, the **blank is the last output**
 * (so digit labels keep the isolated-digit model's class indices 0..10). All arithmetic in
 * float64, in the log domain.
 */
import { check } from '../core/errors.js';

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * Per-frame log-softmax of (T, K) logits.
 *
 * @example const lp = logSoftmaxFrames(logits, T, K);
 */
export function logSoftmaxFrames(logits: ArrayLike<number>, T: number, K: number): Float64Array {
  const out = new Float64Array(T * K);
  for (let t = 0; t < T; t++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, logits[t * K + k]!);
    let z = 0;
    for (let k = 0; k < K; k++) z += Math.exp(logits[t * K + k]! - m);
    const lz = m + Math.log(z);
    for (let k = 0; k < K; k++) out[t * K + k] = logits[t * K + k]! - lz;
  }
  return out;
}

export interface CtcResult {
  /** -log P(labels | x); Infinity when no alignment fits in T frames. */
  loss: number;
  /** dLoss/dLogits, (T, K); zero when the loss is infinite. */
  grad: Float64Array;
}

/**
 * CTC loss of (T, K) logits against a label sequence (values in 0..K-2; blank = K-1), and its
 * gradient with respect to the logits: softmax minus the posterior occupation of each output.
 *
 * @example const { loss, grad } = ctcLoss(logits, T, 12, [3, 3, 9]);
 */
export function ctcLoss(logits: ArrayLike<number>, T: number, K: number, labels: readonly number[]): CtcResult {
  const blank = K - 1;
  check(Number.isInteger(T) && T > 0 && logits.length === T * K, 'E_SHAPE', () => `ctc: expected ${T} x ${K} logits, found ${logits.length} values`);
  for (const l of labels) check(Number.isInteger(l) && l >= 0 && l < blank, 'E_VALUE', () => `ctc: labels must be integers in 0..${blank - 1} (blank = ${blank}), found ${l}`);
  const lp = logSoftmaxFrames(logits, T, K);
  const S = 2 * labels.length + 1;
  const ext = new Int32Array(S).fill(blank);
  labels.forEach((l, i) => (ext[2 * i + 1] = l));
  const alpha = new Float64Array(T * S).fill(-Infinity);
  const beta = new Float64Array(T * S).fill(-Infinity);
  alpha[0] = lp[blank]!;
  if (S > 1) alpha[1] = lp[ext[1]!]!;
  for (let t = 1; t < T; t++) {
    for (let s = 0; s < S; s++) {
      let a = alpha[(t - 1) * S + s]!;
      if (s >= 1) a = logAdd(a, alpha[(t - 1) * S + s - 1]!);
      if (s >= 2 && ext[s] !== blank && ext[s] !== ext[s - 2]) a = logAdd(a, alpha[(t - 1) * S + s - 2]!);
      alpha[t * S + s] = a === -Infinity ? -Infinity : a + lp[t * K + ext[s]!]!;
    }
  }
  beta[(T - 1) * S + S - 1] = lp[(T - 1) * K + blank]!;
  if (S > 1) beta[(T - 1) * S + S - 2] = lp[(T - 1) * K + ext[S - 2]!]!;
  for (let t = T - 2; t >= 0; t--) {
    for (let s = S - 1; s >= 0; s--) {
      let b = beta[(t + 1) * S + s]!;
      if (s + 1 < S) b = logAdd(b, beta[(t + 1) * S + s + 1]!);
      if (s + 2 < S && ext[s] !== blank && ext[s] !== ext[s + 2]) b = logAdd(b, beta[(t + 1) * S + s + 2]!);
      beta[t * S + s] = b === -Infinity ? -Infinity : b + lp[t * K + ext[s]!]!;
    }
  }
  let logP = alpha[(T - 1) * S + S - 1]!;
  if (S > 1) logP = logAdd(logP, alpha[(T - 1) * S + S - 2]!);
  const grad = new Float64Array(T * K);
  if (logP === -Infinity) return { loss: Infinity, grad };
  // dL/du_tk = y_tk - (1 / P) sum_{s: ext[s] = k} alpha_t(s) beta_t(s) / y_tk
  // (alpha and beta both include the emission at t, hence the division by y_tk once).
  const occ = new Float64Array(K);
  for (let t = 0; t < T; t++) {
    occ.fill(-Infinity);
    for (let s = 0; s < S; s++) {
      const v = alpha[t * S + s]! + beta[t * S + s]!;
      if (v !== -Infinity) occ[ext[s]!] = logAdd(occ[ext[s]!]!, v);
    }
    for (let k = 0; k < K; k++) {
      const y = Math.exp(lp[t * K + k]!);
      const q = occ[k] === -Infinity ? 0 : Math.exp(occ[k]! - lp[t * K + k]! - logP);
      grad[t * K + k] = y - q;
    }
  }
  return { loss: -logP, grad };
}

/**
 * Streaming greedy CTC decoding: feed one frame's outputs at a time; a label is emitted on the
 * frame where it first wins (a new non-blank argmax, not a repeat of the previous frame's).
 *
 * @example const d = new CtcGreedyDecoder(12); for (...) { const digit = d.push(frame); if (digit !== null) print(digit); }
 */
export class CtcGreedyDecoder {
  private prev = -1;
  readonly emitted: number[] = [];
  /** Frame index of every emission. */
  readonly frames: number[] = [];
  private t = 0;
  constructor(readonly outputs: number) {
    check(Number.isInteger(outputs) && outputs >= 2, 'E_OPTION', () => `ctc decoder: expected at least 2 outputs (labels + blank), found ${outputs}`);
  }
  /** One frame's outputs (logits or probabilities); returns the label emitted now, or null. */
  push(frame: ArrayLike<number>, offset = 0): number | null {
    check(frame !== null && typeof frame === 'object' && Number.isInteger(offset) && offset >= 0 && offset + this.outputs <= frame.length, 'E_SHAPE', () => `ctc decoder: expected ${this.outputs} outputs at offset ${offset}, found ${frame === null || typeof frame !== 'object' ? String(frame) : `${frame.length} values`}`);
    for (let k = 0; k < this.outputs; k++) check(Number.isFinite(frame[offset + k]), 'E_VALUE', () => `ctc decoder: expected finite outputs, found ${frame[offset + k]} at output ${k}`);
    let best = 0;
    for (let k = 1; k < this.outputs; k++) if (frame[offset + k]! > frame[offset + best]!) best = k;
    const blank = this.outputs - 1;
    const out = best !== blank && best !== this.prev ? best : null;
    this.prev = best;
    if (out !== null) {
      this.emitted.push(out);
      this.frames.push(this.t);
    }
    this.t++;
    return out;
  }
  reset(): void {
    this.prev = -1;
    this.t = 0;
    this.emitted.length = 0;
    this.frames.length = 0;
  }
}

/**
 * Greedy decoding of a whole (T, K) output sequence.
 *
 * @example ctcGreedy(logits, T, 12) // [3, 9]
 */
export function ctcGreedy(outputs: ArrayLike<number>, T: number, K: number): number[] {
  const d = new CtcGreedyDecoder(K);
  for (let t = 0; t < T; t++) d.push(outputs, t * K);
  return d.emitted;
}

/**
 * CTC prefix beam search over (T, K) logits, keeping `beam` prefixes per frame (no language
 * model). Returns the most probable label sequence.
 *
 * @example ctcBeamSearch(logits, T, 12, 4)
 */
export function ctcBeamSearch(logits: ArrayLike<number>, T: number, K: number, beam = 4): number[] {
  check(Number.isInteger(beam) && beam >= 1, 'E_OPTION', () => `ctc beam search: beam must be a positive integer, found ${beam}`);
  const lp = logSoftmaxFrames(logits, T, K);
  const blank = K - 1;
  // Each prefix: log P(ending in blank), log P(ending in its last label).
  let beams = new Map<string, { seq: number[]; pb: number; pnb: number }>([['', { seq: [], pb: 0, pnb: -Infinity }]]);
  for (let t = 0; t < T; t++) {
    const next = new Map<string, { seq: number[]; pb: number; pnb: number }>();
    const get = (seq: number[]) => {
      const key = seq.join(',');
      let e = next.get(key);
      if (!e) next.set(key, (e = { seq, pb: -Infinity, pnb: -Infinity }));
      return e;
    };
    for (const { seq, pb, pnb } of beams.values()) {
      const total = logAdd(pb, pnb);
      const stay = get(seq);
      stay.pb = logAdd(stay.pb, total + lp[t * K + blank]!);
      const lastL = seq.length ? seq[seq.length - 1]! : -1;
      if (lastL >= 0) stay.pnb = logAdd(stay.pnb, pnb + lp[t * K + lastL]!);
      for (let k = 0; k < K; k++) {
        if (k === blank) continue;
        const ext = get([...seq, k]);
        // A repeated label needs a blank in between; otherwise it extends from either ending.
        ext.pnb = logAdd(ext.pnb, (k === lastL ? pb : total) + lp[t * K + k]!);
      }
    }
    beams = new Map([...next.entries()].sort((a, b) => logAdd(b[1].pb, b[1].pnb) - logAdd(a[1].pb, a[1].pnb)).slice(0, beam));
  }
  let best: number[] = [];
  let bestP = -Infinity;
  for (const { seq, pb, pnb } of beams.values()) {
    const p = logAdd(pb, pnb);
    if (p > bestP) [best, bestP] = [seq, p];
  }
  return best;
}

/**
 * Levenshtein distance between two label sequences (substitutions, insertions, deletions).
 *
 * @example editDistance([1, 2, 3], [1, 3]) // 1
 */
export function editDistance(ref: readonly number[], hyp: readonly number[]): number {
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const cur = [i];
    for (let j = 1; j <= hyp.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[hyp.length]!;
}

/**
 * The labels a CTC transcript is scored on: the word classes only. A class named `_like_this_`
 * (`_unknown_`, `_silence_` of the keyword corpus) is no word: left out of reference and
 * hypothesis alike, so a keyword-stream model is right on an unknown word or a silence clip when it
 * decodes no keyword there (whether it was trained to say `_unknown_` or nothing). Returns the
 * labels themselves when every class is a word (digit strings).
 *
 * @example const keep = wordLabelFilter(['yes', '_unknown_']); keep([0, 1, 0]) // [0, 0]
 */
export function wordLabelFilter(classes: readonly string[]): (labels: readonly number[]) => readonly number[] {
  const nonWords = new Set(classes.flatMap((c, k) => (/^_.*_$/.test(c) ? [k] : [])));
  return nonWords.size === 0 ? (labels) => labels : (labels) => labels.filter((l) => !nonWords.has(l));
}
