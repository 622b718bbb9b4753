/**
 * Descriptors of the one-call layer step (layer_step in src/kernels/wasm/assembly/step.ts): the
 * word offsets the kernel reads, and a writer. A descriptor holds the pointers and sizes of one
 * layer's slot (weights, memories, scratch), written once when the slot is created; the
 * per-executor values (thresholds, activation bits) live in a control block inside the slot's
 * saved state, so sessions sharing a slot each step with their own.
 */
import type { WasmKernels } from '../../../kernels/wasm/loader.js';

/** Descriptor word offsets (i32 words); must equal the D_* constants of step.ts. */
export const D = {
  OP: 0, CELL: 1, KIND: 2, I: 3, H: 4, HP: 5, LD: 6, IP: 7, HC: 8,
  X: 9, XPREV: 10, H_: 11, HPREV: 12, C: 13, GI: 14, GH: 15,
  WIH: 16, WHH: 17, SIH: 18, SHH: 19, BI: 20, BH: 21, RSIH: 22, RSHH: 23,
  IDXX: 24, VALSX: 25, IDXH: 26, VALSH: 27, KEEP: 28, TMP: 29, ERRX: 30, ERRH: 31,
  XQ: 32, HQ: 33, XLO: 34, HLO: 35, CTL: 36,
} as const;
export type DescField = keyof typeof D;
/** Bytes of a descriptor. */
export const DESC_BYTES = 40 * 4;

/** Control block words (i32 / f32); must equal the C_* constants of step.ts. */
export const CTL = { KEEP_VALID: 0, THX: 1, THH: 2, NX: 3, NH: 4, PLANES: 5, QMAXX: 6, QMAXH: 7 } as const;
export const CTL_BYTES = 8 * 4;

/** layer_step operations. */
export const OP_DELTA = 1;
export const OP_DENSE = 2;
export const OP_LINEAR = 3;

/** D.KIND: weights and dense layout. */
export function stepKind(weights: 'f32' | 'int8', layout: 'row' | 'p8'): number {
  return (weights === 'int8' ? 2 : 0) + (layout === 'p8' ? 1 : 0);
}

/** Write a descriptor at `ptr` (fields not given are 0). */
export function writeDesc(k: WasmKernels, ptr: number, fields: Partial<Record<DescField, number>>): void {
  const v = k.i32(ptr, DESC_BYTES / 4);
  v.fill(0);
  for (const [name, value] of Object.entries(fields)) v[D[name as DescField]] = value;
}

/** Write the control block's configuration words (thresholds, code planes, quantisation ranges); clears keepValid. */
export function writeCtl(k: WasmKernels, ptr: number, c: { thx?: number; thh?: number; planes?: number; qmaxX?: number; qmaxH?: number }): void {
  const i = k.i32(ptr, CTL_BYTES / 4);
  const f = k.f32(ptr, CTL_BYTES / 4);
  i[CTL.KEEP_VALID] = 0;
  f[CTL.THX] = c.thx ?? 0;
  f[CTL.THH] = c.thh ?? 0;
  i[CTL.NX] = 0;
  i[CTL.NH] = 0;
  i[CTL.PLANES] = c.planes ?? 0;
  f[CTL.QMAXX] = c.qmaxX ?? 0;
  f[CTL.QMAXH] = c.qmaxH ?? 0;
}
