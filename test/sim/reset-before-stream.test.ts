/**
 * The reset-before GRU's q = r*h firings in the streaming workload builder (a session's onTrace),
 * and trace files: format version 1 has no q bitmap, so a delta reset-before GRU is refused there
 * with E_UNSUPPORTED (writer, header, replay and the CLI) instead of dropping W_hn's fetches.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/core/npy.js';
import { encodeModel } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { createSession } from '../../src/runtime/session.js';
import type { StepTrace } from '../../src/runtime/types.js';
import { simulate, traceLayers, traceModel, TraceWriter, WorkloadBuilder, workloadFromTrace } from '../../src/sim/index.js';
import { cli } from '../helpers/cli.js';
import { expectCode } from '../helpers/errors.js';

const model = randomModel(6, 10, [{ kind: 'gru', hiddenSize: 24, resetAfter: false }, { kind: 'lstm', hiddenSize: 12 }, { kind: 'linear', outputSize: 3 }]);
const opts = { thresholdX: 0.08, thresholdH: 0.04 };
const frames = smoothStream(3, 70, 10, 0.25);

describe('reset-before GRU: streamed workloads and trace files', () => {
  for (const backend of ['js', 'wasm'] as const) {
    it(`WorkloadBuilder fed by onTrace (${backend}) holds the q firings, equal to the in-memory trace's workload`, () => {
      const b = new WorkloadBuilder(model);
      const steps: StepTrace[] = [];
      createSession(model, { ...opts, backend, onTrace: (st) => b.add(st) }).run(frames);
      const s = createSession(model, { ...opts, backend, trace: true });
      s.run(frames);
      for (const st of s.trace()) steps.push(st);
      const streamed = b.build(opts);
      const whole = workloadFromTrace(model, steps, opts);
      const l0 = streamed.layers[0]!;
      expect(l0.qCols).toBe(24);
      expect(l0.hRows).toBe(48);
      expect(l0.qIdx!.length).toBe(s.stats().layers[0]!.firedQ);
      expect(l0.qIdx!.length).toBeGreaterThan(0);
      expect(Array.from(l0.qPtr!)).toEqual(Array.from(whole.layers[0]!.qPtr!));
      expect(Array.from(l0.qIdx!)).toEqual(Array.from(whole.layers[0]!.qIdx!));
      // The LSTM has no q group.
      expect(streamed.layers[1]!.qCols).toBe(0);
      expect(streamed.layers[1]!.qPtr).toBeNull();
      const r = simulate(streamed, 'spartus');
      const rw = simulate(whole, 'spartus');
      if (!r.ok || !rw.ok) throw new Error('spartus: expected a result');
      expect(r.layers[0]!.macs).toBe(rw.layers[0]!.macs);
      expect(r.layers[0]!.macs).toBeGreaterThan(0);
    });
  }

  it('q indices are checked like x and h: in range and strictly increasing', () => {
    const s = createSession(model, { ...opts, trace: true });
    s.run(frames.subarray(0, 20));
    const st = s.trace()[0]!;
    const e = st[0]!;
    const b = new WorkloadBuilder(model);
    expectCode(() => b.add([{ ...e, firedQ: Int32Array.from([3, 3]) }, st[1]!, null]), 'E_VALUE', /q indices must be strictly increasing/);
    expectCode(() => new WorkloadBuilder(model).add([{ ...e, firedQ: Int32Array.from([24]) }, st[1]!, null]), 'E_VALUE', /q index 24 outside 0..23/);
  });

  it('trace files refuse a delta reset-before GRU with E_UNSUPPORTED; a dense run of it is fine', () => {
    expectCode(() => traceLayers(model, true), 'E_UNSUPPORTED', /layer 0 is a reset-before GRU/);
    expect(traceLayers(model, false)[0]!.traced).toBe(false);
    const after = randomModel(6, 10, [{ kind: 'gru', hiddenSize: 24 }, { kind: 'lstm', hiddenSize: 12 }, { kind: 'linear', outputSize: 3 }]);
    const header = { layers: traceLayers(after, true), thresholdX: 0.08, thresholdH: 0.04, source: 'session' as const, bias: false };
    const w = new TraceWriter(header, () => {});
    const s = createSession(model, { ...opts, trace: true });
    s.run(frames.subarray(0, 10));
    expectCode(() => w.write(s.trace()[0]!), 'E_UNSUPPORTED', /q = r\*h firings/);
    // Replaying a (reset-after) trace on the reset-before model would drop the q fetches.
    expectCode(() => traceModel({ format: 'deltakit-trace', version: 1, chunkSteps: 4096, ...header }, model), 'E_UNSUPPORTED', /reset-before GRU/);
  });

  it('run --trace-out on a reset-before model: E_UNSUPPORTED, no trace file left behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-rb-trace-'));
    const modelPath = join(dir, 'rb.safetensors');
    writeFileSync(modelPath, encodeModel(model));
    const xPath = join(dir, 'x.npy');
    writeFileSync(xPath, encodeNpy(frames, [70, 10]));
    const trace = join(dir, 'rb.dktrace');
    const r = await cli('run', modelPath, '--input', xPath, '--output', join(dir, 'y.npy'), '--thx', '0.08', '--thh', '0.04', '--trace-out', trace);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/E_UNSUPPORTED.*reset-before GRU/);
    expect(existsSync(trace)).toBe(false);
    // Simulating it from the run works (the q firings are counted).
    const live = await cli('sim', modelPath, '--arch', 'spartus', '--input', xPath, '--thx', '0.08', '--thh', '0.04', '--json');
    expect(live.code, live.err).toBe(0);
  });
});
