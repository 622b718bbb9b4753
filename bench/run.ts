/**
 * `npm run bench`: run every suite of bench/suites/index.ts in one process, print each section as
 * a table and write BENCHMARKS.md (machine, date, Node version, then one section per table).
 *
 * Options:
 *   --quick          short run (fewer repetitions), for smoke tests; BENCHMARKS.md is not written
 *                    unless --out is given
 *   --only a,b       run only the suites with these names
 *   --out <path>     where to write the report (default BENCHMARKS.md; with --quick, nothing);
 *                    with --only and an existing file, only the sections of the suites run are
 *                    replaced (the others are kept)
 *   --list           print the suite names and exit
 *
 * @example npm run bench -- --quick --only gru-step
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SUITES } from './suites/index.js';
import { kernelBuild } from '../src/kernels/wasm/loader.js';
import type { BenchContext, BenchSection, BenchSuite } from './types.js';

export interface RunOptions {
  quick: boolean;
  only: string[] | null;
  out: string | null;
  list: boolean;
}

export function parseArgs(argv: string[]): RunOptions {
  const opts: RunOptions = { quick: false, only: null, out: null, list: false };
  let outGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') opts.quick = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--only') opts.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a.startsWith('--only=')) opts.only = a.slice(7).split(',').filter(Boolean);
    else if (a === '--out') { opts.out = argv[++i] ?? null; outGiven = true; }
    else if (a.startsWith('--out=')) { opts.out = a.slice(6); outGiven = true; }
    else throw new Error(`bench: unknown argument ${a} (expected --quick, --only a,b, --out path, --list)`);
  }
  if (!outGiven) opts.out = opts.quick ? null : 'BENCHMARKS.md';
  return opts;
}

/** The machine line of the report: what the numbers were measured on. */
export function machineDescription(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `${model}, ${cpus.length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `${os.type()} ${os.release()} ${os.arch()}, Node ${process.version}`;
}

/** Format one section as a fixed-width text table (for the terminal). */
export function textTable(section: BenchSection): string {
  const all = [section.columns, ...section.rows];
  const widths = section.columns.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ');
  const out = [`== ${section.title} ==`, line(section.columns), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of section.rows) out.push(line(r));
  for (const n of section.notes ?? []) out.push(`  * ${n}`);
  return out.join('\n');
}

/** Format one section as Markdown. */
export function markdownSection(section: BenchSection): string {
  const esc = (v: string) => v.replace(/\|/g, '\\|');
  const out = [`## ${section.title}`, '', `| ${section.columns.map(esc).join(' | ')} |`,
    `| ${section.columns.map((_, c) => (c === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const r of section.rows) out.push(`| ${r.map(esc).join(' | ')} |`);
  if (section.notes?.length) {
    out.push('');
    for (const n of section.notes) out.push(`- ${n}`);
  }
  return out.join('\n');
}

export function markdownReport(sections: BenchSection[], opts: { quick: boolean; date: Date; failures: string[] }): string {
  const head = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand. Re-run it to refresh.',
    '',
    `- Machine: ${machineDescription()}`,
    `- Date: ${opts.date.toISOString()}`,
    `- Mode: ${opts.quick ? 'quick (few repetitions: indicative only)' : 'full'}`,
    `- Kernel build that ran: ${kernelBuild()} (relaxed SIMD where the engine validates it and passes the self-test, else SIMD128)`,
    `- Load average when the report was written (1, 5, 15 min): ${os.loadavg().map((v) => v.toFixed(2)).join(', ')} on ${os.cpus().length} cores` +
      (os.loadavg()[0]! > os.cpus().length * 0.75 ? ': the machine was busy with other work, absolute times are inflated; ratios measured in the same run are more reliable' : ''),
    '- Times are medians of repeated runs on a machine that may be shared; see each section for its method.',
  ];
  for (const f of opts.failures) head.push(`- Suite failed: ${f}`);
  return [head.join('\n'), ...sections.map(markdownSection)].join('\n\n') + '\n';
}

/** The part of a section heading that names it: the text before its first parenthesis (sizes and
 * thresholds inside the parentheses, or after them, may change from run to run). */
function sectionKey(heading: string): string {
  const i = heading.indexOf('(');
  return (i < 0 ? heading : heading.slice(0, i)).trim();
}

/**
 * A partial run (--only) merged into an existing report, so the sections of the suites that did
 * not run are kept, not lost: each new section replaces the one with the same heading (or the
 * only one with the same name before its first parenthesis), is marked with when and how it was
 * re-measured, and a section not found is appended. The report's header (machine, date of the
 * last full run) is kept.
 */
export function mergeReport(existing: string, sections: BenchSection[], opts: { date: Date; suites: string[]; failures: string[]; quick?: boolean }): string {
  const parts = existing.split(/^(?=## )/m);
  const stamp = `- Re-measured on ${opts.date.toISOString()} (\`npm run bench -- ${opts.quick ? '--quick ' : ''}--only ${opts.suites.join(',')}\`${opts.quick ? ', quick: few repetitions, indicative only' : ''}, Node ${process.version}, ${kernelBuild()} build, load average ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores); the other sections are from earlier runs.`;
  for (const section of sections) {
    const text = markdownSection(section) + '\n' + stamp + '\n\n';
    const heading = `## ${section.title}`;
    let at = parts.findIndex((p) => p.split('\n', 1)[0] === heading);
    if (at < 0) {
      const same = parts.map((p, i) => [p, i] as const).filter(([p]) => p.startsWith('## ') && sectionKey(p.split('\n', 1)[0]!) === sectionKey(heading));
      if (same.length === 1) at = same[0]![1];
    }
    if (at >= 0) parts[at] = text;
    else {
      if (!parts[parts.length - 1]!.endsWith('\n\n')) parts[parts.length - 1] = parts[parts.length - 1]!.replace(/\n*$/, '\n\n');
      parts.push(text);
    }
  }
  let out = parts.join('').replace(/\n+$/, '\n');
  for (const f of opts.failures) out += `\n- Suite failed in the run of ${opts.date.toISOString()}: ${f}\n`;
  return out;
}

/** Run the selected suites; a failing suite is reported and does not stop the others. */
export async function runSuites(suites: BenchSuite[], ctx: BenchContext): Promise<{ sections: BenchSection[]; failures: string[] }> {
  const sections: BenchSection[] = [];
  const failures: string[] = [];
  for (const suite of suites) {
    ctx.log(`bench: running ${suite.name}${ctx.quick ? ' (quick)' : ''}`);
    const t0 = performance.now();
    try {
      const got = await suite.run(ctx);
      sections.push(...got);
      for (const s of got) console.log(textTable(s) + '\n');
    } catch (e) {
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      failures.push(`${suite.name}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      // Through ctx.log, so a caller (the test of this harness) decides where a stack trace goes.
      ctx.log(`bench: suite ${suite.name} failed:\n${msg}`);
    }
    ctx.log(`bench: ${suite.name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { sections, failures };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    for (const s of SUITES) console.log(s.name);
    return;
  }
  const selected = opts.only ? SUITES.filter((s) => opts.only!.includes(s.name)) : SUITES;
  if (opts.only) {
    const unknown = opts.only.filter((n) => !SUITES.some((s) => s.name === n));
    if (unknown.length) throw new Error(`bench: unknown suite(s) ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
  }
  const ctx: BenchContext = { quick: opts.quick, log: (m) => process.stderr.write(m + '\n') };
  console.log(`Machine: ${machineDescription()}\nKernel build: ${kernelBuild()}\n`);
  const { sections, failures } = await runSuites(selected, ctx);
  if (opts.out) {
    // A partial run updates its own sections of an existing report instead of replacing the file.
    if (opts.only && existsSync(opts.out)) {
      writeFileSync(opts.out, mergeReport(readFileSync(opts.out, 'utf8'), sections, { date: new Date(), suites: selected.map((s) => s.name), failures, quick: opts.quick }));
      ctx.log(`bench: updated ${sections.length} section(s) of ${opts.out}, kept the others`);
    } else {
      writeFileSync(opts.out, markdownReport(sections, { quick: opts.quick, date: new Date(), failures }));
      ctx.log(`bench: wrote ${opts.out}`);
    }
  }
  if (failures.length) process.exitCode = 1;
}

// Run only when executed (tests import the helpers above).
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
