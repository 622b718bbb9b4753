import type { Layer } from '../../../model/types.js';
import type { ExecutorConfig, LayerExecutor } from '../types.js';
import { JsLinearExecutor, JsQrnnExecutor, JsSruExecutor } from './feedforward.js';
import { JsGruExecutor } from './gru.js';
import { JsLstmExecutor } from './lstm.js';

export { JsGruExecutor, JsLstmExecutor, JsLinearExecutor, JsSruExecutor, JsQrnnExecutor };

/** The js backend: plain TypeScript, float32 weights, float64 accumulation. Runs everywhere. */
export function createJsExecutor(layer: Layer, config: ExecutorConfig): LayerExecutor {
  switch (layer.kind) {
    case 'gru':
      return new JsGruExecutor(layer, config);
    case 'lstm':
      return new JsLstmExecutor(layer, config);
    case 'sru':
      return new JsSruExecutor(layer);
    case 'qrnn':
      return new JsQrnnExecutor(layer);
    case 'linear':
      return new JsLinearExecutor(layer);
  }
}
