/**
 * The benchmark harness: argument parsing, report formatting, failure isolation, and one real
 * suite (SRU multi-step) in quick mode. No timing is asserted.
 */
import { describe, expect, it, vi } from 'vitest';
import { markdownReport, mergeReport, parseArgs, runSuites, textTable } from '../../bench/run.js';
import { SUITES } from '../../bench/suites/index.js';
import { sruSuite } from '../../bench/suites/sru.js';
import type { BenchSection } from '../../bench/types.js';

const section: BenchSection = { title: 'T', columns: ['a', 'b|c'], rows: [['x', '1.0'], ['yy', '22']], notes: ['n1'] };

describe('bench harness', () => {
  it('parses options; --quick writes no report unless --out is given', () => {
    expect(parseArgs([])).toEqual({ quick: false, only: null, out: 'BENCHMARKS.md', list: false });
    expect(parseArgs(['--quick'])).toEqual({ quick: true, only: null, out: null, list: false });
    expect(parseArgs(['--quick', '--only', 'sru,delta', '--out', 'x.md'])).toEqual({ quick: true, only: ['sru', 'delta'], out: 'x.md', list: false });
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument/);
  });

  it('formats tables for the terminal and Markdown (pipes escaped)', () => {
    expect(textTable(section)).toMatch(/yy +22/);
    const md = markdownReport([section], { quick: false, date: new Date('2026-01-02T03:04:05Z'), failures: ['bad: boom'] });
    expect(md).toContain('| a | b\\|c |');
    expect(md).toContain('| --- | ---: |');
    expect(md).toContain('2026-01-02T03:04:05.000Z');
    expect(md).toContain('Suite failed: bad: boom');
    expect(md).toMatch(/Machine: .*logical cores/);
    expect(md).toMatch(/Kernel build that ran: (relaxed-simd|simd128|scalar)/);
  });

  it('a partial run replaces only its own sections of an existing report and keeps the others', () => {
    const mk = (title: string, cell: string): BenchSection => ({ title, columns: ['k', 'v'], rows: [['r', cell]] });
    const existing = markdownReport(
      [mk('Alpha', '1'), mk('Step pieces (thx 0.35)', '2'), mk('Gamma (H = 8)', '3'), mk('Gamma (H = 9)', '4')],
      { quick: false, date: new Date('2026-01-02T03:04:05Z'), failures: [] },
    );
    const merged = mergeReport(existing, [mk('Step pieces (thx 0.4)', '20'), mk('Gamma (H = 9)', '40'), mk('Delta', '5')], {
      date: new Date('2026-02-03T04:05:06Z'), suites: ['x', 'y'], failures: ['y: boom'],
    });
    // The header (date of the full run) and the untouched sections stay as they were.
    expect(merged.startsWith(existing.slice(0, existing.indexOf('## ')))).toBe(true);
    expect(merged).toContain('## Alpha\n\n| k | v |\n| --- | ---: |\n| r | 1 |');
    expect(merged).toContain('## Gamma (H = 8)\n\n| k | v |\n| --- | ---: |\n| r | 3 |');
    // Replaced in place: the same heading, or the only one with the same name before its parenthesis.
    expect(merged).not.toContain('thx 0.35');
    expect(merged).not.toContain('| r | 2 |');
    expect(merged).not.toContain('| r | 4 |');
    const order = ['## Alpha', '## Step pieces (thx 0.4)', '## Gamma (H = 8)', '## Gamma (H = 9)', '## Delta'].map((h) => merged.indexOf(h));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(merged.match(/Re-measured on 2026-02-03T04:05:06.000Z \(`npm run bench -- --only x,y`/g)).toHaveLength(3);
    expect(merged).toContain('Suite failed in the run of 2026-02-03T04:05:06.000Z: y: boom');
    // A quick run says so on the sections it replaced.
    const quick = mergeReport(existing, [mk('Alpha', '9')], { date: new Date('2026-02-03T04:05:06Z'), suites: ['x'], failures: [], quick: true });
    expect(quick).toContain('`npm run bench -- --quick --only x`, quick: few repetitions, indicative only');
  });

  it('a failing suite is reported and the others still run', async () => {
    const logs: string[] = [];
    // The failure (with its stack) goes to the log sink, not to the test run's stderr.
    const stderr = vi.spyOn(console, 'error');
    const { sections, failures } = await runSuites(
      [{ name: 'bad', run: async () => { throw new Error('boom'); } }, { name: 'good', run: async () => [section] }],
      { quick: true, log: (m) => logs.push(m) },
    );
    expect(failures).toEqual(['bad: boom']);
    expect(sections).toEqual([section]);
    expect(stderr).not.toHaveBeenCalled();
    expect(logs.join('\n')).toMatch(/suite bad failed:\nError: boom/);
  });

  it('suite names are unique', () => {
    const names = SUITES.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('the SRU multi-step suite runs in quick mode and reports T = 1, 4, 16, 32', async () => {
    const [q, s] = await sruSuite.run({ quick: true, log: () => {} });
    expect(q!.rows.map((r) => r[0])).toEqual(['1', '4', '16', '32']);
    expect(s!.rows.map((r) => r[0])).toEqual(['1', '4', '16', '32']);
    for (const r of s!.rows) expect(Number(r[1])).toBeGreaterThan(0);
  });
});
