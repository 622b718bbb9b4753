export * from './types.js';
export * from './session.js';
export { columnMajor } from './plan.js';
export { availableBackends, executorFactory } from './backends/index.js';
export { createWasmExecutorFactory, WasmThreadPool } from './backends/wasm/index.js';
export { initWasm, kernelBuild, loadKernels, relaxedSimdSupported, wasmSimdSupported, KERNEL_BUILDS } from '../kernels/wasm/loader.js';
export type { KernelBuild } from '../kernels/wasm/loader.js';
export type { ExecutorConfig, ExecutorFactory, LayerExecutor } from './backends/types.js';
