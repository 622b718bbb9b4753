import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readHeldout } from '../../src/data/heldout.js';
import { BUILTIN_HELDOUT_BASE, builtinHeldout, loadBuiltinModel } from '../../src/train/builtin.js';
import { evaluateWithSession, modelTask } from '../../src/train/task.js';

describe('the committed built-in model', () => {
  it('is a DeltaGRU digit classifier with its task and tuned thresholds in the metadata', async () => {
    const model = await loadBuiltinModel();
    expect(model.layers.map((l) => l.kind)).toEqual(['gru', 'linear']);
    const task = modelTask(model);
    expect(task.corpus).toBe('digits');
    expect(task.classes).toHaveLength(11);
    expect(Number(model.meta['thresholdX'])).toBeGreaterThan(0);
    expect(Number(model.meta['thresholdH'])).toBeGreaterThan(0);
  });

  it('meets its targets on the committed held-out voices: >= 95 % accuracy, >= 5x fewer ops, <= 1 point lost', async () => {
    const model = await loadBuiltinModel();
    const task = modelTask(model);
    const { dataset, source } = builtinHeldout(task, 'committed');
    expect(source).toBe('committed');
    expect(dataset.utterances.length).toBeGreaterThanOrEqual(200);
    const thresholds = { thresholdX: Number(model.meta['thresholdX']), thresholdH: Number(model.meta['thresholdH']) };
    const dense = evaluateWithSession(model, dataset, task.readout);
    const delta = evaluateWithSession(model, dataset, task.readout, thresholds);
    expect(dense.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(delta.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(delta.accuracy).toBeGreaterThanOrEqual(dense.accuracy - 0.01);
    expect(delta.opsSaving).toBeGreaterThanOrEqual(5);
  });

  it('ships held-out voices that the training split never used', async () => {
    const model = await loadBuiltinModel();
    const held = readHeldout(BUILTIN_HELDOUT_BASE);
    const trainVoices = new Set<string>(JSON.parse(model.meta['trainVoices'] ?? '[]'));
    expect(trainVoices.size).toBeGreaterThan(0);
    for (const u of held.utterances) expect(trainVoices.has(u.voice)).toBe(false);
  });
});

describe('deltakit demo', () => {
  let out: string[] = [];
  beforeEach(() => {
    out = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  });
  afterEach(() => vi.restoreAllMocks());

  it('prints accuracy on held-out voices, occupancy, ops saved and latency per frame against dense', async () => {
    expect(await main(['demo', '--data', 'committed'])).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/voices never heard in training \(.*committed features\)/);
    expect(text).toMatch(/dense GRU\s+\d+\.\d %\s+100\.0 %/);
    expect(text).toMatch(/DeltaGRU \(thx/);
    expect(text).toMatch(/us\/frame/);
    expect(text).toMatch(/ops: \d+\.\d+x fewer than dense/);
  });

  it('falls back to the committed features on a machine without espeak-ng', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--steps', '500'], {
      encoding: 'utf8',
      env: { ...process.env, DELTAKIT_ESPEAK: '/nonexistent/espeak-ng' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/voices never heard in training \(.*committed features\)/);
    expect(r.stdout).toMatch(/fewer than dense/);
  });
});
