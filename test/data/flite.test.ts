/**
 * flite, the evaluation-only synthesiser: its voices enter the test split only, its audio reaches
 * the front end at 16 kHz (the 8 kHz voice resampled), and `deltakit eval --flite` reports it as
 * a synthesiser of its own.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { planCorpus, synthesiserOf } from '../../src/data/corpus.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { FLITE_VOICES, fliteAvailable, fliteSpeak, fliteVoiceOf, fliteVoices } from '../../src/data/flite.js';
import { soxAvailable } from '../../src/data/augment.js';
import { BUILTIN_MODEL_FILE } from '../../src/train/builtin.js';

const CI = process.env['CI'] === 'true';
/** Locally a missing tool skips; on CI it fails (CI installs flite and sox). */
function needs(name: string, ok: boolean): boolean {
  if (!ok && CI) throw new Error(`CI: ${name} must be installed for this test (see .ci/run)`);
  return ok;
}

describe('flite voices in the corpora', () => {
  it('enter the test split only, each utterance planned with its flite voice', () => {
    for (const split of ['train', 'validation'] as const) {
      expect(planCorpus('digits', split, { flite: true, maxVoices: 2 }).some((p) => p.flite || p.voice.startsWith('flite-'))).toBe(false);
    }
    const test = planCorpus('digits', 'test', { flite: true, renditions: { test: 1 } });
    const flite = test.filter((p) => p.flite);
    expect(new Set(flite.map((p) => p.voice))).toEqual(new Set(fliteVoices()));
    expect(flite).toHaveLength(11 * FLITE_VOICES.length);
    for (const p of flite) {
      expect(synthesiserOf(p.voice)).toBe('flite');
      expect(`flite-${p.flite!.voice}`).toBe(p.voice);
      expect(p.flite!.stretch).toBeGreaterThanOrEqual(0.85);
      expect(p.flite!.stretch).toBeLessThanOrEqual(1.25);
    }
    // Without the option the test split is as it was.
    expect(planCorpus('digits', 'test', { renditions: { test: 1 } })).toEqual(test.filter((p) => !p.flite));
    expect(() => fliteVoiceOf('flite-nobody')).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(() => fliteVoiceOf('slt')).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
  });

  it('speaks every voice at 16 kHz (the 8 kHz voice resampled), slower with a larger stretch', (ctx) => {
    if (!needs('flite', fliteAvailable()) || !needs('sox', soxAvailable())) return ctx.skip();
    for (const voice of FLITE_VOICES) {
      const a = fliteSpeak('seven', { voice, stretch: 1 });
      expect(a.sampleRate).toBe(16000);
      expect(a.samples.length).toBeGreaterThan(16000 * 0.2);
      expect(Math.max(...a.samples.map(Math.abs))).toBeGreaterThan(0.01);
    }
    const slow = fliteSpeak('seven', { voice: 'slt', stretch: 1.4 });
    const fast = fliteSpeak('seven', { voice: 'slt', stretch: 0.8 });
    expect(slow.samples.length).toBeGreaterThan(fast.samples.length * 1.3);
    expect(() => fliteSpeak('Seven!', { voice: 'slt', stretch: 1 })).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
    expect(() => fliteSpeak('seven', { voice: 'slt', stretch: 3 })).toThrow(expect.objectContaining({ code: 'E_OPTION' }));
  });
});

describe('deltakit eval --flite', () => {
  it('reports the built-in model on flite voices as a synthesiser of its own', async (ctx) => {
    if (!needs('espeak-ng', espeakAvailable()) || !needs('flite', fliteAvailable()) || !needs('sox', soxAvailable())) return ctx.skip();
    const cache = mkdtempSync(join(tmpdir(), 'dk-flite-'));
    const r = await cli('eval', BUILTIN_MODEL_FILE, '--split', 'test', '--flite', '--max-voices', '2', '--renditions', '1,1,1', '--festival-renditions', '1,1,1', '--cache-dir', cache);
    expect(r.code, r.err).toBe(0);
    const text = r.out;
    const dense = new RegExp(`flite\\s+22 / 2\\s+dense\\s+([\\d.]+)`).exec(text);
    expect(dense, text).not.toBeNull();
    // A model that learned digits recognises most of them from a synthesiser it never heard.
    expect(Number(dense![1])).toBeGreaterThan(50);
    expect(text).toMatch(/flite\s+22 \/ 2\s+delta/);
  });
});
