import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cbtdPruneMatrix,
  cbtdPruneModel,
  cbtdStorageBytes,
  checkMatrixBalance,
  checkModelBalance,
  decodeCbtd,
  encodeCbtd,
} from '../../src/compress/cbtd/index.js';
import { DeltakitError } from '../../src/core/errors.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { Rng } from '../../src/core/rng.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import type { GruLayer, LstmLayer } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/session.js';

const randMatrix = (seed: number, n: number) => new Rng(seed).uniformArray(n, -1, 1);

describe('CBTD pruning', () => {
  it('keeps exactly len - floor(len*gamma) weights per PE per column: the TIMIT setup keeps 4 of 64', () => {
    // 4H = 4096 rows over N = 64 PEs: 64 rows per sub-column, floor(64*0.94) = 60 dropped.
    const rows = 4096;
    const cols = 8;
    const w = randMatrix(1, rows * cols);
    const p = cbtdPruneMatrix(w, rows, cols, { gamma: 0.94, pes: 64 });
    const b = checkMatrixBalance('w', p, rows, cols, 64);
    expect(b.balanced).toBe(true);
    expect(b.maxPerPe).toBe(4);
    expect(b.sparsity).toBeCloseTo(0.9375, 12);
  });

  it('drops the smallest magnitudes of each sub-column (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 6 }), fc.double({ min: 0, max: 0.99, noNaN: true }), (seed, pes, cols, gamma) => {
        const rows = pes * 5 + (seed % pes);
        const w = randMatrix(seed, rows * cols);
        const p = cbtdPruneMatrix(w, rows, cols, { gamma, pes });
        for (let j = 0; j < cols; j++) {
          for (let q = 0; q < pes; q++) {
            const kept: number[] = [];
            const dropped: number[] = [];
            for (let r = q; r < rows; r += pes) (p[r * cols + j] === 0 ? dropped : kept).push(Math.abs(w[r * cols + j]!));
            const len = kept.length + dropped.length;
            expect(dropped.length).toBe(Math.floor(len * gamma));
            if (kept.length && dropped.length) expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...dropped));
            // Kept weights are unchanged.
            for (let r = q; r < rows; r += pes) if (p[r * cols + j] !== 0) expect(p[r * cols + j]).toBe(w[r * cols + j]);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('alpha < 1 drops only targeted weights, some of them, reproducibly by seed', () => {
    const rows = 64;
    const cols = 32;
    const w = randMatrix(3, rows * cols);
    const full = cbtdPruneMatrix(w, rows, cols, { gamma: 0.5, pes: 8 });
    const half = cbtdPruneMatrix(w, rows, cols, { gamma: 0.5, pes: 8, alpha: 0.5, seed: 9 });
    const again = cbtdPruneMatrix(w, rows, cols, { gamma: 0.5, pes: 8, alpha: 0.5, seed: 9 });
    expect(Array.from(half)).toEqual(Array.from(again));
    let droppedHalf = 0;
    for (let i = 0; i < w.length; i++) {
      if (half[i] === 0) {
        droppedHalf++;
        expect(full[i]).toBe(0); // only targeted weights can be dropped
      }
    }
    const droppedFull = full.filter((v) => v === 0).length;
    expect(droppedHalf).toBeGreaterThan(0.3 * droppedFull);
    expect(droppedHalf).toBeLessThan(0.7 * droppedFull);
  });

  it('prunes every GRU/LSTM weight matrix, never biases, linear only with gammaFc', () => {
    const m = randomModel(5, 20, [{ kind: 'gru', hiddenSize: 32 }, { kind: 'lstm', hiddenSize: 16 }, { kind: 'linear', outputSize: 32 }]);
    const p = cbtdPruneModel(m, { gamma: 0.75, pes: 16 });
    const gru = p.layers[0] as GruLayer;
    const lstm = p.layers[1] as LstmLayer;
    expect(gru.biasIh).toBe((m.layers[0] as GruLayer).biasIh);
    expect(gru.biasHh).toBe((m.layers[0] as GruLayer).biasHh);
    expect(lstm.biasIh).toBe((m.layers[1] as LstmLayer).biasIh);
    expect(p.layers[2]).toBe(m.layers[2]);
    const report = checkModelBalance(p, 16);
    for (const r of report.slice(0, 4)) {
      expect(r.balanced).toBe(true);
      // 96 rows / 16 PEs = 6 per sub-column, floor(6*0.75) = 4 dropped -> 2 kept (GRU);
      // LSTM 64 rows / 16 = 4, floor(3) dropped -> 1 kept.
      expect(r.maxPerPe).toBe(r.rows === 96 ? 2 : 1);
    }
    expect(report[4]!.maxPerPe).toBe(2); // linear untouched: 32 rows / 16 PEs, all nonzero
    expect(report[4]!.sparsity).toBe(0);
    const fcPruned = cbtdPruneModel(m, { gamma: 0.75, pes: 16, gammaFc: 0.5 });
    expect(checkModelBalance(fcPruned, 16)[4]!.sparsity).toBeGreaterThan(0);
    expect(JSON.parse(p.meta.cbtd!)).toMatchObject({ gamma: 0.75, pes: 16 });
  });

  it('the balance check finds an unbalanced PE', () => {
    const rows = 48;
    const cols = 4;
    const p = cbtdPruneMatrix(randMatrix(7, rows * cols), rows, cols, { gamma: 0.5, pes: 8 });
    expect(checkMatrixBalance('p', p, rows, cols, 8).balanced).toBe(true);
    const firstNonzero = p.findIndex((v) => v !== 0);
    p[firstNonzero] = 0;
    const b = checkMatrixBalance('p', p, rows, cols, 8);
    expect(b.balanced).toBe(false);
    expect(b.minPerPe).toBe(b.maxPerPe - 1);
  });

  it('rejects bad options with coded errors', () => {
    const w = new Float32Array(16);
    expect(() => cbtdPruneMatrix(w, 4, 4, { gamma: 1.2, pes: 2 })).toThrow(DeltakitError);
    expect(() => cbtdPruneMatrix(w, 4, 4, { gamma: 0.5, pes: 0 })).toThrow(/pes/);
    expect(() => cbtdPruneMatrix(w, 4, 5, { gamma: 0.5, pes: 2 })).toThrow(/expected 4x5/);
    try {
      cbtdPruneMatrix(w, 4, 4, { gamma: Number.NaN, pes: 2 });
    } catch (e) {
      expect((e as DeltakitError).code).toBe('E_VALUE');
    }
  });
});

describe('CBTD storage', () => {
  it('round-trips any matrix exactly (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 5 }), fc.double({ min: 0, max: 0.95, noNaN: true }), (seed, pes, cols, gamma) => {
        const rows = pes * 3 + (seed % 5);
        const w = cbtdPruneMatrix(randMatrix(seed, rows * cols), rows, cols, { gamma, pes });
        const m = encodeCbtd(w, rows, cols, pes);
        expect(maxAbsDiff(decodeCbtd(m), w)).toBe(0);
        expect(m.nonzeros).toBe(w.filter((v) => v !== 0).length);
        expect(m.values.length).toBe(cols * pes * m.k);
      }),
      { numRuns: 60 },
    );
  });

  it('a balanced matrix needs no padding and costs K slots per PE per column', () => {
    const rows = 256;
    const cols = 10;
    const w = cbtdPruneMatrix(randMatrix(2, rows * cols), rows, cols, { gamma: 0.75, pes: 16 });
    const m = encodeCbtd(w, rows, cols, 16);
    expect(m.balanced).toBe(true);
    expect(m.k).toBe(4);
    expect(m.nonzeros).toBe(cols * 16 * 4);
    // 4 slots x (8-bit value + 4-bit index for 16 rows per sub-column) per PE and column.
    expect(cbtdStorageBytes(m, 8)).toBe((cols * 16 * 4 * 12) / 8);
  });
});

describe('CBTD executor in the runtime delta path', () => {
  const model = randomModel(11, 24, [{ kind: 'gru', hiddenSize: 64 }, { kind: 'lstm', hiddenSize: 32 }, { kind: 'linear', outputSize: 6 }]);
  const pruned = cbtdPruneModel(model, { gamma: 0.75, pes: 16 });
  const frames = smoothStream(4, 120, 24);

  for (const opts of [{ thresholdX: 0.05, thresholdH: 0.02 }, { thresholdX: 0, thresholdH: 0 }, {}] as const) {
    it(`matches the dense-storage session within 1e-6 (${JSON.stringify(opts)})`, () => {
      const ref = createSession(pruned, opts);
      const fast = createSession(pruned, { ...opts, weightStorage: 'cbtd', cbtdPes: 16 });
      expect(fast.paths).toEqual(['js-cbtd', 'js-cbtd', 'js']);
      expect(ref.paths).not.toContain('js-cbtd');
      const a = ref.run(frames);
      const b = fast.run(frames);
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-6);
      const sa = ref.stats();
      const sb = fast.stats();
      expect(sb.occupancy).toBe(sa.occupancy);
      if (opts.thresholdX !== undefined && opts.thresholdX > 0) expect(sa.occupancy).toBeLessThan(1);
    });
  }

  it('equals the dense-storage session for any cell, size, gamma, PE count and thresholds (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('gru' as const, 'lstm' as const),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 24 }),
        fc.double({ min: 0, max: 0.95, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 1, max: 1e6 }),
        (kind, I, H, pes, gamma, th, seed) => {
          const m = cbtdPruneModel(randomModel(seed, I, [{ kind, hiddenSize: H }]), { gamma, pes: Math.min(pes, (kind === 'gru' ? 3 : 4) * H) });
          const x = smoothStream(seed, 15, I, 0.3);
          const o = { thresholdX: th, thresholdH: th / 2, backend: 'js' as const };
          const a = createSession(m, o).run(x);
          const fast = createSession(m, { ...o, weightStorage: 'cbtd', cbtdPes: pes });
          expect(fast.paths[0]).toBe('js-cbtd');
          expect(maxAbsDiff(a, fast.run(x))).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('runs unpruned and unbalanced models too (padding slots add nothing)', () => {
    const ref = createSession(model, { thresholdX: 0.05, thresholdH: 0.05 });
    const fast = createSession(model, { thresholdX: 0.05, thresholdH: 0.05, weightStorage: 'cbtd', cbtdPes: 7 });
    expect(maxAbsDiff(ref.run(frames), fast.run(frames))).toBeLessThan(1e-6);
  });

  it('edgedrnn bias convention and reset behave as the dense executor', () => {
    const opts = { thresholdX: 0.05, thresholdH: 0.02, biasConvention: 'edgedrnn' as const };
    const ref = createSession(pruned, opts);
    const fast = createSession(pruned, { ...opts, weightStorage: 'cbtd' });
    ref.run(frames.subarray(0, 240));
    fast.run(frames.subarray(0, 240));
    ref.reset();
    fast.reset();
    expect(maxAbsDiff(ref.run(frames), fast.run(frames))).toBeLessThan(1e-6);
  });

  it('rejects a bad storage option', () => {
    expect(() => createSession(pruned, { weightStorage: 'csr' as 'cbtd' })).toThrow(/weightStorage/);
    expect(() => createSession(pruned, { weightStorage: 'cbtd', cbtdPes: 0 })).toThrow(/cbtdPes/);
    expect(() => createSession(pruned, { weightStorage: 'cbtd', weights: 'int8' })).toThrow(/runs on backend 'js'/);
    expect(() => createSession(pruned, { weightStorage: 'cbtd', backend: 'wasm' })).toThrow(/runs on backend 'js'/);
    expect(createSession(pruned, { weightStorage: 'cbtd', backend: 'js' }).paths[0]).toBe('js-cbtd');
  });
});
