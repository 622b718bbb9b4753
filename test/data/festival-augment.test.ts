import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import { applyChannel, NO_AUGMENTATION, soxAvailable } from '../../src/data/augment.js';
import { parseCondition, parseCorpusOptions } from '../../src/cli/commands/data.js';
import { buildCorpus, planCorpus, renderUtterance } from '../../src/data/corpus.js';
import { featureStats, normalizeFeatures, statsFromJson, statsToJson } from '../../src/data/dataset.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { festivalAvailable, festivalSpeak, festivalVoices } from '../../src/data/festival.js';
import { LEVEL_RANGE, levelNormalize, LevelNormalizer } from '../../src/data/frontend.js';
import { logMel } from '../../src/data/mel.js';
import { makeNoise } from '../../src/data/noise.js';

const CI = process.env['CI'] === 'true';
/** Locally a missing tool skips; on CI it fails (CI installs festival, festvox-kdlpc16k, sox). */
function needs(name: string, ok: boolean): boolean {
  if (!ok && CI) throw new Error(`CI: ${name} must be installed for this test (see .ci/run)`);
  return ok;
}

const VOICES = Array.from({ length: 40 }, (_, i) => `v${String(i).padStart(2, '0')}`);

describe('level normaliser (front end)', () => {
  it('makes log-mel features exactly independent of the input gain (a constant shift)', () => {
    const B = 40;
    const T = 120;
    const x = makeNoise('pink', T * B, 3).map((v, i) => 3 * v + Math.sin(i / 300) * 4);
    for (const c of [-4.6, 4.6, 1.3]) {
      const shifted = x.map((v) => v + c);
      const a = levelNormalize(x, B);
      const b = levelNormalize(shifted, B);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it('tracks the peak with a slow release and floors empty bands at -range', () => {
    const n = new LevelNormalizer(2);
    const out = new Float32Array(2);
    n.frame([10, 10], out);
    expect(Array.from(out)).toEqual([0, 0]);
    n.frame([0, -30], out); // level falls by the release only: 10 - 0.005
    expect(out[0]).toBeCloseTo(-9.995, 5);
    expect(out[1]).toBe(-LEVEL_RANGE);
    n.reset();
    n.frame([1, 3], out);
    expect(Array.from(out)).toEqual([-1, 1]);
  });

  it('is stored with the feature statistics and applied by normalizeFeatures', () => {
    const B = 40;
    const u = (f: Float32Array) => ({ id: 'a', voice: 'v', text: 'x', label: 0, words: [0], frames: f.length / B, features: f });
    const f = makeNoise('white', 50 * B, 1);
    const ds = { corpus: 'digits', split: 'train' as const, classes: ['x'], bands: B, utterances: [u(f)] };
    const stats = featureStats(ds, { frontEnd: 'level' });
    expect(stats.frontEnd).toBe('level');
    const back = statsFromJson(statsToJson(stats));
    expect(back.frontEnd).toBe('level');
    const loud = normalizeFeatures(f.map((v) => v + 4.6), back);
    const quiet = normalizeFeatures(f, back);
    for (let i = 0; i < loud.length; i += 97) expect(loud[i]).toBeCloseTo(quiet[i]!, 3);
    // Without the front end a gain moves every value.
    const plain = featureStats(ds);
    expect(plain.frontEnd).toBeUndefined();
    expect(Math.abs(normalizeFeatures(f.map((v) => v + 4.6), plain)[0]! - normalizeFeatures(f, plain)[0]!)).toBeGreaterThan(1);
    expect(() => statsFromJson(JSON.stringify({ mean: [0], std: [1], frontEnd: 'pcen' }))).toThrowError(/frontEnd must be one of/);
  });
});

describe('corpus plans with Festival voices and augmentation', () => {
  it('splits the Festival variants by voice and leaves the espeak-ng plans as they were', () => {
    const base = planCorpus('digits', 'test', { seed: 3, validationVoices: 4, testVoices: 6 }, VOICES);
    const withF = planCorpus('digits', 'test', { seed: 3, validationVoices: 4, testVoices: 6, festival: true }, VOICES);
    expect(withF.slice(0, base.length)).toEqual(base);
    const fest = withF.slice(base.length);
    expect(fest.length).toBe(3 * 11 * 2);
    const voicesOf = (split: 'train' | 'validation' | 'test') => new Set(planCorpus('digits', split, { seed: 3, validationVoices: 4, testVoices: 6, festival: true, noEspeak: true }, VOICES).map((p) => p.voice));
    const tr = voicesOf('train');
    expect(tr.size).toBe(festivalVoices().length - 6);
    for (const v of [...voicesOf('validation'), ...voicesOf('test')]) expect(tr.has(v)).toBe(false);
    for (const p of fest) {
      expect(p.festival!.stretch).toBeGreaterThanOrEqual(0.8);
      expect(p.festival!.f0Mean).toBeGreaterThan(60);
    }
    expect(() => planCorpus('digits', 'test', { noEspeak: true }, VOICES)).toThrowError(DeltakitError);
  });

  it('augments only the training split, over +-20 dB, and applies a fixed condition to any split', () => {
    const o = { seed: 1, validationVoices: 4, testVoices: 6, augment: true };
    const train = planCorpus('digits', 'train', o, VOICES);
    expect(planCorpus('digits', 'test', o, VOICES).every((p) => p.augment === undefined)).toBe(true);
    const gains = train.map((p) => p.augment?.gainDb ?? 0);
    expect(Math.min(...gains)).toBeLessThan(-18);
    expect(Math.max(...gains)).toBeGreaterThan(18);
    const tel = train.filter((p) => p.augment?.channel === 'telephone').length / train.length;
    expect(tel).toBeGreaterThan(0.15);
    expect(tel).toBeLessThan(0.35);
    // The base rendering is the same with or without augmentation.
    const plain = planCorpus('digits', 'train', { ...o, augment: false }, VOICES);
    expect(train.map(({ augment: _a, ...p }) => p)).toEqual(plain);
    const cond = planCorpus('digits', 'test', { ...o, condition: { gainDb: -20, channel: 'telephone' } }, VOICES);
    expect(cond.every((p) => p.augment?.gainDb === -20 && p.augment.channel === 'telephone')).toBe(true);
  });

  it('draws a VTLP warp per training utterance, log-uniform in the range, beside the other augmentation', () => {
    const o = { seed: 1, validationVoices: 4, testVoices: 6, augment: true };
    const train = planCorpus('digits', 'train', { ...o, vtlp: [0.8, 1.25] }, VOICES);
    const warps = train.map((p) => p.augment?.warp ?? 1);
    expect(Math.min(...warps)).toBeGreaterThanOrEqual(0.8);
    expect(Math.max(...warps)).toBeLessThanOrEqual(1.25);
    expect(Math.min(...warps)).toBeLessThan(0.82);
    expect(Math.max(...warps)).toBeGreaterThan(1.22);
    // Log-uniform over a symmetric range: about as many below 1 as above.
    const below = warps.filter((w) => w < 1).length / warps.length;
    expect(below).toBeGreaterThan(0.4);
    expect(below).toBeLessThan(0.6);
    // The other draws are those of --augment alone; held-out splits are not warped.
    const plain = planCorpus('digits', 'train', o, VOICES);
    expect(train.map((p) => ({ ...p, augment: p.augment && { ...p.augment, warp: undefined } }))).toEqual(plain.map((p) => ({ ...p, augment: p.augment && { ...p.augment, warp: undefined } })));
    expect(planCorpus('digits', 'validation', { ...o, vtlp: [0.8, 1.25] }, VOICES).every((p) => p.augment === undefined)).toBe(true);
    // Without --augment: only the warp.
    const only = planCorpus('digits', 'train', { seed: 1, validationVoices: 4, testVoices: 6, vtlp: [0.9, 0.9] }, VOICES);
    expect(only.every((p) => p.augment?.warp === 0.9 && p.augment.gainDb === 0 && p.augment.channel === 'wide')).toBe(true);
    expect(() => planCorpus('digits', 'train', { vtlp: [1.2, 0.9] }, VOICES)).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(() => planCorpus('digits', 'train', { vtlp: [0.3, 1] }, VOICES)).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    // A fixed warp as an evaluation condition, and the CLI's spelling of both.
    expect(planCorpus('digits', 'test', { ...o, condition: { warp: 1.2 } }, VOICES).every((p) => p.augment?.warp === 1.2)).toBe(true);
    expect(parseCondition('vtlp=1.2,telephone')).toEqual({ warp: 1.2, channel: 'telephone' });
    expect(() => parseCondition('vtlp=3')).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(parseCorpusOptions({ vtlp: '0.8,1.25' }).vtlp).toEqual([0.8, 1.25]);
    for (const bad of ['0.8', '1.25,0.8', '0.8,x', '0.2,1']) expect(() => parseCorpusOptions({ vtlp: bad })).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
  });

  it('widens the formant/pitch shift range with pitchShift, moving only the shift values', () => {
    const o = { seed: 1, validationVoices: 4, testVoices: 6, augment: true, vtlp: [0.8, 1.25] as [number, number], narrowband: 0.25 };
    const before = planCorpus('digits', 'train', o, VOICES);
    // The default range spelled out is the default, draw for draw.
    expect(planCorpus('digits', 'train', { ...o, pitchShift: [-300, 300] }, VOICES)).toEqual(before);
    const after = planCorpus('digits', 'train', { ...o, pitchShift: [-300, 700] }, VOICES);
    expect(after.length).toBe(before.length);
    let shifted = 0;
    let above = 0;
    after.forEach((p, i) => {
      const b = before[i]!;
      const cents = p.augment?.pitchCents ?? 0;
      // The same utterances get a shift (the coin is drawn as before), only its value moves.
      expect(cents === 0).toBe((b.augment?.pitchCents ?? 0) === 0);
      expect({ ...p, augment: p.augment && { ...p.augment, pitchCents: 0 } }).toEqual({ ...b, augment: b.augment && { ...b.augment, pitchCents: 0 } });
      if (cents !== 0) {
        shifted++;
        expect(cents).toBeGreaterThanOrEqual(-300);
        expect(cents).toBeLessThanOrEqual(700);
        if (cents > 300) above++;
      }
    });
    // Uniform over -300..700: about 40 % of the shifts lie above the default's +300.
    expect(above / shifted).toBeGreaterThan(0.25);
    expect(above / shifted).toBeLessThan(0.55);
    // Held-out splits are not shifted; the range needs --augment and lo <= hi within an octave.
    expect(planCorpus('digits', 'validation', { ...o, pitchShift: [-300, 700] }, VOICES)).toEqual(planCorpus('digits', 'validation', o, VOICES));
    expect(() => planCorpus('digits', 'train', { seed: 1, pitchShift: [-300, 700] }, VOICES)).toThrow(expect.objectContaining({ code: 'E_OPTION', message: expect.stringMatching(/needs augment: true/) }));
    expect(() => planCorpus('digits', 'train', { ...o, pitchShift: [700, -300] }, VOICES)).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(() => planCorpus('digits', 'train', { ...o, pitchShift: [-300, 1500] }, VOICES)).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(parseCorpusOptions({ augment: true, pitchShift: '-300,700' }).pitchShift).toEqual([-300, 700]);
    for (const bad of ['700', '700,-300', '-300,x', '-300,1300']) expect(() => parseCorpusOptions({ augment: true, pitchShift: bad })).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(() => parseCorpusOptions({ pitchShift: '-300,700' })).toThrow(expect.objectContaining({ code: 'E_OPTION', message: expect.stringMatching(/--pitch-shift: expected --augment/) }));
  });

  it('carves a narrowband share out of the wide-band channel draw, leaving every other draw as it was', () => {
    const o = { seed: 1, validationVoices: 4, testVoices: 6, augment: true, vtlp: [0.8, 1.25] as [number, number] };
    const before = planCorpus('digits', 'train', o, VOICES);
    const after = planCorpus('digits', 'train', { ...o, narrowband: 0.25 }, VOICES);
    expect(after.length).toBe(before.length);
    const share = (ps: typeof after, c: string) => ps.filter((p) => p.augment?.channel === c).length / ps.length;
    expect(share(after, 'narrowband')).toBeGreaterThan(0.15);
    expect(share(after, 'narrowband')).toBeLessThan(0.35);
    // Telephone utterances stay telephone; narrowband ones were wide; nothing else moves (cache keys of the rest unchanged).
    expect(share(after, 'telephone')).toBe(share(before, 'telephone'));
    let moved = 0;
    after.forEach((p, i) => {
      const b = before[i]!;
      if (p.augment?.channel === 'narrowband') {
        moved++;
        expect(b.augment?.channel).toBe('wide');
        expect({ ...p, augment: { ...p.augment, channel: 'wide' } }).toEqual(b);
      } else expect(p).toEqual(b);
    });
    expect(moved).toBeGreaterThan(0);
    // Held-out splits are not touched; without --augment the share comes from a stream of its own.
    expect(planCorpus('digits', 'validation', { ...o, narrowband: 0.25 }, VOICES)).toEqual(planCorpus('digits', 'validation', o, VOICES));
    const only = planCorpus('digits', 'train', { seed: 1, validationVoices: 4, testVoices: 6, narrowband: 0.5 }, VOICES);
    const nb = only.filter((p) => p.augment !== undefined);
    expect(nb.every((p) => p.augment!.channel === 'narrowband' && p.augment!.gainDb === 0 && p.augment!.warp === undefined)).toBe(true);
    expect(nb.length / only.length).toBeGreaterThan(0.4);
    expect(nb.length / only.length).toBeLessThan(0.6);
    expect(planCorpus('digits', 'train', { ...o, narrowband: 0 }, VOICES)).toEqual(before);
    for (const bad of [-0.1, 0.8, Number.NaN]) expect(() => planCorpus('digits', 'train', { ...o, narrowband: bad }, VOICES)).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(parseCorpusOptions({ narrowband: '0.25' }).narrowband).toBe(0.25);
    for (const bad of ['x', '0.9', '-1']) expect(() => parseCorpusOptions({ narrowband: bad })).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
  });

  it('renders a warped utterance through the warped filterbank (no sox)', () => {
    const p = planCorpus('digits', 'train', { seed: 1, validationVoices: 4, testVoices: 6 }, VOICES)[0]!;
    const sr = 16000;
    const tone = new Float32Array(sr / 2);
    for (let i = 0; i < tone.length; i++) tone[i] = 0.5 * Math.sin(2 * Math.PI * 1000 * (i / sr));
    const loudest = (f: Float32Array) => {
      const frames = f.length / 40;
      const sum = new Float64Array(40);
      for (let t = 0; t < frames; t++) for (let b = 0; b < 40; b++) sum[b] += f[t * 40 + b]!;
      return sum.indexOf(Math.max(...sum));
    };
    const plain = renderUtterance(p, { samples: tone, sampleRate: sr });
    expect(renderUtterance({ ...p, augment: { ...NO_AUGMENTATION, warp: 1 } }, { samples: tone, sampleRate: sr })).toEqual(plain);
    const up = renderUtterance({ ...p, augment: { ...NO_AUGMENTATION, warp: 1.25 } }, { samples: tone, sampleRate: sr });
    const down = renderUtterance({ ...p, augment: { ...NO_AUGMENTATION, warp: 0.8 } }, { samples: tone, sampleRate: sr });
    expect(up.length).toBe(plain.length);
    expect(loudest(up)).toBeGreaterThanOrEqual(loudest(plain) + 2);
    expect(loudest(down)).toBeLessThanOrEqual(loudest(plain) - 2);
  });
});

describe.runIf(needs('sox', soxAvailable()))('sox augmentation', () => {
  it('an 8 kHz telephone channel empties the bands above 4 kHz and keeps the length and rate', () => {
    const sr = 16000;
    const x = makeNoise('white', sr, 5).map((v) => 0.1 * v);
    const wide = logMel({ samples: x, sampleRate: sr });
    const tel = applyChannel({ samples: x, sampleRate: sr }, { ...NO_AUGMENTATION, channel: 'telephone' });
    expect(tel.sampleRate).toBe(sr);
    expect(Math.abs(tel.samples.length - x.length)).toBeLessThan(40);
    const t = logMel(tel);
    const band = (f: typeof t, b: number) => {
      let s = 0;
      for (let i = 10; i < 60; i++) s += f.data[i * 40 + b]!;
      return s / 50;
    };
    // Band 39 is centred near 7.6 kHz: at least 40 dB (ln 10^4 = 9.2) down; a mid band is kept.
    expect(band(wide, 39) - band(t, 39)).toBeGreaterThan(9.2);
    expect(Math.abs(band(wide, 20) - band(t, 20))).toBeLessThan(1);
    expect(applyChannel({ samples: x, sampleRate: sr }, NO_AUGMENTATION).samples).toBe(x);
  });

  it('a narrowband channel empties the bands above 4 kHz but, unlike the telephone channel, keeps those below 300 Hz', () => {
    const sr = 16000;
    const x = makeNoise('white', sr, 5).map((v) => 0.1 * v);
    const band = (f: ReturnType<typeof logMel>, b: number) => {
      let s = 0;
      for (let i = 10; i < 60; i++) s += f.data[i * 40 + b]!;
      return s / 50;
    };
    const wide = logMel({ samples: x, sampleRate: sr });
    const nb = logMel(applyChannel({ samples: x, sampleRate: sr }, { ...NO_AUGMENTATION, channel: 'narrowband' }));
    const tel = logMel(applyChannel({ samples: x, sampleRate: sr }, { ...NO_AUGMENTATION, channel: 'telephone' }));
    expect(band(wide, 39) - band(nb, 39)).toBeGreaterThan(9.2);
    expect(Math.abs(band(wide, 20) - band(nb, 20))).toBeLessThan(1);
    // Band 2 is centred near 150 Hz: kept by the narrowband channel, at least 10 dB down through the telephone one.
    expect(Math.abs(band(wide, 2) - band(nb, 2))).toBeLessThan(1);
    expect(band(wide, 2) - band(tel, 2)).toBeGreaterThan(2.3);
    expect(parseCondition('narrowband,gain=-6')).toEqual({ channel: 'narrowband', gainDb: -6 });
  });

  it('renders a training utterance drawn narrowband through the 8 kHz channel', () => {
    const o = { seed: 1, validationVoices: 4, testVoices: 6, augment: true, narrowband: 0.25 };
    const p = planCorpus('digits', 'train', o, VOICES).find((q) => q.augment?.channel === 'narrowband')!;
    const sr = 16000;
    const audio = { samples: makeNoise('white', sr, 7).map((v) => 0.1 * v), sampleRate: sr };
    const band = (f: Float32Array, b: number) => {
      let s = 0;
      for (let i = 10; i < 60; i++) s += f[i * 40 + b]!;
      return s / 50;
    };
    const nb = renderUtterance(p, audio);
    const wide = renderUtterance({ ...p, augment: { ...p.augment!, channel: 'wide' } }, audio);
    // Band 39 (~7.6 kHz) at least 30 dB (ln 10^3 = 6.9) down, a mid band kept.
    expect(band(wide, 39) - band(nb, 39)).toBeGreaterThan(6.9);
    expect(Math.abs(band(wide, 20) - band(nb, 20))).toBeLessThan(1);
  });

  it('reports a missing sox with a coded error', async () => {
    vi.resetModules();
    process.env['DELTAKIT_SOX'] = '/nonexistent/sox';
    try {
      const m = await import('../../src/data/augment.js');
      expect(() => m.applyChannel({ samples: new Float32Array(100), sampleRate: 16000 }, { ...m.NO_AUGMENTATION, reverb: 20 })).toThrowError(/sox: expected the sox program/);
    } finally {
      delete process.env['DELTAKIT_SOX'];
      vi.resetModules();
    }
  });
});

describe.runIf(needs('festival with festvox-kdlpc16k', festivalAvailable()))('Festival ked_diphone', () => {
  it('speaks at 16 kHz; a higher F0 and a stretch change the audio', () => {
    const a = festivalSpeak('seven', { f0Mean: 105, f0Std: 15, stretch: 1 });
    const b = festivalSpeak('seven', { f0Mean: 105, f0Std: 15, stretch: 1.3 });
    expect(a.sampleRate).toBe(16000);
    expect(a.samples.length).toBeGreaterThan(4000);
    expect(b.samples.length).toBeGreaterThan(a.samples.length * 1.1);
    expect(() => festivalSpeak('Seven!', { f0Mean: 105, f0Std: 15, stretch: 1 })).toThrowError(/lower-case words/);
  });

  it('turns a run that exits 0 without writing audio into a coded error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-fest-'));
    const fake = join(dir, 'festival');
    writeFileSync(fake, '#!/bin/sh\nexit 0\n');
    chmodSync(fake, 0o755);
    vi.resetModules();
    process.env['DELTAKIT_FESTIVAL'] = fake;
    try {
      const m = await import('../../src/data/festival.js');
      let err: unknown;
      try {
        m.festivalSpeak('seven', { f0Mean: 105, f0Std: 15, stretch: 1 });
      } catch (e) {
        err = e;
      }
      expect((err as DeltakitError).code).toBe('E_IO');
      expect((err as Error).message).toMatch(/expected voice ked_diphone .* to write audio for "seven", found no file/);
    } finally {
      delete process.env['DELTAKIT_FESTIVAL'];
      vi.resetModules();
    }
  });

  it.runIf(needs('espeak-ng', espeakAvailable()))('builds a tiny mixed corpus: Festival and augmented espeak-ng utterances, cached', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'dk-fa-'));
    const o = { maxVoices: 1, renditions: { train: 1, validation: 0, test: 0 }, festival: true, augment: true, cacheDir, progress: false };
    const ds = buildCorpus('digits', 'train', o);
    expect(ds.utterances.length).toBe(22);
    const fest = ds.utterances.filter((u) => u.voice.startsWith('ked-f0-'));
    expect(fest.length).toBe(11);
    for (const u of ds.utterances) {
      expect(u.frames).toBeGreaterThan(20);
      expect(u.features.every(Number.isFinite)).toBe(true);
    }
    const again = buildCorpus('digits', 'train', o);
    expect(again.utterances.map((u) => u.features)).toEqual(ds.utterances.map((u) => u.features));
  });
});
