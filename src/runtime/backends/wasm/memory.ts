/**
 * Regions of the kernels' linear memory owned by one object (a weight plan or an executor's
 * state), with typed views that are recreated when memory grows (growing detaches old views),
 * and freed when the owner is garbage collected.
 */
import { fail } from '../../../core/errors.js';
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
  /**
   * As f32, starting on a 64-byte cache line: packed weights whose 128-byte column groups then
   * span two lines, not three (the multi-step kernel's 4-row tiles read half a group: measured 7 %
   * faster at T = 16 on a 36.8 MB layer than at a 16-byte offset).
   */
  f32Line(data: ArrayLike<number>): number {
    const p = this.alloc(Math.max(data.length, 1) * 4 + 48);
    const q = roundUp(p, 64);
    this.k.f32(q, data.length).set(data);
    return q;
  }
}

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * Offsets of an executor's regions inside its slot: the streaming state first (copied when the
 * slot changes hands), then scratch and constants (never copied).
 */
export class Layout {
  bytes = 0;
  /** Reserve `n` bytes, 16-byte aligned; returns the offset from the slot's start. */
  add(n: number): number {
    const at = this.bytes;
    this.bytes += roundUp(Math.max(n, 1), 16);
    return at;
  }
}

/** What a slot needs of the executors that share it. */
export interface SlotUser {
  /** The user's state while another user is resident (null before it was ever swapped out). */
  saved: Uint8Array | null;
  disposed: boolean;
}

/**
 * One block of the shared instance's memory that every executor of one layer (and one
 * configuration) uses in turn, whichever session it belongs to.
 *
 * Why: a session owning wasm memory would be reclaimed only by a FinalizationRegistry callback,
 * which runs when the event loop turns; a synchronous loop creating and dropping 50,000
 * sessions grew wasm memory to ~1 GB and slowed down block after block. Here a session owns no
 * wasm memory at all: the resident executor's state lives in the slot, the others' in plain JS
 * arrays (`saved`) that the garbage collector reclaims like any object, at any time.
 *
 * The common case, one session per layer or one session stepping at a time, never copies: the
 * state moves only when a different executor of the same layer steps (two copies of the state,
 * a few kB, far less than the step's mat-vec).
 */
export class StateSlot {
  owner: SlotUser | null = null;
  /** Held only by the slot: its memory is freed when the slot (and so the layer) is collected. */
  private readonly holder = {};
  readonly ptr: number;
  constructor(
    readonly k: WasmKernels,
    readonly bytes: number,
    /** Leading bytes that are state (copied on a change of owner). */
    readonly stateBytes: number,
  ) {
    this.ptr = new Regions(k, this.holder).alloc(bytes);
  }

  /**
   * Make `user` resident: save the current owner's state, restore the user's. A new user must
   * initialise its state right after its first acquire (executors do so in their constructors).
   */
  acquire(user: SlotUser): void {
    if (this.owner === user) return;
    if (user.disposed) fail('E_OPTION', 'session: used after dispose()');
    const mem = new Uint8Array(this.k.memory.buffer, this.ptr, this.stateBytes);
    const prev = this.owner;
    if (prev && !prev.disposed) (prev.saved ??= new Uint8Array(this.stateBytes)).set(mem);
    if (user.saved) mem.set(user.saved);
    this.owner = user;
  }

  /** The user will not run again: forget it (its saved state goes with it). */
  release(user: SlotUser): void {
    user.disposed = true;
    user.saved = null;
    if (this.owner === user) this.owner = null;
  }
}

/** Slots per kernels instance, then per layer, then per configuration key. */
const slotCache = new WeakMap<WasmKernels, WeakMap<object, Map<string, StateSlot>>>();

/**
 * The slot of `layer` for configuration `key` (created on first use: `fresh` tells the caller to
 * write the slot's constants).
 */
export function stateSlot(k: WasmKernels, layer: object, key: string, layout: Layout, stateBytes: number): { slot: StateSlot; fresh: boolean } {
  let byLayer = slotCache.get(k);
  if (!byLayer) slotCache.set(k, (byLayer = new WeakMap()));
  let byKey = byLayer.get(layer);
  if (!byKey) byLayer.set(layer, (byKey = new Map()));
  const hit = byKey.get(key);
  if (hit) return { slot: hit, fresh: false };
  const slot = new StateSlot(k, layout.bytes, stateBytes);
  byKey.set(key, slot);
  return { slot, fresh: true };
}

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
