/**
 * 2-thread mode (Node): dense float32 GRU/LSTM layers split the rows of their two mat-vec
 * products between the calling thread and one worker thread. Both run the same kernels
 * (threads build) on one shared WebAssembly memory, so nothing is copied: per step the caller
 * writes the worker's half of the arguments into a control block, wakes it with Atomics.notify,
 * computes its own half, and waits for the worker's "done" before the gate kernel.
 *
 * Worth it only when a step is long enough (large layers) to amortise the wake-up, a few
 * microseconds on an idle machine. Browsers would need cross-origin isolation for shared memory;
 * this module uses node:worker_threads.
 *
 * @example
 * const pool = await WasmThreadPool.create();
 * const factory = createWasmExecutorFactory({ pool });    // dense GRU/LSTM layers use 2 threads
 * ...
 * pool.close();
 */
import { DeltakitError } from '../../../core/errors.js';
import { instantiateShared, type WasmKernels } from '../../../kernels/wasm/loader.js';

/** Control block (int32 slots): seq, op, 12 arguments, done. */
const CTRL_INTS = 16;
const SEQ = 0;
const OP = 1;
const ARGS = 2;
const DONE = 14;
/** How long the caller waits for the worker before declaring it dead, ms. */
const TIMEOUT_MS = 10_000;

// The worker: plain CommonJS evaluated in the worker thread, so it needs no file next to the
// compiled sources. It instantiates the same module on the shared memory and serves jobs.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrl } = workerData;
const e = new WebAssembly.Instance(module, { env: { memory } }).exports;
let seen = 0;
for (;;) {
  const c = new Int32Array(memory.buffer, ctrl, ${CTRL_INTS});
  Atomics.wait(c, ${SEQ}, seen);
  const seq = Atomics.load(c, ${SEQ});
  if (seq === seen) continue;
  seen = seq;
  if (c[${OP}] === 0) break;
  const a = ${ARGS};
  e.matvec_f32(c[a], c[a + 1], c[a + 2], c[a + 3], c[a + 4], c[a + 5]);
  e.matvec_f32(c[a + 6], c[a + 7], c[a + 8], c[a + 9], c[a + 10], c[a + 11]);
  Atomics.store(c, ${DONE}, seq);
  Atomics.notify(c, ${DONE});
}
`;

interface WorkerLike {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', cb: (e: Error) => void): void;
}

export class WasmThreadPool {
  private seq = 0;
  private closed = false;
  private failure: Error | null = null;
  private constructor(
    readonly kernels: WasmKernels,
    private readonly ctrl: number,
    private readonly worker: WorkerLike,
  ) {}

  /** Start the worker. Throws E_UNSUPPORTED outside Node or without shared WebAssembly memory. */
  static async create(): Promise<WasmThreadPool> {
    let wt: { Worker: new (src: string, o: object) => WorkerLike };
    try {
      // A computed specifier keeps browser bundlers from trying to resolve a Node built-in.
      const spec = 'node:worker_threads';
      wt = (await import(spec)) as typeof wt;
    } catch {
      throw new DeltakitError('E_UNSUPPORTED', 'wasm threads: needs node:worker_threads (Node)');
    }
    const { kernels, module, memory } = await instantiateShared();
    const ctrl = kernels.alloc(CTRL_INTS * 4);
    const worker = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctrl } });
    worker.unref(); // never keeps the process alive
    const pool = new WasmThreadPool(kernels, ctrl, worker);
    worker.on('error', (e) => (pool.failure = e));
    return pool;
  }

  /**
   * Two mat-vec products y = W x + b (row-major, as matvec_f32), each split by rows: the worker
   * takes the second half of both, this thread the first half, then wait for the worker.
   */
  matvec2(w1: number, b1: number, rows1: number, cols1: number, x1: number, y1: number,
    w2: number, b2: number, rows2: number, cols2: number, x2: number, y2: number): void {
    if (this.closed) throw new DeltakitError('E_UNSUPPORTED', 'wasm threads: the pool was closed');
    const e = this.kernels.exports;
    const h1 = Math.floor(rows1 / 8) * 4; // first half, a multiple of 4 rows
    const h2 = Math.floor(rows2 / 8) * 4;
    const c = new Int32Array(this.kernels.memory.buffer, this.ctrl, CTRL_INTS);
    c.set([1, w1 + h1 * cols1 * 4, b1 + h1 * 4, rows1 - h1, cols1, x1, y1 + h1 * 4,
      w2 + h2 * cols2 * 4, b2 + h2 * 4, rows2 - h2, cols2, x2, y2 + h2 * 4], OP);
    const seq = ++this.seq;
    Atomics.store(c, SEQ, seq);
    Atomics.notify(c, SEQ);
    if (h1 > 0) e.matvec_f32(w1, b1, h1, cols1, x1, y1);
    if (h2 > 0) e.matvec_f32(w2, b2, h2, cols2, x2, y2);
    this.waitDone(c, seq);
  }

  private waitDone(c: Int32Array, seq: number): void {
    // Spin briefly (the worker usually finishes about when we do), then sleep on the futex.
    for (let i = 0; i < 2000; i++) if (Atomics.load(c, DONE) === seq) return;
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const d = Atomics.load(c, DONE);
      if (d === seq) return;
      if (this.failure || Date.now() > deadline) {
        throw new DeltakitError('E_UNSUPPORTED', `wasm threads: the worker did not answer (${this.failure?.message ?? 'timeout'})`);
      }
      Atomics.wait(c, DONE, d, 100);
    }
  }

  /** Stop the worker (executors created from this pool then fail on their next step). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const c = new Int32Array(this.kernels.memory.buffer, this.ctrl, CTRL_INTS);
    c[OP] = 0;
    Atomics.store(c, SEQ, ++this.seq);
    Atomics.notify(c, SEQ);
    void this.worker.terminate();
  }
}
