/**
 * `deltakit train --data digits -o model.safetensors`: train a GRU/LSTM classifier on a corpus
 * synthesised on this machine with the delta-network recipe (dense, then delta retraining with
 * thresholds in the forward pass and an L1 penalty on fired hidden deltas), optionally with CBTD.
 * Ctrl-C writes a checkpoint; `--resume` continues from it.
 */
import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { CORPUS_NAMES, buildCorpus, type CorpusName } from '../../data/corpus.js';
import { FRONT_ENDS } from '../../data/frontend.js';
import { featureStats, normalizeDataset, statsFromJson, statsToJson } from '../../data/dataset.js';
import { loadModel, saveModel } from '../../model/io.js';
import { evaluateModel } from '../../train/evaluate.js';
import { keywordTrainingStreams, normalizeStreams, UNKNOWN_TARGETS } from '../../train/kws.js';
import { miningSettings, verifierTrainingWindows, type MiningCounts } from '../../train/kws-windows.js';
import { checkTrainConfig, DEFAULT_TRAIN_CONFIG, trainClassifier, type TrainConfig } from '../../train/trainer.js';
import { checkExtension, checkWritable, parseChoice, parseNumber, table } from '../options.js';
import { addCorpusOptions, parseCorpusOptions, type CorpusCliOptions } from './data.js';

interface TrainOpts extends CorpusCliOptions {
  data?: string;
  task?: string;
  out: string;
  force?: boolean;
  cell: string;
  hidden: string;
  layers: string;
  readout?: string;
  epochs: string;
  deltaEpochs: string;
  batch: string;
  lr: string;
  deltaLr: string;
  thx: string;
  thh: string;
  l1: string;
  clip: string;
  trainSeed: string;
  cbtdGamma?: string;
  cbtdPes: string;
  cbtdRamp: string;
  cbtdGammaFc?: string;
  specAugment?: string;
  backend: string;
  checkpoint?: string;
  resume?: boolean;
  init?: string;
  distill?: string[];
  distillWeight: string;
  frontEnd: string;
  streamClips: string;
  unknown: string;
  streamBackground: string;
  streamSentences: string;
  verifierWindows?: string;
  verifierWindow?: string;
  miningThreshold?: string;
  miningBackground: string;
  miningSentences: string;
  miningValidation: boolean;
}

const d = DEFAULT_TRAIN_CONFIG;

export function register(program: Command): void {
  addCorpusOptions(
    program
      .command('train')
      .description('train a (delta) GRU/LSTM classifier on a corpus synthesised on this machine')
      .option('--data <corpus>', `corpus: ${CORPUS_NAMES.join(', ')}`)
      .option('--task <task>', 'digits (isolated, corpus digits), digit-strings (connected digits with CTC, corpus digit-strings, readout ctc), keywords (isolated clips, corpus kws) or keyword-streams (the kws clips concatenated into streams, CTC, readout ctc)')
      .requiredOption('-o, --out <model.safetensors>', 'where to save the trained model')
      .option('-f, --force', "overwrite --out if it exists, and start over from an earlier run's checkpoint instead of refusing it")
      .option('--cell <cell>', 'gru or lstm', d.cell)
      .option('--hidden <n>', 'hidden units per layer', String(d.hiddenSize))
      .option('--layers <n>', 'recurrent layers', String(d.layers))
      .option('--readout <kind>', 'mean (logits averaged over frames), last (last frame) or ctc (per-frame outputs + blank, CTC loss; default for digit-strings)')
      .option('--epochs <n>', 'dense epochs (phase 1)', String(d.denseEpochs))
      .option('--delta-epochs <n>', 'delta retraining epochs (phase 2; 0 = dense model)', String(d.deltaEpochs))
      .option('--batch <n>', 'sequences per Adam step', String(d.batchSize))
      .option('--lr <rate>', 'Adam learning rate, phase 1 (cosine decay to a tenth)', String(d.lr))
      .option('--delta-lr <rate>', 'Adam learning rate, phase 2', String(d.deltaLr))
      .option('--thx <threshold>', 'input delta threshold of phase 2 (normalised features)', String(d.thresholdX))
      .option('--thh <threshold>', 'hidden delta threshold of phase 2', String(d.thresholdH))
      .option('--l1 <weight>', 'L1 penalty on fired hidden deltas in phase 2', String(d.l1))
      .option('--clip <norm>', 'gradient norm clipping (0 = none)', String(d.clipNorm))
      .option('--train-seed <n>', 'seed of initialisation and shuffling', String(d.seed))
      .option('--cbtd-gamma <g>', 'enable CBTD: fraction of each sub-column dropped')
      .option('--cbtd-pes <n>', 'CBTD: processing elements per array', '16')
      .option('--cbtd-ramp <epochs>', 'CBTD: epochs over which alpha ramps from 0 to 1', '10')
      .option('--cbtd-gamma-fc <g>', 'CBTD gamma of the linear head (default: head stays dense)')
      .option('--backend <js|wasm>', 'js: float64 definition; wasm: matrix products on the SIMD kernels (float32, faster)', 'js')
      .option('--spec-augment <f,F,t,T>', 'mask f bands of up to F mel bands and t spans of up to T frames per training utterance (e.g. 1,8,1,10)')
      .option('--checkpoint <file>', 'checkpoint after every epoch and on Ctrl-C (default: <out>.ckpt)')
      .option('--resume', 'continue from the checkpoint')
      .option('--stream-clips <min,max>', 'keyword-streams: clips concatenated per training stream, drawn in [min, max]', '4,8')
      .option('--stream-background <n>', 'keyword-streams: also put n renditions per training voice of the non-keyword material (every unknown word, noise clips) into the streams', '0')
      .option('--stream-sentences <n>', 'keyword-streams: also put n renditions per training voice of read sentences without any keyword (KWS_TRAIN_SENTENCES) and noise clips into the streams', '0')
      .option('--unknown <label|blank>', 'keyword-streams: an unknown word is nothing to emit (blank, measured better on the validation streams) or the _unknown_ label (label)', 'blank')
      .option('--front-end <none|level>', 'level: streaming level normalisation before the per-band statistics (loudness-invariant features)', 'none')
      .option('--distill <teachers...>', 'distillation: train towards a mix of the label and this classifier\'s posteriors (run dense on the same normalised features, so its feature statistics must be the ones trained with, e.g. the --init model), so a delta network learns to decide as the dense teacher does; several files make an ensemble teacher, their posteriors averaged')
      .option('--distill-weight <w>', 'with --distill: the teacher\'s share of the target, 0..1', '0.5')
      .option('--verifier-windows <first-stage.safetensors>', 'keywords: also train on what a verifier hears: this first stage (a keyword-stream model with two-stage settings, kws tune --verify --save) runs over the training (and validation) streams, and every candidate adds its verifier window of raw frames, labelled with its keyword when it hits a keyword of that keyword, else _unknown_; the isolated clips stay')
      .option('--verifier-window <before,after>', "with --verifier-windows: frames before and after the candidate (default: the first stage's stored verifier window)")
      .option('--mining-threshold <p>', "with --verifier-windows: the first stage's candidate threshold (default: its stored two-stage one; lower: more hard negatives)")
      .option('--mining-background <n>', 'with --verifier-windows: renditions per voice of the confusable-word background stream mined (0: none)', '2')
      .option('--mining-sentences <n>', 'with --verifier-windows: renditions per voice of the sentence stream mined (0: none)', '2')
      .option('--no-mining-validation', 'with --verifier-windows: validate on the isolated validation clips alone (the best epoch is chosen by them), leaving the validation streams to kws tune')
      .option('--init <model>', "start from this model instead of a fresh initialisation (same architecture; for --task digit-strings also an isolated-digit classifier, whose head gains the CTC blank); its feature statistics and front end are kept"),
  ).action(async (o: TrainOpts, cmd: Command) => {
    const task = parseChoice('--task', o.task, ['digits', 'digit-strings', 'keywords', 'keyword-streams'] as const);
    check(o.data !== undefined || task !== undefined, 'E_OPTION', () => `train: expected --data <corpus> or --task <task>, found neither`);
    const fromTask: CorpusName | undefined = task === 'keywords' || task === 'keyword-streams' ? 'kws' : task;
    const corpus = (o.data !== undefined ? parseChoice('--data', o.data, CORPUS_NAMES)! : fromTask!) as CorpusName;
    check(fromTask === undefined || fromTask === corpus, 'E_OPTION', () => `train: --task ${task} uses corpus ${fromTask}, found --data ${corpus}`);
    const streams = task === 'keyword-streams';
    const sequences = corpus === 'digit-strings' || streams;
    const readoutRaw = o.readout ?? (sequences ? 'ctc' : d.readout);
    check(sequences === (readoutRaw === 'ctc'), 'E_OPTION', () => `train: connected digit strings and keyword streams are trained with --readout ctc and only they are; found ${streams ? 'keyword streams' : `corpus ${corpus}`} with readout ${readoutRaw}`);
    const clipRange = o.streamClips.split(',').map((v) => parseNumber('--stream-clips', v.trim(), { integer: true, min: 1, max: 1000 })!);
    check(clipRange.length === 2 && clipRange[0]! <= clipRange[1]!, 'E_OPTION', () => `--stream-clips: expected min,max with min <= max, found '${o.streamClips}'`);
    const unknown = parseChoice('--unknown', o.unknown, UNKNOWN_TARGETS)!;
    const streamBackground = parseNumber('--stream-background', o.streamBackground, { integer: true, min: 0, max: 100 })!;
    const streamSentences = parseNumber('--stream-sentences', o.streamSentences, { integer: true, min: 0, max: 100 })!;
    check(streamSentences === 0 || streams, 'E_OPTION', () => `--stream-sentences: only for --task keyword-streams, found --task ${task ?? `(none), --data ${corpus}`}`);
    check(streamBackground === 0 || streams, 'E_OPTION', () => `--stream-background: only for --task keyword-streams, found --task ${task ?? `(none), --data ${corpus}`}`);
    const mining = o.verifierWindows !== undefined;
    for (const [flag, key] of [['--verifier-window', 'verifierWindow'], ['--mining-threshold', 'miningThreshold'], ['--mining-background', 'miningBackground'], ['--mining-sentences', 'miningSentences'], ['--no-mining-validation', 'miningValidation']] as const) {
      check(mining || cmd.getOptionValueSource(key) === undefined || cmd.getOptionValueSource(key) === 'default', 'E_OPTION', () => `${flag}: only with --verifier-windows <first-stage.safetensors>, found ${flag} ${o[key]} alone`);
    }
    check(!mining || task === 'keywords', 'E_OPTION', () => `--verifier-windows: trains a keyword verifier, so only with --task keywords, found --task ${task ?? `(none), --data ${corpus}`}`);
    const miningThreshold = parseNumber('--mining-threshold', o.miningThreshold, { min: 1e-9, max: 1 });
    const miningBackground = parseNumber('--mining-background', o.miningBackground, { integer: true, min: 0, max: 100 })!;
    const miningSentences = parseNumber('--mining-sentences', o.miningSentences, { integer: true, min: 0, max: 100 })!;
    let verifierWindow: { before: number; after: number } | undefined;
    if (o.verifierWindow !== undefined) {
      const p = o.verifierWindow.split(',');
      check(p.length === 2, 'E_OPTION', () => `--verifier-window: expected two comma-separated frame counts before,after (e.g. 50,60), found '${o.verifierWindow}'`);
      const [before, after] = p.map((v) => parseNumber('--verifier-window', v.trim(), { integer: true, min: 0, max: 1000 })!);
      verifierWindow = { before: before!, after: after! };
    }
    checkExtension('--out', o.out, ['.safetensors']);
    // Checked on --resume too: the model is saved only at the end, never replaced without --force.
    checkWritable(o.out, o.force);
    // The checkpoint of an interrupted run is saved work: a new run (without --resume) would
    // replace it after its first epoch. A folder or a missing folder fails now, not after an epoch.
    const checkpoint = o.checkpoint ?? `${o.out}.ckpt`;
    checkWritable(checkpoint, true);
    if (o.resume) check(existsSync(checkpoint), 'E_IO', () => `--resume: expected the checkpoint ${checkpoint}, found none`);
    else check(o.force === true || !existsSync(checkpoint), 'E_EXISTS', () => `${checkpoint} exists (the checkpoint of an earlier run): expected --resume to continue it, or --force to start over and replace it`);
    const cbtdGamma = parseNumber('--cbtd-gamma', o.cbtdGamma, { min: 0, max: 0.999 });
    const config: TrainConfig = {
      cell: parseChoice('--cell', o.cell, ['gru', 'lstm'] as const)!,
      hiddenSize: parseNumber('--hidden', o.hidden, { integer: true, min: 1, max: 4096 })!,
      layers: parseNumber('--layers', o.layers, { integer: true, min: 1, max: 8 })!,
      readout: parseChoice('--readout', readoutRaw, ['mean', 'last', 'ctc'] as const)!,
      seed: parseNumber('--train-seed', o.trainSeed, { integer: true, min: 0 })!,
      denseEpochs: parseNumber('--epochs', o.epochs, { integer: true, min: 0 })!,
      deltaEpochs: parseNumber('--delta-epochs', o.deltaEpochs, { integer: true, min: 0 })!,
      batchSize: parseNumber('--batch', o.batch, { integer: true, min: 1 })!,
      lr: parseNumber('--lr', o.lr, { min: 1e-9 })!,
      deltaLr: parseNumber('--delta-lr', o.deltaLr, { min: 1e-9 })!,
      clipNorm: parseNumber('--clip', o.clip, { min: 0 })!,
      thresholdX: parseNumber('--thx', o.thx, { min: 0 })!,
      thresholdH: parseNumber('--thh', o.thh, { min: 0 })!,
      l1: parseNumber('--l1', o.l1, { min: 0 })!,
      ...(o.backend !== 'js' ? { backend: parseChoice('--backend', o.backend, ['js', 'wasm'] as const)! } : {}),
      ...(cbtdGamma !== undefined
        ? {
            cbtd: {
              gamma: cbtdGamma,
              pes: parseNumber('--cbtd-pes', o.cbtdPes, { integer: true, min: 1 })!,
              rampEpochs: parseNumber('--cbtd-ramp', o.cbtdRamp, { integer: true, min: 1 })!,
              ...(o.cbtdGammaFc !== undefined ? { gammaFc: parseNumber('--cbtd-gamma-fc', o.cbtdGammaFc, { min: 0, max: 0.999 })! } : {}),
            },
          }
        : {}),
    };
    if (o.specAugment !== undefined) {
      const p = o.specAugment.split(',');
      check(p.length === 4, 'E_OPTION', () => `--spec-augment: expected four comma-separated integers f,F,t,T, found '${o.specAugment}'`);
      const [freqMasks, freqWidth, timeMasks, timeWidth] = p.map((v) => parseNumber('--spec-augment', v, { integer: true, min: 0, max: 1000 })!);
      config.specAugment = { freqMasks: freqMasks!, freqWidth: freqWidth!, timeMasks: timeMasks!, timeWidth: timeWidth! };
    }
    // The whole configuration (epochs, rates, CBTD) is checked before the corpus is built.
    checkTrainConfig(config);
    const co = parseCorpusOptions(o);
    const init = o.init ? await loadModel(o.init) : undefined;
    // The first stage and its settings are checked before any corpus is built.
    const first = mining ? await loadModel(o.verifierWindows!) : undefined;
    const mined = first ? { ...miningSettings(first, { ...(miningThreshold !== undefined ? { threshold: miningThreshold } : {}), ...(verifierWindow ? { window: verifierWindow } : {}) }), backgroundRenditions: miningBackground, sentences: miningSentences } : undefined;
    const teachers = o.distill !== undefined ? await Promise.all(o.distill.map((f) => loadModel(f))) : undefined;
    if (teachers) {
      check(config.readout !== 'ctc', 'E_OPTION', () => `--distill: needs one label per utterance (an isolated-word task), found readout ctc`);
      config.distill = parseNumber('--distill-weight', o.distillWeight, { min: 0, max: 1 })!;
    } else check(cmd.getOptionValueSource('distillWeight') === 'default', 'E_OPTION', () => `--distill-weight: only with --distill <teacher>, found --distill-weight ${o.distillWeight} alone`);
    const log = (s: string) => process.stderr.write(`${s}\n`);
    const rawTrain = buildCorpus(corpus, 'train', co);
    if (streamBackground > 0) {
      const per = { train: streamBackground };
      rawTrain.utterances.push(...buildCorpus(corpus, 'train', { ...co, background: true, renditions: per, festivalRenditions: per }).utterances);
    }
    if (streamSentences > 0) {
      const per = { train: streamSentences };
      rawTrain.utterances.push(...buildCorpus(corpus, 'train', { ...co, sentences: true, renditions: per, festivalRenditions: per }).utterances);
    }
    // Verifier windows: raw frames like the clips, so they are normalised as every utterance is
    // (normalizeDataset below), which is what the verifier does to a window at run time.
    const mineSplit = (split: 'train' | 'validation'): MiningCounts[] => {
      const target = split === 'train' ? rawTrain : rawValidation;
      const w = verifierTrainingWindows(first!, target.classes, split, co, { threshold: mined!.detector.threshold, window: mined!.window, backgroundRenditions: mined!.backgroundRenditions, sentences: mined!.sentences });
      target.utterances.push(...w.utterances);
      for (const c of w.counts) log(`verifier windows, ${c.stream}: ${c.candidates} candidates in ${((c.frames * 0.01) / 60).toFixed(1)} min: ${c.hit} on keywords (of ${c.keywords}), ${c.falseOnKeywords + c.falseElsewhere} _unknown_ (${c.falseOnKeywords} on a keyword, ${c.falseElsewhere} elsewhere)`);
      return w.counts;
    };
    const rawValidation = buildCorpus(corpus, 'validation', co);
    const minedCounts = mined ? [...mineSplit('train'), ...(o.miningValidation ? mineSplit('validation') : [])] : [];
    // A model trained on from --init keeps the feature normalisation its layers learnt with.
    const frontEnd = parseChoice('--front-end', o.frontEnd, FRONT_ENDS)!;
    const stats = init?.meta['featureStats'] ? statsFromJson(init.meta['featureStats']) : featureStats(rawTrain, { frontEnd });
    // The teacher hears the student's normalised features: it must have learnt with the same statistics.
    teachers?.forEach((teacher, i) => check(teacher.meta['featureStats'] === statsToJson(stats), 'E_MISMATCH', () => `--distill: the teacher ${o.distill![i]} must normalise features with the statistics trained with here (use the --init model, or a model trained with the same data), found ${teacher.meta['featureStats'] ? 'other statistics' : 'no featureStats in its metadata'}`));
    // Keyword streams: the clips concatenated (a new shuffle per split), each stream normalised as
    // one continuous stream, as the spotter sees it; the test report classifies isolated clips.
    const so = { clips: clipRange as [number, number], unknown, ...(streamBackground > 0 ? { background: streamBackground } : {}), ...(streamSentences > 0 ? { sentences: streamSentences } : {}) };
    const train = streams ? normalizeStreams(keywordTrainingStreams(rawTrain, { ...so, seed: config.seed }), stats) : normalizeDataset(rawTrain, stats);
    const validation = streams ? normalizeStreams(keywordTrainingStreams(rawValidation, { ...so, seed: 2 }), stats) : normalizeDataset(rawValidation, stats);
    const test = normalizeDataset(buildCorpus(corpus, 'test', co), stats);
    if (mined) {
      const windowsIn = (ds: { utterances: { id: string }[] }) => ds.utterances.filter((u) => u.id.startsWith('verifier-window/')).length;
      log(`training on ${train.utterances.length} utterances (${windowsIn(train)} of them verifier windows), validating on ${validation.utterances.length} (${windowsIn(validation)} verifier windows)`);
    }
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    let result;
    try {
      result = await trainClassifier(train, validation, config, {
        checkpoint,
        resume: o.resume,
        signal: controller.signal,
        ...(init ? { init } : {}),
        ...(teachers ? { teacher: teachers.length === 1 ? teachers[0]! : teachers } : {}),
        onEpoch: (e) =>
          log(`epoch ${e.epoch} (${e.phase}): train loss ${e.trainLoss.toFixed(4)} acc ${(100 * e.trainAccuracy).toFixed(2)} %, validation acc ${(100 * e.validation.accuracy).toFixed(2)} %, occupancy ${(100 * e.validation.occupancy).toFixed(1)} %, ${e.framesPerSecond.toFixed(0)} frames/s`),
      });
    } finally {
      process.off('SIGINT', onSigint);
    }
    const model = result.model;
    // Named after what was trained (an --init model's own size, not the --hidden default).
    const rec = model.layers.filter((l) => l.kind !== 'linear');
    model.name = `${corpus}-${streams ? 'streams-' : ''}${config.deltaEpochs > 0 ? 'delta' : ''}${rec[0]!.kind}-${rec.length}x${rec[0]!.kind === 'gru' || rec[0]!.kind === 'lstm' ? rec[0]!.hiddenSize : config.hiddenSize}`;
    model.meta = {
      ...model.meta,
      corpus,
      classes: JSON.stringify(train.classes),
      featureStats: statsToJson(stats),
      features: `40 log-mel bands, 25 ms window, 10 ms hop, ${stats.frontEnd === 'level' ? 'level-normalised (streaming peak tracker, frontEnd level), then ' : ''}normalised per band with featureStats (x - mean) / std`,
      corpusOptions: JSON.stringify({ ...co, cacheDir: undefined }),
      // The voices of the clips (a keyword stream joins several: its voice is theirs joined by +).
      trainVoices: JSON.stringify([...new Set(rawTrain.utterances.map((u) => u.voice))].sort()),
      ...(streams ? { kwsTrainingStreams: JSON.stringify(so) } : {}),
      ...(mined ? { verifierWindows: JSON.stringify({ firstStage: first!.name, detector: mined.detector, window: mined.window, backgroundRenditions: mined.backgroundRenditions, sentences: mined.sentences, validation: o.miningValidation, counts: minedCounts.map(({ stream, candidates, hit, keywords, falseOnKeywords, falseElsewhere }) => ({ stream, candidates, hit, keywords, falseOnKeywords, falseElsewhere })) }) } : {}),
      // One teacher: its name. An ensemble: its members' names joined by ' + ' (in --distill order).
      ...(teachers ? { distilledFrom: teachers.map((t) => t.name).join(' + ') } : {}),
      trainHistory: JSON.stringify(result.history.map((e) => ({ ...e, framesPerSecond: Math.round(e.framesPerSecond) }))),
    };
    const rows: string[][] = [];
    const ctc = config.readout === 'ctc';
    const wer = (r: { wer?: number }) => (ctc ? [(100 * r.wer!).toFixed(2)] : []);
    const dense = evaluateModel(model, test, { readout: config.readout });
    rows.push(['dense', (100 * dense.accuracy).toFixed(2), ...wer(dense), '100.0', '1.00x']);
    if (config.deltaEpochs > 0) {
      const delta = evaluateModel(model, test, { readout: config.readout, delta: { thresholdX: config.thresholdX, thresholdH: config.thresholdH } });
      rows.push([`delta thx ${config.thresholdX} thh ${config.thresholdH}`, (100 * delta.accuracy).toFixed(2), ...wer(delta), (100 * delta.occupancy).toFixed(1), `${delta.opsSaving.toFixed(2)}x`]);
      model.meta['testAccuracy'] = delta.accuracy.toFixed(4);
    }
    model.meta['testAccuracyDense'] = dense.accuracy.toFixed(4);
    await saveModel(model, o.out, { overwrite: o.force === true });
    // The run is complete: its checkpoint has served (a --checkpoint the user named is kept).
    if (o.checkpoint === undefined) rmSync(checkpoint, { force: true });
    console.log(`test set (${test.utterances.length} utterances of ${new Set(test.utterances.map((u) => u.voice)).size} voices never heard in training):`);
    console.log(table(['network', ctc ? (streams ? 'clips decoded right %' : 'string accuracy %') : 'accuracy %', ...(ctc ? ['WER %'] : []), 'occupancy %', 'ops saving'], rows));
    console.log(`training throughput ${result.framesPerSecond.toFixed(0)} frames/s; saved ${o.out}`);
  });
}
