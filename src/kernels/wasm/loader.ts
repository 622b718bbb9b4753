/**
 * Loads the WebAssembly kernels: picks the fastest build the engine runs correctly (relaxed SIMD,
 * else SIMD128, else scalar), instantiates it and owns allocation in the module's linear memory.
 *
 * The relaxed-SIMD build is chosen only if the engine validates relaxed SIMD AND a numeric
 * self-test passes (a tiny probe module computes relaxed_madd and relaxed_dot_i8x16_i7x16_add_s
 * on known inputs): Node 20's baseline compiler validates the int8 dot but drops its added term.
 * `DELTAKIT_KERNEL_BUILD=relaxed-simd|simd128|scalar` (or `loadKernels({ build })`) forces a build,
 * so tests run every build on an engine that supports it.
 *
 * The binaries are embedded as base64 in generated modules (see build.ts for why), so loading
 * needs no file system or network and works the same in Node, workers and browsers.
 * Node and workers compile synchronously on first use. Browsers refuse synchronous compilation of
 * modules over 4 KB on the main thread: call `await initWasm()` once before creating sessions
 * there; until then sessions fall back to the js backend.
 *
 * @example
 * const k = loadKernels();            // Node: synchronous
 * k.path;                             // 'wasm-relaxed' on Node 22+ and current browsers
 * const p = k.alloc(1024);            // 1 KB, 16-byte aligned, zeroed
 * k.f32(p, 256).fill(1);
 */
import { DeltakitError } from '../../core/errors.js';
import { KERNELS_SIMD_BASE64 } from './generated/kernels-simd.js';
import { KERNELS_RELAXED_BASE64 } from './generated/kernels-relaxed.js';
import { KERNELS_PROBE_BASE64 } from './generated/kernels-probe.js';
import { KERNELS_SCALAR_BASE64 } from './generated/kernels-scalar.js';
import { KERNELS_THREADS_BASE64 } from './generated/kernels-threads.js';
import { MAX_SHARED_PAGES } from './limits.js';

/** Which compiled build runs: tests assert this to prove the fast path ran. */
export type KernelPath = 'wasm-relaxed' | 'wasm-simd' | 'wasm-scalar' | 'wasm-simd-shared';

/** The kernel builds, fastest first. */
export type KernelBuild = 'relaxed-simd' | 'simd128' | 'scalar';
export const KERNEL_BUILDS: readonly KernelBuild[] = ['relaxed-simd', 'simd128', 'scalar'];

const PATH_OF: Record<KernelBuild, KernelPath> = { 'relaxed-simd': 'wasm-relaxed', simd128: 'wasm-simd', scalar: 'wasm-scalar' };

/** The raw exports of the kernel module (pointers are byte offsets into `memory`). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  simd_build(): number;
  relaxed_build(): number;
  matvec_f32_p8(wp: number, b: number, rows: number, cols: number, x: number, y: number): void;
  matvec_i8_p8(wp: number, scale: number, rowsum: number, b: number, rows: number, cols: number, planes: number, hi: number, lo: number, xScale: number, y: number): void;
  quantize_codes(x: number, n: number, qmax: number, planes: number, hi: number, lo: number): number;
  matvec_f32(w: number, b: number, rows: number, cols: number, x: number, y: number): void;
  matvec_i8(w: number, scale: number, b: number, rows: number, cols: number, xq: number, xScale: number, y: number): void;
  quantize_i16(x: number, n: number, qmax: number, xq: number): number;
  delta_f32(w: number, ld: number, r0: number, r1: number, idx: number, vals: number, n: number, acc: number): void;
  delta_i8(w: number, ld: number, r0: number, r1: number, scale: number, idx: number, vals: number, n: number, acc: number, tmp: number, err: number): void;
  /** 8-column passes of delta_i8 so far (SIMD builds; tests prove the wide path ran). */
  delta_i8_wide_passes(): number;
  delta_encode(x: number, prev: number, n: number, th: number, idx: number, vals: number): number;
  gru_gates(gi: number, gh: number, h: number, hp: number): void;
  lstm_gates(gi: number, gh: number, c: number, h: number, hp: number): void;
  gru_gates_keep(gi: number, gh: number, h: number, hp: number, keep: number): void;
  gru_blend(keep: number, h: number, hp: number): void;
  lstm_gates_keep(gi: number, gh: number, c: number, h: number, hp: number, keep: number): void;
  lstm_blend(keep: number, c: number, h: number, hp: number): void;
  sru_steps(u: number, ustride: number, b: number, x: number, xstride: number, proj: number, c: number, h: number, hstride: number, hp: number, steps: number): void;
  qrnn_steps(u: number, ustride: number, c: number, h: number, hstride: number, hp: number, steps: number): void;
  activate(y: number, n: number, kind: number): void;
  matmat_f32(w: number, b: number, rows: number, cols: number, x: number, steps: number, y: number): void;
  matmat_f32_p8(wp: number, b: number, rows: number, cols: number, x: number, steps: number, y: number): void;
  /** One whole layer step from its descriptor (src/runtime/backends/wasm/step-desc.ts); -1 when checked input is not finite. */
  layer_step(desc: number, src: number, n: number, check: number): number;
  /** Calls of layer_step so far (tests prove the one-call path ran). */
  layer_steps(): number;
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
  /** The compiled build: 'relaxed-simd', 'simd128' (also the shared-memory threads build) or 'scalar'. */
  readonly build: KernelBuild;
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
    this.build = path === 'wasm-relaxed' ? 'relaxed-simd' : path === 'wasm-scalar' ? 'scalar' : 'simd128';
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

/**
 * The relaxed-SIMD self-test: inputs where a fused and an unfused multiply-add differ (both are
 * accepted: relaxed_madd may be either) and an int8 dot whose added term is large (an engine
 * that drops it fails). Exported for tests.
 */
export function relaxedSelfTest(probe: (p: number) => void, memory: WebAssembly.Memory): boolean {
  const p = 0;
  const f = new Float32Array(memory.buffer, p, 16);
  const a = 1 + 2 ** -12;
  f.set([a, a, a, 2], 0); // a
  f.set([a, a, a, 3], 4); // b
  f.set([-(1 + 2 ** -11), -(1 + 2 ** -11), 0, 1], 8); // c
  const i8 = new Int8Array(memory.buffer, p + 64, 16);
  const u8 = new Uint8Array(memory.buffer, p + 80, 16);
  for (let j = 0; j < 16; j++) {
    i8[j] = [-128, 127, -1, 5, 100, -77, 3, -3, 64, -64, 1, 0, -127, 126, 42, -42][j]!;
    u8[j] = [127, 0, 1, 126, 64, 3, 99, 127, 5, 6, 7, 8, 127, 127, 1, 2][j]!;
  }
  const addend = [1000000, -2000000, 3, -7];
  new Int32Array(memory.buffer, p + 96, 4).set(addend);
  probe(p);
  const m = new Float32Array(memory.buffer, p + 48, 4);
  const fusedOrNot = (v: number, fused: number, unfused: number): boolean => v === Math.fround(fused) || v === Math.fround(unfused);
  // a*a + c = 2^-24 + 2^-24 * ... : fused keeps 2^-24, unfused rounds a*a to 1 + 2^-11 first.
  const exact = a * a - (1 + 2 ** -11);
  if (!fusedOrNot(m[0]!, exact, 0) || !fusedOrNot(m[1]!, exact, 0) || m[2] !== Math.fround(a * a) || m[3] !== 7) return false;
  const d = new Int32Array(memory.buffer, p + 112, 4);
  for (let lane = 0; lane < 4; lane++) {
    let s = addend[lane]!;
    for (let j = 4 * lane; j < 4 * lane + 4; j++) s += i8[j]! * u8[j]!;
    if (d[lane] !== s) return false;
  }
  return true;
}

let relaxedOk: boolean | undefined;

/**
 * Whether this engine runs the relaxed-SIMD build correctly: it validates relaxed SIMD and the
 * numeric self-test passes. Compiles a 104-byte probe module synchronously (allowed everywhere).
 */
export function relaxedSimdSupported(): boolean {
  if (relaxedOk !== undefined) return relaxedOk;
  relaxedOk = false;
  if (!wasmSimdSupported()) return false;
  try {
    const bytes = decodeBase64(KERNELS_PROBE_BASE64);
    if (!WebAssembly.validate(bytes)) return false;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    const ex = inst.exports as { probe(p: number): void; memory: WebAssembly.Memory };
    if (ex.memory.buffer.byteLength === 0) ex.memory.grow(1);
    relaxedOk = relaxedSelfTest(ex.probe, ex.memory);
  } catch {
    relaxedOk = false;
  }
  return relaxedOk;
}

function envBuild(): string | undefined {
  const env = typeof process === 'object' && process?.env ? process.env.DELTAKIT_KERNEL_BUILD : undefined;
  return env === undefined || env === '' ? undefined : env;
}

function checkBuild(build: string, from: string): KernelBuild {
  if (!(KERNEL_BUILDS as readonly string[]).includes(build)) {
    throw new DeltakitError('E_OPTION', `${from}: expected one of ${KERNEL_BUILDS.join(', ')}, found '${build}'`);
  }
  const b = build as KernelBuild;
  if (b === 'relaxed-simd' && !relaxedSimdSupported()) throw new DeltakitError('E_UNSUPPORTED', `${from}: 'relaxed-simd' requested, but this engine does not run relaxed SIMD correctly (not validated, or its self-test failed)`);
  if (b === 'simd128' && !wasmSimdSupported()) throw new DeltakitError('E_UNSUPPORTED', `${from}: 'simd128' requested, but this engine has no WebAssembly SIMD`);
  return b;
}

/**
 * The kernel build that loads by default here: DELTAKIT_KERNEL_BUILD if set, else the fastest the
 * engine runs correctly ('relaxed-simd', then 'simd128', then 'scalar').
 *
 * @example kernelBuild() // 'relaxed-simd' on Node 22+ and current browsers, 'simd128' on Node 20
 */
export function kernelBuild(): KernelBuild {
  const env = envBuild();
  if (env !== undefined) return checkBuild(env, 'DELTAKIT_KERNEL_BUILD');
  return relaxedSimdSupported() ? 'relaxed-simd' : wasmSimdSupported() ? 'simd128' : 'scalar';
}

/** Options of loadKernels / initWasm. */
export interface LoadOptions {
  /** Force a build (tests; must be supported here). Default: kernelBuild(). */
  build?: KernelBuild;
  /** false forces the scalar build (same as build: 'scalar'); true or absent: the default build. */
  simd?: boolean;
}

const cache: Partial<Record<KernelPath, WasmKernels>> = {};

function pathFor(opts: LoadOptions): KernelPath {
  if (opts.build !== undefined) return PATH_OF[checkBuild(opts.build, 'kernel build')];
  if (opts.simd === false) return 'wasm-scalar';
  return PATH_OF[kernelBuild()];
}

function bytesFor(path: KernelPath): Uint8Array<ArrayBuffer> {
  return decodeBase64(path === 'wasm-relaxed' ? KERNELS_RELAXED_BASE64 : path === 'wasm-simd' ? KERNELS_SIMD_BASE64 : KERNELS_SCALAR_BASE64);
}

/**
 * The kernels, compiled and instantiated synchronously on first use (cached afterwards).
 * `build` forces a build (tests compare them all); `simd: false` forces the scalar build. Throws E_UNSUPPORTED when the
 * engine has no WebAssembly or refuses synchronous compilation (browser main thread: use initWasm).
 *
 * @example const k = loadKernels(); console.log(k.path);
 */
export function loadKernels(opts: LoadOptions = {}): WasmKernels {
  const path = pathFor(opts);
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
 * @example await initWasm(); const s = createSession(model); // runs on wasm-relaxed
 */
export async function initWasm(opts: LoadOptions = {}): Promise<WasmKernels> {
  const path = pathFor(opts);
  const hit = cache[path];
  if (hit) return hit;
  if (!wasmSupported()) throw new DeltakitError('E_UNSUPPORTED', 'wasm backend: this JavaScript engine has no WebAssembly; use backend "js"');
  const module = await WebAssembly.compile(bytesFor(path));
  const instance = await WebAssembly.instantiate(module, {});
  return (cache[path] = new WasmKernels(instance, path));
}

/** The kernels if they are (or can synchronously be) loaded, else null: the session's default-backend probe. */
export function tryLoadKernels(opts: LoadOptions = {}): WasmKernels | null {
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
