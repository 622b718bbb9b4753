import { describe, expect, it } from 'vitest';
import { initModel } from '../../src/train/init.js';
import { backwardSequence, checkSoftTarget, forwardSequence, softCrossEntropy, tapeLoss, zeroGrads } from '../../src/train/net.js';
import { sequenceGradWasm } from '../../src/train/fast.js';
import { evaluateModel } from '../../src/train/evaluate.js';
import { DEFAULT_TRAIN_CONFIG, trainClassifier } from '../../src/train/trainer.js';
import { bumpDataset, jumpySequence } from './helpers.js';
import { expectGradsClose } from '../helpers/grads.js';

describe('soft (distilled) targets', () => {
  const model = initModel({ cell: 'gru', inputSize: 5, hiddenSize: 7, layers: 1, classes: 3, seed: 21 });
  const x = jumpySequence(5, 13, 8);
  const o = { readout: 'mean' as const, delta: { thresholdX: 0.4, thresholdH: 0.05 }, l1: 0.03 };

  it('a one-hot soft target is the label, bit for bit, on both backends', () => {
    const onehot = Float64Array.from([0, 0, 1]);
    const tape = forwardSequence(model, x, 13, o);
    const byLabel = zeroGrads(model);
    backwardSequence(model, tape, 2, o, byLabel, 0.5);
    const bySoft = zeroGrads(model);
    backwardSequence(model, tape, 2, { ...o, soft: onehot }, bySoft, 0.5);
    expect(bySoft).toEqual(byLabel);
    expect(tapeLoss(tape, 2, onehot)).toBe(tapeLoss(tape, 2));
    const fastLabel = zeroGrads(model);
    const fastSoft = zeroGrads(model);
    const a = sequenceGradWasm(model, x, 13, 2, o, fastLabel, 0.5);
    const b = sequenceGradWasm(model, x, 13, 2, { ...o, soft: onehot }, fastSoft, 0.5);
    expect(b.loss).toBe(a.loss);
    expect(fastSoft).toEqual(fastLabel);
  });

  it('a mixed target moves the gradient by p - q, and the wasm path equals the float64 one', () => {
    const soft = Float64Array.from([0.2, 0.3, 0.5]);
    const tape = forwardSequence(model, x, 13, o);
    expect(tapeLoss(tape, 2, soft)).toBeCloseTo(-(0.2 * Math.log(tape.probs[0]!) + 0.3 * Math.log(tape.probs[1]!) + 0.5 * Math.log(tape.probs[2]!)) + tape.penalty, 12);
    expect(softCrossEntropy(tape.probs, soft)).not.toBe(softCrossEntropy(tape.probs, Float64Array.from([0, 0, 1])));
    const ref = zeroGrads(model);
    backwardSequence(model, tape, 2, { ...o, soft }, ref, 0.5);
    const label = zeroGrads(model);
    backwardSequence(model, tape, 2, o, label, 0.5);
    // The head's bias gradient is scale * (p - q): against the label it differs by scale * (onehot - q).
    const head = ref.length - 1;
    const q = [0.2, 0.3, 0.5];
    for (let c = 0; c < 3; c++) expect(ref[head]!['bias']![c]! - label[head]!['bias']![c]!).toBeCloseTo(0.5 * ((c === 2 ? 1 : 0) - q[c]!), 12);
    const fast = zeroGrads(model);
    const r = sequenceGradWasm(model, x, 13, 2, { ...o, soft }, fast, 0.5);
    expect(r.loss).toBeCloseTo(tapeLoss(tape, 2, soft), 5);
    expectGradsClose(model, ref, fast);
  });

  it('refuses a target that is no distribution over the classes, and CTC', () => {
    expect(() => checkSoftTarget('mean', [0.5, 0.6, 0], 3)).toThrow(expect.objectContaining({ code: 'E_VALUE', message: expect.stringMatching(/3 probabilities summing to 1, found 3 values summing to 1.1/) }));
    expect(() => checkSoftTarget('mean', [0.5, 0.5], 3)).toThrow(expect.objectContaining({ code: 'E_VALUE' }));
    expect(() => checkSoftTarget('mean', [1.5, -0.5, 0], 3)).toThrow(expect.objectContaining({ code: 'E_VALUE' }));
    expect(() => checkSoftTarget('ctc', [0, 0, 1], 3)).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    const g = zeroGrads(model);
    expect(() => backwardSequence(model, forwardSequence(model, x, 13, o), 2, { ...o, soft: Float64Array.from([1, 1, 1]) }, g)).toThrow(expect.objectContaining({ code: 'E_VALUE' }));
  });
});

describe('trainClassifier with a teacher', () => {
  const train = bumpDataset(96, 3, 4, 1);
  const validation = bumpDataset(30, 3, 4, 2);
  const cfg = { ...DEFAULT_TRAIN_CONFIG, hiddenSize: 8, denseEpochs: 4, deltaEpochs: 2, batchSize: 8, lr: 3e-2, deltaLr: 5e-3, thresholdX: 0.2, thresholdH: 0.05, l1: 1e-2, seed: 2, backend: 'wasm' as const };

  it('weight 0 is label training exactly; weight 1 trains towards the teacher', async () => {
    const teacher = (await trainClassifier(train, validation, { ...cfg, deltaEpochs: 0 }, { progress: false })).model;
    const plain = await trainClassifier(train, validation, { ...cfg, denseEpochs: 0 }, { progress: false, init: teacher });
    const zero = await trainClassifier(train, validation, { ...cfg, denseEpochs: 0, distill: 0 }, { progress: false, init: teacher, teacher });
    expect(Array.from(zero.model.layers[0]!.kind === 'gru' ? zero.model.layers[0]!.weightIh : [])).toEqual(Array.from(plain.model.layers[0]!.kind === 'gru' ? plain.model.layers[0]!.weightIh : []));
    // A teacher that always says class 0 (its head's bias dominates): a student trained only towards
    // it (weight 1) from a fresh start decides class 0 everywhere, whatever the labels say.
    const stubborn = structuredClone(teacher);
    const head = stubborn.layers[stubborn.layers.length - 1]!;
    if (head.kind !== 'linear') throw new Error('expected a linear head');
    head.weight.fill(0);
    head.bias.set([20, 0, 0]);
    const student = await trainClassifier(train, validation, { ...cfg, deltaEpochs: 0, distill: 1 }, { progress: false, teacher: stubborn });
    const r = evaluateModel(student.model, validation, { readout: 'mean' });
    const zeros = validation.utterances.filter((u) => u.label === 0).length / validation.utterances.length;
    expect(r.accuracy).toBeCloseTo(zeros, 12);
    // Half label, half that teacher: the labels still win on most utterances.
    const half = await trainClassifier(train, validation, { ...cfg, deltaEpochs: 0, distill: 0.3 }, { progress: false, teacher: stubborn });
    expect(evaluateModel(half.model, validation, { readout: 'mean' }).accuracy).toBeGreaterThan(zeros + 0.2);
    expect(JSON.parse(half.model.meta['trainConfig']!).distill).toBe(0.3);
  });

  it('an ensemble teacher is the mean of its members\' posteriors', async () => {
    const base = initModel({ cell: 'gru', inputSize: 4, hiddenSize: 8, layers: 1, classes: 3, seed: 5 });
    // Two stubborn teachers, one always class 0, the other always class 1: trained only towards
    // their ensemble (weight 1), the student gives each about half and class 2 almost nothing.
    const say = (c: number) => {
      const t = structuredClone(base);
      const head = t.layers[t.layers.length - 1]!;
      if (head.kind !== 'linear') throw new Error('expected a linear head');
      head.weight.fill(0);
      head.bias.set([0, 1, 2].map((k) => (k === c ? 20 : 0)));
      return t;
    };
    const student = (await trainClassifier(train, validation, { ...cfg, denseEpochs: 6, deltaEpochs: 0, distill: 1 }, { progress: false, teacher: [say(0), say(1)] })).model;
    const mean = [0, 0, 0];
    for (const u of validation.utterances) {
      const p = forwardSequence(student, u.features, u.frames, { readout: 'mean' }).probs;
      for (let c = 0; c < 3; c++) mean[c]! += p[c]! / validation.utterances.length;
    }
    expect(mean[0]).toBeGreaterThan(0.4);
    expect(mean[1]).toBeGreaterThan(0.4);
    expect(mean[2]).toBeLessThan(0.05);
    // A one-member ensemble is that teacher, bit for bit.
    const one = await trainClassifier(train, validation, { ...cfg, denseEpochs: 1, deltaEpochs: 0, distill: 0.5 }, { progress: false, teacher: [say(2)] });
    const alone = await trainClassifier(train, validation, { ...cfg, denseEpochs: 1, deltaEpochs: 0, distill: 0.5 }, { progress: false, teacher: say(2) });
    expect(one.model).toEqual(alone.model);
  });

  it('refuses a weight outside 0..1, no teacher, a teacher of other classes, and CTC', async () => {
    const teacher = initModel({ cell: 'gru', inputSize: 4, hiddenSize: 8, layers: 1, classes: 3, seed: 1 });
    await expect(trainClassifier(train, validation, { ...cfg, distill: 1.5 }, { progress: false, teacher })).rejects.toMatchObject({ code: 'E_OPTION' });
    await expect(trainClassifier(train, validation, { ...cfg, distill: 0.5 }, { progress: false })).rejects.toMatchObject({ code: 'E_OPTION', message: expect.stringMatching(/needs a teacher/) });
    const other = initModel({ cell: 'gru', inputSize: 4, hiddenSize: 8, layers: 1, classes: 5, seed: 1 });
    await expect(trainClassifier(train, validation, { ...cfg, distill: 0.5 }, { progress: false, teacher: other })).rejects.toMatchObject({ code: 'E_MISMATCH', message: expect.stringMatching(/give 3 classes, found 4 inputs and 5 outputs/) });
    await expect(trainClassifier(train, validation, { ...cfg, distill: 0.5 }, { progress: false, teacher: [teacher, other] })).rejects.toMatchObject({ code: 'E_MISMATCH', message: expect.stringMatching(/teacher 2 of 2 .* give 3 classes, found 4 inputs and 5 outputs/) });
    await expect(trainClassifier(train, validation, { ...cfg, distill: 0.5 }, { progress: false, teacher: [] })).rejects.toMatchObject({ code: 'E_OPTION', message: expect.stringMatching(/needs a teacher/) });
    await expect(trainClassifier(train, validation, { ...cfg, readout: 'ctc', distill: 0.5 }, { progress: false, teacher })).rejects.toMatchObject({ code: 'E_OPTION' });
  });
});
