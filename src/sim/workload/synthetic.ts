/**
 * Synthetic traces at a chosen occupancy: what an architect uses to ask "what if 10 % of the
 * columns fire?" before a trained model exists, and what the validation against the published
 * figures uses (the published temporal sparsities come from data we do not have).
 */
import { isResetAfter } from '../../cells/gru/definition.js';
import { check } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { validateModel, type Model } from '../../model/types.js';
import { TRACE_MEMORY_LIMIT, type StepTrace } from '../../runtime/types.js';
import { layerShape, workloadFromTrace, type Workload } from './workload.js';

export interface SyntheticOptions {
  steps: number;
  /** Fraction of input elements that fire per step, in [0, 1]. */
  occupancyX: number;
  /** Fraction of hidden elements that fire per step (default occupancyX). */
  occupancyH?: number;
  seed?: number;
  /** Fire every element at step 0 (as a real delta run does after reset). Default false. */
  denseFirstStep?: boolean;
}

/** k distinct sorted indices out of n (partial Fisher-Yates). */
function sample(rng: Rng, n: number, k: number, scratch: Int32Array): Int32Array {
  for (let i = 0; i < n; i++) scratch[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const tmp = scratch[i]!;
    scratch[i] = scratch[j]!;
    scratch[j] = tmp;
  }
  return scratch.slice(0, k).sort();
}

/**
 * A trace where every GRU/LSTM layer fires exactly round(occupancy * n) randomly chosen input
 * and hidden elements per step (other layers: null, dense).
 *
 * @example const trace = syntheticTrace(model, { steps: 100, occupancyX: 0.1 });
 */
export function syntheticTrace(model: Model, o: SyntheticOptions): StepTrace[] {
  validateModel(model);
  check(o !== null && typeof o === 'object', 'E_OPTION', () => `synthetic workload: expected options { steps, occupancyX }, found ${o === null ? 'null' : typeof o}`);
  // Every step is kept in memory: 1e12 steps ran out of memory and killed the process.
  check(!(Number.isInteger(o.steps) && o.steps > TRACE_MEMORY_LIMIT), 'E_LIMIT', () => `steps: a synthetic trace is kept in memory, at most ${TRACE_MEMORY_LIMIT} steps, found ${o.steps}`);
  const occH = o.occupancyH ?? o.occupancyX;
  for (const [name, val] of [['occupancyX', o.occupancyX], ['occupancyH', occH]] as const) {
    check(Number.isFinite(val) && val >= 0 && val <= 1, 'E_VALUE', () => `${name}: expected a number in [0, 1], found ${val}`);
  }
  check(Number.isInteger(o.steps) && o.steps > 0, 'E_VALUE', () => `steps: expected a positive integer, found ${o.steps}`);
  const rng = new Rng(o.seed ?? 1);
  // Reset-before GRUs also fire q = r*h columns; they are sampled at the hidden occupancy.
  const shapes = model.layers.map((l) => ({ delta: l.kind === 'gru' || l.kind === 'lstm', qCols: l.kind === 'gru' && !isResetAfter(l) ? l.hiddenSize : 0, ...layerShape(l) }));
  const scratch = new Int32Array(Math.max(...shapes.map((s) => Math.max(s.xCols, s.hCols))));
  const trace: StepTrace[] = [];
  for (let t = 0; t < o.steps; t++) {
    const dense = t === 0 && o.denseFirstStep === true;
    trace.push(
      shapes.map((s) =>
        s.delta
          ? {
              firedX: sample(rng, s.xCols, dense ? s.xCols : Math.round(o.occupancyX * s.xCols), scratch),
              firedH: sample(rng, s.hCols, dense ? s.hCols : Math.round(occH * s.hCols), scratch),
              ...(s.qCols > 0 ? { firedQ: sample(rng, s.qCols, dense ? s.qCols : Math.round(occH * s.qCols), scratch) } : {}),
            }
          : null,
      ),
    );
  }
  return trace;
}

/**
 * syntheticTrace turned into a workload (thresholds recorded as 'unknown': null).
 *
 * @example const w = syntheticWorkload(model, { steps: 200, occupancyX: 0.1 });
 */
export function syntheticWorkload(model: Model, o: SyntheticOptions): Workload {
  return workloadFromTrace(model, syntheticTrace(model, o), { thresholdX: null, thresholdH: null }, 'synthetic');
}
