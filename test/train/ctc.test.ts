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

import type { Dataset, Utterance } from '../../src/data/dataset.js';
import type { GruLayer, LinearLayer, Model } from '../../src/model/types.js';
import { sequenceGradWasm } from '../../src/train/fast.js';
import { evaluateModel } from '../../src/train/evaluate.js';
import { initModel } from '../../src/train/init.js';
import { backwardSequence, forwardSequence, tapeLoss, zeroGrads, type ForwardOptions } from '../../src/train/net.js';
import { evaluateWithSession } from '../../src/train/task.js';
import { DEFAULT_TRAIN_CONFIG, initFrom, trainClassifier } from '../../src/train/trainer.js';
import { jumpySequence } from './helpers.js';
import { expectGradsClose, finiteDifferenceError } from '../helpers/grads.js';

function ctcGradCheck(model: Model, x: Float32Array, T: number, target: number[], o: ForwardOptions): number {
  return finiteDifferenceError(model, x, T, target, o, { samples: 10, eps: 1e-3 });
}

/** Strings of 1..3 symbols: symbol k lights input channel k for 3 frames, gaps of noise between. */
function stringDataset(n: number, symbols: number, bands: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const utterances: Utterance[] = [];
  for (let s = 0; s < n; s++) {
    const words = Array.from({ length: 1 + rng.int(3) }, () => rng.int(symbols));
    const T = 4 + words.length * 7;
    const x = new Float32Array(T * bands);
    for (let i = 0; i < x.length; i++) x[i] = 0.2 * rng.normal();
    words.forEach((w, i) => {
      const t0 = 3 + i * 7 + rng.int(2);
      for (let t = t0; t < t0 + 3; t++) x[t * bands + w] += 2;
    });
    utterances.push({ id: `s${s}`, voice: `v${s % 5}`, text: words.join(' '), label: -1, words, frames: T, features: x });
  }
  return { corpus: 'digit-strings', split: 'train', classes: Array.from({ length: symbols }, (_, k) => `c${k}`), bands, utterances };
}

describe('CTC through the network', () => {
  for (const cell of ['gru', 'lstm'] as const) {
    it(`dense and delta ${cell}: BPTT gradients of the CTC loss match finite differences`, () => {
      const model = initModel({ cell, inputSize: 5, hiddenSize: 6, layers: 2, classes: 4, seed: 3 });
      const x = jumpySequence(5, 11, 1);
      expect(ctcGradCheck(model, x, 11, [0, 2, 2], { readout: 'ctc' })).toBeLessThan(1e-3);
      // No L1 term here: its kinks (|dh| at 0) are the CE tests' business; this checks the CTC head.
      expect(ctcGradCheck(model, x, 11, [1, 0], { readout: 'ctc', delta: { thresholdX: 0.5, thresholdH: 0.05 } })).toBeLessThan(1e-3);
    });
    it(`${cell}: the wasm backend's CTC gradients equal the definition's`, () => {
      const model = initModel({ cell, inputSize: 5, hiddenSize: 7, layers: 2, classes: 4, seed: 21 });
      const x = jumpySequence(5, 13, 8);
      const o = { readout: 'ctc' as const, delta: { thresholdX: 0.4, thresholdH: 0.05 }, l1: 0.03 };
      const ref = zeroGrads(model);
      const tape = forwardSequence(model, x, 13, o);
      backwardSequence(model, tape, [1, 2], o, ref, 0.5);
      const fast = zeroGrads(model);
      const r = sequenceGradWasm(model, x, 13, [1, 2], o, fast, 0.5);
      expect(r.path).toMatch(/^wasm-/);
      expect(r.loss).toBeCloseTo(tapeLoss(tape, [1, 2]), 5);
      expectGradsClose(model, ref, fast);
    });
  }

  it('rejects a classification label for a CTC readout and a list for a classifier', () => {
    const model = initModel({ cell: 'gru', inputSize: 5, hiddenSize: 6, layers: 1, classes: 4, seed: 3 });
    const x = jumpySequence(5, 6, 1);
    expect(() => backwardSequence(model, forwardSequence(model, x, 6, { readout: 'ctc' }), 1, { readout: 'ctc' }, zeroGrads(model))).toThrowError(/CTC target must be a list of labels in 0\.\.2/);
    expect(() => backwardSequence(model, forwardSequence(model, x, 6, { readout: 'mean' }), [1], { readout: 'mean' }, zeroGrads(model))).toThrowError(/label must be an integer/);
  });

  it('starts a CTC model from a classifier of the same labels: its rows kept, a blank appended', () => {
    const clf = initModel({ cell: 'gru', inputSize: 5, hiddenSize: 6, layers: 1, classes: 3, seed: 4 });
    const m = initFrom(clf, 5, 4, { readout: 'ctc' }, 2);
    const [g0, h0] = clf.layers as [GruLayer, LinearLayer];
    const [g, h] = m.layers as [typeof g0, typeof h0];
    expect(g.weightIh).toEqual(g0.weightIh);
    expect(g.weightIh).not.toBe(g0.weightIh);
    expect(h.outputSize).toBe(4);
    expect(h.weight.subarray(0, 18)).toEqual(h0.weight);
    expect([...h.weight.subarray(18)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(h.bias[3]).toBeCloseTo(Math.max(...h0.bias) + 2, 6);
    expect(h0.outputSize).toBe(3);
    // Same head: a plain copy; anything else is refused, naming both sizes.
    expect((initFrom(m, 5, 4, { readout: 'ctc' }).layers[1] as typeof h0).bias).toEqual(h.bias);
    expect(() => initFrom(clf, 5, 5, { readout: 'ctc' })).toThrowError(/needs 5 outputs.*head has 3/);
    expect(() => initFrom(clf, 5, 4, { readout: 'mean' })).toThrowError(/needs 4 outputs, the model's head has 3/);
    expect(() => initFrom(clf, 7, 4, { readout: 'ctc' })).toThrowError(/data has 7 feature bands, the model's first layer expects 5/);
  });

  it('trains a small DeltaGRU to read symbol strings; the streaming runtime decodes what the trainer does', async () => {
    const train = stringDataset(160, 3, 4, 1);
    const validation = { ...stringDataset(40, 3, 4, 2), split: 'validation' as const };
    const cfg = { ...DEFAULT_TRAIN_CONFIG, readout: 'ctc' as const, hiddenSize: 16, denseEpochs: 20, deltaEpochs: 3, batchSize: 8, lr: 3e-2, deltaLr: 5e-3, thresholdX: 0.3, thresholdH: 0.05, l1: 1e-3, seed: 2, backend: 'wasm' as const };
    const { model } = await trainClassifier(train, validation, cfg, { progress: false });
    const head = model.layers[model.layers.length - 1]!;
    expect(head.kind === 'linear' ? head.outputSize : -1).toBe(4);
    const th = { thresholdX: 0.3, thresholdH: 0.05 };
    const r = evaluateModel(model, validation, { readout: 'ctc', delta: th });
    expect(r.accuracy).toBeGreaterThan(0.8);
    expect(r.wer!).toBeLessThan(0.1);
    const s = evaluateWithSession(model, validation, 'ctc', th);
    expect(Math.abs(s.accuracy - r.accuracy)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(s.wer! - r.wer!)).toBeLessThanOrEqual(0.03);
    expect(s.opsSaving).toBeGreaterThan(1);
  });
});

describe('CLI: train --task, demo --task', () => {
  it('refuses a classifier readout for digit strings and an unknown task', async () => {
    const { cli } = await import('../helpers/cli.js');
    let r = await cli('train', '--task', 'digit-strings', '--readout', 'mean', '-o', '/tmp/never.safetensors');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/E_OPTION.*trained with --readout ctc/);
    r = await cli('train', '--task', 'digits', '--data', 'kws', '-o', '/tmp/never.safetensors');
    expect(r.err).toMatch(/--task digits uses corpus digits, found --data kws/);
    r = await cli('train', '-o', '/tmp/never.safetensors');
    expect(r.err).toMatch(/expected --data <corpus> or --task <task>/);
    r = await cli('demo', '--task', 'sentences');
    expect(r.err).toMatch(/E_OPTION/);
  });
});
