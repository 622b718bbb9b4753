/**
 * Accuracy and temporal sparsity of a sequence classifier on a dataset, with the trainer's
 * float64 forward pass (the same numbers as the runtime's delta session up to float32 rounding).
 */
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../model/types.js';
import { ctcGreedy, editDistance, wordLabelFilter } from './ctc.js';
import { forwardSequence, tapeLoss, trainableParts, type DeltaThresholds, type Readout } from './net.js';

export interface EvalResult {
  utterances: number;
  accuracy: number;
  /** Mean cross-entropy. */
  loss: number;
  /** Fired input elements / all, over recurrent layers and frames. */
  occupancyX: number;
  /** Fired hidden elements / all (step 0 counts as nothing fired). */
  occupancyH: number;
  /** Fired weight columns / all columns of the recurrent layers. */
  occupancy: number;
  /** Dense ops / delta ops over the whole network, head included (2 ops per MAC). */
  opsSaving: number;
  /** Confusion counts [true][predicted] (classifiers; empty for CTC). */
  confusion: number[][];
  /** CTC: word error rate of greedy decoding (edit distance / reference words); `accuracy` is then string accuracy. */
  wer?: number;
}

/**
 * Classify every isolated utterance (label >= 0) of a normalised dataset.
 *
 * @example const r = evaluateModel(model, test, { readout: 'mean', delta: { thresholdX: 0.3, thresholdH: 0.1 } });
 */
export function evaluateModel(model: Model, ds: Dataset, o: { readout: Readout; delta?: DeltaThresholds }): EvalResult {
  const { rec, head } = trainableParts(model);
  const O = head.outputSize;
  const confusion = Array.from({ length: O }, () => new Array<number>(O).fill(0));
  let correct = 0;
  let n = 0;
  let loss = 0;
  let firedX = 0, firedH = 0, allX = 0, allH = 0;
  let denseOps = 0, ops = 0;
  let errors = 0;
  let words = 0;
  const ctc = o.readout === 'ctc';
  // Non-word classes (`_unknown_`, `_silence_`) are left out of CTC scoring.
  const scored = wordLabelFilter(ds.classes);
  for (const u of ds.utterances) {
    // CTC: every sequence, one with no words too (right when nothing is emitted, e.g. a silence clip).
    if (!ctc && u.label < 0) continue;
    const tape = forwardSequence(model, u.features, u.frames, o);
    if (ctc) {
      const ref = scored(u.words);
      const hyp = scored(ctcGreedy(tape.frameLogits!, u.frames, O));
      const e = editDistance(ref, hyp);
      errors += e;
      words += ref.length;
      if (e === 0) correct++;
      const l = tapeLoss(tape, u.words) - tape.penalty;
      loss += Number.isFinite(l) ? l : 0;
    } else {
      let best = 0;
      for (let k = 1; k < O; k++) if (tape.logits[k]! > tape.logits[best]!) best = k;
      confusion[u.label]![best]!++;
      if (best === u.label) correct++;
      loss += -Math.log(Math.max(tape.probs[u.label]!, 1e-300));
    }
    n++;
    tape.layers.forEach((l, i) => {
      const G = rec[i]!.kind === 'gru' ? 3 : 4;
      const fx = o.delta ? l.countX : u.frames * l.I;
      const fh = o.delta ? l.countH : u.frames * l.H;
      firedX += fx;
      firedH += fh;
      allX += u.frames * l.I;
      allH += u.frames * l.H;
      denseOps += 2 * G * l.H * (l.I + l.H) * u.frames;
      ops += 2 * G * l.H * (fx + fh);
    });
    denseOps += 2 * head.inputSize * O * u.frames;
    ops += 2 * head.inputSize * O * u.frames;
  }
  return {
    utterances: n,
    accuracy: n ? correct / n : 0,
    loss: n ? loss / n : 0,
    occupancyX: allX ? firedX / allX : 0,
    occupancyH: allH ? firedH / allH : 0,
    occupancy: allX + allH ? (firedX + firedH) / (allX + allH) : 0,
    opsSaving: ops ? denseOps / ops : 0,
    confusion: ctc ? [] : confusion,
    ...(ctc ? { wer: words ? errors / words : 0 } : {}),
  };
}
