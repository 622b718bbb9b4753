/**
 * Words from a stream of raw log-mel frames, as they are spoken, through a model trained by
 * `deltakit train` (its metadata says what its outputs mean and how its input was normalised).
 *
 * The stream is cut into segments by voice activity (segmenter.ts). Each segment runs through
 * the session from a fresh state with a fresh front end (level tracker), as every utterance did
 * in training and as `deltakit run --segments` does: frames wait in a short ring buffer until a
 * segment starts, are replayed into the network then, and go straight through while it lasts.
 *
 * - A classifier of words only (readout `mean` or `last`: the isolated digits) gives one word per
 *   segment, when the segment ends: the argmax of the mean (or last) output, with its softmax
 *   probability.
 * - A CTC model (readout `ctc`: connected digit strings) emits each word on the frame where greedy
 *   decoding first finds it, while the segment is still going.
 * - A keyword classifier (classes besides the words, named `_like_this_`: `_unknown_`,
 *   `_silence_`) runs on every frame, as it was tuned: the KeywordSpotter of deltakit/train
 *   (smoothed posteriors, the threshold and lockout stored in the model by `deltakit kws tune`,
 *   the level front end's pause release), whose false alarms per hour were measured that way.
 *   The segments are still found (for display) but do not gate the network.
 *
 * For the first two, the network does not run between segments (no operations): the delta
 * network's savings inside speech come on top of that.
 */
import { checkFiniteSamples } from '../core/bytes.js';
import { check } from '../core/errors.js';
import type { Model } from '../model/types.js';
import { createSession, type Session } from '../runtime/session.js';
import type { Backend, StepTrace } from '../runtime/types.js';
import { CtcGreedyDecoder } from '../train/ctc.js';
import { detectorOptionsOfModel, keywordClasses, KeywordSpotter, StreamingNormalizer, type Detection } from '../train/kws-spotter.js';
import { verifiedDetectorOfModel, type KeywordVerifier } from '../train/kws-verifier.js';
import { modelTask, storedThresholds, type ModelTask } from '../train/model-task.js';
import { EnergySegmenter, type Segment, type SegmenterOptions } from './segmenter.js';

const RECOGNIZER_OPTIONS = ['thresholdX', 'thresholdH', 'dense', 'backend', 'firedColumns', 'segmenter', 'minSpeechFrames', 'verifier'];

export interface RecognizerOptions {
  /** Delta thresholds; default the model's tuned ones (meta thresholdX / thresholdH). */
  thresholdX?: number;
  thresholdH?: number;
  /** Run the dense network instead (no thresholds). Default false. */
  dense?: boolean;
  backend?: Backend;
  /** Record the fired input columns of the first layer per frame (RecognizerFrame.firedInputs). Default false. */
  firedColumns?: boolean;
  /** Voice activity settings. Default: the segmenter's, with a 400 ms hangover for a CTC model (pauses between digits of a string stay inside). */
  segmenter?: SegmenterOptions;
  /** Segments with fewer speech frames give no word (clicks, breaths). Default 8 (80 ms). */
  minSpeechFrames?: number;
  /**
   * A keyword model only: a second stage that hears every detection again (KeywordVerifier);
   * the spotter then runs at the model's two-stage settings (meta kwsVerify) when it has them,
   * and a keyword is recognised when verified, `after` frames after it was detected.
   */
  verifier?: KeywordVerifier;
}

/** A recognised word; times in frames (10 ms). */
export interface RecognizedWord {
  word: string;
  /** Class index among the model's classes. */
  label: number;
  /** The segment it came from, [start, end). */
  start: number;
  end: number;
  /** Frame on which it was recognised (the segment's last frame for a classifier). */
  at: number;
  /** Softmax probability of the word (the mean output's for a classifier; the emitting frame's for CTC). */
  confidence: number;
  /** False for the non-word classes (`_unknown_`, `_silence_`): recognised, kept out of the transcript. */
  isWord: boolean;
}

/** What one pushed frame did. */
export interface RecognizerFrame {
  /** Index of the frame in the stream. */
  t: number;
  /** Log energy of the frame and the noise floor (natural-log power units), and the speech decision. */
  energy: number;
  floor: number;
  speech: boolean;
  /** Whether the frame belongs to a segment (the network ran on it). */
  active: boolean;
  /** Network steps this push ran: 0 outside segments, 1 inside, more when a segment starts (its buffered frames replayed). */
  steps: number;
  /** Operations done by those steps, and what the dense network would have done for them. */
  ops: number;
  denseOps: number;
  /** Fired columns / possible columns over the delta layers in those steps (NaN when no step ran; 1 for a dense network). */
  occupancy: number;
  /** With `firedColumns`: first layer's fired input columns (mel bands) at this frame, when it ran (else null). */
  firedInputs: Int32Array | null;
  /** Words recognised on this frame. */
  words: RecognizedWord[];
}

/** Totals over a stream. */
export interface RecognizerTotals {
  frames: number;
  /** Frames the network ran on (replays included). */
  steps: number;
  ops: number;
  denseOps: number;
  fired: number;
  possible: number;
  segments: number;
}

/**
 * A streaming recogniser for a model trained by `deltakit train`.
 *
 * @example
 * const r = new StreamingRecognizer(model);
 * for (const f of melFrames) for (const w of r.push(f).words) if (w.isWord) console.log(w.word);
 * r.flush();
 */
export class StreamingRecognizer {
  readonly task: ModelTask;
  readonly session: Session;
  readonly segmenter: EnergySegmenter;
  readonly bands: number;
  readonly thresholdX: number | null;
  readonly thresholdH: number | null;
  /** How words come out: per segment (a classifier of words), CTC, or the keyword spotter on every frame. */
  readonly mode: 'segments' | 'ctc' | 'keywords';
  private readonly norm: StreamingNormalizer;
  private readonly spotter: KeywordSpotter | null;
  private readonly minSpeechFrames: number;
  /** Raw frames waiting for a segment: ring of `ringSize` frames. */
  private readonly ring: Float32Array;
  private readonly ringSize: number;
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  /** Outputs summed over the segment (mean readout), the last one (last readout). */
  private readonly sum: Float64Array;
  private segFrames = 0;
  private readonly ctc: CtcGreedyDecoder | null;
  private segStart = -1;
  private t = 0;
  private lastTrace: StepTrace | null = null;
  private prevStats = { ops: 0, denseOps: 0, fired: 0, possible: 0 };
  readonly totals: RecognizerTotals = { frames: 0, steps: 0, ops: 0, denseOps: 0, fired: 0, possible: 0, segments: 0 };
  /** Every word recognised since the start (or the last reset), non-words included. */
  readonly words: RecognizedWord[] = [];
  /** Every segment closed since the start (or the last reset). */
  readonly segments: Segment[] = [];

  constructor(readonly model: Model, o: RecognizerOptions = {}) {
    check(o !== null && typeof o === 'object', 'E_OPTION', () => `recognizer: expected options { thresholdX, thresholdH, dense, backend, ... }, found ${o === null ? 'null' : typeof o}`);
    for (const key of Object.keys(o)) check(RECOGNIZER_OPTIONS.includes(key), 'E_OPTION', () => `recognizer option: expected one of ${RECOGNIZER_OPTIONS.join(', ')}, found '${key}'`);
    this.task = modelTask(model);
    const I = model.layers[0]!.inputSize;
    this.bands = I;
    check(this.task.stats.mean.length === I, 'E_FORMAT', () => `recognizer: model meta.featureStats has ${this.task.stats.mean.length} bands, the model's input has ${I}`);
    // A threshold given as an option is the caller's (E_OPTION); a stored one the file's
    // (storedThresholds: E_FORMAT naming the metadata key and the file).
    const stored = o.dense || (o.thresholdX !== undefined && o.thresholdH !== undefined) ? null : storedThresholds(model);
    const num = (v: number | undefined, key: 'thresholdX' | 'thresholdH'): number => {
      if (v === undefined) return stored![key];
      check(typeof v === 'number' && Number.isFinite(v) && v >= 0, 'E_OPTION', () => `recognizer: option ${key}: expected a number >= 0, found ${v}`);
      return v;
    };
    this.thresholdX = o.dense ? null : num(o.thresholdX, 'thresholdX');
    this.thresholdH = o.dense ? null : num(o.thresholdH, 'thresholdH');
    const isCtc = this.task.readout === 'ctc';
    // Classes besides the words (`_unknown_`, ...): a keyword spotter, a classifier or a keyword-stream CTC model.
    this.mode = keywordClasses(this.task.classes).length < this.task.classes.length ? 'keywords' : isCtc ? 'ctc' : 'segments';
    const thresholds = this.thresholdX !== null ? { thresholdX: this.thresholdX, thresholdH: this.thresholdH! } : null;
    const extra = { ...(o.backend ? { backend: o.backend } : {}), ...(o.firedColumns ? { onTrace: (s: StepTrace) => (this.lastTrace = s) } : {}) };
    check(!o.verifier || this.mode === 'keywords', 'E_OPTION', () => `recognizer: a verifier is for a keyword model (classes _unknown_ / _silence_), found model ${model.name} recognised by ${this.mode}`);
    const detector = (o.verifier ? verifiedDetectorOfModel(model)?.detector : undefined) ?? detectorOptionsOfModel(model);
    this.spotter = this.mode === 'keywords' ? new KeywordSpotter(model, this.task, { ...(thresholds ? { thresholds } : {}), detector, session: extra, ...(o.verifier ? { verifier: o.verifier } : {}) }) : null;
    this.session = this.spotter ? this.spotter.session : createSession(model, { ...(thresholds ?? {}), ...extra });
    const K = this.session.outputSize;
    check(K === this.task.classes.length + (isCtc ? 1 : 0), 'E_FORMAT', () => `recognizer: model ${model.name} has ${K} outputs, its ${this.task.classes.length} classes need ${this.task.classes.length + (isCtc ? 1 : 0)}${isCtc ? ' (with the CTC blank)' : ''}`);
    this.segmenter = new EnergySegmenter({ ...(this.mode === 'ctc' ? { hangover: 40 } : {}), ...o.segmenter });
    this.minSpeechFrames = o.minSpeechFrames ?? 8;
    check(Number.isInteger(this.minSpeechFrames) && this.minSpeechFrames >= 0, 'E_OPTION', () => `recognizer: minSpeechFrames must be an integer >= 0, found ${this.minSpeechFrames}`);
    this.norm = new StreamingNormalizer(this.task.stats);
    const so = this.segmenter.options;
    this.ringSize = so.preRoll + so.minSpeech + 1;
    this.ring = new Float32Array(this.ringSize * I);
    this.x = new Float32Array(I);
    this.y = new Float32Array(K);
    this.sum = new Float64Array(K);
    this.ctc = this.mode === 'ctc' ? new CtcGreedyDecoder(K) : null;
  }

  /** Frames pushed so far. */
  get frames(): number {
    return this.t;
  }

  /** The words of the transcript so far (non-word classes left out). */
  transcript(): string[] {
    return this.words.filter((w) => w.isWord).map((w) => w.word);
  }

  /** Start a new stream. */
  reset(): void {
    this.segmenter.reset();
    this.session.reset();
    this.norm.reset();
    this.spotter?.reset();
    this.ctc?.reset();
    this.t = 0;
    this.segStart = -1;
    this.segFrames = 0;
    this.prevStats = { ops: 0, denseOps: 0, fired: 0, possible: 0 };
    Object.assign(this.totals, { frames: 0, steps: 0, ops: 0, denseOps: 0, fired: 0, possible: 0, segments: 0 });
    this.words.length = 0;
    this.segments.length = 0;
  }

  /** One raw log-mel frame (`bands` values, as LogMel computes them, not normalised). */
  push(frame: ArrayLike<number>): RecognizerFrame {
    const I = this.bands;
    // A NaN frame made the energy and the occupancy NaN and the segmenter deaf, without a word.
    checkFiniteSamples(frame, 'recognizer: frame');
    check(frame.length === I, 'E_SHAPE', () => `recognizer: frame: expected ${I} log-mel values, found ${frame.length}`);
    const t = this.t++;
    this.ring.set(frame as ArrayLike<number>, (t % this.ringSize) * I);
    const ev = this.segmenter.push(frame);
    const words: RecognizedWord[] = [];
    let steps = 0;
    this.lastTrace = null;
    if (this.spotter) {
      // Keywords: every frame through the spotter, as it was tuned; segments only for display.
      const d = this.spotter.push(frame);
      steps = 1;
      if (d) words.push(this.spotted(d, t));
      if (ev?.kind === 'end') {
        this.segments.push({ start: ev.start, end: ev.end, speechFrames: ev.speechFrames });
        this.totals.segments++;
      }
    } else if (ev?.kind === 'start') {
      // A new segment: fresh network and front end, then the buffered frames from its start.
      this.session.reset();
      this.prevStats = { ops: 0, denseOps: 0, fired: 0, possible: 0 };
      this.norm.reset();
      this.ctc?.reset();
      this.sum.fill(0);
      this.segFrames = 0;
      this.segStart = ev.start;
      for (let u = ev.start; u <= t; u++) {
        this.stepFrame(u, words);
        steps++;
      }
    } else if (this.segStart >= 0) {
      this.stepFrame(t, words);
      steps++;
    }
    if (ev?.kind === 'end' && !this.spotter) {
      this.finishSegment(ev, t, words);
    }
    const used = this.usage(steps);
    this.totals.frames++;
    return {
      t,
      energy: this.segmenter.energy,
      floor: this.segmenter.noiseFloor,
      speech: this.segmenter.speech,
      active: steps > 0,
      steps,
      ...used,
      firedInputs: this.lastTrace ? ((this.lastTrace as StepTrace)[0]?.firedX ?? null) : null,
      words,
    };
  }

  /** End of the stream: closes an open segment (its word, for a classifier). Returns the words. */
  flush(): RecognizedWord[] {
    const ev = this.segmenter.flush();
    const words: RecognizedWord[] = [];
    if (this.spotter) {
      // Candidates still waiting for their verifier window are decided on the frames there are.
      for (const d of this.spotter.flush()) words.push(this.spotted(d, this.t - 1));
      this.countVerifier();
    }
    if (ev && this.spotter) {
      this.segments.push({ start: ev.start, end: ev.end, speechFrames: ev.speechFrames });
      this.totals.segments++;
    } else if (ev) this.finishSegment(ev, this.t - 1, words);
    return words;
  }

  /** Normalise buffered frame u and run one network step on it. */
  private stepFrame(u: number, words: RecognizedWord[]): void {
    const I = this.bands;
    const x = this.x;
    const src = this.ring.subarray((u % this.ringSize) * I, (u % this.ringSize + 1) * I);
    // The front end of normalizeFeatures(), one frame at a time: level tracker, then (x - mean) / std.
    this.norm.frame(src, x);
    this.session.stepInto(x, this.y);
    const y = this.y;
    this.segFrames++;
    if (this.task.readout === 'last') for (let k = 0; k < y.length; k++) this.sum[k] = y[k]!;
    else for (let k = 0; k < y.length; k++) this.sum[k]! += y[k]!;
    if (this.ctc) {
      const label = this.ctc.push(y);
      if (label !== null) words.push(this.word(label, softmaxAt(y, label), this.segStart, u + 1, u));
    }
  }

  private finishSegment(seg: Segment, t: number, words: RecognizedWord[]): void {
    this.segments.push({ start: seg.start, end: seg.end, speechFrames: seg.speechFrames });
    this.totals.segments++;
    if (!this.ctc && this.segFrames > 0 && seg.speechFrames >= this.minSpeechFrames) {
      const K = this.sum.length;
      const n = this.task.readout === 'last' ? 1 : this.segFrames;
      const mean = Float64Array.from(this.sum, (v) => v / n);
      let best = 0;
      for (let k = 1; k < K; k++) if (mean[k]! > mean[best]!) best = k;
      words.push(this.word(best, softmaxAt(mean, best), seg.start, seg.end, t));
    }
    // CTC words were emitted as they came; give them the segment's end.
    if (this.ctc) for (const w of this.words) if (w.start === seg.start && w.end <= seg.end) w.end = seg.end;
    this.segStart = -1;
  }

  private word(label: number, confidence: number, start: number, end: number, at: number): RecognizedWord {
    const name = this.task.classes[label]!;
    const w: RecognizedWord = { word: name, label, start, end, at, confidence, isWord: !/^_.*_$/.test(name) };
    this.words.push(w);
    return w;
  }

  /**
   * A keyword spotted at frame d.frame, recognised at frame `at`: with a verifier the detection was
   * made `after` frames earlier, and its span is where it was heard, not where it was reported.
   */
  private spotted(d: Detection, at: number): RecognizedWord {
    return this.word(d.index, d.verification ?? d.score, Math.max(0, d.frame - this.spotter!.detector.options.window + 1), d.frame + 1, at);
  }

  private prevVerifier = { ops: 0, denseOps: 0 };

  /** The verifier's work since the last call, added to the totals: ops and dense ops. */
  private countVerifier(): { readonly ops: number; readonly denseOps: number } {
    const v = this.spotter?.verifier;
    if (!v) return NO_WORK;
    const st = v.stats();
    const d = { ops: st.ops - this.prevVerifier.ops, denseOps: st.denseOps - this.prevVerifier.denseOps };
    this.prevVerifier = { ops: st.ops, denseOps: st.denseOps };
    this.totals.ops += d.ops;
    this.totals.denseOps += d.denseOps;
    return d;
  }

  /** Ops and occupancy of the last `steps` steps, from the session's counters (a verifier's work included). */
  private usage(steps: number): { ops: number; denseOps: number; occupancy: number } {
    const v = this.countVerifier();
    if (steps === 0) return { ops: v.ops, denseOps: v.denseOps, occupancy: Number.NaN };
    const st = this.session.stats();
    let fired = 0;
    let possible = 0;
    for (const l of st.layers) {
      if (!l.delta) continue;
      fired += l.firedX + l.firedH;
      possible += (l.inputSize + l.outputSize) * st.steps;
    }
    const p = this.prevStats;
    const d = { ops: st.ops - p.ops, denseOps: st.denseOps - p.denseOps, fired: fired - p.fired, possible: possible - p.possible };
    this.prevStats = { ops: st.ops, denseOps: st.denseOps, fired, possible };
    this.totals.steps += steps;
    this.totals.ops += d.ops;
    this.totals.denseOps += d.denseOps;
    this.totals.fired += d.fired;
    this.totals.possible += d.possible;
    return { ops: d.ops + v.ops, denseOps: d.denseOps + v.denseOps, occupancy: d.possible > 0 ? d.fired / d.possible : 1 };
  }
}

/** No verifier: no extra work (one shared object, no allocation per frame). */
const NO_WORK = { ops: 0, denseOps: 0 } as const;

/** Softmax probability of class k among `logits`. */
function softmaxAt(logits: ArrayLike<number>, k: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]!);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i]! - m);
  return Math.exp(logits[k]! - m) / s;
}
