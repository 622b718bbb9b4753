import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { ctcBeamSearch, ctcGreedy, CtcGreedyDecoder, ctcLoss, editDistance, logSoftmaxFrames } from '../../src/train/ctc.js';

/** Collapse an alignment: merge repeats, drop blanks (blank = K - 1). */
function collapse(path: number[], K: number): number[] {
  const out: number[] = [];
  let prev = -1;
  for (const k of path) {
    if (k !== K - 1 && k !== prev) out.push(k);
    prev = k;
  }
  return out;
}

/** P(labels) by enumerating every one of the K^T alignments. */
function bruteForce(logits: Float64Array, T: number, K: number): Map<string, number> {
  const lp = logSoftmaxFrames(logits, T, K);
  const p = new Map<string, number>();
  const path = new Array<number>(T).fill(0);
  for (let n = 0; n < K ** T; n++) {
    let r = n;
    let lpath = 0;
    for (let t = 0; t < T; t++) {
      path[t] = r % K;
      r = Math.floor(r / K);
      lpath += lp[t * K + path[t]!]!;
    }
    const key = collapse(path, K).join(',');
    p.set(key, (p.get(key) ?? 0) + Math.exp(lpath));
  }
  return p;
}

function randomLogits(T: number, K: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: T * K }, () => 2 * rng.normal());
}

describe('CTC loss', () => {
  it('equals -log of the summed probability of every alignment (brute force)', () => {
    const T = 6;
    const K = 4;
    for (const [seed, labels] of [[1, [0, 1]], [2, [2, 2]], [3, [1]], [4, []], [5, [0, 2, 0]]] as const) {
      const logits = randomLogits(T, K, seed);
      const p = bruteForce(logits, T, K).get(labels.join(',')) ?? 0;
      expect(ctcLoss(logits, T, K, labels).loss).toBeCloseTo(-Math.log(p), 9);
    }
  });

  it('has the gradient of central finite differences', () => {
    const T = 9;
    const K = 5;
    const labels = [1, 1, 3];
    const logits = randomLogits(T, K, 11);
    const { grad } = ctcLoss(logits, T, K, labels);
    const eps = 1e-5;
    let worst = 0;
    for (let i = 0; i < logits.length; i++) {
      const a = Float64Array.from(logits);
      const b = Float64Array.from(logits);
      a[i] += eps;
      b[i] -= eps;
      const fd = (ctcLoss(a, T, K, labels).loss - ctcLoss(b, T, K, labels).loss) / (2 * eps);
      worst = Math.max(worst, Math.abs(fd - grad[i]!));
    }
    expect(worst).toBeLessThan(1e-6);
    // Each frame's gradient sums to zero (softmax minus a distribution).
    for (let t = 0; t < T; t++) expect(Math.abs(grad.subarray(t * K, t * K + K).reduce((s, v) => s + v, 0))).toBeLessThan(1e-9);
  });

  it('is infinite with a zero gradient when the labels cannot fit (a repeat needs a blank between)', () => {
    const r = ctcLoss(randomLogits(2, 3, 1), 2, 3, [0, 0]);
    expect(r.loss).toBe(Infinity);
    expect(r.grad.every((v) => v === 0)).toBe(true);
    expect(() => ctcLoss(randomLogits(2, 3, 1), 2, 3, [2])).toThrowError(/labels must be integers in 0\.\.1/);
  });
});

describe('CTC decoding', () => {
  it('greedy streaming emits a label on the frame it first wins, merging repeats, splitting at blanks', () => {
    const K = 4; // labels 0..2, blank 3
    const frames = [3, 1, 1, 3, 1, 2, 2, 3, 3, 0];
    const logits = new Float64Array(frames.length * K);
    frames.forEach((k, t) => (logits[t * K + k] = 5));
    const d = new CtcGreedyDecoder(K);
    const emitted = frames.map((_, t) => d.push(logits, t * K));
    expect(emitted).toEqual([null, 1, null, null, 1, 2, null, null, null, 0]);
    expect(d.frames).toEqual([1, 4, 5, 9]);
    expect(ctcGreedy(logits, frames.length, K)).toEqual([1, 1, 2, 0]);
  });

  it('beam search with a beam wide enough finds the most probable labelling (brute force)', () => {
    const T = 5;
    const K = 3;
    for (let seed = 1; seed <= 8; seed++) {
      const logits = randomLogits(T, K, seed * 7);
      const p = bruteForce(logits, T, K);
      const best = [...p.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      expect(ctcBeamSearch(logits, T, K, 64).join(',')).toBe(best);
    }
    // A one-prefix beam is greedy on prefixes: never better than the wide beam.
    const logits = randomLogits(T, K, 99);
    const p = bruteForce(logits, T, K);
    expect(p.get(ctcBeamSearch(logits, T, K, 64).join(','))!).toBeGreaterThanOrEqual(p.get(ctcBeamSearch(logits, T, K, 1).join(','))! - 1e-12);
  });

  it('edit distance counts substitutions, insertions and deletions', () => {
    expect(editDistance([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(editDistance([1, 2, 3], [1, 3])).toBe(1);
    expect(editDistance([1, 2, 3], [4, 1, 2, 5])).toBe(2);
    expect(editDistance([], [1, 2])).toBe(2);
  });
});
