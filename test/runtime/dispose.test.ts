/**
 * wasm sessions own no wasm memory: each layer's state lives in one slot of the shared instance,
 * swapped between the sessions that use it. So sessions interleaved step by step compute exactly
 * what they compute alone, creating and dropping 50,000 sessions in a synchronous loop neither
 * grows wasm memory nor slows down, and dispose() / Symbol.dispose end a session explicitly.
 */
import { describe, expect, it } from 'vitest';
import { loadKernels } from '../../src/kernels/wasm/loader.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { createSession, type Session } from '../../src/runtime/session.js';
import { expectCode } from '../helpers/errors.js';

const model = randomModel(8, 6, [
  { kind: 'gru', hiddenSize: 12 },
  { kind: 'lstm', hiddenSize: 10 },
  { kind: 'sru', hiddenSize: 10 },
  { kind: 'qrnn', hiddenSize: 9, window: 2 },
  { kind: 'linear', outputSize: 4, activation: 'tanh' },
]);

describe('wasm sessions share state slots', () => {
  for (const [name, opts] of [
    ['dense f32', {}],
    ['delta f32', { thresholdX: 0.05, thresholdH: 0.05 }],
    ['delta int8', { thresholdX: 0.05, thresholdH: 0.05, weights: 'int8' as const }],
    ['dense int8', { weights: 'int8' as const }],
  ] as const) {
    it(`${name}: three sessions interleaved step by step equal each run alone (bit for bit)`, () => {
      const T = 40;
      const streams = [1, 2, 3].map((s) => smoothStream(s, T, 6, 0.3));
      // Step by step alone (run() would take the SRU/QRNN block path, equal only up to rounding).
      const alone = streams.map((x) => {
        const s = createSession(model, { backend: 'wasm', ...opts });
        const y = new Float32Array(T * 4);
        for (let t = 0; t < T; t++) y.set(s.step(x.subarray(t * 6, (t + 1) * 6)), t * 4);
        return y;
      });
      const sessions = streams.map(() => createSession(model, { backend: 'wasm', ...opts }));
      const outs = streams.map(() => new Float32Array(T * 4));
      for (let t = 0; t < T; t++) {
        // Different orders each step, and a block run in between, so every swap path is taken.
        const order = t % 2 ? [2, 0, 1] : [0, 1, 2];
        for (const i of order) outs[i]!.set(sessions[i]!.step(streams[i]!.subarray(t * 6, (t + 1) * 6)), t * 4);
      }
      outs.forEach((o, i) => expect(Array.from(o)).toEqual(Array.from(alone[i]!)));
      // run() (SRU/QRNN block path) after interleaving, and stats kept per session.
      const more = smoothStream(9, 50, 6, 0.3);
      const a = createSession(model, { backend: 'wasm', ...opts });
      a.run(streams[0]!);
      const ya = a.run(more);
      sessions[0]!.step(more.subarray(0, 6));
      sessions[0]!.reset();
      const b = createSession(model, { backend: 'wasm', ...opts });
      b.run(streams[0]!);
      sessions[1]!.run(more);
      expect(Array.from(b.run(more))).toEqual(Array.from(ya));
    });
  }

  it('50,000 sessions created and dropped in a synchronous loop: flat wasm memory, no slowdown', () => {
    const k = loadKernels();
    const frame = new Float32Array(6).fill(0.1);
    createSession(model, { backend: 'wasm' }).step(frame);
    const bytes0 = k.allocatedBytes();
    const mem0 = k.memory.buffer.byteLength;
    const times: number[] = [];
    for (let block = 0; block < 5; block++) {
      const t0 = performance.now();
      for (let i = 0; i < 10_000; i++) createSession(model, { backend: 'wasm' }).step(frame);
      times.push(performance.now() - t0);
    }
    expect(k.allocatedBytes()).toBe(bytes0);
    expect(k.memory.buffer.byteLength).toBe(mem0);
    // Each block of 10,000 took longer than the last before (free-list growth): now flat (the
    // margin allows for a loaded machine).
    expect(times[4]! / Math.min(times[0]!, times[1]!)).toBeLessThan(3);
  }, 120_000);

  it('dispose() and Symbol.dispose end a session; using it afterwards is E_OPTION', () => {
    for (const backend of ['wasm', 'js'] as const) {
      const s: Session = createSession(model, { backend });
      s.step(new Float32Array(6));
      s.dispose();
      s.dispose(); // idempotent
      expectCode(() => s.step(new Float32Array(6)), 'E_OPTION', /after dispose/);
      expectCode(() => s.run(new Float32Array(12)), 'E_OPTION', /after dispose/);
      const t = createSession(model, { backend });
      t[Symbol.dispose]();
      expectCode(() => t.reset(), 'E_OPTION', /after dispose/);
    }
    // A disposed session's slot is free for the others, whose state is intact.
    const a = createSession(model, { backend: 'wasm' });
    const x = smoothStream(4, 10, 6, 0.3);
    const ref = createSession(model, { backend: 'wasm' }).run(x);
    const y1 = a.run(x.subarray(0, 30));
    const d = createSession(model, { backend: 'wasm' });
    d.step(x.subarray(0, 6));
    d.dispose();
    const y2 = a.run(x.subarray(30));
    expect([...y1, ...y2]).toEqual(Array.from(ref));
  });
});
