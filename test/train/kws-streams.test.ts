import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { espeakAvailable } from '../../src/data/espeak.js';
import { loadModel } from '../../src/model/io.js';
import { Rng } from '../../src/core/rng.js';
import type { Dataset, FeatureStats, Utterance } from '../../src/data/dataset.js';
import { normalizeFeatures } from '../../src/data/dataset.js';
import { STREAM_PAUSE_RELEASE } from '../../src/data/frontend.js';
import {
  concatStream,
  CTC_BLANK,
  KeywordDetector,
  keywordTrainingStreams,
  KeywordSpotter,
  normalizeStreams,
  outputClasses,
  scoreDetections,
  scoreStream,
  streamPosteriors,
} from '../../src/train/kws.js';
import { wordLabelFilter } from '../../src/train/ctc.js';
import type { ModelTask } from '../../src/train/model-task.js';
import { evaluateWithSession, modelTask } from '../../src/train/task.js';
import { DEFAULT_TRAIN_CONFIG, trainClassifier } from '../../src/train/trainer.js';

const CLASSES = ['yes', 'no', '_unknown_', '_silence_'];
const B = 4;

/**
 * Clips of a toy keyword corpus: 'yes' lights channel 0 for 3 frames, 'no' channel 1, an unknown
 * word channel 2; a silence clip is noise alone. Noise on every channel, 8-12 frames per clip.
 */
function clips(n: number, seed: number, split: Dataset['split'] = 'train'): Dataset {
  const rng = new Rng(seed);
  const utterances: Utterance[] = [];
  for (let s = 0; s < n; s++) {
    const label = s % 4;
    const T = 8 + rng.int(5);
    const x = new Float32Array(T * B);
    for (let i = 0; i < x.length; i++) x[i] = 0.2 * rng.normal();
    if (label < 3) {
      const t0 = 1 + rng.int(T - 5);
      for (let t = t0; t < t0 + 3; t++) x[t * B + label] += 2;
    }
    utterances.push({ id: `c${s}`, voice: `v${s % 3}`, text: label < 3 ? CLASSES[label]! : '', label, words: label < 3 ? [label] : [], frames: T, features: x });
  }
  return { corpus: 'kws', split, classes: CLASSES, bands: B, utterances };
}

const IDENTITY: FeatureStats = { mean: new Float32Array(B), std: new Float32Array(B).fill(1) };

describe('keyword training streams', () => {
  it('concatenate every clip once, several to a stream, with the keywords (and unknown words) in order as labels', () => {
    const ds = clips(40, 1);
    for (const unknown of ['label', 'blank'] as const) {
      const s = keywordTrainingStreams(ds, { clips: [2, 5], unknown, seed: 3 });
      expect(s.utterances.reduce((a, u) => a + u.frames, 0)).toBe(ds.utterances.reduce((a, u) => a + u.frames, 0));
      const used = s.utterances.flatMap((u) => u.text.split(' '));
      expect(used.length).toBe(40);
      for (const u of s.utterances) {
        const n = u.text.split(' ').length;
        expect(u.label).toBe(-1);
        // The last stream takes what is left.
        if (u !== s.utterances[s.utterances.length - 1]) expect(n >= 2 && n <= 5).toBe(true);
        // The label sequence is the words said, in order: silence ('_') never, unknown per option.
        const said = u.text.split(' ').flatMap((w) => (w === '_' ? [] : [CLASSES.indexOf(w)])).filter((k) => k < 2 || (unknown === 'label' && k === 2));
        expect(u.words).toEqual(said);
        expect(u.features.length).toBe(u.frames * B);
      }
    }
    // The features are the clips' own, end to end.
    const one = keywordTrainingStreams(ds, { clips: [40, 40] }).utterances;
    expect(one.length).toBe(1);
    const firstText = one[0]!.text.split(' ')[0];
    const first = ds.utterances.find((u) => (u.text || '_') === firstText && one[0]!.features.subarray(0, u.frames * B).every((v, i) => v === u.features[i]));
    expect(first).toBeDefined();
  });

  it('are deterministic from the seed and refuse bad options with a coded error', () => {
    const ds = clips(30, 2);
    const a = keywordTrainingStreams(ds, { seed: 5 }).utterances.map((u) => u.text);
    expect(keywordTrainingStreams(ds, { seed: 5 }).utterances.map((u) => u.text)).toEqual(a);
    expect(keywordTrainingStreams(ds, { seed: 6 }).utterances.map((u) => u.text)).not.toEqual(a);
    expect(() => keywordTrainingStreams(ds, { clips: [3, 2] })).toThrowError(/clips per stream.*found 3, 2/);
    expect(() => keywordTrainingStreams(ds, { unknown: 'drop' as 'blank' })).toThrowError(/unknown must be one of label, blank, found "drop"/);
    expect(() => keywordTrainingStreams({ ...ds, classes: ['yes', 'no'] })).toThrowError(/expected keyword classes and _unknown_/);
  });

  it('are normalised as one stream each, with the pause release', () => {
    const ds = keywordTrainingStreams(clips(12, 3), { clips: [6, 6] });
    const stats: FeatureStats = { ...IDENTITY, frontEnd: 'level' };
    const n = normalizeStreams(ds, stats);
    expect(n.utterances[0]!.features).toEqual(normalizeFeatures(ds.utterances[0]!.features, stats, STREAM_PAUSE_RELEASE));
  });

  it('train a DeltaGRU with CTC that the keyword spotter runs on a stream: keywords detected, few false alarms', async () => {
    const train = normalizeStreams(keywordTrainingStreams(clips(480, 4), { clips: [3, 6], seed: 1 }), IDENTITY);
    const validation = normalizeStreams(keywordTrainingStreams(clips(80, 5, 'validation'), { clips: [3, 6], seed: 2 }), IDENTITY);
    const cfg = { ...DEFAULT_TRAIN_CONFIG, readout: 'ctc' as const, hiddenSize: 16, denseEpochs: 12, deltaEpochs: 2, batchSize: 8, lr: 3e-2, deltaLr: 5e-3, thresholdX: 0.3, thresholdH: 0.05, l1: 1e-3, seed: 2, backend: 'wasm' as const };
    const { model } = await trainClassifier(train, validation, cfg, { progress: false });
    const task: ModelTask = { corpus: 'kws', classes: CLASSES, stats: IDENTITY, readout: 'ctc' };
    expect(outputClasses(task)).toEqual([...CLASSES, CTC_BLANK]);
    const th = { thresholdX: 0.3, thresholdH: 0.05 };
    // Isolated clips: right when the decoded labels are the clip's (nothing for silence).
    const test = clips(80, 6, 'test');
    const isolated = evaluateWithSession(model, test, 'ctc', th);
    expect(isolated.utterances).toBe(80);
    expect(isolated.accuracy).toBeGreaterThan(0.85);
    // A long stream of the test clips, never reset: the spotter finds the keywords.
    const stream = concatStream(test, 7);
    const detector = { window: 1, threshold: 0.5, lockout: 3 };
    const spotter = new KeywordSpotter(model, task, { thresholds: th, detector });
    const hits = spotter.run(stream.features);
    const s = scoreDetections(hits, stream.events, stream.frames, 1);
    expect(s.keywords).toBe(40);
    expect(s.detectionRate).toBeGreaterThan(0.85);
    expect(s.falseAlarms).toBeLessThanOrEqual(4);
    // The whole-stream posteriors (13 = classes + blank) give the same detections.
    const post = streamPosteriors(model, task, stream, th);
    expect(post.posteriors.length).toBe(stream.frames * 5);
    expect(new KeywordDetector(outputClasses(task), detector).detectAll(post.posteriors).map((d) => d.frame)).toEqual(hits.map((d) => d.frame));
    expect(scoreStream(outputClasses(task), post, stream, detector)).toEqual(s);
    // The blank is never a keyword: a stream of blanks detects nothing.
    const blanks = new Float32Array(50 * 5);
    for (let t = 0; t < 50; t++) blanks[t * 5 + 4] = 1;
    expect(new KeywordDetector(outputClasses(task), detector).detectAll(blanks)).toEqual([]);
  });

  it('score a CTC transcript on the word classes only: an unknown word or silence is right when no keyword is decoded', () => {
    const keep = wordLabelFilter(CLASSES);
    expect(keep([0, 2, 1, 3])).toEqual([0, 1]);
    const digits = wordLabelFilter(['zero', 'one']);
    expect(digits([1, 0, 1])).toEqual([1, 0, 1]);
  });

  it('CLI: train --task keyword-streams refuses a classifier readout and stream options elsewhere, naming what it expected', async () => {
    const { cli } = await import('../helpers/cli.js');
    let r = await cli('train', '--task', 'keyword-streams', '--readout', 'mean', '-o', '/tmp/never.safetensors');
    expect(r.err).toMatch(/E_OPTION.*keyword streams are trained with --readout ctc|trained with --readout ctc.*found keyword streams/);
    r = await cli('train', '--task', 'keywords', '--stream-background', '2', '-o', '/tmp/never.safetensors');
    expect(r.err).toMatch(/--stream-background: only for --task keyword-streams, found --task keywords/);
    r = await cli('train', '--task', 'digits', '--stream-sentences', '1', '-o', '/tmp/never.safetensors');
    expect(r.err).toMatch(/--stream-sentences: only for --task keyword-streams, found --task digits/);
    r = await cli('train', '--task', 'keyword-streams', '--unknown', 'drop', '-o', '/tmp/never.safetensors');
    expect(r.err).toMatch(/--unknown.*label.*blank.*drop/);
    r = await cli('train', '--task', 'keyword-streams', '--stream-clips', '5,2', '-o', '/tmp/never.safetensors');
    expect(r.err).toMatch(/--stream-clips: expected min,max with min <= max, found '5,2'/);
  });
});

describe.skipIf(!espeakAvailable())('deltakit train --task keyword-streams on the synthesised corpus', () => {
  it('trains from streams of kws clips, unknown words, noise and sentences; eval scores the clips', async () => {
    const { cli } = await import('../helpers/cli.js');
    const dir = mkdtempSync(join(tmpdir(), 'dk-kws-streams-'));
    const out = join(dir, 'streams.safetensors');
    const small = ['--max-voices', '1', '--renditions', '1,1,1'];
    const r = await cli('train', '--task', 'keyword-streams', ...small, '--hidden', '8', '--epochs', '1', '--delta-epochs', '1', '--backend', 'wasm', '--stream-clips', '2,4', '--stream-background', '1', '--stream-sentences', '1', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/clips decoded right %/);
    const m = await loadModel(out);
    expect(m.name).toBe('kws-streams-deltagru-1x8');
    const task = modelTask(m);
    expect(task.readout).toBe('ctc');
    expect(task.stats.frontEnd).toBeUndefined();
    const head = m.layers[m.layers.length - 1]!;
    expect(head.kind === 'linear' && head.outputSize).toBe(13);
    expect(JSON.parse(m.meta['kwsTrainingStreams']!)).toEqual({ clips: [2, 4], unknown: 'blank', background: 1, sentences: 1 });
    // The training voices are the clips' own (one espeak-ng voice here), not the streams' joined names.
    expect(JSON.parse(m.meta['trainVoices']!)).toHaveLength(1);
    // Trained on 1 (keywords) + 1 (unknown words) + 1 (sentences) renditions of one voice: the streams held them all.
    const history = JSON.parse(m.meta['trainHistory']!) as unknown[];
    expect(history).toHaveLength(2);
    const e = await cli('eval', out, '--split', 'test', ...small, '--json');
    expect(e.code, e.err).toBe(0);
    const j = JSON.parse(e.out) as { results: { utterances: number; denseAccuracy: number; denseWer: number }[] };
    // 12 clips of one test voice, silence included (right when nothing is decoded).
    expect(j.results[0]!.utterances).toBe(12);
    expect(j.results[0]!.denseAccuracy).toBeGreaterThanOrEqual(0);
  });
});

