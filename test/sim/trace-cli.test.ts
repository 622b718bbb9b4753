/** `deltakit run --trace-out`, `sim --trace` / `--trace-out`, `sweep --trace`, and `sim --per-step`. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/core/npy.js';
import { encodeModel } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { parseCsv } from '../../src/sim/report/csv.js';
import { cli } from '../helpers/cli.js';

describe('trace files from the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deltakit-trace-cli-'));
  const model = randomModel(8, 12, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 3 }]);
  const modelPath = join(dir, 'm.safetensors');
  writeFileSync(modelPath, encodeModel(model));
  const xPath = join(dir, 'x.npy');
  writeFileSync(xPath, encodeNpy(smoothStream(2, 30, 12, 0.2), [30, 12]));
  type Json = { total: { cycles: number; steps: number; occupancy: number }; perStep: { cycles: number[]; layerCycles: number[][] } };

  it('run --trace-out records a float session; sim --trace replays it to the same figures as sim --input', async () => {
    const trace = join(dir, 'run.dktrace');
    const r = await cli('run', modelPath, '--input', xPath, '--output', join(dir, 'y.npy'), '--thx', '0.1', '--thh', '0.1', '--trace-out', trace);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/wrote the trace of 30 steps/);
    for (const arch of ['edgedrnn', 'spartus', 'deltarnn', 'rnnaccel']) {
      const live = JSON.parse((await cli('sim', modelPath, '--arch', arch, '--input', xPath, '--thx', '0.1', '--thh', '0.1', '--no-fixed-point', '--json')).out) as Json;
      const replay = await cli('sim', modelPath, '--arch', arch, '--trace', trace, '--json');
      expect(replay.code, replay.err).toBe(0);
      expect((JSON.parse(replay.out) as Json).total).toEqual(live.total);
    }
    // Without the model: EdgeDRNN needs only the shapes.
    const noModel = JSON.parse((await cli('sim', '--arch', 'edgedrnn', '--trace', trace, '--json')).out) as Json;
    expect(noModel.total.cycles).toBe((JSON.parse((await cli('sim', modelPath, '--arch', 'edgedrnn', '--trace', trace, '--json')).out) as Json).total.cycles);
    // The file is not overwritten without --force.
    const again = await cli('run', modelPath, '--input', xPath, '--output', join(dir, 'y2.npy'), '--thx', '0.1', '--trace-out', trace);
    expect(again.err).toMatch(/E_EXISTS/);
  });

  it('sim --trace-out records the fixed-point trace; its replay has per-step and per-layer cycles', async () => {
    const trace = join(dir, 'fp.dktrace');
    const live = await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--thx', '0.05', '--thh', '0.05', '--trace-out', trace, '--json', '--per-step');
    expect(live.code, live.err).toBe(0);
    const replay = await cli('sim', '--arch', 'edgedrnn', '--trace', trace, '--json', '--per-step');
    const a = JSON.parse(live.out) as Json;
    const b = JSON.parse(replay.out) as Json;
    expect(b.total).toEqual(a.total);
    expect(b.perStep.cycles).toEqual(a.perStep.cycles);
    expect(b.perStep.layerCycles).toHaveLength(3);
    // Per step, the layers' cycles add up to the step's (no hand-off between steps).
    b.perStep.cycles.forEach((c, t) => expect(b.perStep.layerCycles[0]![t]! + b.perStep.layerCycles[1]![t]!).toBe(c));
    expect(b.perStep.layerCycles[2]!.every((c) => c === 0)).toBe(true);
    const text = await cli('sim', '--arch', 'edgedrnn', '--trace', trace, '--per-step');
    expect(text.out).toMatch(/^step\s+cycles\s+L0 gru\s+L1 gru/m);
    expect(text.out.match(/^\d+\s+\d+\s+\d+\s+\d+/gm)).toHaveLength(30);
    const all = await cli('sim', '--arch', 'all', '--trace', trace);
    expect(all.code).toBe(0);
    for (const arch of ['edgedrnn', 'spartus', 'deltarnn', 'rnnaccel']) expect(all.out).toMatch(new RegExp(`^${arch}\\s+\\d`, 'm'));
  });

  it('sweep --trace sweeps architecture parameters over a recorded run', async () => {
    const trace = join(dir, 'fp.dktrace');
    const prefix = join(dir, 'sw');
    const r = await cli('sweep', '--arch', 'edgedrnn', '--trace', trace, '--param', 'clockMHz=100,200', '--out', prefix);
    expect(r.code, r.err).toBe(0);
    const rows = parseCsv(readFileSync(`${prefix}.csv`, 'utf8')).rows;
    expect(rows.map((x) => Number(x.clockMHz))).toEqual([100, 200]);
    expect(Number(rows[0]!.latencyUs)).toBeCloseTo(2 * Number(rows[1]!.latencyUs), 9);
    expect((await cli('sweep', '--arch', 'edgedrnn', '--trace', trace, '--param', 'thx=0.1,0.2', '--out', join(dir, 'sw2'))).err).toMatch(/E_OPTION.*thx and thh/);
  });

  it('bad uses and bad files are coded errors', async () => {
    const trace = join(dir, 'fp.dktrace');
    expect((await cli('sim', modelPath, '--arch', 'edgedrnn', '--trace', trace, '--input', xPath)).err).toMatch(/E_OPTION: sim: give --input .* or --trace/);
    expect((await cli('sim', '--arch', 'edgedrnn', '--trace', trace, '--thx', '0.1')).err).toMatch(/E_OPTION/);
    expect((await cli('sim', '--arch', 'edgedrnn', '--trace', join(dir, 'missing.dktrace'))).err).toMatch(/E_IO/);
    const junk = join(dir, 'junk.dktrace');
    writeFileSync(junk, 'not a trace at all');
    expect((await cli('sim', '--arch', 'edgedrnn', '--trace', junk)).err).toMatch(/E_FORMAT: .*magic/);
    const cut = join(dir, 'cut.dktrace');
    const bytes = readFileSync(trace);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 8));
    const c = await cli('sim', '--arch', 'edgedrnn', '--trace', cut);
    expect(c.err).toMatch(/E_FORMAT: .*cut short/);
    expect(c.err).not.toMatch(/\n\s+at /); // no stack trace
    const other = join(dir, 'other.safetensors');
    writeFileSync(other, encodeModel(randomModel(1, 12, [{ kind: 'gru', hiddenSize: 24 }])));
    expect((await cli('sim', other, '--arch', 'edgedrnn', '--trace', trace)).err).toMatch(/E_MISMATCH/);
    // A refused sweep wrote nothing.
    expect(existsSync(join(dir, 'sw2.csv'))).toBe(false);
  });
});
