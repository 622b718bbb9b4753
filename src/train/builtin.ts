/**
 * The built-in model: a DeltaGRU spoken-digit classifier trained by deltakit itself on the
 * synthesised digits corpus, committed under models/ with a held-out feature set of voices it
 * never heard, so `deltakit demo` measures real accuracy on any machine.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { check } from '../core/errors.js';
import { espeakAvailable } from '../data/espeak.js';
import { normalizeDataset, type Dataset, type Utterance } from '../data/dataset.js';
import { corpusClasses, corpusUtterances, type CorpusOptions } from '../data/corpus.js';
import { readHeldout } from '../data/heldout.js';
import { loadModel } from '../model/io.js';
import type { Model } from '../model/types.js';
import type { ModelTask } from './task.js';

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
 * it is installed (`auto`, `synth`), else read from the committed float16 copy. `maxFrames`
 * stops after the first whole utterances that reach that many frames (a quick look).
 *
 * @example const { dataset } = builtinHeldout(modelTask(model), 'committed');
 */
export function builtinHeldout(task: ModelTask, source: HeldoutSource = 'auto', o: { cacheDir?: string; progress?: boolean; maxFrames?: number } = {}): { dataset: Dataset; source: 'synth' | 'committed' } {
  const limit = o.maxFrames ?? Infinity;
  const take = (it: Iterable<Utterance>): Utterance[] => {
    const out: Utterance[] = [];
    let frames = 0;
    for (const u of it) {
      if (frames >= limit) break;
      out.push(u);
      frames += u.frames;
    }
    return out;
  };
  if (source === 'synth' || (source === 'auto' && espeakAvailable())) {
    const co: CorpusOptions = { ...BUILTIN_HELDOUT_CORPUS, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), ...(o.progress !== undefined ? { progress: o.progress } : {}) };
    const raw: Dataset = { corpus: task.corpus, split: 'test', classes: corpusClasses(task.corpus), bands: 40, utterances: take(corpusUtterances(task.corpus, 'test', co)) };
    return { dataset: normalizeDataset(raw, task.stats), source: 'synth' };
  }
  const held = readHeldout(BUILTIN_HELDOUT_BASE);
  return { dataset: normalizeDataset({ ...held, utterances: take(held.utterances) }, task.stats), source: 'committed' };
}
