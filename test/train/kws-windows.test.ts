import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { normalizeDataset } from '../../src/data/dataset.js';
import { readHeldout } from '../../src/data/heldout.js';
import { loadModel } from '../../src/model/io.js';
import { createSession } from '../../src/runtime/session.js';
import { builtinSpec, loadBuiltinVerifier, MODELS_DIR } from '../../src/train/builtin.js';
import { concatStream, KeywordDetector, KeywordVerifier, outputClasses, scoreStream, softmaxInto, streamPosteriors, verifiedDetectorOfModel, verifierWindow, type Detection, type KeywordStream } from '../../src/train/kws.js';
import { candidateWindows, mineVerifierWindows, miningSettings } from '../../src/train/kws-windows.js';
import { storedThresholds } from '../../src/train/model-task.js';
import { evaluateWithSession, modelTask } from '../../src/train/task.js';
import { captureOutput } from '../helpers/cli.js';
import { expectCode } from '../helpers/errors.js';

const { err } = captureOutput();

const CLASSES = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go', '_unknown_', '_silence_'];
const B = 40;

/** 300 frames whose every value names its frame and band; "yes" at 50..90, "down" at 150..190. */
function syntheticStream(): KeywordStream {
  const frames = 300;
  const features = new Float32Array(frames * B);
  for (let t = 0; t < frames; t++) for (let b = 0; b < B; b++) features[t * B + b] = t + b / 100;
  return {
    features,
    frames,
    bands: B,
    events: [
      { label: 0, start: 50, end: 90 },
      { label: 3, start: 150, end: 190 },
    ],
    utterances: 4,
    voices: 2,
    voiceNames: ['a', 'b'],
    spans: [
      { start: 0, voice: 'a' },
      { start: 50, voice: 'a' },
      { start: 150, voice: 'b' },
      { start: 200, voice: 'b' },
    ],
  };
}

const det = (keyword: string, frame: number): Detection => ({ index: CLASSES.indexOf(keyword), keyword, frame, time: frame / 100, score: 0.5 });

describe('verifier training windows: every first-stage candidate, labelled by the scoring rule', () => {
  it('labels hits with their keyword and every other candidate _unknown_, and cuts the verifier window of raw frames', () => {
    const s = syntheticStream();
    const detections = [
      det('stop', 5), // in the first (non-keyword) utterance, its window clipped at the stream's start
      det('yes', 60), // hit on "yes"
      det('yes', 70), // a second detection of the same word: false, on a keyword
      det('down', 92), // wrong keyword within the smoothing window after "yes": false, on a keyword
      det('left', 160), // wrong keyword on "down": false, on a keyword
      det('down', 192), // hit on "down", 2 frames after it ended (detector window 3)
      det('yes', 250), // in a non-keyword utterance: false, elsewhere
      det('go', 295), // window clipped at the stream's end
    ];
    const w = candidateWindows('synthetic', s, detections, CLASSES, { window: { before: 20, after: 10 }, detectorWindow: 3 });
    const unknown = CLASSES.indexOf('_unknown_');
    expect(w.utterances.map((u) => u.label)).toEqual([unknown, 0, unknown, unknown, unknown, 3, unknown, unknown]);
    expect(w.utterances.map((u) => u.words)).toEqual(w.utterances.map((u) => [u.label]));
    expect(w.utterances.map((u) => u.voice)).toEqual(['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b']);
    expect(w.candidates).toEqual(detections);
    // Frames [f - 20, f + 10] clipped to [0, 300): the first frame of each window and its length.
    expect(w.utterances.map((u) => [u.features[0], u.frames])).toEqual([
      [0, 16],
      [40, 31],
      [50, 31],
      [72, 31],
      [140, 31],
      [172, 31],
      [230, 31],
      [275, 25],
    ]);
    for (const [i, u] of w.utterances.entries()) {
      const [from, to] = verifierWindow(s.frames, detections[i]!.frame, { before: 20, after: 10 });
      expect(u.features).toEqual(s.features.slice(from * B, to * B));
    }
    expect(w.counts).toEqual([{ stream: 'synthetic', frames: 300, keywords: 2, hit: 2, candidates: 8, falseOnKeywords: 3, falseElsewhere: 3, perKeyword: { yes: 1, down: 1 } }]);
    // With a smoothing window of 2, "down" at 192 is late for its word: a false candidate.
    const late = candidateWindows('synthetic', s, detections, CLASSES, { window: { before: 20, after: 10 }, detectorWindow: 2 });
    expect(late.utterances[5]!.label).toBe(unknown);
    expect(late.counts[0]!.hit).toBe(1);
  });

  it('refuses a verifier without _unknown_, a keyword it does not know, a candidate outside the stream and a bad window (coded errors)', () => {
    const s = syntheticStream();
    const o = { window: { before: 20, after: 10 }, detectorWindow: 3 };
    expectCode(() => candidateWindows('s', s, [det('yes', 60)], CLASSES.filter((c) => c !== '_unknown_'), o), 'E_MISMATCH', /_unknown_/);
    expectCode(() => candidateWindows('s', s, [det('yes', 60)], ['no', '_unknown_'], o), 'E_MISMATCH', /'yes', which is not among the verifier's classes/);
    expectCode(() => candidateWindows('s', s, [det('yes', 300)], CLASSES, o), 'E_VALUE', /frame 300, expected a frame in 0\.\.299/);
    expectCode(() => candidateWindows('s', s, [], CLASSES, { ...o, window: { before: -1, after: 10 } }), 'E_OPTION', /before must be an integer/);
  });

  it('on a real stream: one window per first-stage candidate, positives = the hits scoreStream counts, and the trainer sees what the verifier hears', async () => {
    const first = await loadModel(join(MODELS_DIR, 'kws-streams-deltagru.safetensors'));
    const clf = await loadModel(builtinSpec('keywords').file);
    const stream = concatStream(readHeldout(builtinSpec('keywords').heldoutBase), 3);
    const { detector, window } = miningSettings(first);
    expect(detector).toEqual(verifiedDetectorOfModel(first)!.detector);
    expect(window).toEqual({ before: verifiedDetectorOfModel(first)!.verifier.before, after: verifiedDetectorOfModel(first)!.verifier.after });
    const th = storedThresholds(first);
    const clfTask = modelTask(clf);
    const mined = mineVerifierWindows(first, [{ name: 'heldout', stream }], clfTask.classes, { detector, window, thresholds: th });
    const post = streamPosteriors(first, modelTask(first), stream, th);
    const hits = new KeywordDetector(outputClasses(modelTask(first)), detector).detectAll(post.posteriors);
    expect(mined.candidates).toEqual(hits);
    const c = mined.counts[0]!;
    expect(c.candidates).toBe(hits.length);
    expect(c.hit).toBe(scoreStream(outputClasses(modelTask(first)), post, stream, detector).detected);
    expect(c.hit + c.falseOnKeywords + c.falseElsewhere).toBe(c.candidates);
    expect(c.hit).toBeGreaterThan(100);
    expect(c.candidates).toBeGreaterThan(c.hit);
    // A lower mining threshold: every candidate of the stored one and more.
    const lower = mineVerifierWindows(first, [{ name: 'heldout', stream }], clfTask.classes, { detector: { ...detector, threshold: 0.05 }, window, thresholds: th });
    expect(lower.counts[0]!.candidates).toBeGreaterThan(c.candidates);
    expect(lower.counts[0]!.hit).toBeGreaterThanOrEqual(c.hit);
    // The trainer normalises a window as any utterance (normalizeDataset); the verifier, at run
    // time, normalises the same frames itself: the same posteriors, dense and delta.
    const ds = normalizeDataset({ corpus: 'kws', split: 'test', classes: clfTask.classes, bands: B, utterances: mined.utterances }, clfTask.stats);
    for (const thresholds of [undefined, storedThresholds(clf)]) {
      const v = new KeywordVerifier(clf, clfTask, { verifier: { ...window, threshold: 0 }, ...(thresholds ? { thresholds } : {}) });
      const s = createSession(clf, thresholds ? { ...thresholds } : {});
      const C = s.outputSize;
      const p = new Float64Array(C);
      mined.candidates.forEach((d, i) => {
        const u = ds.utterances[i]!;
        s.reset();
        const y = s.run(u.features);
        const mean = new Float64Array(C);
        for (let t = 0; t < u.frames; t++) for (let k = 0; k < C; k++) mean[k] = mean[k]! + y[t * C + k]!;
        for (let k = 0; k < C; k++) mean[k] = mean[k]! / u.frames;
        softmaxInto(mean, 0, C, p);
        expect(p[clfTask.classes.indexOf(d.keyword)]).toBe(v.decideAt(stream.features, stream.frames, d.frame, d.keyword).score);
      });
      s.dispose();
      v.dispose();
    }
  });

  it('needs a first stage with two-stage settings (coded error)', async () => {
    const clf = await loadModel(builtinSpec('keywords').file);
    expectCode(() => miningSettings(clf), 'E_MISMATCH', /no two-stage settings \(kwsVerify/);
    const first = await loadModel(join(MODELS_DIR, 'kws-streams-deltagru.safetensors'));
    expect(miningSettings(first, { threshold: 0.1, window: { before: 40, after: 40 } })).toEqual({ detector: { ...verifiedDetectorOfModel(first)!.detector, threshold: 0.1 }, window: { before: 40, after: 40 } });
    expectCode(() => miningSettings(first, { threshold: 0 }), 'E_OPTION', /threshold/);
  });
});

const FIRST = join(MODELS_DIR, 'kws-streams-deltagru.safetensors');

describe('deltakit train --verifier-windows', () => {
  it('refuses its options without it, with another task, a first stage without two-stage settings and a bad window (coded errors)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-vw-'));
    const base = ['train', '-o', join(dir, 'v.safetensors'), '--max-voices', '1', '--cache-dir', join(dir, 'cache')];
    const fails = async (argv: string[], re: RegExp) => {
      err.length = 0;
      expect(await main([...base, ...argv])).toBe(1);
      expect(err.join('')).toMatch(re);
    };
    await fails(['--task', 'keywords', '--mining-threshold', '0.1'], /E_OPTION: --mining-threshold: only with --verifier-windows/);
    await fails(['--task', 'keywords', '--mining-background', '3'], /E_OPTION: --mining-background: only with --verifier-windows/);
    await fails(['--task', 'keywords', '--no-mining-validation'], /E_OPTION: --no-mining-validation: only with --verifier-windows/);
    await fails(['--task', 'keyword-streams', '--verifier-windows', FIRST], /E_OPTION: --verifier-windows: trains a keyword verifier, so only with --task keywords, found --task keyword-streams/);
    await fails(['--data', 'digits', '--verifier-windows', FIRST], /E_OPTION: --verifier-windows: .*found --task \(none\), --data digits/);
    await fails(['--task', 'keywords', '--verifier-windows', FIRST, '--verifier-window', '50'], /E_OPTION: --verifier-window: expected two comma-separated frame counts/);
    await fails(['--task', 'keywords', '--verifier-windows', FIRST, '--mining-threshold', '0'], /E_OPTION: --mining-threshold/);
    await fails(['--task', 'keywords', '--verifier-windows', builtinSpec('keywords').file], /E_MISMATCH: verifier windows: the first-stage model .* has no two-stage settings/);
    await fails(['--task', 'keywords', '--verifier-windows', builtinSpec('digits').file], /E_MISMATCH: verifier windows: expected a first stage of the kws corpus, found a model of digits/);
  });

  it.skipIf(!espeakAvailable())('fine-tunes the built-in classifier on its clips and the mined windows, keeping its feature statistics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-vw-'));
    const out = join(dir, 'v.safetensors');
    const init = builtinSpec('keywords').file;
    err.length = 0;
    const code = await main(['train', '--task', 'keywords', '-o', out, '--init', init, '--verifier-windows', FIRST, '--mining-threshold', '0.05', '--mining-background', '1', '--mining-sentences', '0', '--epochs', '0', '--delta-epochs', '1', '--batch', '16', '--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', join(dir, 'cache')]);
    expect(err.join('')).not.toMatch(/E_[A-Z]+/);
    expect(code).toBe(0);
    const log = err.join('');
    // One voice per split, 12 clips each: the windows come on top of them.
    const m = /training on (\d+) utterances \((\d+) of them verifier windows\), validating on (\d+) \((\d+) verifier windows\)/.exec(log);
    expect(m).not.toBeNull();
    const [trainN, trainW, valN, valW] = m!.slice(1).map(Number);
    expect(trainN! - trainW!).toBe(12);
    expect(valN! - valW!).toBe(12);
    expect(trainW).toBeGreaterThan(0);
    expect(log).toMatch(/verifier windows, train-keywords: \d+ candidates/);
    expect(log).toMatch(/verifier windows, validation-background: \d+ candidates/);
    const model = await loadModel(out);
    const ref = await loadModel(init);
    expect(model.meta['featureStats']).toBe(ref.meta['featureStats']);
    const meta = JSON.parse(model.meta['verifierWindows']!) as { firstStage: string; detector: { threshold: number }; window: { before: number; after: number }; counts: Array<{ stream: string; candidates: number }> };
    expect(meta.firstStage).toBe('kws-streams-deltagru-1x128');
    expect(meta.detector.threshold).toBe(0.05);
    const stored = verifiedDetectorOfModel(await loadModel(FIRST))!.verifier;
    expect(meta.window).toEqual({ before: stored.before, after: stored.after });
    expect(meta.counts.map((c) => c.stream)).toEqual(['train-keywords', 'train-background', 'validation-keywords', 'validation-background']);
    expect(meta.counts[0]!.candidates + meta.counts[1]!.candidates).toBe(trainW);
    expect(meta.counts[2]!.candidates + meta.counts[3]!.candidates).toBe(valW);
  }, 300_000);
});

describe('the built-in keyword verifier (models/kws-verifier-deltagru.safetensors)', () => {
  it('was trained on windows mined by the stream model, still decides isolated clips as well as the classifier, and is the one the stored two-stage setting names', async () => {
    const v = await loadBuiltinVerifier();
    expect(v.name).toBe('kws-verifier-deltagru-1x128');
    const clf = await loadModel(builtinSpec('keywords').file);
    // The classifier's front end and statistics, its classes and readout.
    expect(v.meta['featureStats']).toBe(clf.meta['featureStats']);
    expect(modelTask(v).classes).toEqual(modelTask(clf).classes);
    expect(modelTask(v).readout).toBe('mean');
    const mined = JSON.parse(v.meta['verifierWindows']!) as { firstStage: string; detector: { threshold: number }; counts: Array<{ stream: string; candidates: number; hit: number }> };
    expect(mined.firstStage).toBe('kws-streams-deltagru-1x128');
    expect(mined.counts.map((c) => c.stream)).toEqual(['train-keywords', 'train-background', 'train-sentences']);
    expect(mined.counts.reduce((a, c) => a + c.candidates - c.hit, 0)).toBeGreaterThan(1000);
    // Isolated clips of unseen voices (the committed held-out copy), delta at its stored thresholds.
    const ds = normalizeDataset(readHeldout(builtinSpec('keywords').heldoutBase), modelTask(v).stats);
    const r = evaluateWithSession(v, ds, 'mean', storedThresholds(v));
    const c = evaluateWithSession(clf, ds, 'mean', storedThresholds(clf));
    expect(r.accuracy).toBeGreaterThanOrEqual(0.96);
    expect(r.accuracy).toBeGreaterThanOrEqual(c.accuracy - 0.005);
    expect(r.opsSaving).toBeGreaterThan(5);
    // The stream model's stored two-stage setting: first stage at 0.3, this verifier over 40 + 40 frames at >= 0.9.
    expect(verifiedDetectorOfModel(await loadModel(FIRST))).toEqual({ detector: { window: 3, threshold: 0.3, lockout: 30, smoothing: 'mean' }, verifier: { before: 40, after: 40, threshold: 0.9 } });
  });
});
