/**
 * Sessions whose layers all run on one wasm kernels instance chain them in wasm memory
 * (stepWasm): no float64 hand-offs or JavaScript copies per layer. Same values bit for bit as the
 * executor-by-executor path (which a traced session still takes), checked frames, stepInto.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { createSession } from '../../src/runtime/index.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';
import { codeOf } from '../helpers/errors.js';
import { chainedAgainstTraced } from '../helpers/wasm-chain.js';

afterEach(() => vi.restoreAllMocks());

const recipe = [{ kind: 'gru', hiddenSize: 24 }, { kind: 'lstm', hiddenSize: 13 }, { kind: 'linear', outputSize: 5 }] as const;

it.each([{}, { thresholdX: 0.05, thresholdH: 0.05 }, { weights: 'int8' as const }, { weights: 'int8' as const, thresholdX: 0.05, thresholdH: 0.05 }])('chained steps (%o) run one kernel call per layer and equal the per-executor path bit for bit', (opts) => {
  const model = randomModel(3, 7, [...recipe]);
  const frames = smoothStream(2, 50, 7, 0.3);
  const { chained, traced, y, yt, chainedCalls, tracedCalls } = chainedAgainstTraced(model, opts, frames, 50);
  expect(chainedCalls.step).toBe(0);
  expect(chainedCalls.linearStep).toBe(0);
  // Two recurrent layers and a linear one, 50 steps: one layer_step each, no separate kernels.
  expect(chainedCalls.stepFused).toBe(100);
  expect(chainedCalls.stepCalls).toBe(0);
  expect(chainedCalls.layerSteps).toBe(150);
  // A traced session steps executor by executor (float64 between layers).
  expect(tracedCalls.step).toBeGreaterThan(0);
  expect(Array.from(y)).toEqual(Array.from(yt));
  expect(chained.stats()).toEqual(traced.stats());
  // run() on a flat array and on a list of plain arrays take the chain too.
  chained.reset();
  expect(Array.from(chained.run(frames))).toEqual(Array.from(yt));
  chained.reset();
  const list = Array.from({ length: 50 }, (_, t) => Array.from(frames.subarray(t * 7, (t + 1) * 7)));
  expect(Array.from(chained.run(list))).toEqual(Array.from(yt));
});

it('the chain checks every frame: non-finite values and bad outputs are coded errors, state unchanged', () => {
  const model = randomModel(4, 3, [{ kind: 'gru', hiddenSize: 8 }]);
  const s = createSession(model);
  const ok = s.step([0.1, 0.2, 0.3]);
  s.reset();
  expect(codeOf(() => s.step(new Float32Array([0.1, NaN, 0.3])))).toBe('E_VALUE');
  expect(codeOf(() => s.step(new Float64Array([0.1, Infinity, 0.3])))).toBe('E_VALUE');
  expect(codeOf(() => s.step([0.1, '0.2' as never, 0.3]))).toBe('E_VALUE');
  expect(codeOf(() => s.step([0.1, 0.2]))).toBe('E_SHAPE');
  expect(codeOf(() => s.stepInto([0.1, 0.2, 0.3], new Float32Array(4), 1))).toBe('E_SHAPE');
  expect(codeOf(() => s.stepInto([0.1, 0.2, 0.3], [] as never))).toBe('E_SHAPE');
  expect(s.stats().steps).toBe(0);
  expect(Array.from(s.step(new Float32Array([0.1, 0.2, 0.3])))).toEqual(Array.from(ok));
  const out = new Float32Array(10);
  s.reset();
  expect(s.stepInto([0.1, 0.2, 0.3], out, 2)).toBe(out);
  expect(Array.from(out.subarray(2))).toEqual(Array.from(ok));
});

it.each(['gru', 'lstm'] as const)('delta %s: steps where nothing fires reuse the kept gate activations, same values as the js backend', (kind) => {
  const model = randomModel(8, 6, [{ kind, hiddenSize: 20 }, { kind: 'linear', outputSize: 3 }]);
  // Frames that repeat: after the first of each run nothing fires.
  const base = smoothStream(4, 12, 6, 0.5);
  const frames = new Float32Array(12 * 4 * 6);
  for (let t = 0; t < 48; t++) frames.set(base.subarray(Math.floor(t / 4) * 6, Math.floor(t / 4) * 6 + 6), t * 6);
  const opts = { thresholdX: 0.01, thresholdH: 0.4 };
  const fast = createSession(model, opts).run(frames);
  // The js backend runs the same delta network without the shortcut.
  const js = createSession(model, { ...opts, backend: 'js' });
  const y = js.run(frames);
  let m = 0;
  for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(y[i]! - fast[i]!));
  expect(m).toBeLessThan(2e-5);
  // Idle steps (nothing fired in the layer) happened and still moved h toward n.
  const s = createSession(model, { ...opts, trace: true });
  s.run(frames);
  expect(s.trace().filter((st) => st[0]!.firedX.length + st[0]!.firedH.length === 0).length).toBeGreaterThan(10);
});

it('two chained sessions of one model stepping in turn keep their own state (kept gate activations included)', () => {
  const model = randomModel(9, 6, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'lstm', hiddenSize: 8 }, { kind: 'linear', outputSize: 3 }]);
  const a = smoothStream(5, 40, 6, 0.3);
  const b = new Float32Array(a.length);
  // b repeats frames (nothing fires on the repeats), a does not.
  for (let t = 0; t < 40; t++) b.set(a.subarray(Math.floor(t / 3) * 6, Math.floor(t / 3) * 6 + 6), t * 6);
  for (const opts of [{ thresholdX: 0.02, thresholdH: 0.3 }, {}, { weights: 'int8' as const }]) {
    const ya = createSession(model, opts).run(a);
    const yb = createSession(model, opts).run(b);
    const sa = createSession(model, opts), sb = createSession(model, opts);
    const oa = new Float32Array(40 * 3), ob = new Float32Array(40 * 3);
    for (let t = 0; t < 40; t++) {
      sa.stepInto(a.subarray(t * 6, t * 6 + 6), oa, t * 3);
      sb.stepInto(b.subarray(t * 6, t * 6 + 6), ob, t * 3);
    }
    expect(Array.from(oa)).toEqual(Array.from(ya));
    expect(Array.from(ob)).toEqual(Array.from(yb));
  }
});
