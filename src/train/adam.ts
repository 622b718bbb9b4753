/**
 * Adam (Kingma & Ba 2015) with optional global-norm gradient clipping, over a model's tensors.
 */
import type { Model } from '../model/types.js';
import { modelParams } from './init.js';
import type { Grads } from './net.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Clip the global gradient norm to this value (0 = no clipping). */
  clipNorm?: number;
}

export interface AdamState {
  step: number;
  m: Float64Array[];
  v: Float64Array[];
}

/**
 * Zeroed optimiser state for a model.
 *
 * @example const st = adamState(model);
 */
export function adamState(model: Model): AdamState {
  const ps = modelParams(model);
  return { step: 0, m: ps.map((p) => new Float64Array(p.value.length)), v: ps.map((p) => new Float64Array(p.value.length)) };
}

/**
 * One Adam update of the model's tensors in place; returns the gradient norm before clipping.
 *
 * @example const st = adamState(model); adamStep(model, grads, st, { lr: 1e-3, clipNorm: 5 });
 */
export function adamStep(model: Model, grads: Grads, st: AdamState, o: AdamOptions): number {
  const ps = modelParams(model);
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.eps ?? 1e-8;
  let sq = 0;
  for (const p of ps) for (const g of grads[p.layer]![p.key]!) sq += g * g;
  const norm = Math.sqrt(sq);
  const clip = o.clipNorm && norm > o.clipNorm ? o.clipNorm / norm : 1;
  st.step++;
  const c1 = 1 - b1 ** st.step;
  const c2 = 1 - b2 ** st.step;
  ps.forEach((p, k) => {
    const g = grads[p.layer]![p.key]!;
    const m = st.m[k]!;
    const v = st.v[k]!;
    const w = p.value;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]! * clip;
      m[i] = b1 * m[i]! + (1 - b1) * gi;
      v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
      w[i] = w[i]! - (o.lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + eps);
    }
  });
  return norm;
}
