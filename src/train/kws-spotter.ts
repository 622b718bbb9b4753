/**
 * Streaming keyword spotting on a keyword classifier (the kws corpus' 10 keywords, `_unknown_`
 * and `_silence_`): per-frame posteriors from a running session, a moving-average smoothing
 * window, a threshold, and a lockout so one spoken keyword gives one detection. Measured as
 * false alarms per hour on long streams of non-keyword audio (other words, noise) and as the
 * share of keywords detected in streams of keywords among other words and silence.
 *
 * The rule, per frame t (counted from 0 since the last reset):
 *
 *   p_t = softmax(y_t)                                   the session's outputs as posteriors
 *   s_t[k] = (p_t[k] + ... + p_{t-w+1}[k]) / w           smoothing 'mean'; frames before the stream count as 0
 *   s_t = softmax((log p_t + ... + log p_{t-w+1}) / w)   smoothing 'geometric' (= softmax of the mean logits)
 *   k* = argmax over keyword classes of s_t[k]           (not `_unknown_`, `_silence_`)
 *   detect k* at t  when  s_t[k*] >= threshold  and no detection in frames t-lockout .. t-1
 *
 * The geometric mean is the streaming form of the mean readout the classifiers are trained with
 * (the average of an utterance's logits): log p_t = y_t - logsumexp(y_t), and the per-frame
 * constant cancels in the softmax.
 *
 * This file holds the detector and the spotter, free of Node built-ins (the browser playground and
 * the streaming recogniser use them); kws.ts adds the streams, their scoring and the tuning, and
 * re-exports everything here.
 */
import { check } from '../core/errors.js';
import type { FeatureStats } from '../data/dataset.js';
import { LevelNormalizer, STREAM_PAUSE_RELEASE, type PauseRelease } from '../data/frontend.js';
import type { Model } from '../model/types.js';
import { createSession, type Session } from '../runtime/session.js';
import type { SessionOptions } from '../runtime/types.js';
import { fromMetadata, metadataNumber, type ModelTask } from './model-task.js';
import { modelLabel } from '../model/source.js';
import type { KeywordVerifier } from './kws-verifier.js';

/** Seconds per feature frame (10 ms hop). */
export const FRAME_SECONDS = 0.01;

export type Smoothing = 'mean' | 'geometric';
export const SMOOTHINGS: readonly Smoothing[] = ['mean', 'geometric'];

export interface DetectorOptions {
  /** Frames of the moving average over the posteriors (>= 1). */
  window: number;
  /** 'mean': arithmetic mean of the posteriors; 'geometric': normalised geometric mean (default 'mean'). */
  smoothing?: Smoothing;
  /** Smoothed posterior a keyword must reach, in (0, 1]. */
  threshold: number;
  /** Frames after a detection in which no other detection is made (>= 0). */
  lockout: number;
}

/** What the detector uses when neither the caller nor the model's metadata says otherwise. */
export const DEFAULT_DETECTOR: DetectorOptions = { window: 30, threshold: 0.7, lockout: 100, smoothing: 'mean' };

export interface Detection {
  /** Class index of the keyword. */
  index: number;
  keyword: string;
  /** Frame (since the last reset) at which the smoothed posterior reached the threshold. */
  frame: number;
  /** frame x 10 ms, seconds. */
  time: number;
  /** The smoothed posterior at that frame. */
  score: number;
  /** With a second stage (KeywordVerifier): its posterior for this keyword. */
  verification?: number;
}

/**
 * Check detector options (E_OPTION naming the expected range and what was found).
 *
 * @example checkDetectorOptions({ window: 30, threshold: 0.7, lockout: 100 });
 */
export function checkDetectorOptions(o: DetectorOptions): DetectorOptions {
  check(Number.isInteger(o.window) && o.window >= 1 && o.window <= 10000, 'E_OPTION', () => `keyword detector: window must be an integer number of frames in 1..10000, found ${o.window}`);
  check(Number.isFinite(o.threshold) && o.threshold > 0 && o.threshold <= 1, 'E_OPTION', () => `keyword detector: threshold must be a posterior in (0, 1], found ${o.threshold}`);
  check(Number.isInteger(o.lockout) && o.lockout >= 0, 'E_OPTION', () => `keyword detector: lockout must be an integer number of frames >= 0, found ${o.lockout}`);
  check(o.smoothing === undefined || SMOOTHINGS.includes(o.smoothing), 'E_OPTION', () => `keyword detector: smoothing must be one of ${SMOOTHINGS.join(', ')}, found ${JSON.stringify(o.smoothing)}`);
  return o;
}

/** The name the detector gives a CTC model's blank output (its last; never a keyword). */
export const CTC_BLANK = '_blank_';

/**
 * The names of a model's outputs, as the detector sees them: the task's classes, and for a CTC
 * model (a keyword-stream model) the blank after them.
 *
 * @example outputClasses(modelTask(model)) // [..., '_unknown_', '_silence_', '_blank_']
 */
export function outputClasses(task: Pick<ModelTask, 'classes' | 'readout'>): string[] {
  return task.readout === 'ctc' ? [...task.classes, CTC_BLANK] : [...task.classes];
}

/** Keyword classes: every class whose name does not start with '_' (`_unknown_`, `_silence_`, `_blank_`). */
export function keywordClasses(classes: readonly string[]): number[] {
  return classes.flatMap((c, k) => (c.startsWith('_') ? [] : [k]));
}

/**
 * softmax of `n` values from `src[off..]` into `dst` (numerically stable).
 *
 * @example softmaxInto(y, 0, 12, p);
 */
export function softmaxInto(src: ArrayLike<number>, off: number, n: number, dst: Float64Array): Float64Array {
  let m = -Infinity;
  for (let k = 0; k < n; k++) m = Math.max(m, src[off + k]!);
  let z = 0;
  for (let k = 0; k < n; k++) {
    const e = Math.exp(src[off + k]! - m);
    dst[k] = e;
    z += e;
  }
  for (let k = 0; k < n; k++) dst[k] = dst[k]! / z;
  return dst;
}

/**
 * The detection rule on a stream of per-frame posteriors (one `push` per frame). Holds the last
 * `window` frames; no allocation per frame.
 *
 * @example
 * const d = new KeywordDetector(classes, { window: 30, threshold: 0.7, lockout: 100 });
 * for (let t = 0; t < T; t++) { const hit = d.push(posteriors, t * classes.length); if (hit) console.log(hit.keyword, hit.time); }
 */
export class KeywordDetector {
  readonly options: DetectorOptions;
  readonly keywords: number[];
  private readonly C: number;
  private readonly ring: Float64Array;
  private readonly sums: Float64Array;
  private readonly geometric: boolean;
  private readonly score: Float64Array;
  private t = 0;
  private last = -Infinity;

  constructor(readonly classes: readonly string[], options: Partial<DetectorOptions> = {}) {
    this.options = checkDetectorOptions({ ...DEFAULT_DETECTOR, ...options });
    this.keywords = keywordClasses(classes);
    check(this.keywords.length > 0, 'E_OPTION', () => `keyword detector: expected at least one keyword class (a name not starting with '_'), found ${JSON.stringify(classes)}`);
    this.C = classes.length;
    this.ring = new Float64Array(this.options.window * this.C);
    this.sums = new Float64Array(this.C);
    this.geometric = this.options.smoothing === 'geometric';
    this.score = new Float64Array(this.C);
  }

  /** Frames pushed since the last reset. */
  get frames(): number {
    return this.t;
  }

  /** Start a new stream: empty window, no lockout, frame count 0. */
  reset(): void {
    this.ring.fill(0);
    this.sums.fill(0);
    this.t = 0;
    this.last = -Infinity;
  }

  /** The smoothed posterior of class k at the last pushed frame. */
  smoothed(k: number): number {
    return this.geometric ? this.normalisedGeometric()[k]! : this.sums[k]! / this.options.window;
  }

  /** softmax of the mean log posteriors over the window (into `score`). */
  private normalisedGeometric(): Float64Array {
    const w = this.options.window;
    for (let k = 0; k < this.C; k++) this.score[k] = this.sums[k]! / w;
    return softmaxInto(this.score, 0, this.C, this.score);
  }

  /**
   * One frame: `classes.length` posteriors from `p[offset..]`. Returns the detection made at this
   * frame, or null.
   */
  push(p: ArrayLike<number>, offset = 0): Detection | null {
    const C = this.C;
    const w = this.options.window;
    const slot = (this.t % w) * C;
    for (let k = 0; k < C; k++) {
      // Geometric: log posteriors, floored so that a posterior of exactly 0 stays finite.
      const v = this.geometric ? Math.log(Math.max(p[offset + k]!, 1e-30)) : p[offset + k]!;
      this.sums[k] = this.sums[k]! + v - this.ring[slot + k]!;
      this.ring[slot + k] = v;
    }
    const t = this.t++;
    // Exact sums now and then: the running sum's rounding never accumulates over hours.
    if (slot === 0 && t % (w * 1024) === 0) for (let k = 0; k < C; k++) {
      let s = 0;
      for (let j = 0; j < w; j++) s += this.ring[j * C + k]!;
      this.sums[k] = s;
    }
    if (t - this.last <= this.options.lockout) return null;
    let best = this.keywords[0]!;
    for (const k of this.keywords) if (this.sums[k]! > this.sums[best]!) best = k;
    // softmax is monotone: the best keyword is the same on the sums; only its score needs it.
    const score = this.geometric ? this.normalisedGeometric()[best]! : this.sums[best]! / w;
    if (score < this.options.threshold) return null;
    this.last = t;
    return { index: best, keyword: this.classes[best]!, frame: t, time: Number((t * FRAME_SECONDS).toFixed(2)), score };
  }

  /**
   * Every detection over a whole stream of posteriors (frames x classes, row-major), from a
   * fresh state.
   *
   * @example const hits = new KeywordDetector(classes, opts).detectAll(posteriors);
   */
  detectAll(posteriors: ArrayLike<number>): Detection[] {
    check(posteriors.length % this.C === 0, 'E_SHAPE', () => `keyword detector: expected a multiple of ${this.C} posteriors (frames x classes), found ${posteriors.length}`);
    this.reset();
    const out: Detection[] = [];
    for (let off = 0; off < posteriors.length; off += this.C) {
      const d = this.push(posteriors, off);
      if (d) out.push(d);
    }
    return out;
  }
}

/**
 * The model's feature normalisation, one frame at a time: the streaming level front end (when
 * the model was trained with it; `pause`: its continuous-stream release) and the per-band
 * statistics. Equal to `normalizeFeatures` on the whole stream.
 */
export class StreamingNormalizer {
  private readonly level: LevelNormalizer | null;
  private readonly tmp: Float32Array;
  constructor(readonly stats: FeatureStats, pause?: PauseRelease) {
    const B = stats.mean.length;
    this.level = stats.frontEnd === 'level' ? new LevelNormalizer(B, pause) : null;
    this.tmp = new Float32Array(B);
  }

  reset(): void {
    this.level?.reset();
  }

  /** Normalise one raw log-mel frame (`bands` values from `src[off..]`) into `dst`. */
  frame(src: ArrayLike<number>, dst: Float32Array, off = 0): Float32Array {
    const { mean, std } = this.stats;
    const B = mean.length;
    if (this.level) {
      const x = this.tmp;
      for (let b = 0; b < B; b++) x[b] = src[off + b]!;
      this.level.frame(x, x, 0);
      for (let b = 0; b < B; b++) dst[b] = (x[b]! - mean[b]!) / std[b]!;
    } else {
      for (let b = 0; b < B; b++) dst[b] = (src[off + b]! - mean[b]!) / std[b]!;
    }
    return dst;
  }
}

export interface SpotterOptions {
  /** Delta thresholds; absent: the dense network. */
  thresholds?: { thresholdX: number; thresholdH: number };
  detector?: Partial<DetectorOptions>;
  /**
   * How the level front end releases in pauses of the stream (default STREAM_PAUSE_RELEASE;
   * null: the training front end's slow release throughout).
   */
  pauseRelease?: PauseRelease | null;
  /** Further session options (backend, onTrace). */
  session?: Pick<SessionOptions, 'backend' | 'onTrace'>;
  /**
   * A second stage (kws-verifier.ts): every detection is heard again by this keyword classifier
   * over its window and reported only when it agrees, `after` frames later than the detection.
   */
  verifier?: KeywordVerifier;
}

/**
 * A running keyword spotter: raw 40-band log-mel frames in (as a microphone's front end
 * computes them), detections out. Owns a session of the model, the model's streaming feature
 * normalisation and a KeywordDetector.
 *
 * @example
 * const spot = new KeywordSpotter(model, task, { thresholds: { thresholdX: 0.5, thresholdH: 0.2 } });
 * for (const frame of frames) { const d = spot.push(frame); if (d) console.log(`${d.keyword} at ${d.time} s`); }
 */
export class KeywordSpotter {
  readonly session: Session;
  readonly detector: KeywordDetector;
  private readonly norm: StreamingNormalizer;
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  private readonly p: Float64Array;
  readonly verifier: KeywordVerifier | null;
  /** With a verifier: the last before + after + 1 raw frames (a ring, by frame index) and the candidates waiting for their window. */
  private readonly raw: Float32Array;
  private readonly ringFrames: number;
  private readonly window: Float32Array;
  private pending: Detection[] = [];

  constructor(readonly model: Model, readonly task: ModelTask, o: SpotterOptions = {}) {
    this.session = createSession(model, { ...o.session, ...(o.thresholds ? { ...o.thresholds } : {}) });
    const outputs = outputClasses(task);
    check(this.session.outputSize === outputs.length, 'E_SHAPE', () => `keyword spotter: the model has ${this.session.outputSize} outputs, its classes${task.readout === 'ctc' ? ' and the CTC blank' : ''} are ${outputs.length}`);
    this.detector = new KeywordDetector(outputs, o.detector);
    const pause = o.pauseRelease === undefined ? STREAM_PAUSE_RELEASE : o.pauseRelease;
    this.norm = new StreamingNormalizer(task.stats, pause ?? undefined);
    this.x = new Float32Array(this.session.inputSize);
    this.y = new Float32Array(this.session.outputSize);
    this.p = new Float64Array(this.session.outputSize);
    this.verifier = o.verifier ?? null;
    const I = this.session.inputSize;
    if (this.verifier) check(this.verifier.bands === I, 'E_SHAPE', () => `keyword spotter: the verifier reads ${this.verifier!.bands} bands per frame, the model ${I}`);
    if (this.verifier) for (const k of this.detector.keywords) this.verifier.classOf(outputs[k]!);
    this.ringFrames = this.verifier ? this.verifier.options.before + this.verifier.options.after + 1 : 0;
    this.raw = new Float32Array(this.ringFrames * I);
    this.window = new Float32Array(this.ringFrames * I);
  }

  /** A new stream: the session's state, the level tracker and the detector start afresh (candidates waiting for a verifier are dropped). */
  reset(): void {
    this.session.reset();
    this.norm.reset();
    this.detector.reset();
    this.pending = [];
  }

  /** Ask the verifier about a candidate, its window the ring's frames from `frame - before` up to the last pushed frame. */
  private verify(d: Detection): Detection | null {
    const v = this.verifier!;
    const I = this.session.inputSize;
    const last = this.detector.frames - 1;
    const from = Math.max(0, d.frame - v.options.before, last - this.ringFrames + 1);
    const to = Math.min(last, d.frame + v.options.after);
    for (let t = from; t <= to; t++) this.window.set(this.raw.subarray((t % this.ringFrames) * I, (t % this.ringFrames + 1) * I), (t - from) * I);
    const r = v.decide(this.window.subarray(0, (to - from + 1) * I), d.keyword);
    return r.accepted ? { ...d, verification: r.score } : null;
  }

  /**
   * End of the stream: decide the candidates still waiting for frames after them (their windows end
   * at the last frame). Returns the verified ones; nothing without a verifier.
   */
  flush(): Detection[] {
    if (!this.verifier) return [];
    const out = this.pending.flatMap((d) => this.verify(d) ?? []);
    this.pending = [];
    return out;
  }

  /** The posteriors of the last frame (a view, overwritten by the next push). */
  get posteriors(): Float64Array {
    return this.p;
  }

  /**
   * One raw log-mel frame (`inputSize` values from `frame[offset..]`). Returns the detection made
   * at this frame, or null; with a verifier, the verified detection whose window ended at this
   * frame (made `after` frames earlier), or null.
   */
  push(frame: ArrayLike<number>, offset = 0): Detection | null {
    this.norm.frame(frame, this.x, offset);
    this.session.stepInto(this.x, this.y);
    softmaxInto(this.y, 0, this.y.length, this.p);
    if (!this.verifier) return this.detector.push(this.p);
    const I = this.session.inputSize;
    const t = this.detector.frames;
    const slot = (t % this.ringFrames) * I;
    for (let b = 0; b < I; b++) this.raw[slot + b] = frame[offset + b]!;
    const d = this.detector.push(this.p);
    if (d) this.pending.push(d);
    // Candidates are in frame order, one per frame at most: at most one window ends here.
    const first = this.pending[0];
    if (first && t - first.frame >= this.verifier.options.after) {
      this.pending.shift();
      return this.verify(first);
    }
    return null;
  }

  /**
   * Every detection in a stream of raw frames (frames x inputSize), continuing the current state.
   * `end` (default true): the stream ends here, so candidates still waiting for a verifier are
   * decided on the frames there are (flush); false for a chunk of a longer stream.
   *
   * @example const hits = spotter.run(features);
   */
  run(raw: Float32Array, o: { end?: boolean } = {}): Detection[] {
    const I = this.session.inputSize;
    check(raw.length % I === 0, 'E_SHAPE', () => `keyword spotter: expected a multiple of ${I} values (frames x bands), found ${raw.length}`);
    const out: Detection[] = [];
    for (let off = 0; off < raw.length; off += I) {
      const d = this.push(raw, off);
      if (d) out.push(d);
    }
    if (o.end !== false) out.push(...this.flush());
    return out;
  }
}

/**
 * The detector settings stored in a model's metadata (`kwsWindow`, `kwsThreshold`, `kwsLockout`,
 * `kwsSmoothing`, written by `deltakit kws tune --save`), else the defaults.
 *
 * @example const o = detectorOptionsOfModel(model);
 */
export function detectorOptionsOfModel(model: Model): DetectorOptions {
  const m = model.meta ?? {};
  // Each stored setting checked under its own key: a bad one is the file's (E_FORMAT naming the
  // key and the file), not an option's.
  const window = metadataNumber(model, 'kwsWindow', { integer: true, min: 1, max: 10000, what: 'an integer number of frames' }) ?? DEFAULT_DETECTOR.window;
  const threshold = metadataNumber(model, 'kwsThreshold', { above: 0, max: 1, what: 'a posterior' }) ?? DEFAULT_DETECTOR.threshold;
  const lockout = metadataNumber(model, 'kwsLockout', { integer: true, min: 0, what: 'an integer number of frames' }) ?? DEFAULT_DETECTOR.lockout;
  const smoothing = (m['kwsSmoothing'] ?? 'mean') as Smoothing;
  return fromMetadata(model, 'kwsSmoothing', () => checkDetectorOptions({ window, threshold, lockout, smoothing }));
}

/**
 * How a keyword-stream (CTC) model names the keyword of one segmented clip:
 *
 * - `greedy`: greedy CTC decoding of the clip; the keywords emitted (a clip is right when they
 *   are exactly the one said, none in an unknown word or silence);
 * - `peak`: the keyword whose posterior peaks highest over the clip's frames, when that peak
 *   reaches the clip threshold, else none. On a clip known to hold at most one word this asks
 *   only which keyword, if any, the model leaned to most; greedy decoding also asks that the
 *   keyword beat the blank on some frame, and the stream-trained model leaves weak keywords
 *   (whispered, robotic voices) under the blank.
 */
export type ClipRule = 'greedy' | 'peak';
export const CLIP_RULES: readonly ClipRule[] = ['greedy', 'peak'];

export interface ClipRuleOptions {
  rule: ClipRule;
  /** `peak`: the posterior the highest keyword peak must reach, in (0, 1]. */
  threshold?: number;
}

/** The clip rule when neither the caller nor the model's metadata names one. */
export const DEFAULT_CLIP_RULE: ClipRuleOptions = { rule: 'greedy' };

/**
 * Check clip-rule options (E_OPTION naming the expected values and what was found).
 *
 * @example checkClipRule({ rule: 'peak', threshold: 0.1 });
 */
export function checkClipRule(o: ClipRuleOptions): ClipRuleOptions {
  check(CLIP_RULES.includes(o.rule), 'E_OPTION', () => `clip rule: expected one of ${CLIP_RULES.join(', ')}, found ${JSON.stringify(o.rule)}`);
  if (o.rule === 'peak') check(typeof o.threshold === 'number' && Number.isFinite(o.threshold) && o.threshold > 0 && o.threshold <= 1, 'E_OPTION', () => `clip rule peak: threshold must be a posterior in (0, 1], found ${o.threshold}`);
  return o;
}

/**
 * The keyword a CTC keyword model gives one clip by the `peak` rule: over the clip's per-frame
 * outputs (frames x outputs, logits or posteriors; softmax taken per frame), the keyword class
 * (`classes`: the output names, blank included) whose posterior peaks highest, when that peak is
 * at least `threshold`; else -1 (no keyword).
 *
 * @example const k = peakKeyword(y, frames, outputClasses(task), 0.1);
 */
export function peakKeyword(outputs: ArrayLike<number>, frames: number, classes: readonly string[], threshold: number): { index: number; peak: number } {
  const C = classes.length;
  check(outputs.length === frames * C, 'E_SHAPE', () => `clip rule peak: expected ${frames} x ${C} outputs, found ${outputs.length} values`);
  const keywords = keywordClasses(classes);
  check(keywords.length > 0, 'E_OPTION', () => `clip rule peak: expected at least one keyword class (a name not starting with '_'), found ${JSON.stringify(classes)}`);
  const p = new Float64Array(C);
  let index = -1;
  let peak = 0;
  for (let t = 0; t < frames; t++) {
    softmaxInto(outputs, t * C, C, p);
    for (const k of keywords) if (p[k]! > peak) [peak, index] = [p[k]!, k];
  }
  return peak >= threshold ? { index, peak } : { index: -1, peak };
}

/**
 * The clip rule stored in a model's metadata (`kwsClipRule`, `kwsClipThreshold`, written by
 * `deltakit kws tune --clip-thresholds ... --save`), else greedy decoding.
 *
 * @example const rule = clipRuleOfModel(model); // { rule: 'peak', threshold: 0.1 }
 */
export function clipRuleOfModel(model: Model): ClipRuleOptions {
  const m = model.meta ?? {};
  if (m['kwsClipRule'] === undefined) return DEFAULT_CLIP_RULE;
  const rule = m['kwsClipRule'] as ClipRule;
  check(CLIP_RULES.includes(rule), 'E_FORMAT', () => `${modelLabel(model)}: metadata kwsClipRule: expected one of ${CLIP_RULES.join(', ')}, found ${JSON.stringify(String(rule).slice(0, 60))}`);
  if (rule !== 'peak') return { rule };
  const threshold = metadataNumber(model, 'kwsClipThreshold', { above: 0, max: 1, what: 'a posterior (the peak rule\'s threshold)' });
  check(threshold !== undefined, 'E_FORMAT', () => `${modelLabel(model)}: metadata kwsClipRule peak: expected kwsClipThreshold beside it, found none`);
  return { rule, threshold };
}
