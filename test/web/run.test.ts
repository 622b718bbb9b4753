/**
 * The playground's timing (web/run.ts, DOM-free): long streams give a bounded number of windows,
 * and every latency point spans enough measured time that the timer's resolution never shows as
 * a 0 us point (a 10^5-frame stream used to plot 4,000 points, many of them 0).
 */
import { describe, expect, it } from 'vitest';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { LATENCY_MIN_MS, MAX_POINTS, runSession } from '../../web/run.js';

describe('playground runSession', () => {
  it('a 100,000-frame stream: at most MAX_POINTS windows, latency points never 0 and covering the stream', () => {
    const model = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 8 }, { kind: 'linear', outputSize: 2 }]);
    const T = 100_000;
    const r = runSession('delta', model, smoothStream(2, T, 8, 0.2), { thresholdX: 0.1, thresholdH: 0.05 }, 25);
    expect(r.windows.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(r.latency.length).toBeGreaterThan(0);
    expect(r.latency.length).toBeLessThanOrEqual(r.windows.length);
    expect(r.latency.every((p) => p.usPerFrame > 0)).toBe(true);
    expect(r.latency[0]!.start).toBe(0);
    // Starts increase, and each span (but the last, which absorbs the remainder) holds >= 1 ms.
    for (let i = 1; i < r.latency.length; i++) {
      const a = r.latency[i - 1]!;
      const b = r.latency[i]!;
      expect(b.start).toBeGreaterThan(a.start);
      expect(((b.start - a.start) * a.usPerFrame) / 1000).toBeGreaterThanOrEqual(LATENCY_MIN_MS * 0.999);
    }
  });
  it('a short stream keeps the requested window', () => {
    const model = randomModel(1, 4, [{ kind: 'gru', hiddenSize: 4 }]);
    const r = runSession('dense', model, smoothStream(1, 100, 4, 0.2), {}, 25);
    expect(r.windows.map((w) => w.start)).toEqual([0, 25, 50, 75]);
  });
});
