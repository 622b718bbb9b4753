import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { checkModelBalance } from '../../src/compress/cbtd/index.js';
import { loadModelOrCompressed } from '../../src/compress/codebook/index.js';
import { encodeNpy } from '../../src/core/npy.js';
import { encodeModel } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { createSession } from '../../src/runtime/session.js';
import { parseCsv } from '../../src/sim/report/csv.js';


describe('deltakit sim / sweep / prune / compress', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deltakit-sim-'));
  const model = randomModel(3, 16, [{ kind: 'gru', hiddenSize: 32 }, { kind: 'gru', hiddenSize: 32 }, { kind: 'linear', outputSize: 4 }]);
  const modelPath = join(dir, 'm.safetensors');
  writeFileSync(modelPath, encodeModel(model));
  const frames = smoothStream(5, 60, 16, 0.2);
  const xPath = join(dir, 'x.npy');
  writeFileSync(xPath, encodeNpy(frames, [60, 16]));

  it('sim prints the table and JSON of a real traced run', async () => {
    const text = await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--thx', '0.1', '--thh', '0.1', '--no-fixed-point');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/60 steps \(session trace\) at 125 MHz/);
    expect(text.err).toMatch(/trace: float session \(--no-fixed-point\)/);
    expect(text.out).toMatch(/^total/m);
    const j = await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--thx', '0.1', '--thh', '0.1', '--set', 'clockMHz=250', '--json', '--per-step', '--no-fixed-point');
    expect(j.code).toBe(0);
    const r = JSON.parse(j.out) as { total: { occupancy: number; latencyUs: number; steps: number }; params: { clockMHz: number }; layers: unknown[]; perStep: { cycles: number[] } };
    const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.1 });
    s.run(frames);
    expect(r.total.occupancy).toBeCloseTo(s.stats().occupancy, 12);
    expect(r.total.steps).toBe(60);
    expect(r.params.clockMHz).toBe(250);
    expect(r.layers).toHaveLength(3);
    expect(r.perStep.cycles).toHaveLength(60);
    // An energy override changes the energy and nothing else.
    const e = await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--thx', '0.1', '--thh', '0.1', '--set', 'clockMHz=250', '--json', '--energy', 'dramByte=0', '--energy', 'mac=0', '--no-fixed-point');
    const re = JSON.parse(e.out) as { total: { energyUJ: number; latencyUs: number; dramBytes: number }; energyTable: { dramByte: { pj: number } } };
    expect(re.energyTable.dramByte.pj).toBe(0);
    expect(re.total.latencyUs).toBe(r.total.latencyUs);
    expect(re.total.energyUJ).toBeLessThan((r as unknown as { total: { energyUJ: number } }).total.energyUJ);
    expect((await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--energy', 'laser=1')).err).toMatch(/E_OPTION: --energy/);
  });

  it('sim --arch all compares the four accelerators on one run', async () => {
    const r = await cli('sim', modelPath, '--arch', 'all', '--input', xPath, '--thx', '0.1', '--thh', '0.1', '--set', 'clockMHz=100');
    expect(r.code).toBe(0);
    for (const a of ['edgedrnn', 'spartus', 'deltarnn', 'rnnaccel']) expect(r.out).toMatch(new RegExp(`^${a}\\s+\\d`, 'm'));
    const j = JSON.parse((await cli('sim', modelPath, '--arch', 'all', '--input', xPath, '--thx', '0.1', '--thh', '0.1', '--set', 'clockMHz=100', '--set', 'timeBlock=2', '--json')).out) as Array<{ arch: string; params: Record<string, number> }>;
    expect(j.map((x) => x.arch)).toEqual(['deltarnn', 'edgedrnn', 'spartus', 'rnnaccel']);
    expect(j.every((x) => x.params.clockMHz === 100)).toBe(true);
    expect(j.find((x) => x.arch === 'rnnaccel')!.params.timeBlock).toBe(2);
    const lstmPath = join(dir, 'lstm-all.safetensors');
    writeFileSync(lstmPath, encodeModel(randomModel(1, 16, [{ kind: 'lstm', hiddenSize: 16 }])));
    const l = await cli('sim', lstmPath, '--arch', 'all', '--input', xPath);
    expect(l.code).toBe(0);
    expect(l.out).toMatch(/^edgedrnn\s+n\/a/m);
    expect(l.out).toMatch(/note: edgedrnn: cannot run this model/);
    // EdgeDRNN's row uses the fixed-point machine (the model fits), the others the float session.
    expect(r.err).toMatch(/trace: EdgeDRNN fixed-point machine/);
  });

  it('sim errors are coded', async () => {
    expect((await cli('sim', modelPath, '--arch', 'tpu', '--input', xPath)).err).toMatch(/E_OPTION: arch/);
    expect((await cli('sim', modelPath, '--arch', 'edgedrnn')).err).toMatch(/E_OPTION.*--input/);
    expect((await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--set', 'timeBlock=2')).err).toMatch(/E_OPTION/);
    const lstmPath = join(dir, 'lstm.safetensors');
    writeFileSync(lstmPath, encodeModel(randomModel(1, 16, [{ kind: 'lstm', hiddenSize: 16 }])));
    const hw = await cli('sim', lstmPath, '--arch', 'edgedrnn', '--input', xPath);
    expect(hw.code).toBe(1);
    expect(hw.err).toMatch(/E_HW_LIMIT/);
    const badX = join(dir, 'bad.npy');
    writeFileSync(badX, encodeNpy(new Float32Array(10), [2, 5]));
    expect((await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', badX)).err).toMatch(/E_SHAPE/);
  });

  it('sim on EdgeDRNN replays the bit-exact machine by default when the model fits, and says so', async () => {
    const r = await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--thx', '0.1', '--thh', '0.1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/60 steps \(fixed-point trace\)/);
    expect(r.err).toMatch(/trace: EdgeDRNN fixed-point machine .*--no-fixed-point/);
    expect((await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--thx', '0.1', '--thh', '0.1', '--fixed-point')).out).toBe(r.out);
    // At threshold 0 the float session fires every column, the hardware only nonzero deltas.
    const fp0 = JSON.parse((await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--thx', '0', '--thh', '0', '--json')).out) as { total: { occupancy: number } };
    const fl0 = JSON.parse((await cli('sim', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--thx', '0', '--thh', '0', '--json', '--no-fixed-point')).out) as { total: { occupancy: number } };
    expect(fl0.total.occupancy).toBe(1);
    expect(fp0.total.occupancy).toBeLessThan(1);
    // A model the machine cannot run falls back to the float session, with the reason.
    const wide = join(dir, 'wide.safetensors');
    writeFileSync(wide, encodeModel(randomModel(2, 16, [{ kind: 'gru', hiddenSize: 20 }])));
    const f = await cli('sim', wide, '--arch', 'edgedrnn', '--input', xPath);
    expect(f.err).toMatch(/trace: float session \(the model does not fit .*multiple of 8/);
    expect(r.err).toMatch(/warning: b_hn/);
    expect((await cli('sim', modelPath, '--arch', 'spartus', '--input', xPath, '--fixed-point')).err).toMatch(/E_OPTION: --fixed-point/);
  });

  it('sim --describe lists the preset with units and sources', async () => {
    const r = await cli('sim', '--arch', 'spartus', '--describe');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/actLatency\s+8\s+cycle\s+\[code\]/);
    expect(r.out).toMatch(/\[open\]/);
  });

  it('prune writes a balanced model; --check verifies it', async () => {
    const out = join(dir, 'pruned.safetensors');
    const r = await cli('prune', modelPath, '--gamma', '0.75', '--pes', '16', '--out', out, '--input', xPath);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/balanced: every PE/);
    expect(r.out).toMatch(/output change on .*x\.npy: max \d/);
    const pruned = await loadModelOrCompressed(out);
    const rep = checkModelBalance(pruned, 16);
    // 96 rows / 16 PEs = 6 per sub-column, floor(6 * 0.75) = 4 dropped: 2/3 sparse.
    expect(rep.filter((m) => Math.abs(m.sparsity - 2 / 3) < 1e-12).length).toBe(4);
    expect(rep.every((m) => m.balanced)).toBe(true);
    const c = await cli('prune', out, '--pes', '16', '--check', '--json');
    expect(JSON.parse(c.out).balanced).toBe(true);
    // An unbalanced PE count is reported as such.
    const u = await cli('prune', out, '--pes', '7', '--check');
    expect(u.out).toMatch(/NOT balanced/);
    expect((await cli('prune', modelPath, '--gamma', '0.75', '--out', out)).err).toMatch(/E_EXISTS/);
    expect((await cli('prune', modelPath, '--gamma', '2', '--out', join(dir, 'x.safetensors'))).err).toMatch(/E_OPTION/);
  });

  it('compress reports ratio and output effect; the .dkcb runs in sim', async () => {
    const out = join(dir, 'm.dkcb');
    const r = await cli('compress', modelPath, '--bits', '4', '--out', out, '--input', xPath, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { ratioVsFloat32: number; effect: { maxAbsDiff: number; argmaxAgreement: number } };
    expect(j.ratioVsFloat32).toBeGreaterThan(6);
    expect(j.effect.maxAbsDiff).toBeGreaterThan(0);
    expect(j.effect.argmaxAgreement).toBeGreaterThan(0.5);
    // --accuracy needs a classifier trained by deltakit (its metadata names corpus and features).
    expect((await cli('compress', modelPath, '--out', join(dir, 'acc.dkcb'), '--accuracy')).err).toMatch(/E_UNSUPPORTED/);
    const s = await cli('sim', out, '--arch', 'rnnaccel', '--input', xPath);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/RNNAccel/);
    // The file's 2-bit codec is what the decompressor model sees: less weight traffic than 4 bits.
    const out2 = join(dir, 'm2.dkcb');
    await cli('compress', modelPath, '--bits', '2', '--out', out2);
    const j4 = JSON.parse((await cli('sim', out, '--arch', 'rnnaccel', '--input', xPath, '--json')).out) as { params: { codebookBits: number }; total: { dramBytesPerStep: number } };
    const j2 = JSON.parse((await cli('sim', out2, '--arch', 'rnnaccel', '--input', xPath, '--json')).out) as { params: { codebookBits: number }; total: { dramBytesPerStep: number } };
    expect(j4.params.codebookBits).toBe(4);
    expect(j2.params.codebookBits).toBe(2);
    expect(j2.total.dramBytesPerStep).toBeLessThan(j4.total.dramBytesPerStep);
  });

  it('sweep writes CSV and SVG, and resumes an interrupted sweep', async () => {
    const prefix = join(dir, 'sw');
    const args = ['sweep', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--param', 'thx=0:0.2:0.1', '--param', 'clockMHz=100,200', '--thh', '0.05', '--out', prefix];
    const r = await cli(...args);
    expect(r.code).toBe(0);
    const csv = parseCsv(readFileSync(`${prefix}.csv`, 'utf8'));
    expect(csv.rows).toHaveLength(6);
    expect(csv.header.slice(0, 3)).toEqual(['thx', 'clockMHz', 'ok']);
    const lat = (thx: string, clk: string) => Number(csv.rows.find((x) => x.thx === thx && x.clockMHz === clk)!.latencyUs);
    expect(lat('0.2', '100')).toBeLessThan(lat('0', '100'));
    expect(lat('0.1', '200')).toBeCloseTo(lat('0.1', '100') / 2, 9);
    expect(readFileSync(`${prefix}.svg`, 'utf8')).toMatch(/^<svg/);
    // Drop the last two rows (as if interrupted) and resume.
    const lines = readFileSync(`${prefix}.csv`, 'utf8').trimEnd().split('\n');
    writeFileSync(`${prefix}.csv`, lines.slice(0, -2).join('\n') + '\n');
    const again = await cli(...args, '--resume');
    expect(again.err).toMatch(/2 points simulated, 4 resumed/);
    expect(parseCsv(readFileSync(`${prefix}.csv`, 'utf8')).rows).toHaveLength(6);
    expect((await cli(...args)).err).toMatch(/E_EXISTS/);
    const other = await cli('sweep', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--param', 'pes=8,16', '--out', prefix, '--resume');
    expect(other.err).toMatch(/E_MISMATCH/);
    expect((await cli('sweep', modelPath, '--arch', 'edgedrnn', '--input', xPath, '--param', 'bogus=1', '--out', join(dir, 'b'))).err).toMatch(/E_OPTION/);
    expect(existsSync(join(dir, 'b.csv'))).toBe(false);
  });
});
