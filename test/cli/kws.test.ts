import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { encodeNpy } from '../../src/core/npy.js';
import { espeakAvailable, speak } from '../../src/data/espeak.js';
import { Rng } from '../../src/core/rng.js';
import { festivalAvailable } from '../../src/data/festival.js';
import { readHeldout } from '../../src/data/heldout.js';
import { loadModel, saveModel } from '../../src/model/io.js';
import { builtinSpec, MODELS_DIR } from '../../src/train/builtin.js';
import { CLIP_THRESHOLDS, concatStream, CTC_DETECTOR_THRESHOLDS, CTC_WINDOWS } from '../../src/train/kws.js';
import { int16Codes, wavFile } from '../helpers/wav.js';
import { captureOutput } from '../helpers/cli.js';

const { out, err } = captureOutput();

/** The first `n` committed held-out utterances of the built-in keyword model, end to end. */
function heldoutStream(n: number) {
  const held = readHeldout(builtinSpec('keywords').heldoutBase);
  return concatStream({ ...held, utterances: held.utterances.slice(0, n) }, 7);
}

/** heldoutStream(n) and its raw features written as a (T, 40) .npy in a fresh folder. */
function heldoutStreamFile(n: number) {
  const s = heldoutStream(n);
  const file = join(mkdtempSync(join(tmpdir(), 'dk-kws-')), 'stream.npy');
  writeFileSync(file, encodeNpy(s.features, [s.frames, 40]));
  return { s, file };
}

describe('deltakit kws detect', () => {
  it('streams raw log-mel features through the built-in model and reports keywords with their times', async () => {
    const { s, file } = heldoutStreamFile(48);
    expect(await main(['kws', 'detect', '--input', file, '--window', '30', '--threshold', '0.7', '--json'])).toBe(0);
    const r = JSON.parse(out.join('\n')) as { detections: { keyword: string; time: number; frame: number }[]; delta: boolean; opsSaving: number; seconds: number };
    expect(r.delta).toBe(true);
    expect(r.seconds).toBeCloseTo(s.frames / 100, 6);
    expect(r.opsSaving).toBeGreaterThan(2);
    // Most of the stream's keywords are found, in time order, each near where it was spoken.
    const classes = JSON.parse((await loadModel(builtinSpec('keywords').file)).meta['classes']!) as string[];
    let hits = 0;
    for (const e of s.events) {
      if (r.detections.some((d) => d.keyword === classes[e.label] && d.frame >= e.start && d.frame < e.end + 100)) hits++;
    }
    expect(s.events.length).toBeGreaterThanOrEqual(30);
    expect(hits / s.events.length).toBeGreaterThanOrEqual(0.4);
    for (let i = 1; i < r.detections.length; i++) expect(r.detections[i]!.frame).toBeGreaterThan(r.detections[i - 1]!.frame);
    // The text form prints one line per detection.
    out.length = 0;
    expect(await main(['kws', 'detect', '--input', file, '--dense', '--window', '30', '--smoothing', 'mean'])).toBe(0);
    expect(out.join('\n')).toMatch(/dense, mean smoothing over 30 frames/);
    expect(out.join('\n')).toMatch(/^\d+\.\d\d s {2}[a-z]+ {2}\(0\.\d+\)$/m);
  });

  it('refuses bad options and inputs with one coded error', async () => {
    expect(await main(['kws', 'detect', '--input', 'x.txt'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --input: expected a path ending in \.wav or \.npy/);
    err.length = 0;
    const dir = mkdtempSync(join(tmpdir(), 'dk-kws-'));
    const file = join(dir, 'x.npy');
    writeFileSync(file, encodeNpy(new Float32Array(30), [10, 3]));
    expect(await main(['kws', 'detect', '--input', file])).toBe(1);
    expect(err.join('')).toMatch(/E_SHAPE: --input .*expected raw log-mel features of shape \(T, 40\), found \(10, 3\)/);
    err.length = 0;
    expect(await main(['kws', 'detect', '--input', file, '--window', '0'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --window: expected at least 1, found 0/);
    err.length = 0;
    expect(await main(['kws', 'detect', '--input', file, '--threshold', '1.5'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --threshold: expected at most 1/);
    err.length = 0;
    expect(await main(['kws', 'detect', '--input', file, '--smoothing', 'median'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --smoothing: expected one of mean, geometric, found 'median'/);
    err.length = 0;
    expect(await main(['kws', 'detect', builtinSpec('digits').file, '--input', file])).toBe(1);
    expect(err.join('')).toMatch(/E_MISMATCH: kws: expected a keyword model .* found a model of digits/);
  });
});

describe('deltakit kws detect --verify', () => {
  it('runs the keyword-stream model with the built-in verifier as a second stage: fewer detections, each verified', async () => {
    const { file } = heldoutStreamFile(120);
    const model = join(MODELS_DIR, 'kws-streams-deltagru.safetensors');
    const low = ['--window', '3', '--threshold', '0.3', '--lockout', '30', '--json'];
    out.length = 0;
    expect(await main(['kws', 'detect', model, '--input', file, ...low])).toBe(0);
    const alone = JSON.parse(out.join('\n')) as { detections: { frame: number; keyword: string }[] };
    out.length = 0;
    expect(await main(['kws', 'detect', model, '--input', file, ...low, '--verify', '--verify-window', '50,60', '--verify-threshold', '0.8'])).toBe(0);
    const two = JSON.parse(out.join('\n')) as { verifier: { model: string; before: number; after: number; threshold: number; candidates: number }; opsSaving: number; detections: { frame: number; keyword: string; verification: number }[] };
    expect(two.verifier).toMatchObject({ model: 'kws-verifier-deltagru-1x128', before: 50, after: 60, threshold: 0.8, candidates: alone.detections.length });
    expect(two.detections.length).toBeGreaterThan(0);
    expect(two.detections.length).toBeLessThan(alone.detections.length);
    for (const d of two.detections) {
      expect(d.verification).toBeGreaterThanOrEqual(0.8);
      expect(alone.detections.some((a) => a.frame === d.frame && a.keyword === d.keyword)).toBe(true);
    }
    // The verifier's work is counted: still several times fewer ops than dense.
    expect(two.opsSaving).toBeGreaterThan(3);
    // The model's stored two-stage settings are used with a bare --verify.
    out.length = 0;
    expect(await main(['kws', 'detect', model, '--input', file, '--verify'])).toBe(0);
    expect(out.join('\n')).toMatch(/mean smoothing over 3 frames, threshold 0\.3, lockout 30 frames; verified by kws-verifier-deltagru-1x128 over 40 frames before and 40 after at posterior >= 0\.9/);
    // The isolated classifier named explicitly: the second stage it was before the built-in verifier.
    out.length = 0;
    expect(await main(['kws', 'detect', model, '--input', file, '--verify', builtinSpec('keywords').file])).toBe(0);
    expect(out.join('\n')).toMatch(/verified by kws-deltagru-1x128 over 40 frames before and 40 after at posterior >= 0\.9/);
    err.length = 0;
    expect(await main(['kws', 'detect', model, '--input', file, '--verify-window', '50,60'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --verify-window \/ --verify-threshold: only with --verify \[model\], found them alone/);
    err.length = 0;
    expect(await main(['kws', 'detect', model, '--input', file, '--verify', '--verify-window', '50'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --verify-window: expected two comma-separated frame counts before,after/);
    err.length = 0;
    expect(await main(['kws', 'detect', model, '--input', file, '--verify', '--verify-threshold', '2'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --verify-threshold: expected at most 1, found 2/);
    err.length = 0;
    expect(await main(['kws', 'detect', model, '--input', file, '--verify', model])).toBe(1);
    expect(err.join('')).toMatch(/E_MISMATCH: --verify: expected a keyword classifier .* found a model with readout ctc/);
  });
});

/** 16-bit PCM mono WAV bytes. */
function wav(samples: Float32Array, rate: number): Uint8Array {
  return wavFile(int16Codes(samples), rate);
}

describe.skipIf(!espeakAvailable())('deltakit kws detect on a recording', () => {
  it('hears three keywords spoken one after another in a .wav, in order', async () => {
    // stop, yes, left by espeak-ng's default en-us voice, with half a second of faint noise around each.
    const rng = new Rng(4);
    const words = ['stop', 'yes', 'left'].map((w) => speak(w, { accent: 'en-us', variant: '', speed: 160, pitch: 50, amplitude: 100, wordGap: 0 }));
    const rate = words[0]!.sampleRate;
    const gap = Math.round(0.5 * rate);
    const total = gap + words.reduce((a, w) => a + w.samples.length + gap, 0);
    const x = new Float32Array(total);
    for (let i = 0; i < total; i++) x[i] = rng.uniform(-0.002, 0.002);
    let at = gap;
    const spans: [number, number][] = [];
    for (const w of words) {
      for (let i = 0; i < w.samples.length; i++) x[at + i] = x[at + i]! + w.samples[i]!;
      spans.push([at / rate, (at + w.samples.length + gap) / rate]);
      at += w.samples.length + gap;
    }
    const file = join(mkdtempSync(join(tmpdir(), 'dk-kws-')), 'three.wav');
    writeFileSync(file, wav(x, rate));
    expect(await main(['kws', 'detect', '--input', file, '--window', '30', '--threshold', '0.9', '--json'])).toBe(0);
    const r = JSON.parse(out.join('\n')) as { detections: { keyword: string; time: number }[]; seconds: number };
    expect(r.seconds).toBeCloseTo(total / rate, 1);
    // Every detection lies in one word's span (the word and the pause after it), in time order;
    // at least two of the three words are heard as said (this voice and level are not the corpus').
    const said = ['stop', 'yes', 'left'];
    const heard = new Set<number>();
    for (const d of r.detections) {
      const j = spans.findIndex(([a, b]) => d.time >= a && d.time < b);
      expect(j).toBeGreaterThanOrEqual(0);
      if (d.keyword === said[j]) heard.add(j);
    }
    expect(heard.size).toBeGreaterThanOrEqual(2);
  });
});

describe.skipIf(!espeakAvailable() || !festivalAvailable())('deltakit kws tune / eval on synthesised streams', () => {
  it('tunes window and threshold on validation streams, stores them, and measures false alarms per hour', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-kws-'));
    const small = ['--max-voices', '1', '--renditions', '1,1,1', '--festival-renditions', '1,1,1', '--background-renditions', '1'];
    const saved = join(dir, 'tuned.safetensors');
    expect(await main(['kws', 'tune', ...small, '--windows', '10,40', '--thresholds', '0.6,0.95', '--smoothings', 'mean,geometric', '--save', saved, '--json'])).toBe(0);
    const t = JSON.parse(out.join('\n')) as { best: { window: number; threshold: number; lockout: number }; points: unknown[] };
    expect(t.points).toHaveLength(8);
    expect([10, 40]).toContain(t.best.window);
    const m = await loadModel(saved);
    expect(Number(m.meta['kwsWindow'])).toBe(t.best.window);
    expect(Number(m.meta['kwsThreshold'])).toBe(t.best.threshold);
    expect(Number(m.meta['kwsLockout'])).toBe(100);
    expect(m.meta['kwsSmoothing']).toBe((t.best as { smoothing?: string }).smoothing);
    out.length = 0;
    expect(await main(['kws', 'eval', saved, ...small, '--json'])).toBe(0);
    const e = JSON.parse(out.join('\n')) as { window: number; backgroundStream: { hours: number }; dense: { falseAlarmsPerHour: number; detectionRate: number }; delta: { opsSaving: number; keywords: number } };
    // The detector settings come from the model's metadata.
    expect(e.window).toBe(t.best.window);
    expect(e.backgroundStream.hours).toBeGreaterThan(0.005);
    expect(e.dense.detectionRate).toBeGreaterThanOrEqual(0);
    expect(e.delta.keywords).toBe(20);
    expect(e.delta.opsSaving).toBeGreaterThan(2);
    // A tuned model is not overwritten without --force.
    expect(await main(['kws', 'tune', ...small, '--save', saved])).toBe(1);
    expect(err.join('')).toMatch(/E_EXISTS/);
  });

  it('tunes and measures the keyword-stream (CTC) model: short windows, lockout 30, the read-sentence stream budgeted and counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-kws-'));
    const model = join(MODELS_DIR, 'kws-streams-deltagru.safetensors');
    const small = ['--max-voices', '1', '--renditions', '1,1,1', '--festival-renditions', '1,1,1', '--background-renditions', '1', '--sentences', '1'];
    const saved = join(dir, 'tuned.safetensors');
    out.length = 0;
    expect(await main(['kws', 'tune', model, ...small, '--save', saved, '--json'])).toBe(0);
    const t = JSON.parse(out.join('\n')) as { best: { window: number; lockout: number; sentences: { hours: number } }; points: { sentences?: unknown }[]; clipRule: { rule: string; threshold?: number; accuracy: number; clips: number }; clipRules: { rule: string; threshold?: number; accuracy: number }[] };
    // The CTC defaults: 5 windows x 10 thresholds x 2 smoothings, every point scored on the sentences too.
    expect(t.points).toHaveLength(CTC_WINDOWS.length * CTC_DETECTOR_THRESHOLDS.length * 2);
    expect(t.points.every((p) => p.sentences !== undefined)).toBe(true);
    expect(t.best.lockout).toBe(30);
    expect(CTC_WINDOWS).toContain(t.best.window);
    expect(t.best.sentences.hours).toBeGreaterThan(0.01);
    // The clip rule, chosen on the isolated validation clips: greedy and the peak rule at every default threshold.
    expect(t.clipRules.map((p) => p.threshold ?? p.rule)).toEqual(['greedy', ...[...CLIP_THRESHOLDS].sort((a, b) => b - a)]);
    expect(t.clipRule.accuracy).toBe(Math.max(...t.clipRules.map((p) => p.accuracy)));
    const tuned = await loadModel(saved);
    expect(tuned.meta['kwsClipRule']).toBe(t.clipRule.rule);
    expect(tuned.meta['kwsClipThreshold']).toBe(t.clipRule.rule === 'peak' ? String(t.clipRule.threshold) : undefined);
    // deltakit eval decides the clips with the stored rule, or the one given.
    const clipsSmall = ['--split', 'validation', '--max-voices', '1', '--renditions', '1,1,1', '--festival-renditions', '1,1,1', '--json'];
    out.length = 0;
    expect(await main(['eval', saved, ...clipsSmall])).toBe(0);
    const ev = JSON.parse(out.join('\n')) as { clipRule: { rule: string; threshold?: number }; results: { utterances: number; deltaAccuracy: number }[] };
    expect(ev.clipRule).toEqual(t.clipRule.rule === 'peak' ? { rule: 'peak', threshold: t.clipRule.threshold } : { rule: 'greedy' });
    const right = ev.results.reduce((a, r) => a + r.deltaAccuracy * r.utterances, 0) / ev.results.reduce((a, r) => a + r.utterances, 0);
    expect(right).toBeCloseTo(t.clipRule.accuracy, 10);
    out.length = 0;
    expect(await main(['eval', saved, ...clipsSmall, '--clip-rule', 'greedy'])).toBe(0);
    expect((JSON.parse(out.join('\n')) as { clipRule: unknown }).clipRule).toEqual({ rule: 'greedy' });
    out.length = 0;
    expect(await main(['eval', saved, ...clipsSmall, '--clip-threshold', '0.25'])).toBe(0);
    expect((JSON.parse(out.join('\n')) as { clipRule: unknown }).clipRule).toEqual({ rule: 'peak', threshold: 0.25 });
    err.length = 0;
    expect(await main(['eval', saved, ...clipsSmall, '--clip-rule', 'greedy', '--clip-threshold', '0.25'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: eval: --clip-threshold belongs to the peak rule, found --clip-rule greedy/);
    // A model that stores no clip rule: the peak rule needs a threshold.
    const bare = await loadModel(model);
    delete bare.meta['kwsClipRule'];
    delete bare.meta['kwsClipThreshold'];
    const bareFile = join(dir, 'bare.safetensors');
    await saveModel(bare, bareFile);
    expect(await main(['eval', bareFile, ...clipsSmall, '--clip-rule', 'peak'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: eval: --clip-rule peak needs --clip-threshold <p>/);
    expect(await main(['eval', builtinSpec('keywords').file, ...clipsSmall, '--clip-rule', 'peak'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: eval: --clip-rule and --clip-threshold are for a keyword-stream \(CTC\) model, found a classifier/);
    expect(await main(['kws', 'tune', '--clip-thresholds', '0.1', ...small])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: kws tune: --clip-thresholds is for a keyword-stream \(CTC\) model, found a classifier/);
    out.length = 0;
    expect(await main(['kws', 'eval', saved, ...small, '--json'])).toBe(0);
    const e = JSON.parse(out.join('\n')) as { lockout: number; sentenceStream: { hours: number }; delta: { sentenceFalseAlarmsPerHour: number; opsSaving: number; keywords: number } };
    expect(e.lockout).toBe(30);
    expect(e.sentenceStream.hours).toBeGreaterThan(0.01);
    expect(e.delta.sentenceFalseAlarmsPerHour).toBeGreaterThanOrEqual(0);
    expect(e.delta.keywords).toBe(20);
    expect(e.delta.opsSaving).toBeGreaterThan(4);
    // Two stages: the verifier's window and threshold swept with the first stage, stored apart.
    const verified = join(dir, 'verified.safetensors');
    out.length = 0;
    expect(await main(['kws', 'tune', saved, ...small, '--verify', '--verify-windows', '50,60', '--verify-thresholds', '0,0.8', '--save', verified, '--json'])).toBe(0);
    const tv = JSON.parse(out.join('\n')) as { best: { window: number; threshold: number; verifier: { before: number; after: number; threshold: number } }; points: unknown[] };
    expect(tv.points).toHaveLength(CTC_WINDOWS.length * CTC_DETECTOR_THRESHOLDS.length * 2 * 2);
    const vm = await loadModel(verified);
    expect(JSON.parse(vm.meta['kwsVerify']!)).toEqual({ detector: { window: tv.best.window, threshold: tv.best.threshold, lockout: 30, smoothing: expect.any(String) }, verifier: tv.best.verifier });
    expect(vm.meta['kwsThreshold']).toBe((await loadModel(saved)).meta['kwsThreshold']);
    out.length = 0;
    expect(await main(['kws', 'eval', verified, ...small, '--verify', '--json'])).toBe(0);
    const ev2 = JSON.parse(out.join('\n')) as { threshold: number; verifier: { model: string; before: number }; delta: { keywords: number } };
    expect(ev2.threshold).toBe(tv.best.threshold);
    expect(ev2.verifier).toMatchObject({ model: 'kws-verifier-deltagru-1x128', before: 50 });
    expect(ev2.delta.keywords).toBe(20);
    err.length = 0;
    expect(await main(['kws', 'tune', saved, ...small, '--verify-thresholds', '0.5'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: kws tune: --verify-windows \/ --verify-thresholds only with --verify/);
    out.length = 0;
    expect(await main(['kws', 'eval', saved, ...small.slice(0, -2), '--sentences', '-1'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --sentences: expected at least 0, found -1/);
  });

  it('tunes the keyword-stream model\'s delta thresholds on clips right by its clip rule, within a disagreement budget', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-kws-'));
    const model = join(MODELS_DIR, 'kws-streams-deltagru.safetensors');
    const clips = ['--split', 'validation', '--max-voices', '1', '--renditions', '1,1,1', '--festival-renditions', '1,1,1'];
    const table = join(dir, 'tune.md');
    const saved = join(dir, 'tuned.safetensors');
    const tune = ['tune', model, ...clips, '--grid-x', '0,0.3', '--grid-h', '0,0.3', '--max-accuracy-drop', '100', '--table', table, '--plot', join(dir, 'tune.svg'), '--force'];
    expect(await main([...tune, '--max-disagreement', '0', '--save', saved])).toBe(0);
    const sweep = readFileSync(table, 'utf8');
    expect(sweep).toContain('| thresholdX | thresholdH | clips right % | keyword error rate % | drop (points) | agrees with dense % |');
    const rows = sweep.split('\n').filter((l) => /^\| [\d.]+ \| [\d.]+ \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
    expect(rows).toHaveLength(4);
    // Every point's clips right and agreement are eval's, which decides by the stored clip rule.
    for (const c of rows) {
      out.length = 0;
      expect(await main(['eval', model, ...clips, '--thx', c[1]!, '--thh', c[2]!, '--json'])).toBe(0);
      const ev = JSON.parse(out.join('\n')) as { clipRule: { rule: string }; results: { utterances: number; deltaAccuracy: number; agreement: number }[] };
      expect(ev.clipRule.rule).toBe('peak');
      const n = ev.results.reduce((a, r) => a + r.utterances, 0);
      const mean = (f: (r: (typeof ev.results)[number]) => number) => ev.results.reduce((a, r) => a + f(r) * r.utterances, 0) / n;
      expect(Number(c[3])).toBeCloseTo(100 * mean((r) => r.deltaAccuracy), 2);
      expect(Number(c[6])).toBeCloseTo(100 * mean((r) => r.agreement), 2);
    }
    // No decision changed: the chosen point agrees with dense on every clip.
    const chosen = rows.filter((c) => c[c.length - 2] === '**yes**');
    expect(chosen).toHaveLength(1);
    expect(chosen[0]![6]).toBe('100.00');
    const tuned = await loadModel(saved);
    expect(tuned.meta['tunedOn']).toBe('kws/validation, max clips right drop 100 points, max 0 % of decisions changed');
    expect([tuned.meta['thresholdX'], tuned.meta['thresholdH']]).toEqual([chosen[0]![1], chosen[0]![2]]);
  });
});

