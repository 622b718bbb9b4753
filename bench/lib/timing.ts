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

export interface Contender {
  name: string;
  /** One step; may return a promise (awaited). */
  step: (i: number) => void | Promise<void>;
}

/**
 * Plan for ratios of fast steps on a shared machine: many short repetitions, so that each
 * repetition's contenders run within a few tens of ms of each other (load that comes and goes
 * over seconds then hits a pair alike), and ratios are taken repetition by repetition
 * (medianRatio) before the median.
 */
export function pairedPlan(ctx: BenchContext): TimingPlan {
  return ctx.quick ? { warmup: 5, reps: 5, repMs: 10 } : { warmup: 200, reps: 41, repMs: 25 };
}

/** Median over repetitions of a[r] / b[r] (per-repetition times from timeRounds). */
export function medianRatio(rounds: Map<string, number[]>, a: string, b: string): number {
  const x = rounds.get(a)!;
  const y = rounds.get(b)!;
  return median(x.map((v, r) => v / y[r]!));
}

/**
 * Median microseconds per step of several implementations measured round-robin: repetition r
 * of every contender runs before repetition r + 1 of any, so a change in machine load hits all
 * of them alike and the ratios between them stay meaningful on a shared machine.
 */
export async function timeInterleaved(contenders: Contender[], plan: TimingPlan): Promise<Map<string, number>> {
  const rounds = await timeRounds(contenders, plan);
  return new Map([...rounds].map(([name, v]) => [name, median(v)]));
}

/** As timeInterleaved, but every repetition's microseconds per step of each contender. */
export async function timeRounds(contenders: Contender[], plan: TimingPlan): Promise<Map<string, number[]>> {
  const counters = contenders.map(() => 0);
  const run = async (c: number, n: number): Promise<number> => {
    const f = contenders[c]!.step;
    const t0 = performance.now();
    for (let k = 0; k < n; k++) {
      const r = f(counters[c]!++);
      if (r) await r;
    }
    return performance.now() - t0;
  };
  const calls: number[] = [];
  for (let c = 0; c < contenders.length; c++) {
    await run(c, plan.warmup);
    let n = 1;
    for (;;) {
      const dt = await run(c, n);
      if (dt >= plan.repMs / 4 || n >= 1 << 20) {
        calls.push(Math.max(1, Math.round((n * plan.repMs) / Math.max(dt, 1e-3))));
        break;
      }
      n *= 4;
    }
  }
  const per: number[][] = contenders.map(() => []);
  for (let r = 0; r < plan.reps; r++) {
    for (let c = 0; c < contenders.length; c++) per[c]!.push(((await run(c, calls[c]!)) * 1000) / calls[c]!);
  }
  return new Map(contenders.map((c, k) => [c.name, per[k]!]));
}
