/**
 * The fuzz harness (fuzz/) in the suite: a few hundred seeded inputs per format must give only
 * loads and coded errors, within the per-input time and memory caps; and the harness itself must
 * catch what it is for (an uncoded error, a hang, an unbounded allocation), or a clean run would
 * prove nothing. Longer runs: `npm run fuzz -- --format onnx --count 100000`.
 */
import { describe, expect, it } from 'vitest';
import { FUZZ_FORMATS } from '../../fuzz/formats.js';
import { runFuzz } from '../../fuzz/harness.js';

const FORMATS = FUZZ_FORMATS.filter((f) => !f.hidden).map((f) => f.name);

describe('fuzz harness', () => {
  it('covers every file format deltakit reads', () => {
    expect(FORMATS).toEqual(expect.arrayContaining(['safetensors', 'onnx', 'npy', 'dkcb', 'checkpoint', 'edgedrnn', 'keras', 'tfjs', 'trace', 'wav']));
  });

  it('catches an uncoded error, a hang and an unbounded allocation, and recovers after each', async () => {
    const r = await runFuzz({ format: 'selftest', inputs: [Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(0)], timeCapMs: 1000 });
    expect(r.inputs).toBe(4);
    expect(r.ok).toBe(2);
    expect(r.failures.map((f) => [f.index, f.kind])).toEqual([[1, 'bug'], [2, 'hang']]);
    expect(r.failures[0]!.detail).toMatch(/^TypeError: selftest/);
    // The memory cap, with a time cap long enough that only memory can stop the allocation.
    const m = await runFuzz({ format: 'selftest', inputs: [Uint8Array.of(3), Uint8Array.of(0)], timeCapMs: 60_000, memCapMb: 300 });
    expect(m.failures.map((f) => [f.index, f.kind])).toEqual([[0, 'oom']]);
    expect(m.ok).toBe(1);
  }, 120_000);

  for (const format of FORMATS) {
    it(`${format}: 300 seeded mutated inputs give only loads and coded errors within the caps`, async () => {
      const r = await runFuzz({ format, count: 300, seed: 20261207, timeCapMs: 5000, memCapMb: 1024 });
      expect(r.failures, JSON.stringify(r.failures.slice(0, 3), null, 1)).toEqual([]);
      expect(r.inputs).toBe(300);
      // The unmutated seeds (the first inputs) load; most mutations are refused.
      expect(r.ok).toBeGreaterThan(0);
      expect(Object.values(r.coded).reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
    }, 120_000);
  }
});
