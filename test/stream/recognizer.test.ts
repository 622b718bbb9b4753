/**
 * The streaming recogniser against the offline pipeline it must reproduce: features of the whole
 * file (LogMel.compute on the resampled audio), segments of the whole feature stream, each
 * segment normalised (normalizeFeatures) and run through a fresh session, then the readout. And
 * the built-in digits model hears what espeak-ng said.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { normalizeFeatures, statsToJson } from '../../src/data/dataset.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { LogMel } from '../../src/data/mel.js';
import { resample } from '../../src/data/resample.js';
import { parseWav } from '../../src/data/wav.js';
import { loadModel } from '../../src/model/io.js';
import { randomModel } from '../../src/model/random.js';
import type { Model } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/session.js';
import { EnergySegmenter, segmentByEnergy } from '../../src/stream/segmenter.js';
import { Listener } from '../../src/stream/listener.js';
import { StreamingRecognizer } from '../../src/stream/recognizer.js';
import { BUILTIN_MODEL_FILE } from '../../src/train/builtin.js';
import { ctcGreedy } from '../../src/train/ctc.js';
import { KeywordSpotter } from '../../src/train/kws-spotter.js';
import { modelTask } from '../../src/train/model-task.js';
import { initWasm } from '../../src/kernels/wasm/loader.js';
import { DeltakitError } from '../../src/core/errors.js';

const CI = process.env['CI'] === 'true';
if (!espeakAvailable() && CI) throw new Error('CI: espeak-ng must be installed for test/stream/recognizer.test.ts (see .ci/run)');

/** Raw log-mel frames: `silence` quiet frames, then loud ones, etc. (levels in natural-log power). */
function frames(pattern: Array<[number, number]>, bands = 40, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const n = pattern.reduce((a, [k]) => a + k, 0);
  const out = new Float32Array(n * bands);
  let t = 0;
  for (const [k, level] of pattern) {
    for (let i = 0; i < k; i++, t++) for (let b = 0; b < bands; b++) out[t * bands + b] = level + 0.3 * rng.normal() - 0.05 * b;
  }
  return out;
}

/** What the recogniser must reproduce, computed on the whole stream at once. */
function offline(model: Model, features: Float32Array, o: { thresholdX: number; thresholdH: number; segmenter?: ConstructorParameters<typeof EnergySegmenter>[0] }) {
  const meta = model.meta!;
  const stats = JSON.parse(meta['featureStats']!) as { mean: number[]; std: number[]; frontEnd?: 'level' };
  const st = { mean: Float32Array.from(stats.mean), std: Float32Array.from(stats.std), ...(stats.frontEnd ? { frontEnd: stats.frontEnd } : {}) };
  const B = 40;
  const segs = segmentByEnergy(features, B, o.segmenter);
  return segs.map((s) => {
    const x = normalizeFeatures(features.subarray(s.start * B, s.end * B), st);
    const y = createSession(model, { thresholdX: o.thresholdX, thresholdH: o.thresholdH }).run(x);
    return { ...s, y, T: s.end - s.start };
  });
}

function withTask(model: Model, readout: 'mean' | 'last' | 'ctc', classes: string[], corpus = 'digits'): Model {
  const mean = Float32Array.from({ length: 40 }, (_, b) => -3 - 0.05 * b);
  const std = new Float32Array(40).fill(1.5);
  return { ...model, meta: { ...model.meta, corpus, classes: JSON.stringify(classes), readout, featureStats: statsToJson({ mean, std, frontEnd: 'level' }), thresholdX: '0.2', thresholdH: '0.1' } };
}

beforeAll(async () => {
  await initWasm();
});

describe('EnergySegmenter', () => {
  it('finds each burst with its pre-roll and hangover, and the offline and streaming forms agree', () => {
    // 50 quiet, 30 loud, 60 quiet, 2 loud (shorter than minSpeech: no segment), 40 quiet, 25 loud to the end.
    const x = frames([
      [50, -20],
      [30, -5],
      [60, -20],
      [2, -5],
      [40, -20],
      [25, -5],
    ]);
    const segs = segmentByEnergy(x, 40, { preRoll: 10, hangover: 20, minSpeech: 3 });
    expect(segs).toEqual([
      { start: 40, end: 100, speechFrames: 30 },
      { start: 172, end: 207, speechFrames: 25 },
    ]);
    // The same frame by frame: a segment starts on its third speech frame (reaching back 10 frames,
    // but not into the previous segment), ends on its 20th quiet one.
    const s = new EnergySegmenter({ preRoll: 10, hangover: 20, minSpeech: 3 });
    const events: Array<[number, string, number]> = [];
    for (let t = 0; t < x.length / 40; t++) {
      const e = s.push(x.subarray(t * 40, (t + 1) * 40));
      if (e) events.push([t, e.kind, e.kind === 'start' ? e.start : e.end]);
    }
    expect(events).toEqual([
      [52, 'start', 40],
      [99, 'end', 100],
      [184, 'start', 172],
    ]);
    expect(s.flush()).toEqual({ kind: 'end', start: 172, end: 207, speechFrames: 25 });
  });

  it('finds speech under coloured noise that dominates the total energy, whatever the gain', () => {
    // Brown-like noise: 30 dB more in the 4 lowest bands; "speech" adds 20 dB to bands 10-29
    // only, which moves the total energy by under 1 dB.
    const rng = new Rng(3);
    const T = 200;
    const x = new Float32Array(T * 40);
    for (let t = 0; t < T; t++) {
      const speech = t >= 80 && t < 130;
      for (let b = 0; b < 40; b++) x[t * 40 + b] = -18 + (b < 4 ? 6.9 : 0) + (speech && b >= 10 && b < 30 ? 4.6 : 0) + 0.3 * rng.normal();
    }
    const lse = (t: number) => {
      let m = 0;
      for (let b = 0; b < 40; b++) m += Math.exp(x[t * 40 + b]!);
      return Math.log(m);
    };
    expect(lse(100) - lse(50)).toBeLessThan(0.3); // natural-log units: about 1 dB
    const segs = segmentByEnergy(x, 40);
    expect(segs.map((s) => [s.start, s.end])).toEqual([[80 - 15, 130 + 20]]);
    // A gain adds the same constant to every log-mel value: the same segments.
    const louder = x.map((v) => v + 2 * Math.log(10));
    expect(segmentByEnergy(louder, 40)).toEqual(segs);
  });

  it('cuts a segment at maxFrames and refuses bad options with coded errors', () => {
    const x = frames([
      [20, -20],
      [100, -5],
    ]);
    expect(segmentByEnergy(x, 40, { maxFrames: 40, preRoll: 5 }).map((s) => [s.start, s.end])).toEqual([
      [15, 55],
      [55, 95],
      [95, 120],
    ]);
    expect(() => new EnergySegmenter({ hangover: 0 })).toThrow(DeltakitError);
    expect(() => new EnergySegmenter({ marginDb: -1 })).toThrow(/marginDb must be a positive number, found -1/);
    expect(() => segmentByEnergy(new Float32Array(41), 40)).toThrow(/expected a multiple of 40 values, found 41/);
  });
});

describe('StreamingRecognizer on models of each readout', () => {
  const x = frames(
    [
      [30, -20],
      [40, -4],
      [35, -20],
      [25, -6],
      [50, -20],
      [60, -5],
      [10, -20],
    ],
    40,
    9,
  );
  const T = x.length / 40;
  const base = randomModel(5, 40, [
    { kind: 'gru', hiddenSize: 24 },
    { kind: 'linear', outputSize: 12 },
  ]);

  it('mean readout: one word per segment, the argmax of the mean output of the offline run; ops only inside segments', () => {
    const classes = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'oh', 'ten'];
    const model = withTask(base, 'mean', classes);
    const r = new StreamingRecognizer(model);
    expect(r.mode).toBe('segments');
    const frs = Array.from({ length: T }, (_, t) => r.push(x.subarray(t * 40, (t + 1) * 40)));
    r.flush();
    const ref = offline(model, x, { thresholdX: 0.2, thresholdH: 0.1 });
    expect(r.segments.map((s) => [s.start, s.end])).toEqual(ref.map((s) => [s.start, s.end]));
    expect(r.words.length).toBe(ref.length);
    ref.forEach((s, i) => {
      const mean = new Float64Array(12);
      for (let t = 0; t < s.T; t++) for (let k = 0; k < 12; k++) mean[k]! += s.y[t * 12 + k]! / s.T;
      const best = mean.indexOf(Math.max(...mean));
      expect(r.words[i]!.label).toBe(best);
      expect(r.words[i]!.isWord).toBe(true);
      expect(r.words[i]!.at).toBe(Math.min(s.end, T) - 1);
    });
    expect(r.transcript()).toEqual(r.words.filter((w) => !w.word.startsWith('_')).map((w) => w.word));
    // The network ran only on segment frames (the first frame of a segment replays its pre-roll).
    const inSegments = ref.reduce((a, s) => a + s.T, 0);
    expect(frs.reduce((a, f) => a + f.steps, 0)).toBe(inSegments);
    expect(r.totals.steps).toBe(inSegments);
    expect(frs.filter((f) => !f.active).every((f) => f.ops === 0 && Number.isNaN(f.occupancy))).toBe(true);
    const active = frs.filter((f) => f.active);
    expect(active.every((f) => f.ops > 0 && f.ops <= f.denseOps && f.occupancy >= 0 && f.occupancy <= 1)).toBe(true);
    expect(r.totals.ops).toBeLessThan(r.totals.denseOps);
  });

  it('keyword classifier: the KeywordSpotter on every frame, with the detector settings stored in the model', () => {
    const classes = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go', '_unknown_', '_silence_'];
    const model = withTask(base, 'mean', classes, 'kws');
    model.meta!['kwsWindow'] = '5';
    model.meta!['kwsThreshold'] = '0.1';
    model.meta!['kwsLockout'] = '20';
    const r = new StreamingRecognizer(model);
    expect(r.mode).toBe('keywords');
    const frs = Array.from({ length: T }, (_, t) => r.push(x.subarray(t * 40, (t + 1) * 40)));
    r.flush();
    const spot = new KeywordSpotter(model, modelTask(model), { thresholds: { thresholdX: 0.2, thresholdH: 0.1 }, detector: { window: 5, threshold: 0.1, lockout: 20 } });
    const expected = spot.run(x);
    expect(expected.length).toBeGreaterThan(0);
    expect(r.words.map((w) => [w.label, w.at])).toEqual(expected.map((d) => [d.index, d.frame]));
    expect(r.words.every((w) => w.isWord)).toBe(true);
    // It runs on every frame; the segments are still found.
    expect(frs.every((f) => f.steps === 1 && f.active)).toBe(true);
    expect(r.segments.length).toBe(3);
  });

  it('keyword-stream CTC model: the KeywordSpotter on every frame (its outputs the classes and the blank), not the CTC transcript', () => {
    // 11 classes + the blank = the 12 outputs of the test network.
    const classes = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go', '_unknown_'];
    const model = withTask(base, 'ctc', classes, 'kws');
    Object.assign(model.meta!, { kwsWindow: '1', kwsThreshold: '0.1', kwsLockout: '20' });
    const r = new StreamingRecognizer(model);
    expect(r.mode).toBe('keywords');
    for (let t = 0; t < T; t++) r.push(x.subarray(t * 40, (t + 1) * 40));
    r.flush();
    const expected = new KeywordSpotter(model, modelTask(model), { thresholds: { thresholdX: 0.2, thresholdH: 0.1 }, detector: { window: 1, threshold: 0.1, lockout: 20 } }).run(x);
    expect(expected.length).toBeGreaterThan(0);
    expect(r.words.map((w) => [w.label, w.at])).toEqual(expected.map((d) => [d.index, d.frame]));
    expect(r.words.every((w) => w.label < 10 && w.isWord)).toBe(true);
  });

  it('last readout: the last frame of the segment decides', () => {
    const model = withTask(base, 'last', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l']);
    // A non-standard class list for the digits corpus is fine: the metadata names the classes.
    const r = new StreamingRecognizer(model);
    for (let t = 0; t < T; t++) r.push(x.subarray(t * 40, (t + 1) * 40));
    r.flush();
    const ref = offline(model, x, { thresholdX: 0.2, thresholdH: 0.1 });
    expect(r.words.map((w) => w.label)).toEqual(
      ref.map((s) => {
        const last = Array.from(s.y.subarray((s.T - 1) * 12, s.T * 12));
        return last.indexOf(Math.max(...last));
      }),
    );
  });

  it('CTC readout: emits words on the frames greedy decoding of the offline outputs finds them', () => {
    const model = withTask(base, 'ctc', ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'oh'], 'digit-strings');
    const r = new StreamingRecognizer(model, { segmenter: { hangover: 20 } });
    const live: Array<[number, number]> = [];
    for (let t = 0; t < T; t++) for (const w of r.push(x.subarray(t * 40, (t + 1) * 40)).words) live.push([w.label, w.at]);
    r.flush();
    const ref = offline(model, x, { thresholdX: 0.2, thresholdH: 0.1, segmenter: { hangover: 20 } });
    const expected = ref.flatMap((s) => ctcGreedy(s.y, s.T, 12));
    expect(expected.length).toBeGreaterThan(0);
    expect(live.map(([l]) => l)).toEqual(expected);
    // Each word comes while its segment is running, not at its end only.
    for (const [, at] of live) expect(ref.some((s) => at >= s.start && at < s.end)).toBe(true);
  });

  it('refuses a model without the metadata of a trained model, and a frame of the wrong size', () => {
    expect(() => new StreamingRecognizer(base)).toThrow(/expected the metadata of a deltakit-trained classifier/);
    const model = withTask(base, 'ctc', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l']);
    expect(() => new StreamingRecognizer(model)).toThrow(/has 12 outputs, its 12 classes need 13 \(with the CTC blank\)/);
    const ok = new StreamingRecognizer(withTask(base, 'mean', Array.from({ length: 12 }, (_, i) => `w${i}`)));
    expect(() => ok.push(new Float32Array(39))).toThrow(/frame: expected 40 log-mel values, found 39/);
  });

  it("a bad stored threshold is the model file's (E_FORMAT naming the key), a bad option the caller's (E_OPTION)", () => {
    const task = withTask(base, 'mean', Array.from({ length: 12 }, (_, i) => `w${i}`));
    const stored = { ...task, meta: { ...task.meta, thresholdX: '-0.5' } };
    expect(() => new StreamingRecognizer(stored)).toThrow(expect.objectContaining({ code: 'E_FORMAT', message: expect.stringMatching(/: metadata thresholdX: expected a delta threshold >= 0, found "-0\.5"$/) }));
    // Both given: the stored value is not read at all.
    expect(new StreamingRecognizer(stored, { thresholdX: 0.1, thresholdH: 0.1 }).thresholdX).toBe(0.1);
    expect(() => new StreamingRecognizer(task, { thresholdH: Number.NaN })).toThrow(expect.objectContaining({ code: 'E_OPTION', message: 'recognizer: option thresholdH: expected a number >= 0, found NaN' }));
  });
});

describe.runIf(espeakAvailable())('Listener with the built-in digits model on speech synthesised here', () => {
  let audio: { samples: Float32Array; sampleRate: number };
  let model: Model;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-listen-'));
    const wav = join(dir, 'digits.wav');
    const r = spawnSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-g', '60', '-w', wav, 'three, five, eight, one']);
    expect(r.status).toBe(0);
    audio = parseWav(readFileSync(wav));
    model = await loadModel(BUILTIN_MODEL_FILE);
  });

  it('hears the digits spoken, and reproduces the offline pipeline (features bit for bit, outputs to float tolerance)', () => {
    // A microphone at 48 kHz delivering 128-sample blocks.
    const x48 = resample(audio.samples, audio.sampleRate, 48000);
    const l = new Listener(model, 48000);
    const feats: Float32Array[] = [];
    for (let i = 0; i < x48.length; i += 128) for (const f of l.push(x48.subarray(i, i + 128))) feats.push(f.features);
    const end = l.flush();
    feats.push(...end.frames.map((f) => f.features));
    const r = l.recognizer;
    expect(r.transcript()).toEqual(['three', 'five', 'eight', 'one']);

    const offlineFeatures = new LogMel(16000).compute(resample(x48, 48000, 16000));
    expect(feats.length).toBe(offlineFeatures.frames);
    const flat = new Float32Array(feats.length * 40);
    feats.forEach((f, t) => flat.set(f, t * 40));
    expect(flat).toEqual(offlineFeatures.data);

    const thx = Number(model.meta!['thresholdX']);
    const thh = Number(model.meta!['thresholdH']);
    const ref = offline(model, offlineFeatures.data, { thresholdX: thx, thresholdH: thh });
    expect(r.segments.map((s) => [s.start, s.end])).toEqual(ref.map((s) => [s.start, s.end]));
    ref.forEach((s, i) => {
      const mean = new Float64Array(11);
      for (let t = 0; t < s.T; t++) for (let k = 0; k < 11; k++) mean[k]! += s.y[t * 11 + k]! / s.T;
      expect(r.words[i]!.label).toBe(mean.indexOf(Math.max(...mean)));
      const p = Math.exp(mean[r.words[i]!.label]!) / mean.reduce((a, v) => a + Math.exp(v), 0);
      expect(Math.abs(r.words[i]!.confidence - p)).toBeLessThan(1e-5);
    });
    // The delta network skipped most of the work inside speech; nothing ran in the pauses.
    expect(r.totals.steps).toBeLessThan(0.7 * r.totals.frames);
    expect(r.totals.denseOps / r.totals.ops).toBeGreaterThan(3);
  });

  it('gives the same words from the 22.05 kHz file fed in one piece', () => {
    const l = new Listener(model, audio.sampleRate);
    l.push(audio.samples);
    l.flush();
    expect(l.recognizer.transcript()).toEqual(['three', 'five', 'eight', 'one']);
  });
});
