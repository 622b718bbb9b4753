/**
 * A whole model run by the float64 references, step by step: the definition a session
 * (any backend, any weight storage) is tested against.
 */
import { check, fail } from '../core/errors.js';
import type { Model } from '../model/types.js';
import { modelInputSize, modelOutputSize, validateModel } from '../model/types.js';
import type { BiasConvention } from '../runtime/types.js';
import { createDeltaGruState, deltaGruStepRef, type DeltaGruState } from './gru/delta.js';
import { gruStepRef } from './gru/reference.js';
import { linearRef } from './linear/reference.js';
import { createDeltaLstmState, deltaLstmStepRef, type DeltaLstmState } from './lstm/delta.js';
import { lstmStepRef, type LstmStateRef } from './lstm/reference.js';
import { qrnnStepRef, type QrnnStateRef } from './qrnn/reference.js';
import { sruStepRef, type SruStateRef } from './sru/reference.js';

export interface ReferenceRunOptions {
  /** Giving either threshold runs GRU/LSTM layers as delta layers (the other defaults to 0). */
  thresholdX?: number;
  thresholdH?: number;
  biasConvention?: BiasConvention;
}

export interface ReferenceRun {
  /** (T, O) row-major outputs. */
  outputs: Float64Array;
  /** firedX[t][layer], firedH[t][layer]: fired element counts of delta layers (dense: full sizes). */
  firedX: number[][];
  firedH: number[][];
}

/**
 * Run `frames` (T*I, row-major) through the float64 references.
 *
 * @example const { outputs } = runModelRef(model, frames, { thresholdX: 0.1, thresholdH: 0.05 });
 */
export function runModelRef(model: Model, frames: ArrayLike<number>, options: ReferenceRunOptions = {}): ReferenceRun {
  // As createSession: a model built in memory is checked before its sizes are allocated (a
  // hiddenSize of 1e9 hung here, -3 was a RangeError, NaN ran to NaN counts).
  validateModel(model);
  const I = modelInputSize(model);
  const O = modelOutputSize(model);
  check(frames !== null && typeof frames === 'object' && typeof frames.length === 'number', 'E_SHAPE', () => `frames: expected an array of T x ${I} numbers, found ${frames === null ? 'null' : typeof frames}`);
  check(frames.length % I === 0, 'E_SHAPE', () => `frames: expected a multiple of ${I} values, found ${frames.length}`);
  for (let i = 0; i < frames.length; i++) {
    const v = frames[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('E_VALUE', `frames: expected finite numbers, found ${String(v)} at index ${i % I} (step ${Math.floor(i / I)})`);
  }
  for (const key of ['thresholdX', 'thresholdH'] as const) {
    const v = options[key];
    check(v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0), 'E_VALUE', () => `${key}: expected a finite number >= 0, found ${String(v)}`);
  }
  check(options.biasConvention === undefined || options.biasConvention === 'cudnn' || options.biasConvention === 'edgedrnn', 'E_OPTION', () => `biasConvention: expected 'cudnn' or 'edgedrnn', found '${String(options.biasConvention)}'`);
  const T = frames.length / I;
  const delta = options.thresholdX !== undefined || options.thresholdH !== undefined;
  const thx = options.thresholdX ?? 0;
  const thh = options.thresholdH ?? 0;
  const conv = options.biasConvention ?? 'cudnn';
  type St = DeltaGruState | DeltaLstmState | LstmStateRef | SruStateRef | QrnnStateRef | Float64Array | null;
  const states: St[] = model.layers.map((l) => {
    switch (l.kind) {
      case 'gru':
        return delta ? createDeltaGruState(l, conv) : l.initialH ? Float64Array.from(l.initialH) : new Float64Array(l.hiddenSize);
      case 'lstm':
        return delta
          ? createDeltaLstmState(l)
          : { h: l.initialH ? Float64Array.from(l.initialH) : new Float64Array(l.hiddenSize), c: l.initialC ? Float64Array.from(l.initialC) : new Float64Array(l.hiddenSize) };
      case 'sru':
        return { c: new Float64Array(l.hiddenSize) };
      case 'qrnn':
        return { c: new Float64Array(l.hiddenSize), xPrev: new Float64Array(l.inputSize) };
      case 'linear':
        return null;
    }
  });
  const outputs = new Float64Array(T * O);
  const firedX: number[][] = [];
  const firedH: number[][] = [];
  for (let t = 0; t < T; t++) {
    let v: ArrayLike<number> = Array.prototype.slice.call(frames, t * I, (t + 1) * I) as number[];
    const fx: number[] = [];
    const fh: number[] = [];
    model.layers.forEach((l, k) => {
      const st = states[k];
      switch (l.kind) {
        case 'gru':
          if (delta) {
            const s = st as DeltaGruState;
            const f = deltaGruStepRef(l, s, v, thx, thh);
            fx.push(f.firedX.length);
            fh.push(f.firedH.length);
            v = Float64Array.from(s.h);
          } else {
            v = gruStepRef(l, v, st as Float64Array);
            states[k] = v as Float64Array;
            fx.push(l.inputSize);
            fh.push(l.hiddenSize);
          }
          break;
        case 'lstm':
          if (delta) {
            const s = st as DeltaLstmState;
            const f = deltaLstmStepRef(l, s, v, thx, thh);
            fx.push(f.firedX.length);
            fh.push(f.firedH.length);
            v = Float64Array.from(s.h);
          } else {
            const s = lstmStepRef(l, v, st as LstmStateRef);
            states[k] = s;
            v = s.h;
            fx.push(l.inputSize);
            fh.push(l.hiddenSize);
          }
          break;
        case 'sru': {
          const r = sruStepRef(l, v, st as SruStateRef);
          states[k] = r.state;
          v = r.h;
          fx.push(l.inputSize);
          fh.push(0);
          break;
        }
        case 'qrnn': {
          const r = qrnnStepRef(l, v, st as QrnnStateRef);
          states[k] = r.state;
          v = r.h;
          fx.push(l.inputSize);
          fh.push(0);
          break;
        }
        case 'linear':
          v = linearRef(l, v);
          fx.push(l.inputSize);
          fh.push(0);
          break;
      }
    });
    for (let o = 0; o < O; o++) outputs[t * O + o] = v[o]!;
    firedX.push(fx);
    firedH.push(fh);
  }
  return { outputs, firedX, firedH };
}
