/**
 * Loading a model that may be codebook-compressed: .dkcb files are decoded to a plain Model
 * (the decoder the runtime uses); anything else goes to the model loader.
 */
import { setModelSource } from '../../model/source.js';
import { asBytes } from '../../core/bytes.js';
import { readFileBytes, decodeModel, loadModelFile, type LoadModelOptions } from '../../model/io.js';
import { check } from '../../core/errors.js';
import type { Model } from '../../model/types.js';
import { decodeCompressedModel, decompressModel, isCompressedModel } from './model.js';

/**
 * @example const model = await loadModelOrCompressed('m.dkcb'); createSession(model, {});
 */
export async function loadModelOrCompressed(pathOrBytes: string | Uint8Array | ArrayBuffer, opts: LoadModelOptions = {}): Promise<Model> {
  const bytes = typeof pathOrBytes === 'string' ? await readFileBytes(pathOrBytes) : asBytes(pathOrBytes, 'model file');
  if (isCompressedModel(bytes)) {
    const model = decodeCompressed(bytes, opts);
    if (typeof pathOrBytes === 'string') setModelSource(model, pathOrBytes);
    return model;
  }
  // By path, so a TensorFlow.js model.json finds its weight shards beside it.
  return typeof pathOrBytes === 'string' ? (await loadModelFile(pathOrBytes, opts)).model : decodeModel(bytes, opts);
}

function decodeCompressed(bytes: Uint8Array, opts: LoadModelOptions): Model {
  const model = decompressModel(decodeCompressedModel(bytes));
  const last = model.layers[model.layers.length - 1]!;
  const has = last.kind === 'linear' ? last.activation : 'no Linear readout';
  check(opts.readoutActivation === undefined || opts.readoutActivation === has, 'E_MISMATCH', () => `readoutActivation (CLI: --readout-activation) ${opts.readoutActivation}: this .dkcb file records its readout (${has}); the option applies to PyTorch state_dicts, which do not`);
  if (opts.name !== undefined) model.name = opts.name;
  return model;
}
