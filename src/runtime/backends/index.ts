/**
 * Backend selection. A backend is an ExecutorFactory; the session asks it for one executor per
 * layer. Capabilities are declared here, not discovered by failing.
 */
import { fail } from '../../core/errors.js';
import type { Backend } from '../types.js';
import { createJsExecutor } from './js/index.js';
import { createWasmExecutorFactory } from './wasm/index.js';
import { tryLoadKernels } from '../../kernels/wasm/loader.js';
import type { ExecutorFactory } from './types.js';
import type { Layer } from '../../model/types.js';
import { hasDefaultActivations } from '../../cells/activation.js';

export type { ExecutorConfig, ExecutorFactory, LayerExecutor } from './types.js';

/**
 * Backends usable in this process, fastest first: wasm where the kernels load synchronously
 * (Node, workers, or a browser after `await initWasm()`), then js.
 */
export function availableBackends(): Backend[] {
  return tryLoadKernels() ? ['wasm', 'js'] : ['js'];
}

/**
 * Whether the wasm backend runs this layer: GRU (both forms) and LSTM without peepholes, with
 * their default activations and no clip (the js backend runs every layer). A declared capability, consulted when no backend
 * is named, so such layers run on js instead of failing.
 */
export function wasmRunsLayer(layer: Layer): boolean {
  if (layer.kind === 'gru') return hasDefaultActivations(layer);
  if (layer.kind === 'lstm') return !layer.peephole && hasDefaultActivations(layer);
  return true;
}

export function executorFactory(backend: Backend | undefined, weights?: 'f32' | 'int8'): ExecutorFactory {
  if (weights !== undefined && weights !== 'f32' && weights !== 'int8') fail('E_OPTION', `weights: expected 'f32' or 'int8', found '${String(weights)}'`);
  const chosen = backend ?? availableBackends()[0]!;
  if (weights === 'int8' && chosen !== 'wasm') fail('E_UNSUPPORTED', `weights 'int8': needs the wasm backend, found backend '${chosen}'`);
  switch (chosen) {
    case 'wasm': {
      if (!tryLoadKernels()) fail('E_UNSUPPORTED', 'backend wasm: WebAssembly kernels cannot load here (no WebAssembly, or a browser main thread before `await initWasm()`)');
      const wasm = createWasmExecutorFactory({ weights: weights ?? 'f32' });
      // No backend named and float weights: layers wasm does not run go to js (paths say which ran).
      if (backend === undefined && weights !== 'int8') return (layer, config) => (wasmRunsLayer(layer) ? wasm(layer, config) : createJsExecutor(layer, config));
      return wasm;
    }
    case 'js':
      return createJsExecutor;
    default:
      return fail('E_UNSUPPORTED', `backend: expected one of ${availableBackends().join(', ')}, found ${String(chosen)}`);
  }
}
