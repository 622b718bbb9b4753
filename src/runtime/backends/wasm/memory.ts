/**
 * Regions of the kernels' linear memory owned by one object (a weight plan or an executor's
 * state), with typed views that are recreated when memory grows (growing detaches old views),
 * and freed when the owner is garbage collected.
 */
import type { WasmKernels } from '../../../kernels/wasm/loader.js';

const registry = new FinalizationRegistry<{ k: WasmKernels; ptrs: number[] }>(({ k, ptrs }) => {
  for (const p of ptrs) k.free(p);
});

export class Regions {
  private readonly ptrs: number[] = [];
  constructor(readonly k: WasmKernels, owner: object) {
    registry.register(owner, { k, ptrs: this.ptrs });
  }
  /** Allocate (zeroed, 16-byte aligned) and remember for freeing with the owner. */
  alloc(bytes: number): number {
    const p = this.k.alloc(bytes);
    this.ptrs.push(p);
    return p;
  }
  f32(data: ArrayLike<number>, length = data.length): number {
    const p = this.alloc(Math.max(length, 1) * 4);
    this.k.f32(p, data.length).set(data);
    return p;
  }
}

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Copy a row-major (rows, cols) matrix into a padded layout: gate block g (rows g*H .. g*H+H-1)
 * starts at row g*hp, and each row is `colsPad` wide (columns beyond `cols` are zero). Column
 * blocks: `colBlocks` blocks of `cols` columns, each padded to `colsPad` (QRNN windows).
 */
export function padRows(w: Float32Array, gates: number, H: number, cols: number, hp: number, colsPad: number, colBlocks = 1): Float32Array {
  const out = new Float32Array(gates * hp * colsPad * colBlocks);
  const srcCols = cols * colBlocks;
  const dstCols = colsPad * colBlocks;
  for (let g = 0; g < gates; g++) {
    for (let k = 0; k < H; k++) {
      const src = (g * H + k) * srcCols;
      const dst = (g * hp + k) * dstCols;
      for (let b = 0; b < colBlocks; b++) {
        for (let c = 0; c < cols; c++) out[dst + b * colsPad + c] = w[src + b * cols + c]!;
      }
    }
  }
  return out;
}

/** Gate-blocked vector: block g of H values starts at g*hp. */
export function padBlocks(v: ArrayLike<number>, gates: number, H: number, hp: number): Float32Array {
  const out = new Float32Array(gates * hp);
  for (let g = 0; g < gates; g++) for (let k = 0; k < H; k++) out[g * hp + k] = v[g * H + k]!;
  return out;
}
