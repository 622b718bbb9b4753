import { describe, expect, it } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import { normalizeFeatures, type Dataset } from '../../src/data/dataset.js';
import { levelNormalize, STREAM_PAUSE_RELEASE } from '../../src/data/frontend.js';
import { Rng } from '../../src/core/rng.js';
import { BACKGROUND_SILENCES, KWS_KEYWORDS, KWS_SENTENCES, KWS_TRAIN_SENTENCES, KWS_UNKNOWN_WORDS, planCorpus } from '../../src/data/corpus.js';
import {
  concatStream,
  KeywordDetector,
  keywordClasses,
  scoreDetections,
  softmaxInto,
  StreamingNormalizer,
  tuneDetector,
  pointFalseAlarmsPerHour,
  type KeywordStream,
  type StreamPosteriors,
} from '../../src/train/kws.js';

const CLASSES = ['yes', 'no', '_unknown_', '_silence_'];
const C = CLASSES.length;

/** A posterior stream: `frames` frames of silence, with [class, from, to, p] bursts laid over it. */
function stream(frames: number, bursts: [number, number, number, number][]): Float32Array {
  const p = new Float32Array(frames * C);
  for (let t = 0; t < frames; t++) p[t * C + 3] = 1;
  for (const [k, from, to, v] of bursts) {
    for (let t = from; t < to; t++) {
      p.fill(0, t * C, (t + 1) * C);
      p[t * C + k] = v;
      p[t * C + 2] = 1 - v;
    }
  }
  return p;
}

const det = (o: { window: number; threshold: number; lockout: number }, p: Float32Array) =>
  new KeywordDetector(CLASSES, o).detectAll(p).map((d) => [d.keyword, d.frame]);

describe('KeywordDetector', () => {
  it('keyword classes are the names without a leading underscore', () => {
    expect(keywordClasses(CLASSES)).toEqual([0, 1]);
  });

  it('smooths over the window: a burst is detected on the frame its moving average reaches the threshold', () => {
    // 'yes' at posterior 1 from frame 10: the average over 4 frames is 0.25, 0.5, 0.75, 1 at 10..13.
    expect(det({ window: 4, threshold: 0.7, lockout: 0 }, stream(30, [[0, 10, 30, 1]]))[0]).toEqual(['yes', 12]);
    expect(det({ window: 4, threshold: 0.8, lockout: 1000 }, stream(30, [[0, 10, 30, 1]]))).toEqual([['yes', 13]]);
    // Window 1: the raw posterior decides at once.
    expect(det({ window: 1, threshold: 0.7, lockout: 1000 }, stream(30, [[0, 10, 30, 1]]))).toEqual([['yes', 10]]);
  });

  it('a burst shorter than the window needs a higher posterior: smoothing removes one-frame spikes', () => {
    // One frame at 1.0 averages to 0.1 over 10 frames: nothing.
    expect(det({ window: 10, threshold: 0.5, lockout: 0 }, stream(50, [[1, 20, 21, 1]]))).toEqual([]);
    // Six frames at 0.9 reach 0.54 on the sixth (frame 25).
    expect(det({ window: 10, threshold: 0.5, lockout: 100 }, stream(50, [[1, 20, 26, 0.9]]))).toEqual([['no', 25]]);
  });

  it('the threshold is inclusive and never reached by unknown or silence', () => {
    expect(det({ window: 1, threshold: 0.75, lockout: 100 }, stream(20, [[0, 5, 6, 0.75]]))).toEqual([['yes', 5]]);
    expect(det({ window: 1, threshold: 0.76, lockout: 100 }, stream(20, [[0, 5, 6, 0.75]]))).toEqual([]);
    // Silence at posterior 1 on every frame: no keyword, whatever the threshold.
    expect(det({ window: 3, threshold: 0.01, lockout: 0 }, stream(200, []))).toEqual([]);
  });

  it('lockout: one keyword gives one detection; a second one after the lockout is detected again', () => {
    const p = stream(400, [
      [0, 10, 60, 1],
      [1, 100, 150, 1],
      [0, 300, 350, 1],
    ]);
    // No lockout: every frame above the threshold fires.
    expect(det({ window: 5, threshold: 0.9, lockout: 0 }, p)).toHaveLength(46 + 46 + 46);
    // Lockout 50: 'yes' at 14, the 'no' at 104 falls outside 14..64, then 'yes' at 304.
    expect(det({ window: 5, threshold: 0.9, lockout: 50 }, p)).toEqual([
      ['yes', 14],
      ['no', 104],
      ['yes', 304],
    ]);
    // Lockout 100 swallows the 'no' (frames 15..114 are locked after 14), and 'no' is still above
    // the threshold at 115..149: it is detected when the lockout ends.
    expect(det({ window: 5, threshold: 0.9, lockout: 100 }, p)).toEqual([
      ['yes', 14],
      ['no', 115],
      ['yes', 304],
    ]);
    // Lockout 200 after 14 ends at 214: the 'no' is gone by then.
    expect(det({ window: 5, threshold: 0.9, lockout: 200 }, p)).toEqual([
      ['yes', 14],
      ['yes', 304],
    ]);
  });

  it('picks the keyword with the highest smoothed posterior and reports time and score', () => {
    const p = new Float32Array(10 * C);
    for (let t = 0; t < 10; t++) p.set([0.45, 0.5, 0.05, 0], t * C);
    const d = new KeywordDetector(CLASSES, { window: 2, threshold: 0.48, lockout: 100 });
    const hits = d.detectAll(p);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ keyword: 'no', index: 1, frame: 1, time: 0.01 });
    expect(hits[0]!.score).toBeCloseTo(0.5, 6);
  });

  it('reset starts a new stream; streaming push equals detectAll', () => {
    const p = stream(120, [[1, 30, 80, 0.95]]);
    const d = new KeywordDetector(CLASSES, { window: 8, threshold: 0.9, lockout: 100 });
    const streamed = [];
    for (let t = 0; t < 120; t++) {
      const hit = d.push(p, t * C);
      if (hit) streamed.push(hit);
    }
    expect(streamed).toEqual(d.detectAll(p));
    expect(d.frames).toBe(120);
    d.reset();
    expect(d.frames).toBe(0);
  });

  it('keeps its running sums exact over long streams', () => {
    const rng = new Rng(3);
    const T = 60000;
    const p = new Float32Array(T * C);
    for (let i = 0; i < p.length; i++) p[i] = rng.uniform(0, 1);
    const w = 7;
    const d = new KeywordDetector(CLASSES, { window: w, threshold: 1, lockout: 0 });
    for (let t = 0; t < T; t++) d.push(p, t * C);
    let s = 0;
    for (let t = T - w; t < T; t++) s += p[t * C + 1]!;
    expect(d.smoothed(1)).toBeCloseTo(s / w, 10);
  });

  it('geometric smoothing is the softmax of the mean logits over the window', () => {
    const rng = new Rng(5);
    const T = 200;
    const w = 12;
    const logits = new Float64Array(T * C);
    for (let i = 0; i < logits.length; i++) logits[i] = rng.uniform(-4, 4);
    const post = new Float64Array(T * C);
    for (let t = 0; t < T; t++) post.set(softmaxInto(logits, t * C, C, new Float64Array(C)), t * C);
    const d = new KeywordDetector(CLASSES, { window: w, threshold: 1, lockout: 0, smoothing: 'geometric' });
    const m = new Float64Array(C);
    for (let t = 0; t < T; t++) {
      d.push(post, t * C);
      if (t < w - 1) continue;
      m.fill(0);
      for (let j = t - w + 1; j <= t; j++) for (let k = 0; k < C; k++) m[k] += logits[j * C + k]! / w;
      const want = softmaxInto(m, 0, C, new Float64Array(C));
      for (let k = 0; k < C; k++) expect(d.smoothed(k)).toBeCloseTo(want[k]!, 9);
    }
    // A keyword whose posterior is 0.9 on every frame of the window scores 0.9 either way.
    const p = stream(40, [[0, 10, 40, 0.9]]);
    for (const smoothing of ['mean', 'geometric'] as const) {
      const hit = new KeywordDetector(CLASSES, { window: 10, threshold: 0.85, lockout: 100, smoothing }).detectAll(p)[0]!;
      expect(hit.keyword).toBe('yes');
      if (smoothing === 'mean') expect(hit.frame).toBe(19);
      expect(hit.frame).toBeLessThanOrEqual(19);
    }
  });

  it('refuses bad options with a coded error naming what it expected', () => {
    for (const o of [{ window: 0 }, { window: 2.5 }, { threshold: 0 }, { threshold: 1.5 }, { lockout: -1 }, { smoothing: 'median' as 'mean' }]) {
      let err: unknown;
      try {
        new KeywordDetector(CLASSES, o);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DeltakitError);
      expect((err as DeltakitError).code).toBe('E_OPTION');
      expect((err as Error).message).toMatch(/expected|must be/);
    }
    expect(() => new KeywordDetector(['_unknown_', '_silence_'])).toThrow(/at least one keyword class/);
    expect(() => new KeywordDetector(CLASSES).detectAll(new Float32Array(5))).toThrow(/multiple of 4/);
  });
});

describe('scoring detections against a stream', () => {
  const events = [
    { label: 0, start: 10, end: 60 },
    { label: 1, start: 100, end: 150 },
  ];
  const d = (index: number, frame: number) => ({ index, keyword: CLASSES[index]!, frame, time: frame / 100, score: 1 });

  it('a detection of the right keyword within [start, end + window) is a hit; anything else a false alarm', () => {
    // 'yes' at 65 is inside end + window = 70; 'no' at 99 is before its start; 'no' at 169 is in time.
    const s = scoreDetections([d(0, 65), d(1, 99), d(1, 169)], events, 360000, 20);
    expect(s).toMatchObject({ keywords: 2, detected: 2, detectionRate: 1, falseAlarms: 1 });
    expect(s.hours).toBe(1);
    expect(s.falseAlarmsPerHour).toBe(1);
    // Too late, the wrong keyword, and a second detection of the same keyword.
    const t = scoreDetections([d(0, 80), d(0, 120), d(1, 110), d(1, 140)], events, 180000, 20);
    expect(t).toMatchObject({ detected: 1, falseAlarms: 3, falseAlarmsPerHour: 6 });
  });
});

describe('streams and tuning', () => {
  it('concatStream keeps every frame and places the keyword events where their utterances lie', () => {
    const mk = (label: number, frames: number, v: number) => ({ id: `${label}.${v}`, voice: `v${v % 3}`, text: '', label, words: [label], frames, features: new Float32Array(frames * 2).fill(v) });
    const ds: Dataset = { corpus: 'kws', split: 'test', classes: CLASSES, bands: 2, utterances: [mk(0, 5, 1), mk(2, 7, 2), mk(1, 3, 3), mk(3, 4, 4)] };
    const s = concatStream(ds, 5);
    expect(s.frames).toBe(19);
    expect(s.events).toHaveLength(2);
    for (const e of s.events) {
      const v = s.features[e.start * 2]!;
      expect(e.end - e.start).toBe(v === 1 ? 5 : 3);
      expect(e.label).toBe(v === 1 ? 0 : 1);
      expect(s.features[(e.end - 1) * 2]).toBe(v);
    }
    expect(s.voices).toBe(3);
  });

  it('tuneDetector picks the most detections within the false-alarm budget', () => {
    // Keyword stream: 'yes' at 0.8 for 40 frames; background: a 10-frame 'no' spike at 0.9.
    const kw: KeywordStream = { features: new Float32Array(0), frames: 200, bands: 40, events: [{ label: 0, start: 50, end: 90 }], utterances: 3, voices: 1, voiceNames: ['a'] };
    const bg: KeywordStream = { features: new Float32Array(0), frames: 360000, bands: 40, events: [], utterances: 1, voices: 1, voiceNames: ['b'] };
    const post = (p: Float32Array): StreamPosteriors => ({ posteriors: p, frames: p.length / C, ops: 1, denseOps: 1 });
    const bgp = stream(360000, [[1, 1000, 1010, 0.9]]);
    const { best, points, withinBudget } = tuneDetector(CLASSES, kw, post(stream(200, [[0, 50, 90, 0.8]])), bg, post(bgp), { windows: [5, 20], thresholds: [0.5, 0.7], smoothings: ['mean'], lockout: 100, maxFalseAlarmsPerHour: 0 });
    expect(points).toHaveLength(4);
    // Window 5 passes the spike at either threshold; window 20 averages it to 0.45: no false alarm,
    // and 'yes' (0.8 over 40 frames) is detected at 0.7 as at 0.5.
    expect(withinBudget).toBe(true);
    expect(best).toMatchObject({ window: 20, threshold: 0.5, lockout: 100 });
    expect(best.keywordStream.detected).toBe(1);
    expect(best.background.falseAlarms).toBe(0);
    expect(points.find((p) => p.window === 5 && p.threshold === 0.7)!.background.falseAlarms).toBe(1);
  });

  it('tuneDetector with a sentence stream holds the budget on every non-keyword stream', () => {
    const kw: KeywordStream = { features: new Float32Array(0), frames: 200, bands: 40, events: [{ label: 0, start: 50, end: 90 }], utterances: 3, voices: 1, voiceNames: ['a'] };
    const bg: KeywordStream = { features: new Float32Array(0), frames: 36000, bands: 40, events: [], utterances: 1, voices: 1, voiceNames: ['b'] };
    const post = (p: Float32Array): StreamPosteriors => ({ posteriors: p, frames: p.length / C, ops: 1, denseOps: 1 });
    // The background is clean; the sentence stream has a 30-frame 'no' at 0.6 (0.6 x 30 / 20 > 0.5 but < 0.7 over 20 frames).
    const sentences = { stream: { ...bg, voiceNames: ['c'] }, posteriors: post(stream(36000, [[1, 500, 530, 0.6]])) };
    const o = { windows: [20], thresholds: [0.5, 0.7], smoothings: ['mean' as const], lockout: 100, maxFalseAlarmsPerHour: 0 };
    const alone = tuneDetector(CLASSES, kw, post(stream(200, [[0, 50, 90, 0.8]])), bg, post(stream(36000, [])), o);
    expect(alone.best.threshold).toBe(0.5);
    const both = tuneDetector(CLASSES, kw, post(stream(200, [[0, 50, 90, 0.8]])), bg, post(stream(36000, [])), { ...o, sentences });
    expect(both.best.threshold).toBe(0.7);
    expect(both.withinBudget).toBe(true);
    expect(both.points.find((p) => p.threshold === 0.5)!.sentences!.falseAlarmsPerHour).toBeCloseTo(10, 6);
    expect(pointFalseAlarmsPerHour(both.points.find((p) => p.threshold === 0.5)!)).toBeCloseTo(10, 6);
  });
});

describe('StreamingNormalizer and softmax', () => {
  it('frame by frame equals normalizeFeatures on the whole stream (level front end included)', () => {
    const rng = new Rng(9);
    const B = 40;
    const T = 300;
    const raw = new Float32Array(T * B);
    for (let i = 0; i < raw.length; i++) raw[i] = rng.uniform(-20, 5) + (Math.floor(i / B) > 150 ? 4 : 0);
    const stats = { mean: new Float32Array(B).fill(-3), std: new Float32Array(B).fill(2), frontEnd: 'level' as const };
    for (const pause of [undefined, STREAM_PAUSE_RELEASE]) {
      const whole = normalizeFeatures(raw, stats, pause);
      const n = new StreamingNormalizer(stats, pause);
      const y = new Float32Array(B);
      for (let t = 0; t < T; t++) {
        n.frame(raw, y, t * B);
        for (let b = 0; b < B; b++) expect(y[b]).toBeCloseTo(whole[t * B + b]!, 5);
      }
    }
  });

  it('the pause release holds the level for `hold` frames after a peak, then falls by `release` per frame to the floor', () => {
    // One band: a peak of 0 then a floor of -10 for 20 frames.
    const x = new Float32Array([0, ...new Array(20).fill(-10)]);
    const slow = levelNormalize(x, 1);
    const fast = levelNormalize(x, 1, { hold: 3, release: 2 });
    // Level after frame t >= 1: slow: 0 - 0.005 t; fast: -0.005 t for t <= 3, then 2 per frame down to -10.
    expect(slow[5]).toBeCloseTo(-10 + 0.025, 6);
    expect(fast[3]).toBeCloseTo(-10 + 0.015, 6);
    expect(fast[4]).toBeCloseTo(-10 + 0.015 + 2, 6);
    expect(fast[8]).toBeCloseTo(0, 6);
    expect(fast[20]).toBe(0);
    // Without a pause the output is the training front end's.
    expect(Array.from(levelNormalize(x, 1, undefined))).toEqual(Array.from(slow));
  });

  it('softmax sums to one and survives large logits', () => {
    const p = softmaxInto([1000, 1001, 999], 0, 3, new Float64Array(3));
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 12);
    expect(p[1]).toBeGreaterThan(p[0]!);
  });
});

describe('the kws background material', () => {
  const voices = Array.from({ length: 40 }, (_, i) => `v${i}`);
  it('holds every unknown word and the noise clips per voice and rendition, no keyword, on the split voices only', () => {
    const plain = planCorpus('kws', 'test', { testVoices: 3, validationVoices: 2, renditions: { test: 2 } }, voices);
    const bg = planCorpus('kws', 'test', { testVoices: 3, validationVoices: 2, background: true, renditions: { test: 2 } }, voices);
    expect(bg).toHaveLength(3 * 2 * (KWS_UNKNOWN_WORDS.length + BACKGROUND_SILENCES));
    expect(bg.every((p) => p.label === 10 || p.label === 11)).toBe(true);
    expect(bg.filter((p) => p.label === 11).every((p) => p.text === '')).toBe(true);
    expect(new Set(bg.filter((p) => p.label === 10).map((p) => p.text))).toEqual(new Set(KWS_UNKNOWN_WORDS));
    // The same voices as the split, and utterances of their own (no id shared with the keyword corpus).
    expect(new Set(bg.map((p) => p.voice))).toEqual(new Set(plain.map((p) => p.voice)));
    const ids = new Set(plain.map((p) => p.id));
    expect(bg.some((p) => ids.has(p.id))).toBe(false);
    expect(() => planCorpus('digits', 'test', { background: true }, voices)).toThrow(/background material exists only for the kws corpus, found digits/);
  });

  it('the sentence material: every sentence and the noise clips per voice and rendition, no keyword said in any', () => {
    const st = planCorpus('kws', 'validation', { testVoices: 3, validationVoices: 2, sentences: true, renditions: { validation: 2 } }, voices);
    expect(st).toHaveLength(2 * 2 * (KWS_SENTENCES.length + BACKGROUND_SILENCES));
    expect(new Set(st.filter((p) => p.label === 10).map((p) => p.text))).toEqual(new Set(KWS_SENTENCES));
    const banned = new Set([...KWS_KEYWORDS, 'know', 'write', 'going', 'gone', 'upon']);
    for (const t of [...KWS_SENTENCES, ...KWS_TRAIN_SENTENCES]) {
      for (const w of t.split(' ')) expect(banned.has(w), `${w} in "${t}"`).toBe(false);
      expect(t).toMatch(/^[a-z ]+$/);
    }
    // The training voices read other sentences than the ones a model is measured on.
    const train = planCorpus('kws', 'train', { testVoices: 3, validationVoices: 2, sentences: true, renditions: { train: 1 } }, voices);
    expect(new Set(train.filter((p) => p.label === 10).map((p) => p.text))).toEqual(new Set(KWS_TRAIN_SENTENCES));
    expect(KWS_TRAIN_SENTENCES.some((t) => KWS_SENTENCES.includes(t))).toBe(false);
    expect(() => planCorpus('kws', 'test', { sentences: true, background: true }, voices)).toThrow(/expected one of background and sentences, found both/);
    expect(() => planCorpus('digits', 'test', { sentences: true }, voices)).toThrow(/sentence material exists only for the kws corpus, found digits/);
  });
});

