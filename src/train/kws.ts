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
 * A keyword-stream model (readout ctc, trained by `keywordTrainingStreams` on clips concatenated
 * into streams) is spotted the same way: its outputs are the classes and the CTC blank
 * (`outputClasses`), a keyword's posterior a spike where it is emitted (short windows, lockout
 * CTC_LOCKOUT).
 */
import { check } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { buildCorpus, type CorpusOptions } from '../data/corpus.js';
import { normalizeFeatures, type Dataset, type FeatureStats, type Split, type Utterance } from '../data/dataset.js';
import { STREAM_PAUSE_RELEASE, type PauseRelease } from '../data/frontend.js';
import type { Model } from '../model/types.js';
import { createSession } from '../runtime/session.js';
import { checkVerifierOptions, verifyDetections, type KeywordVerifier, type Verdict, type VerifierOptions } from './kws-verifier.js';
import { checkDetectorOptions, DEFAULT_DETECTOR, FRAME_SECONDS, KeywordDetector, keywordClasses, outputClasses, SMOOTHINGS, softmaxInto, checkClipRule, type ClipRuleOptions, type Detection, type DetectorOptions, type Smoothing } from './kws-spotter.js';
import { checkClipRuleClasses, clipWords, type ModelTask } from './task.js';
import { editDistance, wordLabelFilter } from './ctc.js';

// The detector and the spotter live in kws-spotter.ts (free of Node built-ins, for browsers and
// the streaming recogniser); this module adds the streams, their scoring and the tuning.
export * from './kws-spotter.js';
export * from './kws-verifier.js';

/** A keyword spoken in a stream, frames [start, end). */
export interface StreamEvent {
  label: number;
  start: number;
  end: number;
}

/** Utterances end to end as one stream of raw features, with where each keyword lies. */
export interface KeywordStream {
  /** frames x bands, raw log-mel (the spotter normalises it as it streams). */
  features: Float32Array;
  frames: number;
  bands: number;
  /** Every keyword utterance (label a keyword class) of the stream. */
  events: StreamEvent[];
  utterances: number;
  voices: number;
  voiceNames: string[];
  /** Where each utterance starts (frame) and whose voice it is, in stream order (concatStream fills it). */
  spans?: Array<{ start: number; voice: string }>;
}

/**
 * Concatenate a dataset's utterances (raw features) into one stream, in an order shuffled by
 * `seed` so words and silences of different voices alternate.
 *
 * @example const s = concatStream(buildCorpus('kws', 'test', { background: true }));
 */
export function concatStream(ds: Dataset, seed = 1): KeywordStream {
  const keywords = new Set(keywordClasses(ds.classes));
  const order: Utterance[] = [...ds.utterances];
  const rng = new Rng(seed);
  rng.shuffle(order);
  const frames = order.reduce((a, u) => a + u.frames, 0);
  const features = new Float32Array(frames * ds.bands);
  const events: StreamEvent[] = [];
  const spans: Array<{ start: number; voice: string }> = [];
  let t = 0;
  for (const u of order) {
    features.set(u.features, t * ds.bands);
    spans.push({ start: t, voice: u.voice });
    if (keywords.has(u.label)) events.push({ label: u.label, start: t, end: t + u.frames });
    t += u.frames;
  }
  const voiceNames = [...new Set(order.map((u) => u.voice))].sort();
  return { features, frames, bands: ds.bands, events, utterances: order.length, voices: voiceNames.length, voiceNames, spans };
}

export interface StreamPosteriors {
  /** frames x classes. */
  posteriors: Float32Array;
  frames: number;
  /** Session counters over the stream. */
  ops: number;
  denseOps: number;
}

/**
 * Run a model over a whole stream once (one session, never reset; the model's streaming
 * normalisation with the pause release) and keep every frame's posteriors, so many detector settings can be scored
 * without running the network again.
 *
 * @example const r = streamPosteriors(model, task, stream, { thresholdX: 0.5, thresholdH: 0.3 });
 */
export function streamPosteriors(model: Model, task: ModelTask, stream: KeywordStream, thresholds?: { thresholdX: number; thresholdH: number }, pauseRelease: PauseRelease | null = STREAM_PAUSE_RELEASE): StreamPosteriors {
  const s = createSession(model, thresholds ? { ...thresholds } : {});
  const C = s.outputSize;
  check(C === outputClasses(task).length, 'E_SHAPE', () => `keyword streams: the model has ${C} outputs, its classes${task.readout === 'ctc' ? ' and the CTC blank' : ''} are ${outputClasses(task).length}`);
  const x = normalizeFeatures(stream.features, task.stats, pauseRelease ?? undefined);
  const posteriors = new Float32Array(stream.frames * C);
  const y = new Float32Array(C);
  const p = new Float64Array(C);
  const I = s.inputSize;
  for (let t = 0; t < stream.frames; t++) {
    s.stepInto(x.subarray(t * I, (t + 1) * I), y);
    softmaxInto(y, 0, C, p);
    for (let k = 0; k < C; k++) posteriors[t * C + k] = p[k]!;
  }
  const st = s.stats();
  s.dispose();
  return { posteriors, frames: stream.frames, ops: st.ops, denseOps: st.denseOps };
}

export interface StreamScore {
  /** Keywords in the stream, and how many were detected with the right keyword in time. */
  keywords: number;
  detected: number;
  /** detected / keywords (0 when the stream has none). */
  detectionRate: number;
  /** Detections that match no keyword: wrong keyword, a second one, or in non-keyword audio. */
  falseAlarms: number;
  hours: number;
  falseAlarmsPerHour: number;
}

/**
 * Which keyword event each detection hits, by the scoring rule of scoreDetections: a detection of
 * keyword k at frame f hits the first event of k not yet hit with start <= f < end + window (the
 * smoothing delays the decision by up to `window` frames); -1 for a detection that hits none (a
 * false alarm). Detections in time order.
 *
 * @example const hit = matchDetections(hits, stream.events, 3); // [0, -1, 2, ...]
 */
export function matchDetections(detections: readonly Detection[], events: readonly StreamEvent[], window: number): number[] {
  const found = new Uint8Array(events.length);
  const out: number[] = [];
  let e = 0;
  for (const d of detections) {
    // Events are in time order; skip those whose window closed before this frame.
    while (e < events.length && events[e]!.end + window <= d.frame) e++;
    let hit = -1;
    for (let j = e; j < events.length && events[j]!.start <= d.frame; j++) {
      if (!found[j] && events[j]!.label === d.index && d.frame < events[j]!.end + window) {
        hit = j;
        break;
      }
    }
    if (hit >= 0) found[hit] = 1;
    out.push(hit);
  }
  return out;
}

/**
 * Score detections against a stream's keywords: a detection of keyword k at frame f is a hit when
 * a not yet detected utterance of k has start <= f < end + window (the smoothing delays the
 * decision by up to `window` frames); every other detection is a false alarm (matchDetections).
 *
 * @example const s = scoreDetections(hits, stream.events, stream.frames, 30);
 */
export function scoreDetections(detections: readonly Detection[], events: readonly StreamEvent[], frames: number, window: number): StreamScore {
  const hit = matchDetections(detections, events, window);
  const detected = hit.filter((j) => j >= 0).length;
  const falseAlarms = hit.length - detected;
  const hours = (frames * FRAME_SECONDS) / 3600;
  return { keywords: events.length, detected, detectionRate: events.length ? detected / events.length : 0, falseAlarms, hours, falseAlarmsPerHour: hours > 0 ? falseAlarms / hours : 0 };
}

/**
 * Detect on cached posteriors and score against the stream.
 *
 * @example const s = scoreStream(classes, post, stream, { window: 30, threshold: 0.7, lockout: 100 });
 */
export function scoreStream(classes: readonly string[], post: StreamPosteriors, stream: KeywordStream, o: DetectorOptions): StreamScore {
  const hits = new KeywordDetector(classes, o).detectAll(post.posteriors);
  return scoreDetections(hits, stream.events, stream.frames, o.window);
}

/**
 * scoreStream with a second stage: the detections the verifier accepts (its window clipped to
 * the stream), scored by their first-stage frames.
 *
 * @example const s = scoreVerified(classes, post, stream, detector, verifier);
 */
export function scoreVerified(classes: readonly string[], post: StreamPosteriors, stream: KeywordStream, o: DetectorOptions, verifier: KeywordVerifier): StreamScore {
  const hits = new KeywordDetector(classes, o).detectAll(post.posteriors);
  return scoreDetections(verifyDetections(verifier, stream.features, stream.frames, hits), stream.events, stream.frames, o.window);
}

export interface DetectorPoint extends DetectorOptions {
  /** On the keyword streams. */
  keywordStream: StreamScore;
  /** On the non-keyword (background) streams. */
  background: StreamScore;
  /** On the natural non-keyword (sentence) stream, when one was given. */
  sentences?: StreamScore;
}

/** The false alarms per hour a point is budgeted on: the worse of its non-keyword streams. */
export function pointFalseAlarmsPerHour(p: DetectorPoint): number {
  return Math.max(p.background.falseAlarmsPerHour, p.sentences?.falseAlarmsPerHour ?? 0);
}

export const DEFAULT_WINDOWS = [10, 20, 30, 50, 75, 100];
export const DEFAULT_DETECTOR_THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95];
/** A keyword-stream (CTC) model's posteriors are spikes a few frames wide: short windows, thresholds up to near 1. */
export const CTC_WINDOWS = [1, 2, 3, 5, 8];
/**
 * Lockout for a CTC model: one spike per spoken keyword, so the lockout only has to bridge a few
 * frames; a second keyword 0.3-1 s after the first (the clips of the keyword stream) must not be
 * locked out, as it is with 100 frames.
 */
export const CTC_LOCKOUT = 30;
export const CTC_DETECTOR_THRESHOLDS = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998];

/**
 * Sweep smoothing, window and threshold (lockout fixed) on posteriors of a keyword stream and a background
 * stream (and, when given, a sentence stream), and choose the point with the highest detection
 * rate whose false alarms per hour are at most `maxFalseAlarmsPerHour` on every non-keyword
 * stream (ties: fewer false alarms per hour, then the smaller window); when no point meets the
 * budget, the one with the fewest false alarms per hour (then the highest detection rate).
 *
 * @example const { best, points } = tuneDetector(classes, kw, kwPost, bg, bgPost, { lockout: 100, maxFalseAlarmsPerHour: 1 });
 */
export function tuneDetector(
  classes: readonly string[],
  keywordStream: KeywordStream,
  keywordPost: StreamPosteriors,
  background: KeywordStream,
  backgroundPost: StreamPosteriors,
  o: { windows?: number[]; thresholds?: number[]; smoothings?: Smoothing[]; lockout?: number; maxFalseAlarmsPerHour?: number; sentences?: { stream: KeywordStream; posteriors: StreamPosteriors } } = {},
): { best: DetectorPoint; points: DetectorPoint[]; withinBudget: boolean } {
  const windows = o.windows ?? DEFAULT_WINDOWS;
  const thresholds = o.thresholds ?? DEFAULT_DETECTOR_THRESHOLDS;
  const lockout = o.lockout ?? DEFAULT_DETECTOR.lockout;
  const budget = o.maxFalseAlarmsPerHour ?? 1;
  check(windows.length > 0 && thresholds.length > 0 && (o.smoothings ?? SMOOTHINGS).length > 0, 'E_OPTION', () => `detector tuning: expected at least one window, threshold and smoothing, found ${windows.length}, ${thresholds.length} and ${(o.smoothings ?? SMOOTHINGS).length}`);
  const smoothings = o.smoothings ?? SMOOTHINGS;
  const points: DetectorPoint[] = [];
  for (const smoothing of smoothings) {
    for (const window of windows) {
      for (const threshold of thresholds) {
        const d: DetectorOptions = checkDetectorOptions({ window, threshold, lockout, smoothing });
        const st = o.sentences ? { sentences: scoreStream(classes, o.sentences.posteriors, o.sentences.stream, d) } : {};
        points.push({ ...d, keywordStream: scoreStream(classes, keywordPost, keywordStream, d), background: scoreStream(classes, backgroundPost, background, d), ...st });
      }
    }
  }
  return chooseDetectorPoint(points, budget);
}

/**
 * The point with the highest detection rate whose false alarms per hour are within `budget` on
 * every non-keyword stream (ties: fewer false alarms per hour, then the smaller window); when none
 * is, the one with the fewest false alarms per hour (then the highest detection rate).
 */
function chooseDetectorPoint<P extends DetectorPoint>(points: P[], budget: number): { best: P; points: P[]; withinBudget: boolean } {
  const within = points.filter((p) => pointFalseAlarmsPerHour(p) <= budget);
  const pick = (list: P[], key: (p: P) => number[]): P =>
    list.reduce((a, b) => {
      const ka = key(a), kb = key(b);
      for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return kb[i]! > ka[i]! ? b : a;
      return a;
    });
  const best = within.length
    ? pick(within, (p) => [p.keywordStream.detectionRate, -pointFalseAlarmsPerHour(p), -p.window])
    : pick(points, (p) => [-pointFalseAlarmsPerHour(p), p.keywordStream.detectionRate, -p.window]);
  return { best, points, withinBudget: within.length > 0 };
}

/** A detector point with a second stage: the verifier's window and threshold. */
export interface VerifiedDetectorPoint extends DetectorPoint {
  verifier: VerifierOptions;
}

/** Verifier windows (frames before, after the candidate) that `kws tune --verify` tries by default. */
export const DEFAULT_VERIFY_WINDOWS: ReadonlyArray<readonly [number, number]> = [[40, 40], [50, 60], [60, 40], [60, 60]];
/** Verifier thresholds that `kws tune --verify` tries by default (0: its top class is enough). */
export const DEFAULT_VERIFY_THRESHOLDS = [0, 0.5, 0.8, 0.9, 0.95, 0.99];

/**
 * tuneDetector with a second stage: every first-stage setting (smoothing, window, threshold) times
 * every verifier window and threshold, scored on the same streams, chosen by the same rule. The
 * verifier runs once per distinct candidate and window (`verifierFor` gives one per window; its
 * own threshold is ignored, the sweep applies each).
 *
 * @example const r = tuneVerifiedDetector(classes, streams, (w) => new KeywordVerifier(clf, task, { verifier: { ...w, threshold: 0 } }), { lockout: 30 });
 */
export function tuneVerifiedDetector(
  classes: readonly string[],
  streams: { keywords: KeywordStream; keywordPost: StreamPosteriors; background: KeywordStream; backgroundPost: StreamPosteriors; sentences?: { stream: KeywordStream; posteriors: StreamPosteriors } },
  verifierFor: (w: { before: number; after: number }) => KeywordVerifier,
  o: { windows?: number[]; thresholds?: number[]; smoothings?: Smoothing[]; lockout?: number; maxFalseAlarmsPerHour?: number; verifyWindows?: ReadonlyArray<readonly [number, number]>; verifyThresholds?: number[] } = {},
): { best: VerifiedDetectorPoint; points: VerifiedDetectorPoint[]; withinBudget: boolean } {
  const windows = o.windows ?? DEFAULT_WINDOWS;
  const thresholds = o.thresholds ?? DEFAULT_DETECTOR_THRESHOLDS;
  const smoothings = o.smoothings ?? SMOOTHINGS;
  const lockout = o.lockout ?? DEFAULT_DETECTOR.lockout;
  const verifyWindows = o.verifyWindows ?? DEFAULT_VERIFY_WINDOWS;
  const verifyThresholds = o.verifyThresholds ?? DEFAULT_VERIFY_THRESHOLDS;
  check(windows.length > 0 && thresholds.length > 0 && smoothings.length > 0 && verifyWindows.length > 0 && verifyThresholds.length > 0, 'E_OPTION', () => `detector tuning: expected at least one window, threshold, smoothing, verifier window and verifier threshold, found ${windows.length}, ${thresholds.length}, ${smoothings.length}, ${verifyWindows.length} and ${verifyThresholds.length}`);
  for (const t of verifyThresholds) checkVerifierOptions({ before: 1, after: 0, threshold: t });
  const named: Array<[string, KeywordStream, StreamPosteriors]> = [['keywords', streams.keywords, streams.keywordPost], ['background', streams.background, streams.backgroundPost]];
  if (streams.sentences) named.push(['sentences', streams.sentences.stream, streams.sentences.posteriors]);
  const points: VerifiedDetectorPoint[] = [];
  for (const [before, after] of verifyWindows) {
    const v = verifierFor({ before, after });
    // One verdict per stream, candidate frame and keyword: the first-stage settings share most candidates.
    const cache = named.map(() => new Map<string, Verdict>());
    for (const smoothing of smoothings) {
      for (const window of windows) {
        for (const threshold of thresholds) {
          const d: DetectorOptions = checkDetectorOptions({ window, threshold, lockout, smoothing });
          const verdicts = named.map(([, stream, post], i) =>
            new KeywordDetector(classes, d).detectAll(post.posteriors).map((hit) => {
              const key = `${hit.frame}:${hit.index}`;
              let r = cache[i]!.get(key);
              if (!r) cache[i]!.set(key, (r = v.decideAt(stream.features, stream.frames, hit.frame, hit.keyword)));
              return { hit, r };
            }),
          );
          for (const vt of verifyThresholds) {
            const scores = named.map(([, stream], i) => scoreDetections(verdicts[i]!.filter(({ r }) => r.top && r.score >= vt).map(({ hit }) => hit), stream.events, stream.frames, window));
            points.push({ ...d, verifier: { before, after, threshold: vt }, keywordStream: scores[0]!, background: scores[1]!, ...(scores[2] ? { sentences: scores[2] } : {}) });
          }
        }
      }
    }
  }
  return chooseDetectorPoint(points, o.maxFalseAlarmsPerHour ?? 1);
}

/** Background renditions per voice when a caller does not say (about 29 s of audio per voice and rendition). */
export const DEFAULT_BACKGROUND_RENDITIONS = 5;

/**
 * The two streams a detector is measured on, from one split's voices: the keyword stream (the kws
 * split as the corpus options give it: keywords among unknown words and silence) and the
 * background stream (`background: true`: every unknown word and noise-only clips, no keyword),
 * `backgroundRenditions` renditions per voice (espeak-ng and Festival alike). Features are
 * synthesised once and cached like every corpus utterance.
 *
 * @example const { keywords, background } = keywordStreams('test', { festival: true }, 5);
 */
export function keywordStreams(split: Split, co: CorpusOptions = {}, backgroundRenditions = DEFAULT_BACKGROUND_RENDITIONS): { keywords: KeywordStream; background: KeywordStream } {
  check(Number.isInteger(backgroundRenditions) && backgroundRenditions >= 1 && backgroundRenditions <= 100, 'E_OPTION', () => `keyword streams: background renditions must be an integer in 1..100, found ${backgroundRenditions}`);
  const keywords = concatStream(buildCorpus('kws', split, co), 1);
  const per = { [split]: backgroundRenditions } as Partial<Record<Split, number>>;
  const background = concatStream(buildCorpus('kws', split, { ...co, background: true, renditions: per, festivalRenditions: per }), 2);
  return { keywords, background };
}

/** What the `_unknown_` words of a keyword training stream are trained towards. */
export type UnknownTarget = 'label' | 'blank';
export const UNKNOWN_TARGETS: readonly UnknownTarget[] = ['label', 'blank'];

export interface TrainingStreamOptions {
  /** Clips per stream, drawn uniformly in [min, max]. Default [4, 8]. */
  clips?: [number, number];
  /** `blank`: an unknown word is nothing to emit (default; it detected more keywords at few false alarms on the validation streams); `label`: it is the `_unknown_` label. */
  unknown?: UnknownTarget;
  /** Seed of the shuffle and the stream lengths. Default 1. */
  seed?: number;
}

/**
 * Connected-keyword sequences for CTC training: the clips of a kws dataset (raw features:
 * keywords, unknown words, noise clips, each with its own pauses and background noise) shuffled
 * and concatenated, several to a sequence, so the network runs from whatever state the previous
 * words left and learns to emit each keyword where it is said and nothing elsewhere. The label
 * sequence of a stream is its keywords in order (and `_unknown_` for an unknown word when
 * `unknown` is `label`); silence clips add no label. Every clip is used once.
 *
 * Features stay raw: the caller normalises each stream as one stream (`normalizeStreams`), as
 * the spotter does.
 *
 * @example const train = keywordTrainingStreams(buildCorpus('kws', 'train'), { clips: [4, 8] });
 */
export function keywordTrainingStreams(ds: Dataset, o: TrainingStreamOptions = {}): Dataset {
  const [lo, hi] = o.clips ?? [4, 8];
  check(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && lo <= hi && hi <= 1000, 'E_OPTION', () => `keyword training streams: clips per stream must be integers 1 <= min <= max <= 1000, found ${lo}, ${hi}`);
  const unknown = o.unknown ?? 'blank';
  check(UNKNOWN_TARGETS.includes(unknown), 'E_OPTION', () => `keyword training streams: unknown must be one of ${UNKNOWN_TARGETS.join(', ')}, found ${JSON.stringify(unknown)}`);
  const keywords = new Set(keywordClasses(ds.classes));
  const unknownIndex = ds.classes.indexOf('_unknown_');
  check(keywords.size > 0 && unknownIndex >= 0, 'E_VALUE', () => `keyword training streams: expected keyword classes and _unknown_, found ${JSON.stringify(ds.classes)}`);
  const clips = ds.utterances.filter((u) => u.label >= 0);
  const rng = new Rng(o.seed ?? 1);
  rng.shuffle(clips);
  const utterances: Utterance[] = [];
  for (let i = 0, s = 0; i < clips.length; s++) {
    const n = lo + rng.int(hi - lo + 1);
    const part = clips.slice(i, i + n);
    i += n;
    const frames = part.reduce((a, u) => a + u.frames, 0);
    const features = new Float32Array(frames * ds.bands);
    const words: number[] = [];
    let t = 0;
    for (const u of part) {
      features.set(u.features, t * ds.bands);
      t += u.frames;
      if (keywords.has(u.label)) words.push(u.label);
      else if (u.label === unknownIndex && unknown === 'label') words.push(unknownIndex);
    }
    const voices = [...new Set(part.map((u) => u.voice))];
    utterances.push({ id: `${ds.corpus}/${ds.split}/stream${s}`, voice: voices.join('+'), text: part.map((u) => u.text || '_').join(' '), label: -1, words, frames, features });
  }
  return { ...ds, utterances };
}

/**
 * Normalise every utterance of a dataset as one continuous stream: the model's level front end
 * with the pause release the spotter streams with, then the per-band statistics.
 *
 * @example const train = normalizeStreams(keywordTrainingStreams(raw), stats);
 */
export function normalizeStreams(ds: Dataset, stats: FeatureStats, pauseRelease: PauseRelease = STREAM_PAUSE_RELEASE): Dataset {
  return { ...ds, utterances: ds.utterances.map((u) => ({ ...u, features: normalizeFeatures(u.features, stats, pauseRelease) })) };
}

/**
 * The natural non-keyword stream of one split's voices: read sentences without any keyword and
 * noise clips (`sentences: true`), `renditions` per voice, in a seeded order. Every detection in
 * it is a false alarm.
 *
 * @example const s = sentenceStream('test', { festival: true }, 2);
 */
export function sentenceStream(split: Split, co: CorpusOptions = {}, renditions = 1): KeywordStream {
  check(Number.isInteger(renditions) && renditions >= 1 && renditions <= 100, 'E_OPTION', () => `sentence stream: renditions must be an integer in 1..100, found ${renditions}`);
  const per = { [split]: renditions } as Partial<Record<Split, number>>;
  return concatStream(buildCorpus('kws', split, { ...co, background: false, sentences: true, renditions: per, festivalRenditions: per }), 3);
}

/** Clip thresholds of the peak rule that `kws tune` tries on a keyword-stream (CTC) model by default. */
export const CLIP_THRESHOLDS = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9];

export interface ClipRulePoint extends ClipRuleOptions {
  /** Clips decided right (the keyword said; none in an unknown word or a silence clip). */
  accuracy: number;
  clips: number;
}

/**
 * Choose a keyword-stream (CTC) model's clip rule on isolated clips (normalised, e.g.
 * `taskDataset(task, 'validation')`): greedy decoding and the peak rule at every threshold of
 * `thresholds`, all decided from one session pass per clip (dense, or delta with `delta`); the
 * most clips right wins (ties: greedy, then the higher threshold).
 *
 * @example const { best } = tuneClipRule(model, taskDataset(task, 'validation', co), [0.05, 0.1, 0.3], th);
 */
export function tuneClipRule(model: Model, clips: Dataset, thresholds: readonly number[], delta?: { thresholdX: number; thresholdH: number }): { best: ClipRulePoint; points: ClipRulePoint[] } {
  check(thresholds.length > 0, 'E_OPTION', () => `clip rule tuning: expected at least one clip threshold, found none`);
  const rules: ClipRuleOptions[] = [{ rule: 'greedy' }, ...[...thresholds].sort((a, b) => b - a).map((threshold) => checkClipRule({ rule: 'peak' as const, threshold }))];
  checkClipRuleClasses(rules[rules.length - 1]!, clips.classes);
  // One session pass per clip; every rule decides from the same outputs (as evaluateWithSession
  // would with that rule, clip by clip from a reset session).
  const s = createSession(model, delta ? { ...delta } : {});
  const scored = wordLabelFilter(clips.classes);
  const right = rules.map(() => 0);
  for (const u of clips.utterances) {
    s.reset();
    const y = s.run(u.features);
    const ref = scored(u.words);
    rules.forEach((r, i) => {
      if (editDistance(ref, clipWords(y, u.frames, clips.classes, r, scored)) === 0) right[i]!++;
    });
  }
  const n = clips.utterances.length;
  const points = rules.map((r, i) => ({ ...r, accuracy: n ? right[i]! / n : 0, clips: n }));
  // Strictly better only: greedy first, then the peak rule from the highest threshold down.
  const best = points.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  return { best, points };
}
