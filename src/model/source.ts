/**
 * Where a model came from, for messages about its contents: a value read from a model's metadata
 * (a stored threshold, detector setting, voice split) that is out of range is the file's fault,
 * and the message names the file, not a command-line option the user never gave.
 *
 * Free of Node built-ins (the browser playground loads models too). Models are keyed by identity:
 * a copy (`{ ...model, meta }`) has no recorded file and is named by its name alone.
 */
import type { Model } from './types.js';

const sources = new WeakMap<object, string>();

/** Record the file a model was loaded from (loadModel and loadModelFile do this). */
export function setModelSource(model: Model, path: string): void {
  sources.set(model, path);
}

/** The file a model was loaded from, when it was loaded by path. */
export function modelSource(model: Model): string | undefined {
  return sources.get(model);
}

/**
 * The model as messages name it: `model NAME (FILE)`, or `model NAME` when it was built in memory
 * or decoded from bytes.
 *
 * @example modelLabel(await loadModel('m.safetensors')) // 'model gru-1x64 (m.safetensors)'
 */
export function modelLabel(model: Model): string {
  const path = sources.get(model);
  return `model ${model.name}${path !== undefined ? ` (${path})` : ''}`;
}
