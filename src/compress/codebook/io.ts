/**
 * Loading a model that may be codebook-compressed: .dkcb files are decoded to a plain Model
 * (the decoder the runtime uses); anything else goes to the model loader.
 */
import { readFileBytes, decodeModel, loadModelFile } from '../../model/io.js';
import type { Model } from '../../model/types.js';
import { decodeCompressedModel, decompressModel, isCompressedModel } from './model.js';

/**
 * @example const model = await loadModelOrCompressed('m.dkcb'); createSession(model, {});
 */
export async function loadModelOrCompressed(pathOrBytes: string | Uint8Array): Promise<Model> {
  const bytes = typeof pathOrBytes === 'string' ? await readFileBytes(pathOrBytes) : pathOrBytes;
  if (isCompressedModel(bytes)) return decompressModel(decodeCompressedModel(bytes));
  // By path, so a TensorFlow.js model.json finds its weight shards beside it.
  return typeof pathOrBytes === 'string' ? (await loadModelFile(pathOrBytes)).model : decodeModel(bytes);
}
