import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import { buildCorpus, corpusClasses, planCorpus, splitVoices } from '../../src/data/corpus.js';
import { featureStats, normalizeDataset, statsFromJson, statsToJson } from '../../src/data/dataset.js';
import { espeakAvailable, listVariants } from '../../src/data/espeak.js';

const VOICES = Array.from({ length: 40 }, (_, i) => `v${String(i).padStart(2, '0')}`);

describe('voice split', () => {
  it('puts every voice in exactly one split, deterministically from the seed', () => {
    const s = splitVoices(VOICES, 1, 5, 8);
    expect(s.test.length).toBe(8);
    expect(s.validation.length).toBe(5);
    expect(s.train.length).toBe(27);
    expect(new Set([...s.train, ...s.validation, ...s.test]).size).toBe(40);
    expect(splitVoices([...VOICES].reverse(), 1, 5, 8)).toEqual(s);
    expect(splitVoices(VOICES, 2, 5, 8).test).not.toEqual(s.test);
    expect(() => splitVoices(VOICES, 1, 20, 20)).toThrowError(DeltakitError);
  });

  it('plans utterances whose voices never cross splits', () => {
    const plans = (split: 'train' | 'validation' | 'test') => planCorpus('digits', split, { seed: 3, validationVoices: 4, testVoices: 6 }, VOICES);
    const voices = (split: 'train' | 'validation' | 'test') => new Set(plans(split).map((p) => p.voice));
    const tr = voices('train');
    for (const v of [...voices('validation'), ...voices('test')]) expect(tr.has(v)).toBe(false);
    expect(plans('test').length).toBe(6 * 11 * 2);
    expect(plans('train').length).toBe(30 * 11 * 3);
    expect(plans('test')).toEqual(plans('test'));
    expect(new Set(plans('train').map((p) => p.id)).size).toBe(plans('train').length);
    for (const p of plans('train')) {
      expect(p.speed).toBeGreaterThanOrEqual(120);
      expect(p.snrDb).toBeGreaterThanOrEqual(15);
      expect(p.snrDb).toBeLessThanOrEqual(35);
    }
  });

  it('plans the keyword corpus with balanced unknown and silence classes, and connected digit strings', () => {
    const kws = planCorpus('kws', 'test', { validationVoices: 2, testVoices: 3, renditions: { test: 1 } }, VOICES);
    expect(corpusClasses('kws')).toHaveLength(12);
    const count = (label: number) => kws.filter((p) => p.label === label).length;
    expect(count(0)).toBe(3);
    expect(count(10)).toBe(3);
    expect(count(11)).toBe(3);
    expect(kws.filter((p) => p.label === 11).every((p) => p.text === '')).toBe(true);
    const strings = planCorpus('digits', 'test', { validationVoices: 2, testVoices: 3, renditions: { test: 0 }, connectedPerVoice: 2 }, VOICES);
    expect(strings).toHaveLength(6);
    for (const s of strings) {
      expect(s.label).toBe(-1);
      expect(s.words.length).toBeGreaterThanOrEqual(2);
      expect(s.text.split(' ').length).toBe(s.words.length);
    }
    expect(() => planCorpus('kws', 'test', { connectedPerVoice: 1 }, VOICES)).toThrowError(/only for the digits/);
    expect(() => planCorpus('nope' as 'digits', 'test', {}, VOICES)).toThrowError(/expected one of/);
  });
});

describe.skipIf(!espeakAvailable())('synthesis with espeak-ng', () => {
  it('lists speaker variants usable as lang+variant', () => {
    const v = listVariants();
    expect(v.length).toBeGreaterThan(30);
    expect(v).toEqual([...v].sort());
    expect(v.every((n) => /^[A-Za-z0-9_-]+$/.test(n))).toBe(true);
  });

  it('builds a handful of utterances, caches them, and reads the cache back identically', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'dk-corpus-'));
    const o = { cacheDir, maxVoices: 1, renditions: { test: 1 }, progress: false };
    const a = buildCorpus('digits', 'test', o);
    expect(a.utterances).toHaveLength(11);
    expect(a.bands).toBe(40);
    for (const u of a.utterances) {
      expect(u.frames).toBeGreaterThan(20);
      expect(u.features.length).toBe(u.frames * 40);
      expect(u.features.every((v) => Number.isFinite(v))).toBe(true);
    }
    // Different words give different features.
    expect(a.utterances[0]!.features).not.toEqual(a.utterances[1]!.features);
    const files = readdirSync(join(cacheDir, 'utt'));
    expect(files.filter((f) => f.endsWith('.f32'))).toHaveLength(11);
    const b = buildCorpus('digits', 'test', o);
    expect(b.utterances.map((u) => Array.from(u.features))).toEqual(a.utterances.map((u) => Array.from(u.features)));
    expect(readdirSync(join(cacheDir, 'utt'))).toHaveLength(11);
    // Normalisation statistics survive their JSON form.
    const stats = featureStats(a);
    const back = statsFromJson(statsToJson(stats));
    const n = normalizeDataset(a, back);
    let mean = 0;
    let count = 0;
    for (const u of n.utterances) for (const v of u.features) (mean += v), count++;
    expect(Math.abs(mean / count)).toBeLessThan(1e-3);
  });

  it('renders keyword, unknown, silence and connected-digit utterances', () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'dk-kws-'));
    const kws = buildCorpus('kws', 'test', { cacheDir, maxVoices: 1, renditions: { test: 1 }, progress: false });
    expect(kws.utterances.map((u) => u.label)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const silence = kws.utterances[11]!;
    // One second of noise plus padding: about 100 frames, and no espeak-ng involved.
    expect(silence.frames).toBeGreaterThan(100);
    expect(silence.words).toEqual([]);
    const strings = buildCorpus('digits', 'test', { cacheDir, maxVoices: 1, renditions: { test: 0 }, connectedPerVoice: 1, progress: false });
    expect(strings.utterances).toHaveLength(1);
    const s = strings.utterances[0]!;
    expect(s.label).toBe(-1);
    // A string of several digits lasts longer than a single word of the same voice.
    expect(s.frames).toBeGreaterThan(60 * s.words.length * 0.5);
  });
});
