/**
 * The built-in model: a DeltaGRU spoken-digit classifier trained by deltakit itself on the
 * synthesised digits corpus, committed under models/ with a held-out feature set of voices it
 * never heard, so `deltakit demo` measures real accuracy on any machine.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { check } from '../core/errors.js';
import { espeakAvailable } from '../data/espeak.js';
import { festivalAvailable } from '../data/festival.js';
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
 * digit by every espeak-ng test voice of the default split, and two by every held-out Festival
 * variant. */
export const BUILTIN_HELDOUT_CORPUS: CorpusOptions = { seed: 1, renditions: { test: 1 }, festival: true, festivalRenditions: { test: 2 } };

/** The connected-digit model's held-out set: five strings by each of the first five espeak-ng
 * test voices and each of the three held-out Festival variants (40 strings, 154 digits; the
 * committed copy stays under 1 MB). */
export const BUILTIN_STRINGS_HELDOUT_CORPUS: CorpusOptions = { seed: 1, renditions: { test: 1 }, festival: true, maxVoices: 5 };

/**
 * The built-in keyword verifier: the keyword classifier fine-tuned on what it hears as the second
 * stage of the keyword-stream model (its isolated clips and the windows mined around that model's
 * candidates, `deltakit train --task keywords --verifier-windows`; docs/kws.md). `--verify` with
 * no classifier uses it; the stream model's stored two-stage settings are tuned for it.
 */
export const KWS_VERIFIER_FILE = `${MODELS_DIR}kws-verifier-deltagru.safetensors`;

/**
 * Load the built-in keyword verifier (E_IO when this release has none).
 *
 * @example const verifier = await loadBuiltinVerifier(); // kws-verifier-deltagru-1x128
 */
export async function loadBuiltinVerifier(): Promise<Model> {
  check(existsSync(KWS_VERIFIER_FILE), 'E_IO', () => `built-in keyword verifier: expected ${KWS_VERIFIER_FILE}, found no such file (train one with deltakit train --task keywords --verifier-windows models/kws-streams-deltagru.safetensors)`);
  return loadModel(KWS_VERIFIER_FILE);
}

/** The tasks `deltakit demo --task` knows. */
export type BuiltinTask = 'digits' | 'digit-strings' | 'keywords';
export const BUILTIN_TASKS: readonly BuiltinTask[] = ['digits', 'digit-strings', 'keywords'];

/** Where a task's built-in model and held-out copy live, and how its held-out set is synthesised. */
export interface BuiltinSpec {
  task: BuiltinTask;
  file: string;
  heldoutBase: string;
  corpus: CorpusOptions;
}

/**
 * The built-in model of a task (whether or not its file is committed).
 *
 * @example builtinSpec('digits').file // .../models/digits-deltagru.safetensors
 */
export function builtinSpec(task: BuiltinTask = 'digits'): BuiltinSpec {
  check(BUILTIN_TASKS.includes(task), 'E_OPTION', () => `built-in model: expected a task among ${BUILTIN_TASKS.join(', ')}, found ${JSON.stringify(task)}`);
  if (task === 'digits') return { task, file: BUILTIN_MODEL_FILE, heldoutBase: BUILTIN_HELDOUT_BASE, corpus: BUILTIN_HELDOUT_CORPUS };
  if (task === 'digit-strings') return { task, file: `${MODELS_DIR}digit-strings-deltagru.safetensors`, heldoutBase: `${MODELS_DIR}digit-strings-heldout`, corpus: BUILTIN_STRINGS_HELDOUT_CORPUS };
  // Keywords: like digits, one rendition per espeak-ng test voice and two per Festival variant.
  return { task, file: `${MODELS_DIR}kws-deltagru.safetensors`, heldoutBase: `${MODELS_DIR}kws-heldout`, corpus: { seed: 1, renditions: { test: 1 }, festival: true, festivalRenditions: { test: 2 } } };
}

/**
 * Load the committed built-in model of a task (default: isolated digits). E_IO when this
 * release has no built-in model for the task.
 *
 * @example const model = await loadBuiltinModel(); const task = modelTask(model);
 */
export async function loadBuiltinModel(task: BuiltinTask = 'digits'): Promise<Model> {
  const spec = builtinSpec(task);
  check(existsSync(spec.file), 'E_IO', () => `built-in model for ${task}: expected ${spec.file}, found no such file (this release has none; train one with deltakit train --task ${task} -o model.safetensors and measure it with deltakit eval)`);
  return loadModel(spec.file);
}

export type HeldoutSource = 'auto' | 'synth' | 'committed';

/**
 * The built-in model's held-out set, normalised: synthesised (and cached) with espeak-ng when
 * it is installed (`auto`, `synth`), else read from the committed float16 copy. `maxFrames`
 * stops after the first whole utterances that reach that many frames (a quick look).
 *
 * @example const { dataset } = builtinHeldout(modelTask(model), 'committed');
 */
export function builtinHeldout(task: ModelTask, source: HeldoutSource = 'auto', o: { cacheDir?: string; progress?: boolean; maxFrames?: number; spec?: BuiltinSpec } = {}): { dataset: Dataset; source: 'synth' | 'committed' } {
  const spec = o.spec ?? builtinSpec('digits');
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
  // Synthesise only when every synthesiser the set needs is installed; else the committed copy.
  const canSynth = espeakAvailable() && (!spec.corpus.festival || festivalAvailable());
  if (source === 'synth' || (source === 'auto' && canSynth)) {
    const co: CorpusOptions = { ...spec.corpus, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), ...(o.progress !== undefined ? { progress: o.progress } : {}) };
    const raw: Dataset = { corpus: task.corpus, split: 'test', classes: corpusClasses(task.corpus), bands: 40, utterances: take(corpusUtterances(task.corpus, 'test', co)) };
    return { dataset: normalizeDataset(raw, task.stats), source: 'synth' };
  }
  const held = readHeldout(spec.heldoutBase);
  return { dataset: normalizeDataset({ ...held, utterances: take(held.utterances) }, task.stats), source: 'committed' };
}
