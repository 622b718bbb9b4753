/**
 * Trace files: round trips from sessions and the fixed-point machine, chunked replay equal to
 * whole-run simulation on every accelerator, replay without a model, bounded in-memory traces,
 * and malformed files as coded errors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { concat } from '../../fuzz/mutate.js';
import { cbtdPruneModel } from '../../src/compress/cbtd/index.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { createSession } from '../../src/runtime/session.js';
import { TRACE_MEMORY_LIMIT, type StepTrace } from '../../src/runtime/types.js';
import {
  ARCH_NAMES,
  createTraceFileWriter,
  openTraceFile,
  readTrace,
  simulate,
  simulateStream,
  traceEdgeDrnnWorkload,
  traceFileWorkloads,
  traceLayers,
  traceModel,
  TraceWriter,
  workloadFromTrace,
  type SimOutcome,
  type SimReport,
  type TraceHeader,
} from '../../src/sim/index.js';
import { codeOf, expectCode } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dk-trace-'));
function ok(r: SimOutcome): SimReport {
  if (!r.ok) throw new Error(r.reason);
  return r;
}

describe('trace files', () => {
  const model = randomModel(11, 13, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 3 }]);
  const frames = smoothStream(12, 13, 50);
  const th = { thresholdX: 0.1, thresholdH: 0.05 };

  it('a session streams its trace through onTrace into a TraceWriter; the file reads back step for step', () => {
    const steps: StepTrace[] = [];
    const parts: Uint8Array[] = [];
    const w = new TraceWriter({ layers: traceLayers(model, true), ...th, source: 'session', bias: false, chunkSteps: 8 }, (b) => parts.push(b.slice()));
    const s = createSession(model, { ...th, onTrace: (st) => (steps.push(st), w.write(st)) });
    s.run(frames);
    w.close();
    // 50 steps in chunks of 8: header, 7 chunks, end marker.
    expect(parts.length).toBe(1 + 7 + 1);
    const back = readTrace(concat(...parts));
    expect(back.steps.length).toBe(50);
    expect(back.steps).toEqual(steps);
    expect(back.header.layers.map((l) => l.traced)).toEqual([true, true, false]);
    // The session kept nothing.
    expect(() => s.trace()).toThrow(/without/);
  });

  it('chunked replay from a file equals whole-run simulation on all four accelerators, bias flags included', () => {
    const lstm = cbtdPruneModel(randomModel(3, 16, [{ kind: 'lstm', hiddenSize: 64 }]), { gamma: 0.5, pes: 64 });
    const cases = [
      { m: model, fixed: true },
      { m: model, fixed: false },
      { m: lstm, fixed: false },
    ];
    for (const [c, { m, fixed }] of cases.entries()) {
      const path = join(dir, `run${c}.dktrace`);
      const x = smoothStream(c, m.layers[0]!.inputSize, 40);
      const w = createTraceFileWriter(path, { layers: traceLayers(m, true), ...th, source: fixed ? 'fixed-point' : 'session', bias: fixed, chunkSteps: 7 });
      let whole;
      if (fixed) {
        whole = traceEdgeDrnnWorkload(m, x, { ...th, onTrace: (st) => w.write(st) }).workload;
      } else {
        const steps: StepTrace[] = [];
        createSession(m, { ...th, onTrace: (st) => (steps.push(st), w.write(st)) }).run(x);
        whole = workloadFromTrace(m, steps, th);
      }
      w.close();
      const file = openTraceFile(path);
      expect(file.header.bias).toBe(fixed);
      for (const arch of ARCH_NAMES) {
        const a = simulate(whole, arch);
        const b = simulateStream(traceFileWorkloads(file, m), arch, { keepPerStep: true });
        if (!a.ok) {
          expect(b.ok).toBe(false);
          continue;
        }
        const rb = ok(b);
        expect(rb.total.cycles, `${arch} case ${c}`).toBe(a.total.cycles);
        expect(rb.total.dramBytes).toBe(a.total.dramBytes);
        expect(rb.total.macs).toBe(a.total.macs);
        expect(Array.from(rb.perStep.cycles)).toEqual(Array.from(a.perStep.cycles));
        expect(rb.cyclePercentiles).toEqual(a.cyclePercentiles);
        expect(rb.layers.map((l) => l.cycles)).toEqual(a.layers.map((l) => l.cycles));
      }
      // Without keepPerStep the per-step arrays are not kept; the totals are the same.
      const lean = ok(simulateStream(traceFileWorkloads(file, m), 'spartus'));
      expect(lean.perStep.cycles.length).toBe(0);
      expect(lean.total.cycles).toBe(ok(simulate(whole, 'spartus')).total.cycles);
    }
  });

  it('replays without the model: EdgeDRNN, DeltaRNN and RNNAccel need only the shapes; Spartus counts every weight as nonzero', () => {
    const path = join(dir, 'nomodel.dktrace');
    const w = createTraceFileWriter(path, { layers: traceLayers(model, true), ...th, source: 'fixed-point', bias: true });
    traceEdgeDrnnWorkload(model, frames, { ...th, onTrace: (st) => w.write(st) });
    w.close();
    const file = openTraceFile(path);
    for (const arch of ['edgedrnn', 'deltarnn', 'rnnaccel'] as const) {
      const a = ok(simulateStream(traceFileWorkloads(file, model), arch));
      const b = ok(simulateStream(traceFileWorkloads(file), arch));
      expect(b.total.cycles, arch).toBe(a.total.cycles);
    }
    // Spartus on a CBTD-pruned model is faster than on the nominal dense weights.
    const lstm = cbtdPruneModel(randomModel(3, 16, [{ kind: 'lstm', hiddenSize: 64 }]), { gamma: 0.75, pes: 64 });
    const p2 = join(dir, 'lstm.dktrace');
    const w2 = createTraceFileWriter(p2, { layers: traceLayers(lstm, true), ...th, source: 'session', bias: false });
    createSession(lstm, { ...th, onTrace: (st) => w2.write(st) }).run(smoothStream(4, 16, 30));
    w2.close();
    const f2 = openTraceFile(p2);
    const pruned = ok(simulateStream(traceFileWorkloads(f2, lstm), 'spartus'));
    const nominal = ok(simulateStream(traceFileWorkloads(f2), 'spartus'));
    expect(nominal.total.cycles).toBeGreaterThan(pruned.total.cycles);
    // A model whose shapes differ from the trace's is refused.
    expectCode(() => traceModel(file.header, lstm), 'E_MISMATCH');
  });

  it('refuses to overwrite a file without force', () => {
    const path = join(dir, 'exists.dktrace');
    writeFileSync(path, 'keep me');
    expectCode(() => createTraceFileWriter(path, { layers: traceLayers(model, true), ...th, source: 'session', bias: false }), 'E_EXISTS');
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });

  it('trace: true is bounded: past TRACE_MEMORY_LIMIT steps a step fails with E_LIMIT and a pointer to onTrace', () => {
    const tiny = randomModel(1, 1, [{ kind: 'gru', hiddenSize: 1 }]);
    const s = createSession(tiny, { thresholdX: 0, trace: true, backend: 'js' });
    s.run(new Float32Array(TRACE_MEMORY_LIMIT));
    expect(s.trace().length).toBe(TRACE_MEMORY_LIMIT);
    expectCode(() => s.step([0]), 'E_LIMIT', /onTrace/);
    expect(s.stats().steps).toBe(TRACE_MEMORY_LIMIT);
  });
});

describe('malformed trace files are coded errors', () => {
  const header: TraceHeader = { format: 'deltakit-trace', version: 1, layers: [{ kind: 'gru', inputSize: 5, hiddenSize: 16, traced: true }], thresholdX: 0.1, thresholdH: 0.1, source: 'external', bias: true, chunkSteps: 4 };
  const good = () => {
    const parts: Uint8Array[] = [];
    const w = new TraceWriter(header, (b) => parts.push(b.slice()));
    for (let t = 0; t < 6; t++) w.write([{ firedX: Int32Array.of(t % 5), firedH: Int32Array.of(15 - t), bias: t === 0 }]);
    w.close();
    return concat(...parts);
  };
  const hdrEnd = () => 16 + new DataView(good().buffer).getUint32(12, true);

  it('a good file reads', () => {
    const r = readTrace(good());
    expect(r.steps.length).toBe(6);
    expect(r.steps[0]![0]).toEqual({ firedX: Int32Array.of(0), firedH: Int32Array.of(15), bias: true });
  });

  it('names what is wrong', () => {
    const b = good();
    expectCode(() => readTrace(b.subarray(0, 10)), 'E_FORMAT');
    const magic = b.slice();
    magic[0] = 0;
    expectCode(() => readTrace(magic), 'E_FORMAT', /magic/);
    const ver = b.slice();
    new DataView(ver.buffer).setUint32(8, 2, true);
    expectCode(() => readTrace(ver), 'E_UNSUPPORTED', /version 2/);
    const hl = b.slice();
    new DataView(hl.buffer).setUint32(12, 0xffffffff, true);
    expectCode(() => readTrace(hl), 'E_LIMIT');
    expectCode(() => readTrace(b.subarray(0, b.length - 8)), 'E_FORMAT', /cut short/);
    expectCode(() => readTrace(concat(b, Uint8Array.of(1))), 'E_FORMAT', /after the end/);
    // A chunk whose data inflates to more than its steps hold.
    const o = hdrEnd();
    const z = deflateSync(new Uint8Array(1000));
    const bomb = concat(b.subarray(0, o), Uint8Array.from([1, 0, 0, 0, z.length & 255, z.length >> 8, 0, 0]), z, new Uint8Array(8));
    expectCode(() => readTrace(bomb), 'E_FORMAT', /inflate/);
    // Bits past the input size (5 inputs: bits 5-7 of the first byte must be 0).
    const raw = new Uint8Array(1 + 1 + 2);
    raw[0] = 0;
    raw[1] = 0b1000_0000;
    const z2 = deflateSync(raw);
    const past = concat(b.subarray(0, o), Uint8Array.from([1, 0, 0, 0, z2.length, 0, 0, 0]), z2, new Uint8Array(8));
    expectCode(() => readTrace(past), 'E_FORMAT', /past element 4/);
    // A header that is valid JSON but not a trace header.
    const bad = new TextEncoder().encode(JSON.stringify({ ...header, layers: [{ kind: 'gru', inputSize: 5, hiddenSize: 16, traced: 'yes' }] }));
    const pre = new Uint8Array(16);
    pre.set(b.subarray(0, 8));
    new DataView(pre.buffer).setUint32(8, 1, true);
    new DataView(pre.buffer).setUint32(12, bad.length, true);
    expectCode(() => readTrace(concat(pre, bad, new Uint8Array(8))), 'E_FORMAT', /traced/);
  });

  it('random corruption never escapes as anything but a DeltakitError', () => {
    const rng = new Rng(99);
    const b = good();
    for (let i = 0; i < 400; i++) {
      const c = b.slice(0, rng.int(3) === 0 ? rng.int(b.length) : b.length);
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips && c.length > 0; f++) c[rng.int(c.length)] = rng.int(256);
      const code = codeOf(() => readTrace(c));
      expect(code === undefined || code.startsWith('E_'), `iteration ${i}: ${code}`).toBe(true);
    }
  });
});
