import { describe, expect, it } from 'vitest';
import { readHeldout } from '../../src/data/heldout.js';
import { synthesiserOf } from '../../src/data/corpus.js';
import { builtinHeldout, builtinSpec, loadBuiltinModel } from '../../src/train/builtin.js';
import { concatStream, detectorOptionsOfModel, KeywordSpotter, scoreDetections } from '../../src/train/kws.js';
import { evaluateWithSession, modelTask } from '../../src/train/task.js';

/** Floors on the committed held-out keyword set (312 utterances; docs/kws.md has the measured values). */
const MIN_DENSE = 0.88;
const MIN_OPS_SAVING = 5;

describe('the committed built-in keyword model', () => {
  it('is a DeltaGRU keyword classifier with tuned delta thresholds and detector settings in its metadata', async () => {
    const model = await loadBuiltinModel('keywords');
    expect(model.layers.map((l) => l.kind)).toEqual(['gru', 'linear']);
    const task = modelTask(model);
    expect(task.corpus).toBe('kws');
    expect(task.classes).toEqual(['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go', '_unknown_', '_silence_']);
    expect(task.stats.frontEnd).toBe('level');
    expect(Number(model.meta['thresholdX'])).toBeGreaterThan(0);
    expect(Number(model.meta['thresholdH'])).toBeGreaterThan(0);
    for (const k of ['kwsWindow', 'kwsThreshold', 'kwsLockout']) expect(model.meta[k]).toBeDefined();
    expect(detectorOptionsOfModel(model).window).toBe(Number(model.meta['kwsWindow']));
  });

  it('scores above its floor on the committed held-out voices of both synthesisers, dense and delta, with >= 5x fewer ops', async () => {
    const model = await loadBuiltinModel('keywords');
    const task = modelTask(model);
    const { dataset, source } = builtinHeldout(task, 'committed', { spec: builtinSpec('keywords') });
    expect(source).toBe('committed');
    expect(dataset.utterances.length).toBe(312);
    expect(new Set(dataset.utterances.map((u) => synthesiserOf(u.voice)))).toEqual(new Set(['espeak-ng', 'festival']));
    const thresholds = { thresholdX: Number(model.meta['thresholdX']), thresholdH: Number(model.meta['thresholdH']) };
    const dense = evaluateWithSession(model, dataset, task.readout);
    const delta = evaluateWithSession(model, dataset, task.readout, thresholds);
    expect(dense.accuracy).toBeGreaterThanOrEqual(MIN_DENSE);
    expect(delta.accuracy).toBeGreaterThanOrEqual(dense.accuracy - 0.03);
    expect(delta.opsSaving).toBeGreaterThanOrEqual(MIN_OPS_SAVING);
  });

  it('streams the held-out utterances end to end and detects most keywords at a moderate threshold', async () => {
    const model = await loadBuiltinModel('keywords');
    const task = modelTask(model);
    const held = readHeldout(builtinSpec('keywords').heldoutBase);
    const stream = concatStream(held, 11);
    const thresholds = { thresholdX: Number(model.meta['thresholdX']), thresholdH: Number(model.meta['thresholdH']) };
    const spotter = new KeywordSpotter(model, task, { thresholds, detector: { window: 30, threshold: 0.7, lockout: 100 } });
    const hits = spotter.run(stream.features);
    const s = scoreDetections(hits, stream.events, stream.frames, 30);
    expect(s.keywords).toBe(260);
    expect(s.detectionRate).toBeGreaterThanOrEqual(0.5);
    const st = spotter.session.stats();
    expect(st.denseOps / st.ops).toBeGreaterThanOrEqual(MIN_OPS_SAVING);
  });

  it('ships held-out voices that the training split never used', async () => {
    const model = await loadBuiltinModel('keywords');
    const trainVoices = new Set<string>(JSON.parse(model.meta['trainVoices'] ?? '[]'));
    expect(trainVoices.size).toBeGreaterThan(0);
    for (const u of readHeldout(builtinSpec('keywords').heldoutBase).utterances) expect(trainVoices.has(u.voice)).toBe(false);
  });
});
