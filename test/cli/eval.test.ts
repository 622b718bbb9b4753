import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { soxAvailable } from '../../src/data/augment.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { festivalAvailable } from '../../src/data/festival.js';
import { BUILTIN_MODEL_FILE } from '../../src/train/builtin.js';
import { cli } from '../helpers/cli.js';
import { checkUnheardVoices } from '../../src/cli/commands/data.js';
import type { Model } from '../../src/model/types.js';

const CI = process.env['CI'] === 'true';
const tools = espeakAvailable() && festivalAvailable() && soxAvailable();
if (!tools && CI) throw new Error('CI: espeak-ng, festival (festvox-kdlpc16k) and sox must be installed for test/cli/eval.test.ts (see .ci/run)');

describe.runIf(tools)('deltakit eval', () => {
  it('measures a model per synthesiser under a condition, dense and delta, with ops saved', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'dk-eval-'));
    const r = await cli('eval', BUILTIN_MODEL_FILE, '--split', 'test', '--max-voices', '1', '--renditions', '0,0,1', '--festival', '--festival-renditions', '0,0,1', '--condition', 'gain=-20,telephone', '--cache-dir', cacheDir, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { condition: Record<string, unknown>; results: Array<{ synthesiser: string; utterances: number; denseAccuracy: number; deltaAccuracy: number; agreement: number; opsSaving: number }> };
    expect(j.condition).toEqual({ gainDb: -20, channel: 'telephone' });
    expect(j.results.map((x) => x.synthesiser)).toEqual(['espeak-ng', 'festival']);
    for (const x of j.results) {
      expect(x.utterances).toBe(11);
      expect(x.denseAccuracy).toBeGreaterThanOrEqual(0);
      expect(x.denseAccuracy).toBeLessThanOrEqual(1);
      expect(x.opsSaving).toBeGreaterThan(2);
      // Dense and delta can differ in accuracy only on utterances they decide differently.
      expect(x.agreement).toBeGreaterThan(0);
      expect(x.agreement).toBeLessThanOrEqual(1);
      expect(Math.abs(x.denseAccuracy - x.deltaAccuracy)).toBeLessThanOrEqual(1 - x.agreement + 1e-12);
      expect(Math.round(x.agreement * x.utterances)).toBeCloseTo(x.agreement * x.utterances, 9);
    }
    const text = await cli('eval', BUILTIN_MODEL_FILE, '--split', 'test', '--max-voices', '1', '--renditions', '0,0,1', '--festival', '--festival-renditions', '0,0,1', '--condition', 'gain=-20,telephone', '--cache-dir', cacheDir);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/agrees with dense %/);
    expect(text.out).toContain(`${(100 * j.results[0]!.agreement).toFixed(2)}`);
    const bad = await cli('eval', BUILTIN_MODEL_FILE, '--condition', 'loud');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/E_OPTION: --condition: expected comma-separated gain=<dB>, telephone/);
  });
});

describe('checkUnheardVoices', () => {
  const modelWith = (trainVoices: string) => ({ name: 'm', meta: { trainVoices } }) as unknown as Model;
  it('refuses a split that holds a training voice', () => {
    expect(() => checkUnheardVoices(modelWith('["en+f1","en+m3"]'), [{ voice: 'en+m3' }], 'test', 'eval')).toThrow(expect.objectContaining({ code: 'E_MISMATCH' }));
    expect(() => checkUnheardVoices(modelWith('["en+f1"]'), [{ voice: 'en+m3' }], 'test', 'eval')).not.toThrow();
  });
  it('gives E_FORMAT, not a JSON syntax error, when the metadata is not a list of names', () => {
    for (const bad of ['not json', '{"a":1}', '[1,2]']) {
      expect(() => checkUnheardVoices(modelWith(bad), [{ voice: 'x' }], 'test', 'eval')).toThrow(expect.objectContaining({ code: 'E_FORMAT', message: expect.stringMatching(/trainVoices must be a JSON list/) }));
    }
  });
});
