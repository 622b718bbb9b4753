import type { Model } from '../../src/model/types.js';
import { builtinHeldout, builtinSpec, type BuiltinTask } from '../../src/train/builtin.js';
import { evaluateWithSession, modelTask, type SessionEval } from '../../src/train/task.js';
import { synthesiserOf } from '../../src/data/corpus.js';

/** Dense and delta (at the model's stored thresholds) results on one part of the held-out set. */
export interface HeldoutPart {
  utterances: number;
  dense: SessionEval;
  delta: SessionEval;
}

/**
 * A model on the committed held-out set of a built-in task (default: isolated digits,
 * models/digits-heldout), dense and as a delta network at the thresholds in its metadata: per
 * synthesiser and over all utterances. A built-in and the models kept or trained next to it share
 * feature statistics and voices, so one set serves all of them; each test asserts its own model's
 * bounds.
 */
export function evaluateHeldoutBySynthesiser(model: Model, which: BuiltinTask = 'digits'): { bySynth: Record<'espeak-ng' | 'festival', HeldoutPart>; all: HeldoutPart; source: string } {
  const task = modelTask(model);
  const { dataset, source } = builtinHeldout(task, 'committed', { spec: builtinSpec(which) });
  const thresholds = { thresholdX: Number(model.meta['thresholdX']), thresholdH: Number(model.meta['thresholdH']) };
  const run = (utterances: typeof dataset.utterances): HeldoutPart => {
    const part = { ...dataset, utterances };
    return { utterances: utterances.length, dense: evaluateWithSession(model, part, task.readout), delta: evaluateWithSession(model, part, task.readout, thresholds) };
  };
  const of = (synth: string) => run(dataset.utterances.filter((u) => synthesiserOf(u.voice) === synth));
  return { bySynth: { 'espeak-ng': of('espeak-ng'), festival: of('festival') }, all: run(dataset.utterances), source };
}
