/** Session.run executes layer by layer so SRU/QRNN layers take whole blocks (runSteps). */
import { describe, expect, it, vi } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { availableBackends, createSession } from '../../src/runtime/index.js';
import { WasmQrnnExecutor, WasmSruExecutor } from '../../src/runtime/backends/wasm/feedforward.js';
import { randomModel, smoothStream } from '../helpers/random-model.js';

const model = randomModel(21, 10, [
  { kind: 'sru', hiddenSize: 16 },
  { kind: 'qrnn', hiddenSize: 12, window: 2 },
  { kind: 'gru', hiddenSize: 8 },
  { kind: 'linear', outputSize: 3 },
]);
const T = 70; // more than one 32-step block, and not a multiple of it
const frames = smoothStream(5, T, 10, 0.3);

describe.skipIf(!availableBackends().includes('wasm'))('Session.run with multi-step layers', () => {
  it('equals step-by-step execution and the float64 reference, and the multi-step kernels ran', () => {
    const sru = vi.spyOn(WasmSruExecutor.prototype, 'runSteps');
    const qrnn = vi.spyOn(WasmQrnnExecutor.prototype, 'runSteps');
    const block = createSession(model, { backend: 'wasm' });
    const y = block.run(frames);
    expect(sru).toHaveBeenCalledTimes(1);
    expect(qrnn).toHaveBeenCalledTimes(1);
    sru.mockRestore();
    qrnn.mockRestore();
    const stepped = createSession(model, { backend: 'wasm' });
    const ys = new Float32Array(y.length);
    for (let t = 0; t < T; t++) ys.set(stepped.step(frames.subarray(t * 10, (t + 1) * 10)), t * 3);
    expect(maxAbsDiff(y, ys)).toBeLessThan(1e-5);
    expect(maxAbsDiff(y, runModelRef(model, frames).outputs)).toBeLessThan(1e-4);
    expect(block.stats()).toEqual(stepped.stats());
  });

  it('keeps state across run() calls and through delta layers', () => {
    const opts = { backend: 'wasm' as const, thresholdX: 0.05, thresholdH: 0.05 };
    const whole = createSession(model, opts).run(frames);
    const s = createSession(model, opts);
    const a = s.run(frames.subarray(0, 33 * 10));
    const b = s.run(frames.subarray(33 * 10));
    const joined = new Float32Array(whole.length);
    joined.set(a);
    joined.set(b, a.length);
    expect(maxAbsDiff(whole, joined)).toBeLessThan(1e-5);
    const ref = runModelRef(model, frames, { thresholdX: 0.05, thresholdH: 0.05 });
    expect(s.stats().layers[2]!.firedX).toBe(ref.firedX.reduce((acc, row) => acc + row[2]!, 0));
  });

  it('rejects a non-finite frame before running anything', () => {
    const s = createSession(model, { backend: 'wasm' });
    const bad = frames.slice();
    bad[5 * 10 + 3] = NaN;
    expect(() => s.run(bad)).toThrow(/index 3 \(step 5\)/);
    expect(s.stats().steps).toBe(0);
  });
});
