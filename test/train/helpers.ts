import { Rng } from '../../src/core/rng.js';
import type { Dataset, Utterance } from '../../src/data/dataset.js';

/**
 * A small sequence-classification task with a known answer: class k has a bump on input
 * channel k somewhere in the sequence, over slowly drifting noise on every channel.
 */
export function bumpDataset(n: number, classes: number, bands: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const utterances: Utterance[] = [];
  for (let s = 0; s < n; s++) {
    const label = s % classes;
    const T = 12 + rng.int(8);
    const x = new Float32Array(T * bands);
    const start = 2 + rng.int(T - 6);
    for (let b = 0; b < bands; b++) {
      let v = 0.3 * rng.normal();
      for (let t = 0; t < T; t++) {
        v += 0.05 * rng.normal();
        x[t * bands + b] = v + (b === label && t >= start && t < start + 3 ? 2 : 0);
      }
    }
    utterances.push({ id: `s${s}`, voice: `v${s % 5}`, text: String(label), label, words: [label], frames: T, features: x });
  }
  return { corpus: 'digits', split: 'train', classes: Array.from({ length: classes }, (_, k) => `c${k}`), bands, utterances };
}

/** (T, I) flat: a slowly varying signal with random jumps, so some deltas fire and some do not. */
export function jumpySequence(I: number, T: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(T * I);
  for (let i = 0; i < I; i++) {
    let v = rng.normal();
    for (let t = 0; t < T; t++) {
      if (rng.next() < 0.3) v += rng.normal();
      x[t * I + i] = v;
    }
  }
  return x;
}
