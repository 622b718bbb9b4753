/**
 * The built-in model: a DeltaGRU spoken-digit classifier trained by deltakit itself on the
 * synthesised digits corpus, committed under models/ with a held-out feature set of voices it
 * never heard, so `deltakit demo` measures real accuracy on any machine.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { check } from '../core/errors.js';
import { espeakAvailable } from '../data/espeak.js';
import { normalizeDataset, type Dataset } from '../data/dataset.js';
import { buildCorpus, type CorpusOptions } from '../data/corpus.js';
import { readHeldout } from '../data/heldout.js';
import { loadModel } from '../model/io.js';
import type { Model } from '../model/types.js';
import { modelTask, type ModelTask } from './task.js';

/** models/ at the package root (two levels above src/train or dist/train). */
export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
export const BUILTIN_MODEL_FILE = `${MODELS_DIR}digits-deltagru.safetensors`;
/** Base path of the committed held-out features (`.npy` float16 + `.json`). */
export const BUILTIN_HELDOUT_BASE = `${MODELS_DIR}digits-heldout`;
/** The held-out set the demo synthesises (and the committed copy holds): one rendition of every
 * digit by every test voice of the default split. */
export const BUILTIN_HELDOUT_CORPUS: CorpusOptions = { seed: 1, renditions: { test: 1 } };

/**
 * Load the committed built-in model.
 *
 * @example const model = await loadBuiltinModel(); const task = modelTask(model);
 */
export async function loadBuiltinModel(): Promise<Model> {
  check(existsSync(BUILTIN_MODEL_FILE), 'E_IO', () => `built-in model: expected ${BUILTIN_MODEL_FILE}, found no such file`);
  return loadModel(BUILTIN_MODEL_FILE);
}

export type HeldoutSource = 'auto' | 'synth' | 'committed';

/**
 * The built-in model's held-out set, normalised: synthesised (and cached) with espeak-ng when
 * it is installed (`auto`, `synth`), else read from the committed float16 copy.
 */
export function builtinHeldout(task: ModelTask, source: HeldoutSource = 'auto', o: { cacheDir?: string; progress?: boolean } = {}): { dataset: Dataset; source: 'synth' | 'committed' } {
  if (source === 'synth' || (source === 'auto' && espeakAvailable())) {
    const raw = buildCorpus(task.corpus, 'test', { ...BUILTIN_HELDOUT_CORPUS, ...o });
    return { dataset: normalizeDataset(raw, task.stats), source: 'synth' };
  }
  return { dataset: normalizeDataset(readHeldout(BUILTIN_HELDOUT_BASE), task.stats), source: 'committed' };
}
