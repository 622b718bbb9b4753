/**
 * Shared parsing of CLI option values: every bad value becomes one DeltakitError (E_OPTION)
 * naming the option, what was expected and what was found.
 */
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { check, fail } from '../core/errors.js';

/** Parse a finite number option (`--thx 0.1`). */
export function parseNumber(name: string, raw: string | undefined, opts: { min?: number; max?: number; integer?: boolean } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  check(raw.trim() !== '' && Number.isFinite(v), 'E_OPTION', () => `${name}: expected a number, found '${raw}'`);
  // Safe integers only: past 2^53 neighbouring integers collapse (two different --seed values gave one split).
  if (opts.integer) check(Number.isSafeInteger(v), 'E_OPTION', () => `${name}: expected an integer${Number.isInteger(v) ? ` of at most ${Number.MAX_SAFE_INTEGER}` : ''}, found '${raw}'`);
  if (opts.min !== undefined) check(v >= opts.min, 'E_OPTION', () => `${name}: expected at least ${opts.min}, found ${v}`);
  if (opts.max !== undefined) check(v <= opts.max, 'E_OPTION', () => `${name}: expected at most ${opts.max}, found ${v}`);
  return v;
}

/** Parse an option that must be one of a fixed set of words. */
export function parseChoice<T extends string>(name: string, raw: string | undefined, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) fail('E_OPTION', `${name}: expected one of ${choices.join(', ')}, found '${raw}'`);
  return raw as T;
}

/**
 * --dense runs the network without thresholds: --thx/--thh beside it would be ignored (listen,
 * kws detect, kws tune), so they are refused (E_OPTION).
 */
export function checkDenseThresholds(dense: boolean | undefined, thx: string | undefined, thh: string | undefined): void {
  const given = [thx !== undefined ? `--thx ${thx}` : '', thh !== undefined ? `--thh ${thh}` : ''].filter(Boolean);
  check(!dense || given.length === 0, 'E_OPTION', () => `--dense: expected no --thx/--thh with it (the dense network has no thresholds), found ${given.join(' and ')}`);
}

/**
 * --bias-convention places the biases of the delta memories: a dense network (no --thx/--thh) has
 * none, so the option would be ignored there (run, sim, sweep, export c): E_OPTION.
 */
export function checkBiasConventionNeedsDelta(biasConvention: string | undefined, delta: boolean): void {
  check(biasConvention === undefined || delta, 'E_OPTION', () => `--bias-convention ${biasConvention}: places the delta network's memory biases, expected --thx or --thh with it, found neither (a dense run has none)`);
}

/**
 * Refuse to overwrite a file the user already has, unless they said --force; and refuse, before
 * any work, a path that cannot be written at all (a directory, or a folder that does not exist),
 * which would otherwise fail only at the write, after a long run (E_IO).
 */
export function checkWritable(path: string, force: boolean | undefined): void {
  const stat = (p: string): Stats | undefined => {
    try {
      return statSync(p);
    } catch {
      return undefined; // missing, or under a file (ENOTDIR): the folder check below names it
    }
  };
  const kind = stat(path);
  check(!kind?.isDirectory(), 'E_IO', () => `cannot write ${path}: expected a file path, found a directory`);
  check(force === true || kind === undefined, 'E_EXISTS', () => `${path} exists: expected a new file (pass --force to overwrite)`);
  const dir = dirname(path);
  const parent = stat(dir);
  check(parent?.isDirectory(), 'E_IO', () => `cannot write ${path}: expected an existing folder ${dir}, found ${parent ? 'a file' : 'none'}`);
}

/** Create an output folder (and its parents) if missing; a path that cannot be one is E_IO. */
export function makeOutputDir(path: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    fail('E_IO', `cannot create ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (expected a folder path)`);
  }
}

/**
 * Refuse an output path whose extension names another format than the one written (`-o y.csv`
 * would otherwise get .npy bytes): E_OPTION naming the expected extension.
 */
export function checkExtension(name: string, path: string, extensions: readonly string[]): void {
  const lower = path.toLowerCase();
  check(extensions.some((e) => lower.endsWith(e)), 'E_OPTION', () => `${name}: expected a path ending in ${extensions.join(' or ')} (the format written), found '${path}'`);
}

/** Format a count with SI prefixes (1.23 M). */
export function si(v: number, digits = 3): string {
  const a = Math.abs(v);
  const [d, p] = a >= 1e12 ? [1e12, 'T'] : a >= 1e9 ? [1e9, 'G'] : a >= 1e6 ? [1e6, 'M'] : a >= 1e3 ? [1e3, 'k'] : [1, ''];
  return `${(v / d).toPrecision(digits)}${p ? ' ' + p : ''}`;
}

/** A plain text table with aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Run `work` with a signal that Ctrl-C (SIGINT) aborts, so long work can stop cleanly and keep
 * its resume state; the handler is removed when the work ends either way.
 *
 * @example const r = await untilInterrupted((signal) => tuneThresholds(model, ds, { ...o, signal }));
 */
export async function untilInterrupted<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
