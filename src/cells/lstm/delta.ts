/**
 * DeltaLSTM, float64 reference: one 4H memory M += W_ih dx + W_hh dh, starting at
 * b_ih + b_hh (the same in both bias conventions), then the LSTM gates on M.
 */
import { cellFunctions } from '../activation.js';
import type { LstmLayer } from '../../model/types.js';
import { deltaEncode } from '../gru/delta.js';

export interface DeltaLstmState {
  xPrev: Float64Array;
  hPrev: Float64Array;
  h: Float64Array;
  c: Float64Array;
  /** (4H) accumulated pre-activations, gates i, f, g, o. */
  m: Float64Array;
}

export function createDeltaLstmState(layer: LstmLayer): DeltaLstmState {
  const H = layer.hiddenSize;
  const m = new Float64Array(4 * H);
  for (let k = 0; k < 4 * H; k++) m[k] = layer.biasIh[k]! + layer.biasHh[k]!;
  return {
    xPrev: new Float64Array(layer.inputSize),
    hPrev: new Float64Array(H),
    h: layer.initialH ? Float64Array.from(layer.initialH) : new Float64Array(H),
    c: layer.initialC ? Float64Array.from(layer.initialC) : new Float64Array(H),
    m,
  };
}

/** One DeltaLSTM step; mutates `state`. @example deltaLstmStepRef(layer, st, x, 0.1, 0.05); */
export function deltaLstmStepRef(
  layer: LstmLayer,
  state: DeltaLstmState,
  x: ArrayLike<number>,
  thresholdX: number,
  thresholdH: number,
): { firedX: number[]; firedH: number[] } {
  const H = layer.hiddenSize;
  const I = layer.inputSize;
  const ex = deltaEncode(x, state.xPrev, thresholdX);
  const eh = deltaEncode(state.h, state.hPrev, thresholdH);
  for (const i of ex.fired) {
    const d = ex.delta[i]!;
    for (let r = 0; r < 4 * H; r++) state.m[r]! += layer.weightIh[r * I + i]! * d;
  }
  for (const j of eh.fired) {
    const d = eh.delta[j]!;
    for (let r = 0; r < 4 * H; r++) state.m[r]! += layer.weightHh[r * H + j]! * d;
  }
  // Peepholes act element-wise on c, which is exact state (never delta-encoded).
  const p = layer.peephole;
  const [sigmoid, gAct, hAct] = cellFunctions('lstm', layer.activations, layer.clip) as Array<(x: number) => number>;
  for (let k = 0; k < H; k++) {
    const cp = state.c[k]!;
    const i = sigmoid!(state.m[k]! + (p ? p[k]! * cp : 0));
    const f = sigmoid!(state.m[H + k]! + (p ? p[H + k]! * cp : 0));
    const g = gAct!(state.m[2 * H + k]!);
    state.c[k] = f * cp + i * g;
    const o = sigmoid!(state.m[3 * H + k]! + (p ? p[2 * H + k]! * state.c[k]! : 0));
    state.h[k] = o * hAct!(state.c[k]!);
  }
  return { firedX: ex.fired, firedH: eh.fired };
}
