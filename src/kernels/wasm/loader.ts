/**
 * Loads the WebAssembly kernels: detects SIMD support, instantiates the SIMD build (or the scalar
 * build where SIMD is missing) and owns allocation in the module's linear memory.
 *
 * The binaries are embedded as base64 in generated modules (see build.ts for why), so loading
 * needs no file system or network and works the same in Node, workers and browsers.
 * Node and workers compile synchronously on first use. Browsers refuse synchronous compilation of
 * modules over 4 KB on the main thread: call `await initWasm()` once before creating sessions
 * there; until then sessions fall back to the js backend.
 *
 * @example
 * const k = loadKernels();            // Node: synchronous
 * k.path;                             // 'wasm-simd' on any current engine
 * const p = k.alloc(1024);            // 1 KB, 16-byte aligned, zeroed
 * k.f32(p, 256).fill(1);
 */
import { DeltakitError } from '../../core/errors.js';
import { KERNELS_SIMD_BASE64 } from './generated/kernels-simd.js';
import { KERNELS_SCALAR_BASE64 } from './generated/kernels-scalar.js';
import { KERNELS_THREADS_BASE64 } from './generated/kernels-threads.js';
import { MAX_SHARED_PAGES } from './limits.js';

/** Which compiled build runs: tests assert this to prove the fast path ran. */
export type KernelPath = 'wasm-simd' | 'wasm-scalar' | 'wasm-simd-shared';

/** The raw exports of the kernel module (pointers are byte offsets into `memory`). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  simd_build(): number;
  matvec_f32(w: number, b: number, rows: number, cols: number, x: number, y: number): void;
  matvec_i8(w: number, scale: number, b: number, rows: number, cols: number, xq: number, xScale: number, y: number): void;
  quantize_i16(x: number, n: number, qmax: number, xq: number): number;
  delta_f32(w: number, ld: number, r0: number, r1: number, idx: number, vals: number, n: number, acc: number): void;
  delta_i8(w: number, ld: number, r0: number, r1: number, scale: number, idx: number, vals: number, n: number, acc: number, tmp: number, err: number): void;
  delta_encode(x: number, prev: number, n: number, th: number, idx: number, vals: number): number;
  gru_gates(gi: number, gh: number, h: number, hp: number): void;
  lstm_gates(gi: number, gh: number, c: number, h: number, hp: number): void;
  sru_steps(u: number, ustride: number, b: number, x: number, xstride: number, proj: number, c: number, h: number, hstride: number, hp: number, steps: number): void;
  qrnn_steps(u: number, ustride: number, c: number, h: number, hstride: number, hp: number, steps: number): void;
  activate(y: number, n: number, kind: number): void;
  matmat_f32(w: number, b: number, rows: number, cols: number, x: number, steps: number, y: number): void;
}

const PAGE = 65536;
const ALIGN = 16;

/**
 * One instance of the kernel module with its own linear memory and a first-fit allocator.
 * Every executor of a backend shares one instance; views into memory go stale when it grows, so
 * holders compare `buffer` with the one their views were made from (see `generation`).
 */
export class WasmKernels {
  readonly path: KernelPath;
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** Bumped whenever memory grows (all typed-array views must then be recreated). */
  generation = 0;
  private top: number;
  /** Free blocks [start, size], sorted by start, coalesced. */
  private freeList: Array<[number, number]> = [];
  private sizes = new Map<number, number>();
  /** Highest `top` ever reached: memory above it has never been handed out. */
  private highWater = 0;

  constructor(instance: WebAssembly.Instance, path: KernelPath, memory?: WebAssembly.Memory) {
    this.exports = instance.exports as unknown as KernelExports;
    this.memory = memory ?? this.exports.memory;
    this.path = path;
    this.top = align(this.exports.heap_base());
  }

  /** Allocate `bytes` (rounded up to 16), zero-filled, 16-byte aligned. Returns a byte offset. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, align(bytes));
    for (let i = 0; i < this.freeList.length; i++) {
      const [start, len] = this.freeList[i]!;
      if (len >= size) {
        if (len === size) this.freeList.splice(i, 1);
        else this.freeList[i] = [start + size, len - size];
        this.sizes.set(start, size);
        new Uint8Array(this.memory.buffer, start, size).fill(0);
        return start;
      }
    }
    const start = this.top;
    const end = start + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch (e) {
        throw new DeltakitError('E_LIMIT', `wasm backend: cannot grow memory to ${end} bytes (${(e as Error).message})`);
      }
      this.generation++;
    }
    this.top = end;
    this.sizes.set(start, size);
    // Below the high-water mark the bytes may be a freed block handed back to the bump region
    // (free() lowers `top`), so zero them as the free-list path does; grown pages are zero.
    if (start < this.highWater) new Uint8Array(this.memory.buffer, start, Math.min(size, this.highWater - start)).fill(0);
    if (end > this.highWater) this.highWater = end;
    return start;
  }

  /** Return a block to the allocator (called by executors' finalizers). */
  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    let i = 0;
    while (i < this.freeList.length && this.freeList[i]![0] < ptr) i++;
    this.freeList.splice(i, 0, [ptr, size]);
    // Coalesce with the next and the previous block.
    const cur = this.freeList[i]!;
    const next = this.freeList[i + 1];
    if (next && cur[0] + cur[1] === next[0]) { cur[1] += next[1]; this.freeList.splice(i + 1, 1); }
    const prev = this.freeList[i - 1];
    if (prev && prev[0] + prev[1] === cur[0]) { prev[1] += cur[1]; this.freeList.splice(i, 1); }
    // A free block at the top goes back to the bump region.
    const last = this.freeList[this.freeList.length - 1];
    if (last && last[0] + last[1] === this.top) { this.top = last[0]; this.freeList.pop(); }
  }

  /** Bytes currently handed out (for tests of the allocator and leak checks). */
  allocatedBytes(): number {
    let s = 0;
    for (const v of this.sizes.values()) s += v;
    return s;
  }

  f32(ptr: number, n: number): Float32Array { return new Float32Array(this.memory.buffer, ptr, n); }
  i32(ptr: number, n: number): Int32Array { return new Int32Array(this.memory.buffer, ptr, n); }
  i16(ptr: number, n: number): Int16Array { return new Int16Array(this.memory.buffer, ptr, n); }
  i8(ptr: number, n: number): Int8Array { return new Int8Array(this.memory.buffer, ptr, n); }
}

function align(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}

/**
 * Smallest module using a SIMD instruction (i8x16.splat + i8x16.popcnt): if the engine validates
 * it, it runs the SIMD build. Same probe as the wasm-feature-detect package.
 */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Whether this engine runs WebAssembly at all. */
export function wasmSupported(): boolean {
  return typeof WebAssembly === 'object' && typeof WebAssembly.Instance === 'function';
}

/** Whether this engine supports WebAssembly fixed-width SIMD. */
export function wasmSimdSupported(): boolean {
  if (!wasmSupported()) return false;
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof atob === 'function') {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  const buf = Buffer.from(b64, 'base64');
  const out = new Uint8Array(buf.length);
  out.set(buf);
  return out;
}

const cache: Partial<Record<KernelPath, WasmKernels>> = {};

function pathFor(simd: boolean | undefined): KernelPath {
  const want = simd ?? true;
  return want && wasmSimdSupported() ? 'wasm-simd' : 'wasm-scalar';
}

function bytesFor(path: KernelPath): Uint8Array<ArrayBuffer> {
  return decodeBase64(path === 'wasm-simd' ? KERNELS_SIMD_BASE64 : KERNELS_SCALAR_BASE64);
}

/**
 * The kernels, compiled and instantiated synchronously on first use (cached afterwards).
 * `simd: false` forces the scalar build (tests compare both). Throws E_UNSUPPORTED when the
 * engine has no WebAssembly or refuses synchronous compilation (browser main thread: use initWasm).
 *
 * @example const k = loadKernels(); console.log(k.path);
 */
export function loadKernels(opts: { simd?: boolean } = {}): WasmKernels {
  const path = pathFor(opts.simd);
  const hit = cache[path];
  if (hit) return hit;
  if (!wasmSupported()) throw new DeltakitError('E_UNSUPPORTED', 'wasm backend: this JavaScript engine has no WebAssembly; use backend "js"');
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(new WebAssembly.Module(bytesFor(path)), {});
  } catch (e) {
    throw new DeltakitError('E_UNSUPPORTED', `wasm backend: synchronous WebAssembly compilation failed (${(e as Error).message}); in a browser call \`await initWasm()\` first`);
  }
  return (cache[path] = new WasmKernels(instance, path));
}

/**
 * Compile and instantiate asynchronously (required on a browser's main thread), then cache, so
 * later `loadKernels()` calls and new sessions use wasm.
 *
 * @example await initWasm(); const s = createSession(model); // runs on wasm-simd
 */
export async function initWasm(opts: { simd?: boolean } = {}): Promise<WasmKernels> {
  const path = pathFor(opts.simd);
  const hit = cache[path];
  if (hit) return hit;
  if (!wasmSupported()) throw new DeltakitError('E_UNSUPPORTED', 'wasm backend: this JavaScript engine has no WebAssembly; use backend "js"');
  const module = await WebAssembly.compile(bytesFor(path));
  const instance = await WebAssembly.instantiate(module, {});
  return (cache[path] = new WasmKernels(instance, path));
}

/** The kernels if they are (or can synchronously be) loaded, else null: the session's default-backend probe. */
export function tryLoadKernels(opts: { simd?: boolean } = {}): WasmKernels | null {
  try {
    return loadKernels(opts);
  } catch {
    return null;
  }
}

/**
 * The SIMD kernels on a shared memory (threads build): the instance for the calling thread, the
 * compiled module and the memory to hand to worker threads, which instantiate the same module on
 * the same memory. Used by the 2-thread mode (src/runtime/backends/wasm/threads.ts).
 */
export async function instantiateShared(): Promise<{ kernels: WasmKernels; module: WebAssembly.Module; memory: WebAssembly.Memory }> {
  if (!wasmSimdSupported() || typeof SharedArrayBuffer === 'undefined') {
    throw new DeltakitError('E_UNSUPPORTED', 'wasm threads: this engine lacks WebAssembly SIMD or SharedArrayBuffer');
  }
  const module = await WebAssembly.compile(decodeBase64(KERNELS_THREADS_BASE64));
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_SHARED_PAGES, shared: true });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return { kernels: new WasmKernels(instance, 'wasm-simd-shared', memory), module, memory };
}
