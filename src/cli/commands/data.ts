/**
 * `deltakit data build|voices|export`: synthesise the spoken-digit or keyword corpus on this
 * machine (espeak-ng), cache its log-mel features, show the voice split, export features.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { check, fail } from '../../core/errors.js';
import type { Augmentation } from '../../data/augment.js';
import { writeFileSafely } from '../../core/files.js';
import { encodeNpy } from '../../core/npy.js';
import { buildCorpus, CORPUS_NAMES, corpusClasses, planCorpus, splitVoices, type CorpusName, type CorpusOptions } from '../../data/corpus.js';
import { concatFeatures, SPLITS, type Split } from '../../data/dataset.js';
import { listVariants } from '../../data/espeak.js';
import { festivalVoices } from '../../data/festival.js';
import { writeHeldout } from '../../data/heldout.js';
import type { Model } from '../../model/types.js';
import { modelLabel } from '../../model/source.js';
import { BUILTIN_TASKS, builtinSpec, type BuiltinTask } from '../../train/builtin.js';
import { metadataNames, metadataObject } from '../../train/model-task.js';
import { checkWritable, makeOutputDir, parseChoice, parseNumber, table } from '../options.js';

/** What `data export` records about its features.npy. */
export const FEATURES_NOTE = 'raw log-mel (40 bands, 25 ms window, 10 ms hop), not normalised: a trained model stores its per-band statistics in meta.featureStats and deltakit run applies them';

export interface CorpusCliOptions {
  seed?: string;
  cacheDir?: string;
  maxVoices?: string;
  validationVoices?: string;
  testVoices?: string;
  renditions?: string;
  connected?: string;
  festival?: boolean;
  festivalOnly?: boolean;
  festivalRenditions?: string;
  augment?: boolean;
  vtlp?: string;
  pitchShift?: string;
  narrowband?: string;
  condition?: string;
  flite?: boolean;
}

/**
 * Parse an evaluation condition: comma-separated `gain=<dB>`, `telephone`, `reverb=<%>`,
 * `pitch=<cents>`, `vtlp=<alpha>` (e.g. `gain=-20,telephone`).
 *
 * @example parseCondition('gain=-20,telephone') // { gainDb: -20, channel: 'telephone' }
 */
export function parseCondition(spec: string): Partial<Augmentation> {
  const out: Partial<Augmentation> = {};
  const seen = new Map<string, string>();
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [k, v, extra] = part.split('=');
    // One value per setting: 'gain=3,gain=4' or 'telephone,wide' kept the last without a word.
    const setting = k === 'telephone' || k === 'wide' || k === 'narrowband' ? 'channel' : k!;
    check(!seen.has(setting) && extra === undefined, 'E_OPTION', () => (extra !== undefined ? `--condition: expected name=value, found '${part}'` : `--condition: expected each setting once, found ${setting === 'channel' ? 'the channel' : setting} twice ('${seen.get(setting)}' and '${part}')`));
    seen.set(setting, part);
    if (k === 'telephone' && v === undefined) out.channel = 'telephone';
    else if (k === 'wide' && v === undefined) out.channel = 'wide';
    else if (k === 'narrowband' && v === undefined) out.channel = 'narrowband';
    else if (k === 'gain' && v !== undefined) out.gainDb = parseNumber('--condition gain', v, { min: -60, max: 60 })!;
    else if (k === 'reverb' && v !== undefined) out.reverb = parseNumber('--condition reverb', v, { min: 0, max: 100 })!;
    else if (k === 'pitch' && v !== undefined) out.pitchCents = parseNumber('--condition pitch', v, { min: -1200, max: 1200 })!;
    else if (k === 'vtlp' && v !== undefined) out.warp = parseNumber('--condition vtlp', v, { min: 0.5, max: 2 })!;
    else fail('E_OPTION', `--condition: expected comma-separated gain=<dB>, telephone, narrowband, wide, reverb=<%>, pitch=<cents>, vtlp=<alpha>, found '${part}'`);
  }
  return out;
}

/**
 * A model trained with the Festival variants is tuned and evaluated with them too, on the same
 * Festival split, unless the options say otherwise.
 */
function carryFestivalSplit(co: CorpusOptions, trained: Record<string, unknown>): void {
  if (co.festival === undefined && trained['festival'] === true) co.festival = true;
  for (const key of ['festivalValidationVoices', 'festivalTestVoices'] as const) {
    if (co[key] === undefined && typeof trained[key] === 'number') co[key] = trained[key] as number;
  }
}

/**
 * The corpus options of a command that runs a trained model (eval, tune): the user's, with the
 * voice split the model was trained with (seed, held-out voice counts, Festival split) wherever
 * the user left the default: another split could put training voices into the evaluated set.
 */
export function corpusOptionsOfModel(model: Model, o: CorpusCliOptions, cmd: Command): CorpusOptions {
  const co = parseCorpusOptions(o);
  const trained = trainedCorpusOptions(model);
  for (const key of ['seed', 'validationVoices', 'testVoices'] as const) {
    if (typeof trained[key] === 'number' && cmd.getOptionValueSource(key) === 'default') co[key] = trained[key] as number;
  }
  carryFestivalSplit(co, trained);
  return co;
}

/**
 * The corpus options a model was trained with (metadata corpusOptions; {} when absent). A value
 * that is not JSON, or a voice split that is not a count, is E_FORMAT naming the key and the file:
 * it was silently dropped, and the default split could hold the model's training voices.
 */
function trainedCorpusOptions(model: Model): Record<string, unknown> {
  const trained = metadataObject(model, 'corpusOptions');
  if (trained === undefined) return {};
  for (const key of ['seed', 'validationVoices', 'testVoices', 'festivalValidationVoices', 'festivalTestVoices']) {
    const x = trained[key];
    check(x === undefined || (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0), 'E_FORMAT', () => `${modelLabel(model)}: metadata corpusOptions.${key}: expected an integer >= 0, found ${JSON.stringify(x)}`);
  }
  return trained;
}

/**
 * E_MISMATCH when `utterances` (of `split`, used by `command`) hold a voice the model was trained
 * on (its `trainVoices` metadata): accuracy on heard voices says nothing about unseen speakers.
 */
export function checkUnheardVoices(model: Model, utterances: readonly { voice: string }[], split: string, command: string): void {
  if (!model.meta['trainVoices']) return;
  const heard = new Set(metadataNames(model, 'trainVoices'));
  const overlap = [...new Set(utterances.map((u) => u.voice))].filter((v) => heard.has(v));
  check(overlap.length === 0, 'E_MISMATCH', () => `${command}: the ${split} split holds voices the model was trained on (${overlap.join(', ')}); use the seed and voice counts it was trained with`);
}

function parseTriple(name: string, raw: string): Record<Split, number> {
  const parts = raw.split(',');
  check(parts.length === 3, 'E_OPTION', () => `${name}: expected three comma-separated counts (train,validation,test), found '${raw}'`);
  const [tr, va, te] = parts.map((p, i) => parseNumber(`${name} (${SPLITS[i]})`, p, { integer: true, min: 0, max: 100 })!);
  return { train: tr!, validation: va!, test: te! };
}

/** Corpus options shared by data, train, tune and demo. */
export function addCorpusOptions(cmd: Command, renditions = '3,2,2'): Command {
  return cmd
    .option('--seed <n>', 'seed of the voice split and every rendering parameter', '1')
    .option('--cache-dir <dir>', 'feature cache (default $DELTAKIT_CACHE or ~/.cache/deltakit)')
    .option('--max-voices <n>', 'use only the first N voices of each split (quick runs)')
    .option('--validation-voices <n>', 'voices held out for validation', '10')
    .option('--test-voices <n>', 'voices held out for test', '20')
    .option('--renditions <train,validation,test>', 'renditions of every word per voice and split', renditions)
    .option('--festival', 'add the Festival ked_diphone variants as voices (apt-get install festival festvox-kdlpc16k)')
    .option('--festival-only', 'only the Festival variants (no espeak-ng voices)')
    .option('--festival-renditions <train,validation,test>', 'renditions per Festival variant and split (default: --renditions)')
    .option('--flite', "add flite's voices (kal16, kal at 8 kHz, awb, rms, slt) to the test split only: a synthesiser never used in training or tuning (apt-get install flite)")
    .option('--augment', 'augment the training split: gain +-20 dB, 8 kHz telephone channel, reverb, formant/pitch shift (needs sox)')
    .option('--vtlp <lo,hi>', 'vocal-tract-length perturbation of the training split: warp every utterance\'s mel filterbank by a factor drawn log-uniformly in lo..hi (e.g. 0.8,1.25; no sox needed)')
    .option('--pitch-shift <lo,hi>', 'with --augment: the range in cents of the formant/pitch shift given to half of the training split (default -300,300; e.g. -300,700 for shorter vocal tracts than the voices\' own)')
    .option('--narrowband <fraction>', 'send this fraction (0..0.75) of the training split through an 8 kHz channel without band-pass, an 8 kHz voice at 16 kHz (with --augment: taken from the wide-band share, telephone stays 25 %; needs sox)')
    .option('--condition <spec>', 'one fixed condition on every utterance, e.g. gain=-20 or telephone or narrowband or reverb=40,pitch=200 (needs sox) or vtlp=1.2');
}

export function parseCorpusOptions(o: CorpusCliOptions): CorpusOptions {
  const out: CorpusOptions = {
    seed: parseNumber('--seed', o.seed ?? '1', { integer: true, min: 0 })!,
    validationVoices: parseNumber('--validation-voices', o.validationVoices ?? '10', { integer: true, min: 0 })!,
    testVoices: parseNumber('--test-voices', o.testVoices ?? '20', { integer: true, min: 0 })!,
  };
  if (o.cacheDir) out.cacheDir = o.cacheDir;
  if (o.maxVoices !== undefined) out.maxVoices = parseNumber('--max-voices', o.maxVoices, { integer: true, min: 1 })!;
  if (o.renditions !== undefined) out.renditions = parseTriple('--renditions', o.renditions);
  if (o.festival || o.festivalOnly) out.festival = true;
  if (o.festivalOnly) out.noEspeak = true;
  if (o.festivalRenditions !== undefined) out.festivalRenditions = parseTriple('--festival-renditions', o.festivalRenditions);
  if (o.augment) out.augment = true;
  if (o.flite) out.flite = true;
  if (o.vtlp !== undefined) {
    const parts = o.vtlp.split(',');
    check(parts.length === 2, 'E_OPTION', () => `--vtlp: expected two comma-separated warp factors lo,hi (e.g. 0.8,1.25), found '${o.vtlp}'`);
    const [lo, hi] = parts.map((p) => parseNumber('--vtlp', p, { min: 0.5, max: 2 })!) as [number, number];
    check(lo <= hi, 'E_OPTION', () => `--vtlp: expected lo <= hi, found ${lo} and ${hi}`);
    out.vtlp = [lo, hi];
  }
  if (o.pitchShift !== undefined) {
    const parts = o.pitchShift.split(',');
    check(parts.length === 2, 'E_OPTION', () => `--pitch-shift: expected two comma-separated shifts in cents lo,hi (e.g. -300,700), found '${o.pitchShift}'`);
    const [lo, hi] = parts.map((p) => parseNumber('--pitch-shift', p, { min: -1200, max: 1200 })!) as [number, number];
    check(lo <= hi, 'E_OPTION', () => `--pitch-shift: expected lo <= hi, found ${lo} and ${hi}`);
    check(o.augment === true, 'E_OPTION', () => `--pitch-shift: expected --augment (it sets the range of the augmentation's formant/pitch shift), found no --augment`);
    out.pitchShift = [lo, hi];
  }
  if (o.narrowband !== undefined) out.narrowband = parseNumber('--narrowband', o.narrowband, { min: 0, max: 0.75 })!;
  if (o.condition !== undefined) out.condition = parseCondition(o.condition);
  if (o.connected !== undefined) out.connectedPerVoice = parseNumber('--connected', o.connected, { integer: true, min: 0, max: 100 })!;
  return out;
}

function parseSplits(raw: string): Split[] {
  return raw.split(',').map((s) => parseChoice('--split', s.trim(), SPLITS)!);
}

interface BuildOpts extends CorpusCliOptions {
  split: string;
}

export function register(program: Command): void {
  const data = program.command('data').description('synthesise corpora on this machine (espeak-ng) and cache their log-mel features');

  addCorpusOptions(
    data
      .command('build')
      .description('synthesise and featurise a corpus (cached; a second run reads the cache)')
      .argument('<corpus>', `one of ${CORPUS_NAMES.join(', ')}`)
      .option('--split <list>', 'comma-separated splits', 'train,validation,test')
      .option('--connected <n>', 'connected digit strings per voice (digits only)'),
  ).action((corpus: string, o: BuildOpts) => {
    const name = parseChoice('corpus', corpus, CORPUS_NAMES)! as CorpusName;
    const co = parseCorpusOptions(o);
    const rows: string[][] = [];
    for (const split of parseSplits(o.split)) {
      const ds = buildCorpus(name, split, co);
      const frames = ds.utterances.reduce((a, u) => a + u.frames, 0);
      const voices = new Set(ds.utterances.map((u) => u.voice)).size;
      rows.push([split, String(ds.utterances.length), String(voices), String(frames), `${(frames / 100 / 60).toFixed(1)} min`]);
    }
    console.log(`${name}: classes ${corpusClasses(name).join(' ')}`);
    console.log(table(['split', 'utterances', 'voices', 'frames', 'audio'], rows));
  });

  data
    .command('voices')
    .description('list which espeak-ng voices (and Festival variants) belong to train, validation and test')
    .option('--seed <n>', 'seed of the split', '1')
    .option('--validation-voices <n>', 'voices held out for validation', '10')
    .option('--test-voices <n>', 'voices held out for test', '20')
    .action((o: CorpusCliOptions) => {
      const co = parseCorpusOptions(o);
      const s = splitVoices(listVariants(), co.seed!, co.validationVoices!, co.testVoices!);
      for (const split of SPLITS) console.log(`${split} (${s[split].length}): ${s[split].join(' ')}`);
      // The Festival variants are split on their own (3 validation, 3 test by default).
      const f = splitVoices(festivalVoices(), co.seed!, 3, 3);
      for (const split of SPLITS) console.log(`festival ${split} (${f[split].length}): ${f[split].join(' ')}`);
    });

  data
    .command('heldout')
    .description("write a built-in model's held-out set as committed float16 features (<base>.npy + <base>.json), what demo uses without the synthesisers")
    .option('--task <task>', `built-in task: ${BUILTIN_TASKS.join(', ')}`, 'digits')
    .option('-o, --out <base>', "base path (default: the built-in model's, under models/)")
    .option('--cache-dir <dir>', 'feature cache')
    .option('-f, --force', 'overwrite existing files')
    .action((o: { task: string; out?: string; cacheDir?: string; force?: boolean }) => {
      const spec = builtinSpec(parseChoice('--task', o.task, BUILTIN_TASKS)! as BuiltinTask);
      const base = o.out ?? spec.heldoutBase;
      checkWritable(`${base}.npy`, o.force);
      checkWritable(`${base}.json`, o.force);
      const corpus: CorpusName = spec.task === 'keywords' ? 'kws' : spec.task;
      const ds = buildCorpus(corpus, 'test', { ...spec.corpus, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
      writeHeldout(base, ds);
      console.log(`wrote ${base}.npy and ${base}.json: ${ds.utterances.length} utterances by ${new Set(ds.utterances.map((u) => u.voice)).size} test voices (raw log-mel, float16)`);
    });

  addCorpusOptions(
    data
      .command('export')
      .description('write one split as features.npy (frames, 40), plus utterances.json (boundaries, labels, voices)')
      .argument('<corpus>', `one of ${CORPUS_NAMES.join(', ')}`)
      .requiredOption('--split <split>', 'train, validation or test')
      .requiredOption('-o, --out <dir>', 'output directory')
      .option('-f, --force', 'overwrite existing files'),
  ).action(async (corpus: string, o: BuildOpts & { out: string; force?: boolean }) => {
    const name = parseChoice('corpus', corpus, CORPUS_NAMES)! as CorpusName;
    const split = parseChoice('--split', o.split, SPLITS)!;
    const co = parseCorpusOptions(o);
    makeOutputDir(o.out);
    const fPath = join(o.out, 'features.npy');
    const jPath = join(o.out, 'utterances.json');
    checkWritable(fPath, o.force);
    checkWritable(jPath, o.force);
    const ds = buildCorpus(name, split, co);
    const { features: all, frames } = concatFeatures(ds);
    const plans = new Map(planCorpus(name, split, co).map((p) => [p.id, p]));
    // The features are raw log-mel: a trained model stores the statistics it was trained with
    // and `deltakit run` applies them (the JSON says so, for readers using other tools).
    const json = {
      corpus: name,
      split,
      classes: ds.classes,
      bands: ds.bands,
      features: FEATURES_NOTE,
      utterances: ds.utterances.map((u) => ({ ...plans.get(u.id), frames: u.frames })),
    };
    const overwrite = o.force === true;
    await writeFileSafely(fPath, encodeNpy(all, [frames, ds.bands]), { overwrite });
    await writeFileSafely(jPath, new TextEncoder().encode(JSON.stringify(json, null, 1) + '\n'), { overwrite });
    console.log(`wrote ${fPath} (${frames} frames x ${ds.bands}, raw log-mel: deltakit run applies a model's feature statistics) and ${jPath} (${ds.utterances.length} utterances)`);
  });
}
