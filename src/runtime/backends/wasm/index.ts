/**
 * The wasm backend: executors on the WebAssembly kernels (relaxed SIMD where the engine runs it
 * correctly, SIMD128 below, scalar where SIMD is missing), float32 or int8 weights. See docs/performance.md.
 *
 * @example
 * const factory = createWasmExecutorFactory({ weights: 'int8' });
 * const ex = factory(model.layers[0], { delta: true, thresholdX: 0.1, thresholdH: 0.1, biasConvention: 'cudnn' });
 */
import type { Layer } from '../../../model/types.js';
import { loadKernels, type KernelBuild, type WasmKernels } from '../../../kernels/wasm/loader.js';
import type { ExecutorConfig, ExecutorFactory, LayerExecutor } from '../types.js';
import { requireNoPeephole } from '../../../cells/lstm/definition.js';
import { requireDefaultActivations } from '../../../cells/activation.js';
import { WasmLinearExecutor, WasmQrnnExecutor, WasmSruExecutor, MAX_BLOCK_STEPS } from './feedforward.js';
import { WasmRecurrentExecutor, type WasmExecutorOptions, type WeightFormat, type RecurrentSnapshot } from './recurrent.js';
import { WasmThreadPool } from './threads.js';

export { WasmLinearExecutor, WasmQrnnExecutor, WasmSruExecutor, WasmRecurrentExecutor, WasmThreadPool, MAX_BLOCK_STEPS };
export type { WasmExecutorOptions, WeightFormat, RecurrentSnapshot };

export interface WasmFactoryOptions extends Partial<WasmExecutorOptions> {
  /**
   * 2-thread mode (Node): dense float32 GRU/LSTM layers split their mat-vec rows with the pool's
   * worker; every layer then runs on the pool's shared-memory kernels (path suffix '-2t').
   */
  pool?: WasmThreadPool;
  /** false forces the scalar build (default: kernelBuild(), the fastest build the engine runs correctly). */
  simd?: boolean;
  /** Force a kernel build (tests, benchmarks): 'relaxed-simd', 'simd128' or 'scalar'. */
  build?: KernelBuild;
  /** Use these kernels instead of loading them (e.g. from `await initWasm()`). */
  kernels?: WasmKernels;
}

/** An ExecutorFactory for the wasm backend. Throws E_UNSUPPORTED where WebAssembly cannot load. */
export function createWasmExecutorFactory(opts: WasmFactoryOptions = {}): ExecutorFactory {
  const k = opts.pool?.kernels ?? opts.kernels ?? loadKernels({ ...(opts.simd === undefined ? {} : { simd: opts.simd }), ...(opts.build === undefined ? {} : { build: opts.build }) });
  const exOpts: WasmExecutorOptions = {
    weights: opts.weights ?? 'f32',
    ...(opts.resyncPeriod !== undefined ? { resyncPeriod: opts.resyncPeriod } : {}),
    ...(opts.activationBits !== undefined ? { activationBits: opts.activationBits } : {}),
    ...(opts.pool ? { pool: opts.pool } : {}),
  };
  return (layer: Layer, config: ExecutorConfig): LayerExecutor => {
    switch (layer.kind) {
      case 'gru':
        requireDefaultActivations(layer, 'backend wasm');
        return new WasmRecurrentExecutor(layer, config, k, exOpts);
      case 'lstm':
        requireNoPeephole(layer, 'backend wasm');
        requireDefaultActivations(layer, 'backend wasm');
        return new WasmRecurrentExecutor(layer, config, k, exOpts);
      case 'linear':
        return new WasmLinearExecutor(layer, k, exOpts);
      case 'sru':
        return new WasmSruExecutor(layer, k);
      case 'qrnn':
        return new WasmQrnnExecutor(layer, k);
    }
  };
}
