/**
 * Gradient checks shared by the training tests: the analytic gradients (net.ts) against finite
 * differences, and a fast path's gradients (wasm) against the float64 definition.
 */
import { expect } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import type { Model } from '../../src/model/types.js';
import { modelParams } from '../../src/train/init.js';
import { backwardSequence, forwardSequence, freezeTape, tapeLoss, zeroGrads, type ForwardOptions, type Grads, type Target } from '../../src/train/net.js';

/**
 * Central finite differences of the loss against the analytic gradient, on every tensor of the
 * model, at `samples` coordinates each (seeded): the worst relative error. For delta networks the
 * finite differences are taken of the straight-through surrogate (offsets xp - x and hp - h
 * frozen), which is the function whose exact gradient the straight-through backward pass
 * computes. Float32 weights: the step is the one actually taken, after rounding to float32; the
 * loss is evaluated in float64.
 */
export function finiteDifferenceError(model: Model, x: Float32Array, T: number, target: Target, o: ForwardOptions, opts: { samples: number; eps: number }): number {
  const tape = forwardSequence(model, x, T, o);
  const grads = zeroGrads(model);
  backwardSequence(model, tape, target, o, grads, 1);
  const frozen = o.delta ? freezeTape(tape) : undefined;
  const f = () => tapeLoss(forwardSequence(model, x, T, { ...o, frozen }), target);
  const rng = new Rng(5);
  let worst = 0;
  for (const p of modelParams(model)) {
    const g = grads[p.layer]![p.key]!;
    for (let s = 0; s < opts.samples; s++) {
      const i = rng.int(p.value.length);
      const orig = p.value[i]!;
      p.value[i] = orig + opts.eps;
      const hi = p.value[i]!;
      const up = f();
      p.value[i] = orig - opts.eps;
      const lo = p.value[i]!;
      const down = f();
      p.value[i] = orig;
      const fd = (up - down) / (hi - lo);
      worst = Math.max(worst, Math.abs(fd - g[i]!) / Math.max(1e-3, Math.abs(fd) + Math.abs(g[i]!)));
    }
  }
  return worst;
}

/**
 * Every parameter's gradient in `fast` within `tol` of `ref`, relative to the largest magnitude of
 * that parameter's reference gradient (absolute below 1): float32 accumulation against float64.
 */
export function expectGradsClose(model: Model, ref: Grads, fast: Grads, tol = 1e-5): void {
  for (const p of modelParams(model)) {
    const a = ref[p.layer]![p.key]!;
    const b = fast[p.layer]![p.key]!;
    let scale = 0;
    let err = 0;
    for (let i = 0; i < a.length; i++) {
      scale = Math.max(scale, Math.abs(a[i]!));
      err = Math.max(err, Math.abs(a[i]! - b[i]!));
    }
    expect(err).toBeLessThanOrEqual(tol * Math.max(1, scale));
  }
}
