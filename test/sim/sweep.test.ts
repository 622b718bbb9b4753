import { describe, expect, it } from 'vitest';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { csvLine, parseAxis, parseCsv, pointKey, runSweep, sweepColumns, sweepPoints } from '../../src/sim/index.js';

describe('sweep', () => {
  it('parses axes as lists and ranges, with coded errors', () => {
    expect(parseAxis('clockMHz=50:200:50')).toEqual({ name: 'clockMHz', values: [50, 100, 150, 200] });
    expect(parseAxis('thx=0:0.3:0.1').values).toEqual([0, 0.1, 0.2, 0.3]);
    expect(parseAxis('pes=8,16')).toEqual({ name: 'pes', values: [8, 16] });
    expect(() => parseAxis('bogus=1')).toThrow(/expected thx, thh or one of/);
    expect(() => parseAxis('pes=8,x')).toThrow(/comma-separated/);
    expect(() => parseAxis('pes=4:1:1')).toThrow(/stop >= start/);
    expect(() => parseAxis('thx=-1')).toThrow(/>= 0/);
  });

  it('grids are Cartesian products, first axis slowest', () => {
    const pts = sweepPoints([{ name: 'a', values: [1, 2] }, { name: 'b', values: [3, 4, 5] }]);
    expect(pts).toHaveLength(6);
    expect(pts[0]).toEqual({ a: 1, b: 3 });
    expect(pts[3]).toEqual({ a: 2, b: 3 });
    expect(pointKey(pts[5]!, ['a', 'b'])).toBe('a=2;b=5');
  });

  it('bounds the grid: at most 10,000 points in all, and 10,000 values per axis given as a list', () => {
    // Two ranges of 5,001 values each were 25 million points (GBs before the first simulation).
    const axis = (name: string, n: number) => ({ name, values: Array.from({ length: n }, (_, i) => i) });
    expect(sweepPoints([axis('pes', 100), axis('arrays', 100)])).toHaveLength(10_000);
    expect(() => sweepPoints([axis('pes', 101), axis('arrays', 100)])).toThrow(/^sweep: at most 10000 points \(the product of the --param axes\), found pes 101 x arrays 100 = 10100$/);
    expect(() => parseAxis(`pes=${Array.from({ length: 10_001 }, (_, i) => i).join(',')}`)).toThrow(/^--param pes: at most 10000 values, found 10001$/);
  });

  it('runs every point once, skips done ones, and stops when asked', async () => {
    const model = randomModel(2, 8, [{ kind: 'gru', hiddenSize: 16 }]);
    const frames = smoothStream(1, 30, 8, 0.2);
    const axes = [parseAxis('thx=0,0.1,0.2'), parseAxis('clockMHz=100,200')];
    const rows: Array<Record<string, number | string>> = [];
    const all = await runSweep(model, frames, axes, { arch: 'edgedrnn', thresholdH: 0.05, onRow: (r) => rows.push(r) });
    expect(all).toEqual({ ran: 6, skipped: 0, stopped: false });
    expect(rows.every((r) => r.ok === 1)).toBe(true);
    const lat = (thx: number, clk: number) => rows.find((r) => r.thx === thx && r.clockMHz === clk)!.latencyUs as number;
    expect(lat(0.1, 200)).toBeCloseTo(lat(0.1, 100) / 2, 9);
    expect(lat(0.2, 100)).toBeLessThan(lat(0, 100));
    const done = new Set(rows.slice(0, 4).map((r) => pointKey(r as Record<string, number>, ['thx', 'clockMHz'])));
    const rest: unknown[] = [];
    expect(await runSweep(model, frames, axes, { arch: 'edgedrnn', done, onRow: (r) => rest.push(r) })).toEqual({ ran: 2, skipped: 4, stopped: false });
    let n = 0;
    const stopped = await runSweep(model, frames, axes, { arch: 'edgedrnn', onRow: () => n++, shouldStop: () => n >= 2 });
    expect(stopped).toEqual({ ran: 2, skipped: 0, stopped: true });
    // A point the hardware cannot run is a row with its reason, not a crash.
    const bad: Array<Record<string, number | string>> = [];
    await runSweep(model, frames, [parseAxis('pes=8')], { arch: 'spartus', set: { onChipWeightBytes: 10 }, onRow: (r) => bad.push(r) });
    expect(bad[0]).toMatchObject({ ok: 0, reason: expect.stringMatching(/on chip/) });
    expect(sweepColumns(['thx'])[0]).toBe('thx');
    // Fixed-point traces: the thresholds are register codes, so thx = 0.1 and 0.1001 fire alike.
    const fp: Array<Record<string, number | string>> = [];
    await runSweep(model, frames, [parseAxis('thx=0.1,0.1001,0.3')], { arch: 'edgedrnn', thresholdH: 0.05, fixedPoint: true, onRow: (r) => fp.push(r) });
    expect(fp[0]!.latencyUs).toBe(fp[1]!.latencyUs);
    expect(fp[2]!.latencyUs as number).toBeLessThan(fp[0]!.latencyUs as number);
  });

  it('CSV lines round-trip through the parser, quotes and commas included', () => {
    const text = [csvLine(['a', 'b', 'reason']), csvLine([1, 2.5, 'x, "quoted"']), csvLine([3, '', 'plain'])].join('\n') + '\n';
    const { header, rows } = parseCsv(text);
    expect(header).toEqual(['a', 'b', 'reason']);
    expect(rows).toEqual([
      { a: '1', b: '2.5', reason: 'x, "quoted"' },
      { a: '3', b: '', reason: 'plain' },
    ]);
  });
});
