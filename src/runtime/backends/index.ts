/**
 * Backend selection. A backend is an ExecutorFactory; the session asks it for one executor per
 * layer. Capabilities are declared here, not discovered by failing.
 */
import { fail } from '../../core/errors.js';
import type { Backend } from '../types.js';
import { createJsExecutor } from './js/index.js';
import type { ExecutorFactory } from './types.js';

export type { ExecutorConfig, ExecutorFactory, LayerExecutor } from './types.js';

/** Backends usable in this process, fastest first. */
export function availableBackends(): Backend[] {
  return ['js'];
}

export function executorFactory(backend: Backend | undefined): ExecutorFactory {
  const chosen = backend ?? availableBackends()[0]!;
  switch (chosen) {
    case 'js':
      return createJsExecutor;
    default:
      return fail('E_UNSUPPORTED', `backend: expected one of ${availableBackends().join(', ')}, found ${String(chosen)}`);
  }
}
