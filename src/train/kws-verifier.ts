/**
 * A second stage for keyword spotting: a keyword *classifier* (mean readout, trained on isolated
 * one-second clips) checks each detection of a streaming first stage (usually the keyword-stream
 * CTC model) on the frames around it, and the detection stands only when the classifier names
 * the same keyword with at least `threshold` posterior.
 *
 * Why: the stream model finds keywords in running speech (its spikes are where the words are) but
 * at the thresholds that keep false alarms under one an hour it finds fewer than half of them; the
 * classifier decides isolated clips well but cannot itself say where a word is in a stream. A
 * candidate at a low first-stage threshold, heard again by the classifier over the clip-sized
 * window `[frame - before, frame + after]`, keeps most keywords and rejects most confusable words.
 *
 * The rule, for a first-stage detection of keyword k at frame f of a stream of raw log-mel frames:
 *
 *   window = frames max(0, f - before) .. min(T - 1, f + after)         (T: frames so far / in the stream)
 *   x      = the verifier's normalisation of the window from a fresh state (its level front end
 *            and feature statistics, as it saw its training clips)
 *   s      = softmax(mean over the window of the verifier's outputs)    (its mean readout)
 *   accept when argmax s = k and s[k] >= threshold
 *
 * A streaming spotter must wait `after` frames before it can decide, so a verified detection is
 * reported `after` frames (x 10 ms) late; its frame and time stay those of the first stage.
 * The verifier runs only on candidates: its work is counted per candidate (its session's ops).
 *
 * Free of Node built-ins (the browser uses the spotter).
 */
import { check, DeltakitError } from '../core/errors.js';
import { normalizeFeatures } from '../data/dataset.js';
import type { Model } from '../model/types.js';
import { createSession, type Session } from '../runtime/session.js';
import type { SessionOptions } from '../runtime/types.js';
import { checkDetectorOptions, softmaxInto, type Detection, type DetectorOptions } from './kws-spotter.js';
import { fromMetadata, type ModelTask } from './model-task.js';
import { modelLabel } from '../model/source.js';

export interface VerifierOptions {
  /** Frames before the candidate's frame that the verifier hears (>= 0). */
  before: number;
  /** Frames after it (>= 0): the streaming spotter reports a verified keyword this much later. */
  after: number;
  /** The verifier's posterior for the candidate's keyword must reach this, in [0, 1] (0: being its top class is enough). */
  threshold: number;
}

/**
 * Used when neither the caller nor the first-stage model's metadata (`kwsVerify`, written by
 * `deltakit kws tune --verify --save`) says otherwise: a window of 1.1 s around the candidate,
 * 0.6 s of it after.
 */
export const DEFAULT_VERIFIER: VerifierOptions = { before: 50, after: 60, threshold: 0.9 };

/**
 * Check verifier options (E_OPTION naming the expected range and what was found).
 *
 * @example checkVerifierOptions({ before: 50, after: 60, threshold: 0.9 });
 */
export function checkVerifierOptions(o: VerifierOptions): VerifierOptions {
  for (const k of ['before', 'after'] as const) check(Number.isInteger(o[k]) && o[k] >= 0 && o[k] <= 1000, 'E_OPTION', () => `keyword verifier: ${k} must be an integer number of frames in 0..1000, found ${o[k]}`);
  check(o.before + o.after >= 1, 'E_OPTION', () => `keyword verifier: the window must hold at least 2 frames (before + after >= 1), found before ${o.before} and after ${o.after}`);
  check(Number.isFinite(o.threshold) && o.threshold >= 0 && o.threshold <= 1, 'E_OPTION', () => `keyword verifier: threshold must be a posterior in [0, 1], found ${o.threshold}`);
  return o;
}

/**
 * The two-stage settings stored in a first-stage model's metadata (`kwsVerify`: JSON of the
 * first stage's detector, tuned to run under a verifier, and the verifier's window and
 * threshold), or null when it has none. A first stage run with a verifier wants a much lower
 * threshold than alone, so these are kept apart from the model's own `kwsWindow` ... settings.
 *
 * @example const v = verifiedDetectorOfModel(streamModel); // { detector: {...}, verifier: {...} } or null
 */
export function verifiedDetectorOfModel(model: Model): { detector: DetectorOptions; verifier: VerifierOptions } | null {
  const raw = model.meta?.['kwsVerify'];
  if (raw === undefined) return null;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new DeltakitError('E_FORMAT', `${modelLabel(model)}: metadata kwsVerify must be JSON of the tuned two-stage settings, found '${raw.slice(0, 80)}'`);
  }
  check(j !== null && typeof j === 'object' && typeof j['detector'] === 'object' && typeof j['verifier'] === 'object', 'E_FORMAT', () => `${modelLabel(model)}: metadata kwsVerify must hold a detector and a verifier, found '${raw.slice(0, 80)}'`);
  return fromMetadata(model, 'kwsVerify', () => ({ detector: checkDetectorOptions(j['detector'] as DetectorOptions), verifier: checkVerifierOptions(j['verifier'] as VerifierOptions) }));
}

/**
 * The frames [from, to) a verifier hears for a candidate at `frame` of a stream of `frames`
 * frames: `before` frames before it, the candidate's own frame and `after` frames after it,
 * clipped to the stream (what `decideAt` hands to `decide`, and what the mined verifier training
 * windows hold).
 *
 * @example verifierWindow(1000, 30, { before: 50, after: 60 }) // [0, 91]
 */
export function verifierWindow(frames: number, frame: number, o: { before: number; after: number }): [number, number] {
  return [Math.max(0, frame - o.before), Math.min(frames, frame + o.after + 1)];
}

/** What the verifier said about one candidate. */
export interface Verdict {
  accepted: boolean;
  /** The candidate's keyword is the verifier's top class (accepted = top and score >= threshold). */
  top: boolean;
  /** The verifier's posterior for the candidate's keyword. */
  score: number;
}

/**
 * The second stage: a keyword classifier and its window and threshold. One session, reset for
 * every candidate.
 *
 * @example
 * const v = new KeywordVerifier(classifier, modelTask(classifier), { thresholds: { thresholdX: 0.3, thresholdH: 0.3 } });
 * const kept = verifyDetections(v, stream.features, stream.frames, firstStageHits);
 */
export class KeywordVerifier {
  readonly options: VerifierOptions;
  private readonly session: Session;
  private readonly index: Map<string, number>;
  private readonly y: Float32Array;
  private readonly sum: Float64Array;
  private readonly p: Float64Array;
  private ops = 0;
  private denseOps = 0;
  private steps = 0;
  private candidates = 0;

  constructor(readonly model: Model, readonly task: ModelTask, o: { verifier?: Partial<VerifierOptions>; thresholds?: { thresholdX: number; thresholdH: number }; session?: Pick<SessionOptions, 'backend'> } = {}) {
    check(task.readout === 'mean', 'E_MISMATCH', () => `keyword verifier: expected a keyword classifier with a mean readout (deltakit train --task keywords), found readout ${task.readout}`);
    this.options = checkVerifierOptions({ ...DEFAULT_VERIFIER, ...o.verifier });
    this.session = createSession(model, { ...o.session, ...(o.thresholds ? { ...o.thresholds } : {}) });
    check(this.session.outputSize === task.classes.length, 'E_SHAPE', () => `keyword verifier: the model has ${this.session.outputSize} outputs, its classes are ${task.classes.length}`);
    this.index = new Map(task.classes.map((c, k) => [c, k]));
    const C = this.session.outputSize;
    this.y = new Float32Array(C);
    this.sum = new Float64Array(C);
    this.p = new Float64Array(C);
  }

  /** Frames of raw log-mel the verifier reads per frame. */
  get bands(): number {
    return this.session.inputSize;
  }

  /** The verifier's class index of a keyword, E_MISMATCH when it does not know it. */
  classOf(keyword: string): number {
    const k = this.index.get(keyword);
    check(k !== undefined, 'E_MISMATCH', () => `keyword verifier: the first stage detects '${keyword}', which is not among the verifier's classes (${this.task.classes.join(', ')})`);
    return k!;
  }

  /**
   * Decide a candidate `keyword` from raw log-mel frames `raw` (frames x bands: the whole window,
   * already clipped to the stream).
   */
  decide(raw: Float32Array, keyword: string): Verdict {
    const B = this.bands;
    const frames = raw.length / B;
    check(Number.isInteger(frames) && frames >= 1, 'E_SHAPE', () => `keyword verifier: expected at least one frame of ${B} values, found ${raw.length} values`);
    const k = this.classOf(keyword);
    const x = normalizeFeatures(raw, this.task.stats);
    const s = this.session;
    s.reset();
    const C = s.outputSize;
    this.sum.fill(0);
    for (let t = 0; t < frames; t++) {
      s.stepInto(x.subarray(t * B, (t + 1) * B), this.y);
      for (let c = 0; c < C; c++) this.sum[c] = this.sum[c]! + this.y[c]!;
    }
    for (let c = 0; c < C; c++) this.sum[c] = this.sum[c]! / frames;
    softmaxInto(this.sum, 0, C, this.p);
    let best = 0;
    for (let c = 1; c < C; c++) if (this.p[c]! > this.p[best]!) best = c;
    const st = s.stats();
    this.ops += st.ops;
    this.denseOps += st.denseOps;
    this.steps += st.steps;
    this.candidates++;
    const score = this.p[k]!;
    return { accepted: best === k && score >= this.options.threshold, top: best === k, score };
  }

  /**
   * Decide a candidate at `frame` of a stream of `frames` raw frames (frames x bands, `features`):
   * the window clipped to the stream.
   */
  decideAt(features: Float32Array, frames: number, frame: number, keyword: string): Verdict {
    const B = this.bands;
    const [from, to] = verifierWindow(frames, frame, this.options);
    return this.decide(features.subarray(from * B, to * B), keyword);
  }

  /** The verifier's work so far: candidates decided, network steps, ops (and the dense network's). */
  stats(): { candidates: number; steps: number; ops: number; denseOps: number } {
    return { candidates: this.candidates, steps: this.steps, ops: this.ops, denseOps: this.denseOps };
  }

  dispose(): void {
    this.session.dispose();
  }
}

/**
 * The first stage's detections on a whole stream that the verifier accepts (offline: each window
 * clipped to the stream), with `verification` set to the verifier's posterior. Equal to what a
 * KeywordSpotter with this verifier reports on the same stream, flushed at its end.
 *
 * @example const kept = verifyDetections(verifier, stream.features, stream.frames, hits);
 */
export function verifyDetections(verifier: KeywordVerifier, features: Float32Array, frames: number, detections: readonly Detection[]): Detection[] {
  check(features.length === frames * verifier.bands, 'E_SHAPE', () => `keyword verifier: expected ${frames} x ${verifier.bands} raw features, found ${features.length} values`);
  return detections.flatMap((d) => {
    const v = verifier.decideAt(features, frames, d.frame, d.keyword);
    return v.accepted ? [{ ...d, verification: v.score }] : [];
  });
}
