import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { encodeNpy } from '../../src/core/npy.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { festivalAvailable } from '../../src/data/festival.js';
import { readHeldout } from '../../src/data/heldout.js';
import { loadModel } from '../../src/model/io.js';
import { builtinSpec } from '../../src/train/builtin.js';
import { concatStream } from '../../src/train/kws.js';

let out: string[] = [];
let err: string[] = [];
beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** The first `n` committed held-out utterances of the built-in keyword model, end to end. */
function heldoutStream(n: number) {
  const held = readHeldout(builtinSpec('keywords').heldoutBase);
  return concatStream({ ...held, utterances: held.utterances.slice(0, n) }, 7);
}

describe('deltakit kws detect', () => {
  it('streams raw log-mel features through the built-in model and reports keywords with their times', async () => {
    const s = heldoutStream(48);
    const dir = mkdtempSync(join(tmpdir(), 'dk-kws-'));
    const file = join(dir, 'stream.npy');
    writeFileSync(file, encodeNpy(s.features, [s.frames, 40]));
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
    out = [];
    expect(await main(['kws', 'detect', '--input', file, '--dense'])).toBe(0);
    expect(out.join('\n')).toMatch(/dense, window \d+ frames/);
    expect(out.join('\n')).toMatch(/^\d+\.\d\d s {2}[a-z]+ {2}\(0\.\d+\)$/m);
  });

  it('refuses bad options and inputs with one coded error', async () => {
    expect(await main(['kws', 'detect', '--input', 'x.txt'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --input: expected a path ending in \.wav or \.npy/);
    err = [];
    const dir = mkdtempSync(join(tmpdir(), 'dk-kws-'));
    const file = join(dir, 'x.npy');
    writeFileSync(file, encodeNpy(new Float32Array(30), [10, 3]));
    expect(await main(['kws', 'detect', '--input', file])).toBe(1);
    expect(err.join('')).toMatch(/E_SHAPE: --input .*expected raw log-mel features of shape \(T, 40\), found \(10, 3\)/);
    err = [];
    expect(await main(['kws', 'detect', '--input', file, '--window', '0'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --window: expected at least 1, found 0/);
    err = [];
    expect(await main(['kws', 'detect', '--input', file, '--threshold', '1.5'])).toBe(1);
    expect(err.join('')).toMatch(/E_OPTION: --threshold: expected at most 1/);
    err = [];
    expect(await main(['kws', 'detect', builtinSpec('digits').file, '--input', file])).toBe(1);
    expect(err.join('')).toMatch(/E_MISMATCH: kws: expected a keyword classifier .* found a model of digits/);
  });
});

describe.skipIf(!espeakAvailable() || !festivalAvailable())('deltakit kws tune / eval on synthesised streams', () => {
  it('tunes window and threshold on validation streams, stores them, and measures false alarms per hour', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-kws-'));
    const small = ['--max-voices', '1', '--renditions', '1,1,1', '--festival-renditions', '1,1,1', '--background-renditions', '1'];
    const saved = join(dir, 'tuned.safetensors');
    expect(await main(['kws', 'tune', ...small, '--windows', '10,40', '--thresholds', '0.6,0.95', '--save', saved, '--json'])).toBe(0);
    const t = JSON.parse(out.join('\n')) as { best: { window: number; threshold: number; lockout: number }; points: unknown[] };
    expect(t.points).toHaveLength(4);
    expect([10, 40]).toContain(t.best.window);
    const m = await loadModel(saved);
    expect(Number(m.meta['kwsWindow'])).toBe(t.best.window);
    expect(Number(m.meta['kwsThreshold'])).toBe(t.best.threshold);
    expect(Number(m.meta['kwsLockout'])).toBe(100);
    out = [];
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
});
