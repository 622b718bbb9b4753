/**
 * `deltakit data build|voices|export`: synthesise the spoken-digit or keyword corpus on this
 * machine (espeak-ng), cache its log-mel features, show the voice split, export features.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { writeFileSafely } from '../../core/files.js';
import { encodeNpy } from '../../core/npy.js';
import { buildCorpus, CORPUS_NAMES, corpusClasses, planCorpus, splitVoices, type CorpusName, type CorpusOptions } from '../../data/corpus.js';
import { concatFeatures, SPLITS, type Split } from '../../data/dataset.js';
import { listVariants } from '../../data/espeak.js';
import { checkWritable, parseChoice, parseNumber, table } from '../options.js';

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
}

/** Corpus options shared by data, train, tune and demo. */
export function addCorpusOptions(cmd: Command, renditions = '3,2,2'): Command {
  return cmd
    .option('--seed <n>', 'seed of the voice split and every rendering parameter', '1')
    .option('--cache-dir <dir>', 'feature cache (default $DELTAKIT_CACHE or ~/.cache/deltakit)')
    .option('--max-voices <n>', 'use only the first N voices of each split (quick runs)')
    .option('--validation-voices <n>', 'voices held out for validation', '10')
    .option('--test-voices <n>', 'voices held out for test', '20')
    .option('--renditions <train,validation,test>', 'renditions of every word per voice and split', renditions);
}

export function parseCorpusOptions(o: CorpusCliOptions): CorpusOptions {
  const out: CorpusOptions = {
    seed: parseNumber('--seed', o.seed ?? '1', { integer: true, min: 0 })!,
    validationVoices: parseNumber('--validation-voices', o.validationVoices ?? '10', { integer: true, min: 0 })!,
    testVoices: parseNumber('--test-voices', o.testVoices ?? '20', { integer: true, min: 0 })!,
  };
  if (o.cacheDir) out.cacheDir = o.cacheDir;
  if (o.maxVoices !== undefined) out.maxVoices = parseNumber('--max-voices', o.maxVoices, { integer: true, min: 1 })!;
  if (o.renditions !== undefined) {
    const parts = o.renditions.split(',');
    check(parts.length === 3, 'E_OPTION', () => `--renditions: expected three comma-separated counts (train,validation,test), found '${o.renditions}'`);
    const [tr, va, te] = parts.map((p, i) => parseNumber(`--renditions (${SPLITS[i]})`, p, { integer: true, min: 0, max: 100 })!);
    out.renditions = { train: tr!, validation: va!, test: te! };
  }
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
    .description('list which espeak-ng voices belong to train, validation and test')
    .option('--seed <n>', 'seed of the split', '1')
    .option('--validation-voices <n>', 'voices held out for validation', '10')
    .option('--test-voices <n>', 'voices held out for test', '20')
    .action((o: CorpusCliOptions) => {
      const co = parseCorpusOptions(o);
      const s = splitVoices(listVariants(), co.seed!, co.validationVoices!, co.testVoices!);
      for (const split of SPLITS) console.log(`${split} (${s[split].length}): ${s[split].join(' ')}`);
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
    mkdirSync(o.out, { recursive: true });
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
