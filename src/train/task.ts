/**
 * The classification task a trained model carries in its metadata (corpus, classes, feature
 * normalisation, readout), and evaluation through the streaming runtime, the path a deployed
 * model takes.
 */
import { check } from '../core/errors.js';
import { buildCorpus, type CorpusOptions } from '../data/corpus.js';
import { normalizeDataset, type Dataset, type Split } from '../data/dataset.js';
import type { ModelTask } from './model-task.js';
import type { Model } from '../model/types.js';
import { createSession } from '../runtime/session.js';
import type { SessionStats } from '../runtime/types.js';
import { ctcGreedy, editDistance, wordLabelFilter } from './ctc.js';
import { checkClipRule, clipRuleOfModel, CTC_BLANK, peakKeyword, type ClipRuleOptions } from './kws-spotter.js';
import type { Readout } from './net.js';

export { modelTask, scoresClips, type ModelTask } from './model-task.js';

/**
 * A corpus split, normalised with the model's feature statistics.
 *
 * @example const validation = taskDataset(modelTask(model), 'validation');
 */
export function taskDataset(task: ModelTask, split: Split, o: CorpusOptions = {}): Dataset {
  return normalizeDataset(buildCorpus(task.corpus, split, o), task.stats);
}

export interface SessionEval {
  utterances: number;
  accuracy: number;
  /** Runtime counters summed over every utterance (reset between utterances). */
  steps: number;
  denseOps: number;
  ops: number;
  occupancy: number;
  occupancyX: number;
  occupancyH: number;
  opsSaving: number;
  /** Wall time per frame of the runtime's step, microseconds. */
  usPerFrame: number;
  /** CTC models: word error rate of streaming greedy decoding; `accuracy` is then string accuracy. */
  wer?: number;
  /** CTC models: the clip rule the clips were decided with. */
  clipRule?: ClipRuleOptions;
  /**
   * The decision on every scored utterance, in order: the class index, or for CTC the decoded
   * label sequence (`3,1,4`). Compared with agreementOf: how often a delta network decides what
   * the dense one decides, which an accuracy difference hides when errors made and mended cancel.
   */
  decisions?: string[];
}

export interface SessionEvalOptions {
  /**
   * A keyword-stream (CTC) model: how a clip's keyword is decided (`greedy` decoding, or the
   * `peak` rule with its threshold). Default: the rule stored in the model
   * (`clipRuleOfModel`), else greedy.
   */
  clipRule?: ClipRuleOptions;
}

/**
 * The fraction of utterances on which two evaluations of one dataset decide the same (1 = the
 * delta network never departs from the dense one). E_MISMATCH when they scored different counts.
 *
 * @example agreementOf(dense.decisions!, delta.decisions!) // 0.987
 */
export function agreementOf(a: readonly string[], b: readonly string[]): number {
  check(a.length === b.length, 'E_MISMATCH', () => `agreement: expected two evaluations of the same utterances, found ${a.length} and ${b.length} decisions`);
  if (a.length === 0) return 1;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * E_OPTION unless a clip rule fits these classes: the peak rule names one keyword of a clip, so
 * it is for a keyword model (non-word classes such as _unknown_ and _silence_ mark its clips that
 * hold no keyword).
 */
export function checkClipRuleClasses(rule: ClipRuleOptions, classes: readonly string[]): void {
  if (rule.rule === 'peak') check(classes.some((c) => /^_.*_$/.test(c)), 'E_OPTION', () => `clip rule peak: expected a keyword-stream model (classes with _unknown_ / _silence_), found classes ${JSON.stringify(classes)}`);
}

/**
 * The words a CTC model's outputs `y` (frames x (classes + blank)) give one clip under a clip
 * rule: streaming greedy decoding (non-word classes left out by `scored`), or the peak rule's one
 * keyword (none when its peak stays under the threshold).
 */
export function clipWords(y: ArrayLike<number>, frames: number, classes: readonly string[], rule: ClipRuleOptions, scored: (w: readonly number[]) => readonly number[]): readonly number[] {
  check(y.length === frames * (classes.length + 1), 'E_SHAPE', () => `clip decision: expected ${frames} frames x ${classes.length + 1} outputs (the classes and the CTC blank), found ${y.length} values`);
  if (rule.rule === 'greedy') return scored(ctcGreedy(y, frames, classes.length + 1));
  const k = peakKeyword(y, frames, [...classes, CTC_BLANK], rule.threshold!).index;
  return k >= 0 ? [k] : [];
}

/**
 * Classify every isolated utterance with a streaming session (reset between utterances): the
 * readout averages (or takes the last of) the session's per-frame outputs; a CTC model decodes
 * each utterance greedily, or (a keyword-stream model with the `peak` clip rule) names the
 * keyword whose posterior peaks highest over the clip when it reaches the clip threshold.
 *
 * @example const r = evaluateWithSession(model, test, 'mean', { thresholdX: 0.5, thresholdH: 0.2 });
 * @example const k = evaluateWithSession(kwsStreams, clips, 'ctc', undefined, { clipRule: { rule: 'peak', threshold: 0.1 } });
 */
export function evaluateWithSession(model: Model, ds: Dataset, readout: Readout, thresholds?: { thresholdX: number; thresholdH: number }, o: SessionEvalOptions = {}): SessionEval {
  const s = createSession(model, thresholds ? { ...thresholds } : {});
  const O = s.outputSize;
  let correct = 0, n = 0, steps = 0, denseOps = 0, ops = 0;
  let fx = 0, px = 0, fh = 0, ph = 0;
  let ms = 0;
  const ctc = readout === 'ctc';
  // Non-word classes (`_unknown_`, `_silence_`) are left out of CTC scoring.
  const scored = wordLabelFilter(ds.classes);
  const clipRule = ctc ? checkClipRule(o.clipRule ?? clipRuleOfModel(model)) : undefined;
  if (clipRule) checkClipRuleClasses(clipRule, ds.classes);
  let errors = 0;
  let words = 0;
  const decisions: string[] = [];
  for (const u of ds.utterances) {
    // CTC: every sequence, one with no words too (right when nothing is emitted, e.g. a silence clip).
    if (!ctc && u.label < 0) continue;
    s.reset();
    const t0 = performance.now();
    const y = s.run(u.features);
    ms += performance.now() - t0;
    if (ctc) {
      // Streaming greedy decoding of the session's per-frame outputs (blank = last output).
      const ref = scored(u.words);
      const hyp = clipWords(y, u.frames, ds.classes, clipRule!, scored);
      decisions.push(hyp.join(','));
      const e = editDistance(ref, hyp);
      errors += e;
      words += ref.length;
      if (e === 0) correct++;
    } else {
      const score = new Float64Array(O);
      if (readout === 'mean') for (let t = 0; t < u.frames; t++) for (let k = 0; k < O; k++) score[k] += y[t * O + k]!;
      else for (let k = 0; k < O; k++) score[k] = y[(u.frames - 1) * O + k]!;
      let best = 0;
      for (let k = 1; k < O; k++) if (score[k]! > score[best]!) best = k;
      if (best === u.label) correct++;
      decisions.push(String(best));
    }
    n++;
    const st: SessionStats = s.stats();
    steps += st.steps;
    denseOps += st.denseOps;
    ops += st.ops;
    for (const l of st.layers) {
      if (l.kind === 'linear') continue;
      fx += l.firedX;
      fh += l.firedH;
      px += st.steps * l.inputSize;
      ph += st.steps * l.outputSize;
    }
  }
  return {
    utterances: n,
    accuracy: n ? correct / n : 0,
    steps,
    denseOps,
    ops,
    occupancy: px + ph ? (fx + fh) / (px + ph) : 1,
    occupancyX: px ? fx / px : 1,
    occupancyH: ph ? fh / ph : 1,
    opsSaving: ops ? denseOps / ops : 1,
    usPerFrame: steps ? (1000 * ms) / steps : 0,
    ...(ctc ? { wer: words ? errors / words : 0, clipRule: clipRule! } : {}),
    decisions,
  };
}
