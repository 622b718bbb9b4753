/**
 * Timing helpers: per-step time as the median over repetitions, each repetition long enough
 * (calibrated) that timer resolution and call jitter do not matter. Medians, because the
 * machine may be shared: a repetition disturbed by another process is an outlier, not the answer.
 */
import type { BenchContext } from '../types.js';

export interface TimingPlan {
  /** Warm-up steps before timing (JIT tiers, caches). */
  warmup: number;
  /** Repetitions; the median is reported. */
  reps: number;
  /** Target duration of one repetition, ms. */
  repMs: number;
}

export function timingPlan(ctx: BenchContext): TimingPlan {
  return ctx.quick ? { warmup: 5, reps: 3, repMs: 30 } : { warmup: 50, reps: 9, repMs: 200 };
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median microseconds per call of a synchronous step. */
export function timeSync(step: (i: number) => void, plan: TimingPlan): number {
  let i = 0;
  for (let w = 0; w < plan.warmup; w++) step(i++);
  // Calibrate the number of calls per repetition.
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let k = 0; k < n; k++) step(i++);
    const dt = performance.now() - t0;
    if (dt >= plan.repMs / 4 || n >= 1 << 20) {
      n = Math.max(1, Math.round((n * plan.repMs) / Math.max(dt, 1e-3)));
      break;
    }
    n *= 4;
  }
  const per: number[] = [];
  for (let r = 0; r < plan.reps; r++) {
    const t0 = performance.now();
    for (let k = 0; k < n; k++) step(i++);
    per.push(((performance.now() - t0) * 1000) / n);
  }
  return median(per);
}

/** Median microseconds per call of an asynchronous step (awaited one after another). */
export async function timeAsync(step: (i: number) => Promise<void>, plan: TimingPlan): Promise<number> {
  let i = 0;
  for (let w = 0; w < plan.warmup; w++) await step(i++);
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let k = 0; k < n; k++) await step(i++);
    const dt = performance.now() - t0;
    if (dt >= plan.repMs / 4 || n >= 1 << 20) {
      n = Math.max(1, Math.round((n * plan.repMs) / Math.max(dt, 1e-3)));
      break;
    }
    n *= 4;
  }
  const per: number[] = [];
  for (let r = 0; r < plan.reps; r++) {
    const t0 = performance.now();
    for (let k = 0; k < n; k++) await step(i++);
    per.push(((performance.now() - t0) * 1000) / n);
  }
  return median(per);
}

export const fmtUs = (us: number): string => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2));
export const fmtX = (r: number): string => `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}x`;
