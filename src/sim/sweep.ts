/**
 * Sweeps: a grid over thresholds (thx, thh) and architecture parameters, one simulation per
 * point. Each threshold pair needs one traced session run (cached); parameter changes reuse it.
 * Points already done (a resumed sweep) are skipped; the caller may stop between points.
 */
import { check } from '../core/errors.js';
import type { Model } from '../model/types.js';
import type { BiasConvention } from '../runtime/types.js';
import { PARAMS } from './spec/params.js';
import { summaryRow } from './report/format.js';
import { traceEdgeDrnnWorkload, traceWorkload } from './run.js';
import { simulate, simulateStream } from './simulate.js';
import { traceFileWorkloads, type TraceFile } from './trace/file.js';
import type { Workload } from './workload/workload.js';

export interface SweepAxis {
  /** `thx`, `thh`, or an architecture parameter name. */
  name: string;
  values: number[];
}

export type SweepPoint = Record<string, number>;

/** Most values of one axis, and most points of a whole sweep (the product of its axes). */
export const MAX_SWEEP_POINTS = 10_000;

/**
 * Parse `name=v1,v2,...` or `name=start:stop:step` into an axis.
 *
 * @example parseAxis('clockMHz=50:200:50') // { name: 'clockMHz', values: [50, 100, 150, 200] }
 */
export function parseAxis(text: string): SweepAxis {
  const m = /^([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(text.trim());
  check(m !== null, 'E_OPTION', () => `--param: expected name=v1,v2,... or name=start:stop:step, found '${text}'`);
  const name = m[1]!;
  check(name === 'thx' || name === 'thh' || name in PARAMS, 'E_OPTION', () => `--param ${name}: expected thx, thh or one of ${Object.keys(PARAMS).join(', ')}`);
  let values: number[];
  const range = /^([^:]+):([^:]+):([^:]+)$/.exec(m[2]!);
  if (range) {
    const [a, b, s] = [Number(range[1]), Number(range[2]), Number(range[3])];
    check([a, b, s].every(Number.isFinite) && s > 0 && b >= a, 'E_OPTION', () => `--param ${name}: range start:stop:step needs finite numbers, step > 0, stop >= start; found '${m[2]}'`);
    const n = Math.floor((b - a) / s + 1e-9) + 1;
    check(n <= MAX_SWEEP_POINTS, 'E_LIMIT', () => `--param ${name}: at most ${MAX_SWEEP_POINTS} values, found ${n}`);
    values = Array.from({ length: n }, (_, i) => Number((a + i * s).toPrecision(12)));
  } else {
    values = m[2]!.split(',').map((s) => Number(s));
    check(values.every((v) => Number.isFinite(v)), 'E_OPTION', () => `--param ${name}: expected comma-separated numbers, found '${m[2]}'`);
    check(values.length <= MAX_SWEEP_POINTS, 'E_LIMIT', () => `--param ${name}: at most ${MAX_SWEEP_POINTS} values, found ${values.length}`);
  }
  check(values.every((v) => v >= 0), 'E_VALUE', () => `--param ${name}: values must be >= 0, found ${values.join(', ')}`);
  return { name, values };
}

/**
 * The Cartesian product of the axes, first axis varying slowest. At most MAX_SWEEP_POINTS (E_LIMIT):
 * two axes of 5,001 values each were 25 million points, several GB before the first simulation.
 */
export function sweepPoints(axes: SweepAxis[]): SweepPoint[] {
  const n = axes.reduce((a, ax) => a * ax.values.length, 1);
  check(n <= MAX_SWEEP_POINTS, 'E_LIMIT', () => `sweep: at most ${MAX_SWEEP_POINTS} points (the product of the --param axes), found ${axes.map((a) => `${a.name} ${a.values.length}`).join(' x ')} = ${n}`);
  let points: SweepPoint[] = [{}];
  for (const ax of axes) points = points.flatMap((p) => ax.values.map((v) => ({ ...p, [ax.name]: v })));
  return points;
}

/** A stable key of a point over the given axis names (what resume matches on). */
export function pointKey(p: SweepPoint, names: string[]): string {
  return names.map((n) => `${n}=${p[n]}`).join(';');
}

/** The CSV columns of a sweep over these axes. */
export function sweepColumns(axisNames: string[]): string[] {
  return [...axisNames, 'ok', ...SUMMARY_FIELDS, 'reason'];
}

/** The figures each sweep row records (and --y can plot). */
export const SUMMARY_FIELDS = ['latencyUs', 'maxLatencyUs', 'cycles', 'stallCycles', 'effectiveGops', 'speedupOverPeak', 'speedupOverDenseUpdate', 'utilisation', 'occupancy', 'dramBytesPerStep', 'energyPerStepUJ'] as const;

export interface SweepOptions {
  arch: string;
  /** Fixed overrides applied to every point (swept parameters win). */
  set?: Record<string, number>;
  /** Thresholds when not swept (undefined: dense unless the other is swept). */
  thresholdX?: number;
  thresholdH?: number;
  biasConvention?: BiasConvention;
  /** EdgeDRNN: trace the bit-exact fixed-point machine instead of the float session. */
  fixedPoint?: boolean;
  /**
   * Replay this trace file at every point instead of running the model (thx/thh cannot be swept:
   * the trace fixed the firing). The model, if given, supplies the weights (Spartus' CBTD costs).
   */
  trace?: TraceFile;
  /** Keys of points already done (resume). */
  done?: Set<string>;
  /** Called with each finished row (the point, then the summary figures). */
  onRow: (row: Record<string, number | string>) => void;
  /** Checked between points: return true to stop early. */
  shouldStop?: () => boolean;
}

/**
 * Run the sweep; returns how many points ran and how many were skipped as already done.
 *
 * @example await runSweep(model, frames, [parseAxis('thx=0:0.2:0.05')], { arch: 'edgedrnn', onRow: (r) => rows.push(r) });
 */
export async function runSweep(model: Model | undefined, frames: Float32Array | undefined, axes: SweepAxis[], o: SweepOptions): Promise<{ ran: number; skipped: number; stopped: boolean }> {
  check(axes.length > 0, 'E_OPTION', () => 'sweep: expected at least one --param axis');
  const names = axes.map((a) => a.name);
  check(new Set(names).size === names.length, 'E_OPTION', () => `sweep: each axis once, found ${names.join(', ')}`);
  if (o.trace) {
    check(!names.includes('thx') && !names.includes('thh'), 'E_OPTION', () => 'sweep --trace: the trace fixed the firing, so thx and thh cannot be swept; sweep architecture parameters');
  } else {
    check(model !== undefined && frames !== undefined, 'E_OPTION', () => 'sweep: expected a model and input frames, or a trace file');
  }
  const cache = new Map<string, Workload>();
  let ran = 0;
  let skipped = 0;
  for (const p of sweepPoints(axes)) {
    // Yield to the event loop between points so a Ctrl-C handler can ask us to stop.
    await new Promise((resolve) => setImmediate(resolve));
    if (o.shouldStop?.()) return { ran, skipped, stopped: true };
    const key = pointKey(p, names);
    if (o.done?.has(key)) {
      skipped++;
      continue;
    }
    const set: Record<string, number> = { ...(o.set ?? {}) };
    for (const n of names) if (n !== 'thx' && n !== 'thh') set[n] = p[n]!;
    let r;
    if (o.trace) {
      // Chunk by chunk from the file at every point: bounded memory whatever the trace's length.
      r = simulateStream(traceFileWorkloads(o.trace, model), o.arch, { set });
    } else {
      const thx = p.thx ?? o.thresholdX;
      const thh = p.thh ?? o.thresholdH;
      const tkey = `${thx};${thh}`;
      let w = cache.get(tkey);
      if (!w) {
        const th = { ...(thx !== undefined ? { thresholdX: thx } : {}), ...(thh !== undefined ? { thresholdH: thh } : {}) };
        w = o.fixedPoint
          ? traceEdgeDrnnWorkload(model!, frames!, th).workload
          : traceWorkload(model!, frames!, { ...th, ...(o.biasConvention ? { biasConvention: o.biasConvention } : {}) }).workload;
        cache.set(tkey, w);
      }
      r = simulate(w, o.arch, { set });
    }
    if (r.ok) o.onRow({ ...p, ok: 1, ...summaryRow(r) });
    else o.onRow({ ...p, ok: 0, reason: r.reason });
    ran++;
  }
  return { ran, skipped, stopped: false };
}
