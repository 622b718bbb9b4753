/**
 * Training windows for a keyword verifier, mined from what it hears at run time.
 *
 * A verifier (kws-verifier.ts) is a keyword classifier trained on isolated one-word clips from a
 * zero state, but in a two-stage spotter it hears windows of running speech cut around the frames
 * where the first stage fires: parts of the neighbouring words, the first stage's near misses,
 * confusable words the first stage took for keywords. Mining runs the first stage over a split's
 * streams (the keyword stream, the confusable-word background stream, the sentence stream) and
 * turns every candidate into a training utterance:
 *
 *   candidate  = a first-stage detection of keyword k at frame f (its stored two-stage detector,
 *                or a lower mining threshold for more hard negatives)
 *   window     = raw frames verifierWindow(T, f, { before, after }): max(0, f - before) .. min(T, f + after + 1)
 *   label      = k      when the candidate hits a keyword event of k (matchDetections: the rule
 *                        scoreDetections counts a hit by)
 *                _unknown_ otherwise (a false candidate: in an unknown word, noise or a sentence,
 *                        a wrong keyword on a keyword event, a second detection of one)
 *
 * The windows keep raw features: normalised like any corpus utterance (normalizeDataset: the
 * level front end from a fresh tracker, then the feature statistics), they are exactly what the
 * verifier computes from the same frames at run time (KeywordVerifier.decide).
 *
 * Keyword events the first stage misses give no window: the verifier never hears them, and where
 * the first stage would have fired on them is unknown, so a window there would teach it a
 * position it does not see (a lower mining threshold turns most of them into candidates).
 */
import { check } from '../core/errors.js';
import { buildCorpus, type CorpusOptions } from '../data/corpus.js';
import type { Split, Utterance } from '../data/dataset.js';
import type { Model } from '../model/types.js';
import { checkDetectorOptions, KeywordDetector, outputClasses, type Detection, type DetectorOptions } from './kws-spotter.js';
import { checkVerifierOptions, verifiedDetectorOfModel, verifierWindow } from './kws-verifier.js';
import { concatStream, keywordStreams, matchDetections, sentenceStream, streamPosteriors, type KeywordStream } from './kws.js';
import { modelTask, storedThresholds } from './model-task.js';

export interface MiningOptions {
  /** The first stage's detector (its candidates). */
  detector: DetectorOptions;
  /** The verifier's window: frames before and after the candidate's frame. */
  window: { before: number; after: number };
  /** Delta thresholds of the first stage; absent: the dense network. */
  thresholds?: { thresholdX: number; thresholdH: number };
}

/** What one stream gave. */
export interface MiningCounts {
  stream: string;
  frames: number;
  /** Keyword events in the stream, and how many a candidate hit. */
  keywords: number;
  hit: number;
  /** Every first-stage candidate (= windows mined). */
  candidates: number;
  /** Candidates labelled `_unknown_`: on a keyword event (wrong keyword, or one already hit) and elsewhere. */
  falseOnKeywords: number;
  falseElsewhere: number;
  /** Positive windows per keyword. */
  perKeyword: Record<string, number>;
}

export interface MinedWindows {
  /** One utterance per candidate: raw features, label an index of `classes` (a keyword or `_unknown_`). */
  utterances: Utterance[];
  /** The first-stage candidate each window was cut for (same order as `utterances`). */
  candidates: Detection[];
  counts: MiningCounts[];
}

/**
 * Mine verifier training windows from named streams (raw features, events as concatStream gives
 * them) with first-stage model `first` (a keyword-stream CTC model or a classifier of the kws
 * corpus). Labels are indices of `classes` (the verifier's: every keyword of the first stage and
 * `_unknown_`).
 *
 * @example
 * const { utterances, counts } = mineVerifierWindows(first, [{ name: 'keywords', stream: kw }, { name: 'background', stream: bg }], classes,
 *   { detector: { window: 3, threshold: 0.3, lockout: 30, smoothing: 'mean' }, window: { before: 50, after: 60 }, thresholds: { thresholdX: 0.3, thresholdH: 0.3 } });
 */
export function mineVerifierWindows(first: Model, streams: ReadonlyArray<{ name: string; stream: KeywordStream }>, classes: readonly string[], o: MiningOptions): MinedWindows {
  const detector = checkDetectorOptions(o.detector);
  checkVerifierOptions({ ...o.window, threshold: 0 });
  const task = modelTask(first);
  const firstClasses = outputClasses(task);
  const utterances: Utterance[] = [];
  const candidates: Detection[] = [];
  const counts: MiningCounts[] = [];
  for (const { name, stream } of streams) {
    check(stream.bands === first.layers[0]!.inputSize, 'E_SHAPE', () => `verifier windows: stream ${name} has ${stream.bands} bands, the first stage reads ${first.layers[0]!.inputSize}`);
    const post = streamPosteriors(first, task, stream, o.thresholds);
    const hits = new KeywordDetector(firstClasses, detector).detectAll(post.posteriors);
    const w = candidateWindows(name, stream, hits, classes, { window: o.window, detectorWindow: detector.window });
    utterances.push(...w.utterances);
    candidates.push(...w.candidates);
    counts.push(...w.counts);
  }
  return { utterances, candidates, counts };
}

/**
 * The labelled verifier windows of given first-stage candidates `detections` (in time order) on
 * one stream: the part of mineVerifierWindows after the first stage. `detectorWindow` is the
 * first stage's smoothing window (a hit may come up to that many frames after its word).
 *
 * @example const { utterances } = candidateWindows('keywords', stream, hits, classes, { window: { before: 50, after: 60 }, detectorWindow: 3 });
 */
export function candidateWindows(name: string, stream: KeywordStream, detections: readonly Detection[], classes: readonly string[], o: { window: { before: number; after: number }; detectorWindow: number }): MinedWindows {
  checkVerifierOptions({ ...o.window, threshold: 0 });
  const unknown = classes.indexOf('_unknown_');
  check(unknown >= 0, 'E_MISMATCH', () => `verifier windows: the verifier's classes must hold _unknown_ (the label of a false candidate), found ${JSON.stringify(classes)}`);
  check(stream.features.length === stream.frames * stream.bands, 'E_SHAPE', () => `verifier windows: stream ${name} must hold ${stream.frames} x ${stream.bands} raw features, found ${stream.features.length} values`);
  const match = matchDetections(detections, stream.events, o.detectorWindow);
  const c: MiningCounts = { stream: name, frames: stream.frames, keywords: stream.events.length, hit: 0, candidates: detections.length, falseOnKeywords: 0, falseElsewhere: 0, perKeyword: {} };
  const utterances: Utterance[] = [];
  let span = 0;
  let ev = 0;
  detections.forEach((d, i) => {
    check(Number.isInteger(d.frame) && d.frame >= 0 && d.frame < stream.frames, 'E_VALUE', () => `verifier windows: candidate ${i} of stream ${name} is at frame ${d.frame}, expected a frame in 0..${stream.frames - 1}`);
    const [from, to] = verifierWindow(stream.frames, d.frame, o.window);
    const hit = match[i]! >= 0;
    let label = unknown;
    if (hit) {
      label = classes.indexOf(d.keyword);
      check(label >= 0, 'E_MISMATCH', () => `verifier windows: the first stage detects '${d.keyword}', which is not among the verifier's classes (${classes.join(', ')})`);
      c.hit++;
      c.perKeyword[d.keyword] = (c.perKeyword[d.keyword] ?? 0) + 1;
    } else {
      // Detections are in time order: advance to the last event starting at or before the frame.
      while (ev < stream.events.length && stream.events[ev]!.start <= d.frame) ev++;
      if (ev > 0 && d.frame < stream.events[ev - 1]!.end + o.detectorWindow) c.falseOnKeywords++;
      else c.falseElsewhere++;
    }
    const spans = stream.spans;
    if (spans) while (span + 1 < spans.length && spans[span + 1]!.start <= d.frame) span++;
    utterances.push({
      id: `verifier-window/${name}/${d.frame}`,
      voice: spans?.[span]?.voice ?? '',
      text: `${d.keyword} candidate at frame ${d.frame} of the ${name} stream (${hit ? 'hit' : 'false'})`,
      label,
      words: [label],
      frames: to - from,
      features: stream.features.slice(from * stream.bands, to * stream.bands),
    });
  });
  return { utterances, candidates: [...detections], counts: [c] };
}

export interface SplitMiningOptions {
  /** The first stage's candidate threshold; default: the one stored in `first`'s two-stage settings (`kwsVerify`). */
  threshold?: number;
  /** The verifier's window; default: the one stored in `first`'s two-stage settings. */
  window?: { before: number; after: number };
  /** Renditions per voice of the confusable-word background stream (0: none). Default 2. */
  backgroundRenditions?: number;
  /** Renditions per voice of the sentence stream (0: none). Default 2. */
  sentences?: number;
  /** Run the first stage dense (default: as a delta network at its stored thresholds). */
  dense?: boolean;
}

/**
 * The first stage's settings for mining: its stored two-stage detector (`kwsVerify`; E_MISMATCH
 * when it has none) with `threshold` in place of its own when given, and the verifier window
 * (given, else the stored one).
 *
 * @example const { detector, window } = miningSettings(streamModel, { threshold: 0.1 });
 */
export function miningSettings(first: Model, o: Pick<SplitMiningOptions, 'threshold' | 'window'> = {}): { detector: DetectorOptions; window: { before: number; after: number } } {
  const corpus = modelTask(first).corpus;
  check(corpus === 'kws', 'E_MISMATCH', () => `verifier windows: expected a first stage of the kws corpus, found a model of ${corpus}`);
  const stored = verifiedDetectorOfModel(first);
  check(stored !== null, 'E_MISMATCH', () => `verifier windows: the first-stage model ${first.name} has no two-stage settings (kwsVerify metadata, written by deltakit kws tune --verify --save); mine with a first stage tuned for a verifier`);
  const detector = checkDetectorOptions({ ...stored.detector, ...(o.threshold !== undefined ? { threshold: o.threshold } : {}) });
  const w = o.window ?? { before: stored.verifier.before, after: stored.verifier.after };
  checkVerifierOptions({ ...w, threshold: 0 });
  return { detector, window: { before: w.before, after: w.after } };
}

/**
 * Mine verifier training windows from one split's streams: its keyword stream and confusable-word
 * background stream (keywordStreams) and its sentence stream (sentenceStream), synthesised with
 * corpus options `co` (the verifier's training corpus; for the training split augmented as its
 * clips are), the first stage at its stored two-stage settings (`miningSettings`).
 *
 * @example const { utterances, counts } = verifierTrainingWindows(streamModel, classes, 'train', co, { threshold: 0.1, backgroundRenditions: 2, sentences: 2 });
 */
export function verifierTrainingWindows(first: Model, classes: readonly string[], split: Split, co: CorpusOptions, o: SplitMiningOptions = {}): MinedWindows {
  const nb = o.backgroundRenditions ?? 2;
  const ns = o.sentences ?? 2;
  for (const [k, v] of [['background renditions', nb], ['sentence renditions', ns]] as const) check(Number.isInteger(v) && v >= 0 && v <= 100, 'E_OPTION', () => `verifier windows: ${k} must be an integer in 0..100, found ${v}`);
  const { detector, window } = miningSettings(first, o);
  // The streams of keywordStreams (the same seeds), the background one only when asked for.
  const both = nb > 0 ? keywordStreams(split, co, nb) : null;
  const streams: Array<{ name: string; stream: KeywordStream }> = [{ name: `${split}-keywords`, stream: both?.keywords ?? concatStream(buildCorpus('kws', split, co), 1) }];
  if (both) streams.push({ name: `${split}-background`, stream: both.background });
  if (ns > 0) streams.push({ name: `${split}-sentences`, stream: sentenceStream(split, co, ns) });
  return mineVerifierWindows(first, streams, classes, { detector, window, ...(o.dense ? {} : { thresholds: storedThresholds(first) }) });
}
