/**
 * The task a model trained by `deltakit train` carries in its metadata. Free of Node built-ins:
 * the streaming recogniser and the browser playground read it too.
 */
import { check, DeltakitError } from '../core/errors.js';
import { CORPUS_NAMES, type CorpusName } from '../data/vocabulary.js';
import { statsFromJson, type FeatureStats } from '../data/dataset.js';
import type { Model } from '../model/types.js';
import { modelLabel } from '../model/source.js';
import type { Readout } from './net.js';

export interface ModelTask {
  corpus: CorpusName;
  classes: string[];
  stats: FeatureStats;
  readout: Readout;
}

/**
 * A keyword-stream model (CTC on the kws corpus): its isolated clips are scored as clips, each
 * right when the keyword its clip rule decides is the one said (none in an unknown word or a
 * silence clip), not as strings; eval's table and tune's budget both follow this.
 *
 * @example scoresClips(modelTask(await loadModel('models/kws-streams-deltagru.safetensors'))) // true
 */
export function scoresClips(task: Pick<ModelTask, 'corpus' | 'readout'>): boolean {
  return task.readout === 'ctc' && task.corpus === 'kws';
}

/**
 * A metadata entry that holds a JSON list of names (`classes`, `trainVoices`): the list, or
 * E_FORMAT naming the entry and what it holds instead of a JSON syntax error.
 *
 * @example metadataNames(model, 'trainVoices') // ['en+f1', 'en+m3', ...]
 */
export function metadataNames(model: Model, key: string): string[] {
  const raw = model.meta?.[key] ?? '';
  let names: unknown;
  try {
    names = JSON.parse(raw);
  } catch {
    names = null;
  }
  check(Array.isArray(names) && names.every((n) => typeof n === 'string'), 'E_FORMAT', () => `${modelLabel(model)}: metadata ${key} must be a JSON list of names, found ${JSON.stringify(raw.slice(0, 60))}`);
  return names as string[];
}

/**
 * Read the task from a model trained by `deltakit train` (meta: corpus, classes, featureStats,
 * readout). Throws E_UNSUPPORTED for a model without it.
 *
 * @example const task = modelTask(await loadModel('models/digits-deltagru.safetensors'));
 */
export function modelTask(model: Model): ModelTask {
  check(model !== null && typeof model === 'object' && Array.isArray(model.layers), 'E_SHAPE', () => `model: expected a Model object ({ name, layers, meta }, e.g. from loadModel), found ${model === null ? 'null' : typeof model}`);
  const m = model.meta ?? {};
  const missing = ['corpus', 'classes', 'featureStats', 'readout'].filter((k) => typeof m[k] !== 'string');
  if (missing.length) throw new DeltakitError('E_UNSUPPORTED', `${modelLabel(model)}: expected the metadata of a deltakit-trained classifier (corpus, classes, featureStats, readout), found none for ${missing.join(', ')}`);
  const corpus = m['corpus'] as CorpusName;
  check(CORPUS_NAMES.includes(corpus), 'E_FORMAT', () => `${modelLabel(model)}: metadata corpus must be one of ${CORPUS_NAMES.join(', ')}, found ${corpus}`);
  const classes = metadataNames(model, 'classes');
  const readout = m['readout'] as Readout;
  check(readout === 'mean' || readout === 'last' || readout === 'ctc', 'E_FORMAT', () => `${modelLabel(model)}: metadata readout must be mean, last or ctc, found ${readout}`);
  const stats = fromMetadata(model, 'featureStats', () => statsFromJson(m['featureStats']!));
  // Statistics of other bands than the model reads normalised only some of them (kws detect ran
  // a 40-input model on 2-band statistics, exit 0); every command reading the task refuses it here.
  const bands = model.layers[0]?.inputSize;
  check(stats.mean.length === bands, 'E_FORMAT', () => `${modelLabel(model)}: metadata featureStats has ${stats.mean.length} bands, the model's input has ${bands}`);
  return { corpus, classes, stats, readout };
}

/**
 * A number stored in a model's metadata (a string, as safetensors metadata holds), or undefined
 * when the key is absent. A value that is not a number or out of range is the file's fault:
 * E_FORMAT naming the model, its file and the key (never the command-line option it stands in for).
 *
 * @example metadataNumber(model, 'kwsWindow', { integer: true, min: 1, max: 10000 }) // 40
 */
export function metadataNumber(model: Model, key: string, range: { min?: number; max?: number; integer?: boolean; above?: number; what?: string } = {}): number | undefined {
  const raw = model.meta?.[key];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const bounds = [
    range.above !== undefined ? `> ${range.above}` : '',
    range.min !== undefined ? `>= ${range.min}` : '',
    range.max !== undefined ? `<= ${range.max}` : '',
  ].filter(Boolean).join(' and ');
  const ok = raw.trim() !== '' && Number.isFinite(v) && (!range.integer || Number.isSafeInteger(v)) && (range.min === undefined || v >= range.min) && (range.max === undefined || v <= range.max) && (range.above === undefined || v > range.above);
  check(ok, 'E_FORMAT', () => `${modelLabel(model)}: metadata ${key}: expected ${range.what ?? (range.integer ? 'an integer' : 'a number')}${bounds ? ` ${bounds}` : ''}, found ${JSON.stringify(raw.slice(0, 60))}`);
  return v;
}

/**
 * A model's metadata value that holds a JSON object (`trainConfig`, `corpusOptions`, ...):
 * undefined when the key is absent, E_FORMAT naming the model, its file and the key when the
 * value is not a JSON object.
 *
 * @example const cfg = metadataObject(model, 'trainConfig'); // { hiddenSize: 128, ... } or undefined
 */
export function metadataObject(model: Model, key: string): Record<string, unknown> | undefined {
  const raw = model.meta?.[key];
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  check(v !== null && typeof v === 'object' && !Array.isArray(v), 'E_FORMAT', () => `${modelLabel(model)}: metadata ${key}: expected a JSON object, found ${JSON.stringify(raw.slice(0, 60))}`);
  return v as Record<string, unknown>;
}

/**
 * Run `read` on a model's stored settings; a coded error it raises about them (a value out of
 * range, as the API's own checks word it) becomes E_FORMAT naming the model, its file and the
 * metadata key: the settings came from the file, not from an option.
 *
 * @example fromMetadata(model, 'kwsVerify', () => checkVerifierOptions(stored))
 */
export function fromMetadata<T>(model: Model, key: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    const label = modelLabel(model);
    if (e instanceof DeltakitError && !e.message.startsWith(label)) throw new DeltakitError('E_FORMAT', `${label}: metadata ${key}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * The delta thresholds stored in a model's metadata (`thresholdX`, `thresholdH`, written by
 * `deltakit tune --save`; 0 where absent). A stored value that is not a threshold is E_FORMAT
 * naming the key and the model's file.
 *
 * @example const th = storedThresholds(model); // { thresholdX: 0.3, thresholdH: 0.3 }
 */
export function storedThresholds(model: Model): { thresholdX: number; thresholdH: number } {
  const num = (k: string) => metadataNumber(model, k, { min: 0, what: 'a delta threshold' }) ?? 0;
  return { thresholdX: num('thresholdX'), thresholdH: num('thresholdH') };
}
