/**
 * Gradient comparison shared by the training tests: a fast path's gradients (wasm) against the
 * float64 definition (net.ts), parameter by parameter.
 */
import { expect } from 'vitest';
import type { Model } from '../../src/model/types.js';
import { modelParams } from '../../src/train/init.js';
import type { Grads } from '../../src/train/net.js';

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
