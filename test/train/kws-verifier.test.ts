import { describe, expect, it } from 'vitest';
import { readHeldout } from '../../src/data/heldout.js';
import { loadModel } from '../../src/model/io.js';
import { builtinSpec, MODELS_DIR } from '../../src/train/builtin.js';
import {
  concatStream,
  KeywordDetector,
  KeywordSpotter,
  KeywordVerifier,
  outputClasses,
  scoreDetections,
  streamPosteriors,
  tuneVerifiedDetector,
  verifiedDetectorOfModel,
  verifyDetections,
  type Detection,
} from '../../src/train/kws.js';
import { modelTask } from '../../src/train/task.js';
import { join } from 'node:path';

/** The committed held-out clips of the keyword models, end to end: about 3 minutes, 240 keywords. */
function heldoutStream() {
  const held = readHeldout(builtinSpec('keywords').heldoutBase);
  return concatStream(held, 3);
}

async function models() {
  const first = await loadModel(join(MODELS_DIR, 'kws-streams-deltagru.safetensors'));
  const clf = await loadModel(builtinSpec('keywords').file);
  const th = (m: typeof first) => ({ thresholdX: Number(m.meta['thresholdX']), thresholdH: Number(m.meta['thresholdH']) });
  return { first, firstTask: modelTask(first), clf, clfTask: modelTask(clf), th };
}

const pick = (ds: Detection[]) => ds.map((d) => [d.frame, d.keyword, d.verification]);

describe('KeywordVerifier: a keyword classifier as the second stage of a stream detector', () => {
  it('the streaming spotter reports exactly the offline verified detections, whole or in chunks, the last ones at the flush', async () => {
    const { first, firstTask, clf, clfTask, th } = await models();
    const s = heldoutStream();
    // A low first-stage threshold: many candidates, most keywords among them.
    const detector = { window: 3, threshold: 0.3, lockout: 30, smoothing: 'mean' as const };
    const verifier = { before: 50, after: 60, threshold: 0.8 };
    const post = streamPosteriors(first, firstTask, s, th(first));
    const hits = new KeywordDetector(outputClasses(firstTask), detector).detectAll(post.posteriors);
    const v = new KeywordVerifier(clf, clfTask, { verifier, thresholds: th(clf) });
    const offline = verifyDetections(v, s.features, s.frames, hits);
    expect(v.stats().candidates).toBe(hits.length);
    expect(offline.length).toBeGreaterThan(0);
    expect(offline.length).toBeLessThan(hits.length);
    // Streaming: the spotter's first stage is the same session arithmetic as streamPosteriors.
    const spot = new KeywordSpotter(first, firstTask, { thresholds: th(first), detector, verifier: new KeywordVerifier(clf, clfTask, { verifier, thresholds: th(clf) }) });
    const whole = spot.run(s.features);
    expect(pick(whole)).toEqual(pick(offline));
    // In chunks of 997 frames, flushed at the end: the same.
    spot.reset();
    const chunked: Detection[] = [];
    for (let t = 0; t < s.frames; t += 997) chunked.push(...spot.run(s.features.subarray(t * 40, Math.min(s.frames, t + 997) * 40), { end: false }));
    chunked.push(...spot.flush());
    expect(pick(chunked)).toEqual(pick(offline));
    // A stream cut 20 frames after a candidate: its window is clipped, streaming and offline alike.
    const cutAt = hits[Math.floor(hits.length / 2)]!.frame + 20;
    const cut = s.features.subarray(0, cutAt * 40);
    spot.reset();
    const streamed = spot.run(cut);
    const off = verifyDetections(new KeywordVerifier(clf, clfTask, { verifier, thresholds: th(clf) }), cut, cutAt, hits.filter((d) => d.frame < cutAt));
    expect(pick(streamed)).toEqual(pick(off));
    // Reported `after` frames late: push returns a detection only once its window is complete.
    spot.reset();
    let firstAt = -1;
    for (let t = 0; t < s.frames && firstAt < 0; t++) if (spot.push(s.features, t * 40)) firstAt = t;
    expect(firstAt).toBe(offline[0]!.frame + verifier.after);
  });

  it('keeps most keywords and rejects most false alarms of a low-threshold first stage', async () => {
    const { first, firstTask, clf, clfTask, th } = await models();
    const s = heldoutStream();
    const detector = { window: 3, threshold: 0.3, lockout: 30, smoothing: 'mean' as const };
    const post = streamPosteriors(first, firstTask, s, th(first));
    const hits = new KeywordDetector(outputClasses(firstTask), detector).detectAll(post.posteriors);
    const kept = verifyDetections(new KeywordVerifier(clf, clfTask, { verifier: { before: 50, after: 60, threshold: 0.8 }, thresholds: th(clf) }), s.features, s.frames, hits);
    const alone = scoreDetections(hits, s.events, s.frames, detector.window);
    const two = scoreDetections(kept, s.events, s.frames, detector.window);
    expect(s.events.length).toBeGreaterThanOrEqual(200);
    expect(alone.falseAlarms).toBeGreaterThan(0);
    expect(two.falseAlarms).toBeLessThan(alone.falseAlarms / 2);
    expect(two.detected).toBeGreaterThan(0.7 * alone.detected);
    // A candidate whose keyword is not the one spoken is rejected: every kept detection of a
    // spoken keyword relabelled to another keyword.
    const wrong = kept.map((d) => {
      const k = (d.index + 1) % 10;
      return { ...d, index: k, keyword: outputClasses(firstTask)[k]! };
    });
    const relabelled = verifyDetections(new KeywordVerifier(clf, clfTask, { verifier: { before: 50, after: 60, threshold: 0.8 }, thresholds: th(clf) }), s.features, s.frames, wrong);
    expect(relabelled.length).toBeLessThan(0.05 * kept.length);
  });

  it('tuneVerifiedDetector sweeps first stage x verifier, runs the verifier once per candidate, and chooses within the budget', async () => {
    const { first, firstTask, clf, clfTask, th } = await models();
    const s = heldoutStream();
    const post = streamPosteriors(first, firstTask, s, th(first));
    const made: KeywordVerifier[] = [];
    const r = tuneVerifiedDetector(outputClasses(firstTask), { keywords: s, keywordPost: post, background: s, backgroundPost: post }, (w) => {
      const v = new KeywordVerifier(clf, clfTask, { verifier: { ...w, threshold: 0 }, thresholds: th(clf) });
      made.push(v);
      return v;
    }, { windows: [1, 3], thresholds: [0.3, 0.9], smoothings: ['mean'], lockout: 30, verifyWindows: [[50, 60], [40, 40]], verifyThresholds: [0, 0.8], maxFalseAlarmsPerHour: 1e9 });
    expect(r.points).toHaveLength(2 * 2 * 2 * 2);
    expect(made).toHaveLength(2);
    // Distinct candidates over the four first-stage settings, each decided once per window and
    // stream (the held-out stream serves as both streams here).
    const distinct = new Set<string>();
    for (const window of [1, 3]) for (const threshold of [0.3, 0.9]) for (const d of new KeywordDetector(outputClasses(firstTask), { window, threshold, lockout: 30 }).detectAll(post.posteriors)) distinct.add(`${d.frame}:${d.index}`);
    for (const v of made) expect(v.stats().candidates).toBe(2 * distinct.size);
    // Unlimited budget: the most keywords detected; a stricter verifier never detects more.
    expect(r.withinBudget).toBe(true);
    expect(r.best.keywordStream.detectionRate).toBe(Math.max(...r.points.map((p) => p.keywordStream.detectionRate)));
    for (const p of r.points.filter((q) => q.verifier.threshold === 0.8)) {
      const loose = r.points.find((q) => q.verifier.threshold === 0 && q.window === p.window && q.threshold === p.threshold && q.verifier.before === p.verifier.before)!;
      expect(p.keywordStream.detected).toBeLessThanOrEqual(loose.keywordStream.detected);
    }
  });

  it('refuses a CTC verifier, bad options, a mismatched first stage and malformed stored settings', async () => {
    const { first, firstTask, clf, clfTask } = await models();
    expect(() => new KeywordVerifier(first, firstTask)).toThrow(expect.objectContaining({ code: 'E_MISMATCH', message: expect.stringMatching(/expected a keyword classifier with a mean readout .* found readout ctc/) }));
    expect(() => new KeywordVerifier(clf, clfTask, { verifier: { before: -1 } })).toThrow(expect.objectContaining({ code: 'E_OPTION', message: expect.stringMatching(/before must be an integer number of frames in 0..1000, found -1/) }));
    expect(() => new KeywordVerifier(clf, clfTask, { verifier: { before: 0, after: 0 } })).toThrow(expect.objectContaining({ code: 'E_OPTION', message: expect.stringMatching(/at least 2 frames/) }));
    expect(() => new KeywordVerifier(clf, clfTask, { verifier: { threshold: Number.NaN } })).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    const v = new KeywordVerifier(clf, clfTask);
    expect(() => v.classOf('maybe')).toThrow(expect.objectContaining({ code: 'E_MISMATCH', message: expect.stringMatching(/detects 'maybe', which is not among the verifier's classes/) }));
    expect(() => v.decide(new Float32Array(41), 'yes')).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => verifyDetections(v, new Float32Array(40 * 3), 4, [])).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringMatching(/expected 4 x 40 raw features, found 120 values/) }));
    // A first stage whose keywords the verifier does not know.
    const other = { ...firstTask, classes: firstTask.classes.map((c) => (c === 'yes' ? 'maybe' : c)) };
    expect(() => new KeywordSpotter(first, other, { verifier: v })).toThrow(expect.objectContaining({ code: 'E_MISMATCH' }));
    expect(verifiedDetectorOfModel(clf)).toBeNull();
    expect(() => verifiedDetectorOfModel({ ...first, meta: { ...first.meta, kwsVerify: '{not json' } })).toThrow(expect.objectContaining({ code: 'E_FORMAT', message: expect.stringMatching(/kwsVerify must be JSON/) }));
    expect(() => verifiedDetectorOfModel({ ...first, meta: { ...first.meta, kwsVerify: '{"detector":{"window":0,"threshold":0.3,"lockout":30},"verifier":{"before":50,"after":60,"threshold":0.8}}' } })).toThrow(expect.objectContaining({ code: 'E_FORMAT', message: expect.stringMatching(/: metadata kwsVerify: keyword detector: window must be an integer number of frames in 1\.\.10000, found 0$/) }));
    expect(() => verifiedDetectorOfModel({ ...first, meta: { ...first.meta, kwsVerify: '[]' } })).toThrow(expect.objectContaining({ code: 'E_FORMAT', message: expect.stringMatching(/must hold a detector and a verifier/) }));
  });
});
