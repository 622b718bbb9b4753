/**
 * `deltakit kws detect|eval|tune`: streaming keyword spotting with a keyword model, a classifier or a keyword-stream CTC model (by
 * default the built-in one). `detect` streams a recording (.wav) or raw log-mel features (.npy)
 * and prints each keyword with its time; `eval` measures the detection rate on streams of
 * keywords among other words and silence and the false alarms per hour on long streams without
 * any keyword, dense and delta; `tune` chooses the smoothing window and threshold on the
 * validation streams and can store them in the model.
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { readNpy } from '../../core/npy.js';
import { LogMel } from '../../data/mel.js';
import { parseWav } from '../../data/wav.js';
import { loadModel, readFileBytes, saveModel } from '../../model/io.js';
import type { Model } from '../../model/types.js';
import { loadBuiltinModel, loadBuiltinVerifier } from '../../train/builtin.js';
import {
  CLIP_THRESHOLDS,
  CTC_DETECTOR_THRESHOLDS,
  CTC_LOCKOUT,
  CTC_WINDOWS,
  DEFAULT_DETECTOR,
  DEFAULT_BACKGROUND_RENDITIONS,
  DEFAULT_DETECTOR_THRESHOLDS,
  DEFAULT_WINDOWS,
  detectorOptionsOfModel,
  KeywordSpotter,
  KeywordVerifier,
  verifiedDetectorOfModel,
  DEFAULT_VERIFIER,
  scoreVerified,
  tuneVerifiedDetector,
  DEFAULT_VERIFY_WINDOWS,
  DEFAULT_VERIFY_THRESHOLDS,
  type StreamPosteriors,
  type VerifiedDetectorPoint,
  type VerifierOptions,
  outputClasses,
  keywordStreams,
  scoreStream,
  sentenceStream,
  SMOOTHINGS,
  type Smoothing,
  streamPosteriors,
  tuneClipRule,
  tuneDetector,
  type ClipRulePoint,
  type DetectorOptions,
  type DetectorPoint,
  type KeywordStream,
  type StreamScore,
} from '../../train/kws.js';
import { modelTask, taskDataset } from '../../train/task.js';
import { storedThresholds } from '../../train/model-task.js';
import { checkDenseThresholds, checkExtension, checkWritable, parseChoice, parseNumber, si, table } from '../options.js';
import { addCorpusOptions, checkUnheardVoices, corpusOptionsOfModel, type CorpusCliOptions } from './data.js';

interface DetectorCli {
  window?: string;
  smoothing?: string;
  threshold?: string;
  lockout?: string;
  thx?: string;
  thh?: string;
  dense?: boolean;
  json?: boolean;
  verify?: string | boolean;
  verifyWindow?: string;
  verifyThreshold?: string;
}

/** `--verify-window before,after` (frames). */
function parseVerifyWindow(name: string, raw: string): [number, number] {
  const parts = raw.split(',');
  check(parts.length === 2, 'E_OPTION', () => `${name}: expected two comma-separated frame counts before,after (e.g. 50,60), found '${raw}'`);
  return parts.map((p) => parseNumber(name, p.trim(), { integer: true, min: 0, max: 1000 })!) as [number, number];
}

/**
 * The second stage of --verify [model] (bare: the built-in keyword verifier), its window and
 * threshold from the options, else from the first-stage model's tuned ones, else the defaults;
 * delta at the verifier's own tuned thresholds unless --dense. Null without --verify.
 */
async function verifierOf(first: Model, o: DetectorCli): Promise<((dense: boolean) => KeywordVerifier) | null> {
  if (o.verify === undefined || o.verify === false) {
    check(o.verifyWindow === undefined && o.verifyThreshold === undefined, 'E_OPTION', () => `--verify-window / --verify-threshold: only with --verify [model], found them alone`);
    return null;
  }
  const window = o.verifyWindow !== undefined ? parseVerifyWindow('--verify-window', o.verifyWindow) : undefined;
  const threshold = parseNumber('--verify-threshold', o.verifyThreshold, { min: 0, max: 1 });
  const clf = await verifierClassifierOf(typeof o.verify === 'string' ? o.verify : undefined);
  return (dense) => verifierFor(first, clf, dense, { ...(window ? { before: window[0], after: window[1] } : {}), ...(threshold !== undefined ? { threshold } : {}) });
}

/** The keyword classifier of --verify at `path` (absent: the built-in verifier, models/kws-verifier-deltagru.safetensors). */
async function verifierClassifierOf(path: string | undefined): Promise<Model> {
  const model = path ? await modelOf(path) : await loadBuiltinVerifier();
  const readout = modelTask(model).readout;
  check(readout === 'mean', 'E_MISMATCH', () => `--verify: expected a keyword classifier (deltakit train --task keywords, mean readout), found a model with readout ${readout}`);
  return model;
}

/**
 * The second stage for first-stage model `first`: keyword classifier `clf`, its window and
 * threshold from `given`, else `first`'s tuned two-stage settings, else the defaults; delta at
 * the classifier's own stored thresholds unless `dense`.
 */
function verifierFor(first: Model, clf: Model, dense: boolean, given: Partial<VerifierOptions> = {}): KeywordVerifier {
  const stored = verifiedDetectorOfModel(first)?.verifier ?? DEFAULT_VERIFIER;
  return new KeywordVerifier(clf, modelTask(clf), { verifier: { ...stored, ...given }, ...(dense ? {} : { thresholds: storedThresholds(clf) }) });
}

/** verifierFor with the classifier at `path` (absent: the built-in verifier), for listen --verify. */
export async function keywordVerifierFor(first: Model, path: string | undefined, dense: boolean): Promise<KeywordVerifier> {
  return verifierFor(first, await verifierClassifierOf(path), dense);
}

const verifierText = (v: KeywordVerifier) => `verified by ${v.model.name} over ${v.options.before} frames before and ${v.options.after} after${v.options.threshold > 0 ? ` at posterior >= ${v.options.threshold}` : ''}`;

async function modelOf(path: string | undefined): Promise<Model> {
  const model = path ? await loadModel(path) : await loadBuiltinModel('keywords');
  const task = modelTask(model);
  check(task.corpus === 'kws', 'E_MISMATCH', () => `kws: expected a keyword model (trained on the kws corpus), found a model of ${task.corpus}`);
  return model;
}

/**
 * Detector settings: the options given, else the model's tuned ones (with --verify its two-stage
 * ones, when it has them), else the defaults.
 */
function detectorOf(model: Model, o: DetectorCli): DetectorOptions {
  const verified = o.verify !== undefined && o.verify !== false ? verifiedDetectorOfModel(model) : null;
  const m = verified?.detector ?? detectorOptionsOfModel(model);
  return {
    window: parseNumber('--window', o.window, { integer: true, min: 1, max: 10000 }) ?? m.window,
    threshold: parseNumber('--threshold', o.threshold, { min: 1e-9, max: 1 }) ?? m.threshold,
    lockout: parseNumber('--lockout', o.lockout, { integer: true, min: 0 }) ?? m.lockout,
    smoothing: parseChoice('--smoothing', o.smoothing, SMOOTHINGS) ?? m.smoothing ?? 'mean',
  };
}

function thresholdsOf(model: Model, o: DetectorCli): { thresholdX: number; thresholdH: number } {
  checkDenseThresholds(o.dense, o.thx, o.thh);
  return {
    // Given: the option's value; else the model's stored one (a bad one named as its metadata key).
    thresholdX: parseNumber('--thx', o.thx, { min: 0 }) ?? storedThresholds(model).thresholdX,
    thresholdH: parseNumber('--thh', o.thh, { min: 0 }) ?? storedThresholds(model).thresholdH,
  };
}

function addDetectorOptions(cmd: Command): Command {
  return cmd
    .option('--window <frames>', "posterior smoothing window, frames of 10 ms (default: the model's tuned one, else 30)")
    .option('--smoothing <kind>', `${SMOOTHINGS.join(' or ')} of the posteriors over the window (default: the model's tuned one, else mean)`)
    .option('--threshold <p>', "smoothed posterior that triggers a detection (default: the model's tuned one, else 0.7)")
    .option('--lockout <frames>', "frames after a detection with no other detection (default: the model's, else 100)")
    .option('--thx <threshold>', "input delta threshold (default: the model's tuned one)")
    .option('--thh <threshold>', "hidden delta threshold (default: the model's tuned one)")
    .option('--json', 'print the result as JSON')
    .option('--verify [classifier]', 'a second stage: every detection is heard again by a keyword classifier (default: the built-in verifier, models/kws-verifier-deltagru.safetensors) over a window around it and kept only when it names the same keyword; far fewer false alarms for a first stage run at a lower threshold')
    .option('--verify-window <before,after>', "with --verify: frames the classifier hears before and after the detection (default: the model's tuned ones, else 50,60); a detection is reported `after` frames late")
    .option('--verify-threshold <p>', "with --verify: the classifier's posterior for the keyword must reach this, 0..1 (default: the model's tuned one, else 0.9)");
}

/** Raw log-mel frames of a .wav recording or a (T, 40) .npy feature file. */
async function readStream(path: string, bands: number): Promise<{ features: Float32Array; frames: number }> {
  checkExtension('--input', path, ['.wav', '.npy']);
  if (path.toLowerCase().endsWith('.wav')) {
    const audio = parseWav(await readFileBytes(path));
    const f = new LogMel(audio.sampleRate).compute(audio.samples);
    return { features: f.data, frames: f.frames };
  }
  const x = await readNpy(path);
  check(x.shape.length === 2 && x.shape[1] === bands, 'E_SHAPE', () => `--input ${path}: expected raw log-mel features of shape (T, ${bands}), found (${x.shape.join(', ')})`);
  return { features: x.data, frames: x.shape[0]! };
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const describe = (s: KeywordStream, what: string) => `${what}: ${s.utterances} utterances of ${s.voices} voices, ${((s.frames * 0.01) / 60).toFixed(1)} min`;

export function register(program: Command): void {
  const kws = program.command('kws').description('streaming keyword spotting: detect keywords in a recording, measure false alarms per hour and detection rate, tune the detector');

  addDetectorOptions(
    kws
      .command('detect')
      .description('stream a recording (.wav) or raw log-mel features (.npy, T x 40) through a keyword model; print each keyword and its time')
      .argument('[model]', 'a keyword model trained by deltakit train --task keywords or keyword-streams (default: the built-in one)')
      .requiredOption('--input <file>', 'a .wav recording (16-bit PCM) or a .npy of raw log-mel features (deltakit data export)')
      .option('--dense', 'run the dense network instead of the delta network'),
  ).action(async (modelPath: string | undefined, o: DetectorCli & { input: string }) => {
    const model = await modelOf(modelPath);
    const task = modelTask(model);
    const detector = detectorOf(model, o);
    const thresholds = thresholdsOf(model, o);
    const { features, frames } = await readStream(o.input, model.layers[0]!.inputSize);
    const verifier = (await verifierOf(model, o))?.(o.dense === true) ?? null;
    const spotter = new KeywordSpotter(model, task, { ...(o.dense ? {} : { thresholds }), detector, ...(verifier ? { verifier } : {}) });
    const hits = spotter.run(features);
    // The verifier's work counts too (it runs on candidates only).
    const s1 = spotter.session.stats();
    const vs = verifier?.stats();
    const st = { steps: s1.steps, ops: s1.ops + (vs?.ops ?? 0), denseOps: s1.denseOps + (vs?.denseOps ?? 0) };
    if (o.json) {
      console.log(JSON.stringify({ input: o.input, frames, seconds: frames / 100, delta: !o.dense, ...(o.dense ? {} : thresholds), ...detector, opsSaving: st.ops > 0 ? st.denseOps / st.ops : 1, ...(verifier ? { verifier: { model: verifier.model.name, ...verifier.options, candidates: vs!.candidates } } : {}), detections: hits.map((d) => ({ keyword: d.keyword, time: d.time, frame: d.frame, score: Number(d.score.toFixed(4)), ...(d.verification !== undefined ? { verification: Number(d.verification.toFixed(4)) } : {}) })) }));
      return;
    }
    console.log(`${o.input}: ${(frames / 100).toFixed(2)} s, ${o.dense ? 'dense' : `delta (thx ${thresholds.thresholdX}, thh ${thresholds.thresholdH})`}, ${detector.smoothing} smoothing over ${detector.window} frames, threshold ${detector.threshold}, lockout ${detector.lockout} frames${verifier ? `; ${verifierText(verifier)}` : ''}`);
    for (const d of hits) console.log(`${d.time.toFixed(2)} s  ${d.keyword}  (${d.score.toFixed(3)}${d.verification !== undefined ? `, verified ${d.verification.toFixed(3)}` : ''})`);
    console.log(`${hits.length} keyword${hits.length === 1 ? '' : 's'} detected; ${si(st.ops / Math.max(1, st.steps))} ops/frame, ${(st.ops > 0 ? st.denseOps / st.ops : 1).toFixed(2)}x fewer than dense`);
  });

  addCorpusOptions(
    addDetectorOptions(
      kws
        .command('eval')
        .description('detection rate on keyword streams and false alarms per hour on non-keyword streams of unseen voices, dense and delta')
        .argument('[model]', 'a keyword model, classifier or keyword-stream (default: the built-in one)')
        .option('--split <split>', 'validation or test', 'test')
        .option('--background-renditions <n>', `renditions of every unknown word and noise clip per voice in the non-keyword stream (${DEFAULT_BACKGROUND_RENDITIONS}: about an hour on the test voices)`, String(DEFAULT_BACKGROUND_RENDITIONS))
        .option('--sentences <n>', 'also count false alarms on a natural non-keyword stream: n renditions per voice of read sentences without any keyword and noise clips (0: none)', '0'),
    ),
    '3,2,2',
  ).action(async (modelPath: string | undefined, o: DetectorCli & CorpusCliOptions & { split: string; backgroundRenditions: string; sentences: string }, cmd: Command) => {
    check(o.split === 'validation' || o.split === 'test', 'E_OPTION', () => `--split: expected validation or test (voices never heard in training), found '${o.split}'`);
    const split = o.split as 'validation' | 'test';
    const model = await modelOf(modelPath);
    const task = modelTask(model);
    const detector = detectorOf(model, o);
    const thresholds = thresholdsOf(model, o);
    const co = corpusOptionsOfModel(model, o, cmd);
    const n = parseNumber('--background-renditions', o.backgroundRenditions, { integer: true, min: 1, max: 100 })!;
    const ns = parseNumber('--sentences', o.sentences, { integer: true, min: 0, max: 100 })!;
    const streams = keywordStreams(split, co, n);
    const sentences = ns > 0 ? sentenceStream(split, co, ns) : null;
    checkUnheardVoices(model, [...streams.keywords.voiceNames, ...streams.background.voiceNames, ...(sentences?.voiceNames ?? [])].map((voice) => ({ voice })), split, 'kws eval');
    const rows: string[][] = [];
    const out: Record<string, unknown> = { split, ...detector, keywordStream: { frames: streams.keywords.frames, keywords: streams.keywords.events.length }, backgroundStream: { frames: streams.background.frames, hours: streams.background.frames / 360000 }, ...(sentences ? { sentenceStream: { frames: sentences.frames, hours: sentences.frames / 360000 } } : {}) };
    // The second stage runs dense with the dense first stage and as a delta network with the delta one.
    const makeVerifier = await verifierOf(model, o);
    const verifiers = { dense: makeVerifier?.(true) ?? null, delta: makeVerifier?.(false) ?? null };
    if (verifiers.delta) out['verifier'] = { model: verifiers.delta.model.name, ...verifiers.delta.options };
    for (const [name, th] of [['dense', undefined], ['delta', thresholds]] as const) {
      const v = verifiers[name];
      const score = (post: StreamPosteriors, stream: KeywordStream): StreamScore => (v ? scoreVerified(outputClasses(task), post, stream, detector, v) : scoreStream(outputClasses(task), post, stream, detector));
      const kp = streamPosteriors(model, task, streams.keywords, th);
      const bp = streamPosteriors(model, task, streams.background, th);
      const k: StreamScore = score(kp, streams.keywords);
      const b: StreamScore = score(bp, streams.background);
      const sp = sentences ? streamPosteriors(model, task, sentences, th) : null;
      const ss: StreamScore | null = sp ? score(sp, sentences!) : null;
      const vs = v?.stats();
      const saving = (kp.denseOps + bp.denseOps + (sp?.denseOps ?? 0) + (vs?.denseOps ?? 0)) / Math.max(1, kp.ops + bp.ops + (sp?.ops ?? 0) + (vs?.ops ?? 0));
      out[name] = { detectionRate: k.detectionRate, detected: k.detected, keywords: k.keywords, keywordStreamFalseAlarms: k.falseAlarms, backgroundFalseAlarms: b.falseAlarms, falseAlarmsPerHour: b.falseAlarmsPerHour, ...(ss ? { sentenceFalseAlarms: ss.falseAlarms, sentenceFalseAlarmsPerHour: ss.falseAlarmsPerHour } : {}), opsSaving: saving };
      rows.push([name === 'dense' ? 'dense' : `delta (thx ${th!.thresholdX}, thh ${th!.thresholdH})`, `${pct(k.detectionRate)} (${k.detected}/${k.keywords})`, String(k.falseAlarms), `${b.falseAlarms} in ${(b.hours * 60).toFixed(1)} min`, b.falseAlarmsPerHour.toFixed(2), ...(ss ? [`${ss.falseAlarms} in ${(ss.hours * 60).toFixed(1)} min`, ss.falseAlarmsPerHour.toFixed(2)] : []), `${saving.toFixed(2)}x`]);
    }
    if (o.json) {
      console.log(JSON.stringify(out));
      return;
    }
    console.log(`${model.name} on the ${split} voices; ${detector.smoothing} smoothing, window ${detector.window} frames, threshold ${detector.threshold}, lockout ${detector.lockout} frames${verifiers.delta ? `; ${verifierText(verifiers.delta)}` : ''}`);
    console.log(describe(streams.keywords, `keyword stream (${streams.keywords.events.length} keywords)`));
    console.log(describe(streams.background, 'non-keyword stream (unknown words, noise)'));
    if (sentences) console.log(describe(sentences, 'sentence stream (read sentences without keywords, noise)'));
    console.log(table(['network', 'keywords detected', 'false alarms in keyword stream', 'false alarms, non-keyword stream', 'per hour', ...(sentences ? ['false alarms, sentence stream', 'per hour'] : []), 'ops saving'], rows));
  });

  addCorpusOptions(
    kws
      .command('tune')
      .description('choose the smoothing window and threshold on the validation streams: most keywords detected within a false-alarm budget (a keyword-stream model: also its clip rule, on the validation clips)')
      .argument('[model]', 'a keyword model, classifier or keyword-stream (default: the built-in one)')
      .option('--windows <list>', `smoothing windows to try, frames (default ${DEFAULT_WINDOWS.join(',')}; a keyword-stream CTC model ${CTC_WINDOWS.join(',')})`)
      .option('--thresholds <list>', `posterior thresholds to try (default ${DEFAULT_DETECTOR_THRESHOLDS.join(',')}; a CTC model ${CTC_DETECTOR_THRESHOLDS.join(',')})`)
      .option('--smoothings <list>', `smoothings to try (default ${SMOOTHINGS.join(',')})`)
      .option('--lockout <frames>', 'lockout after a detection, frames (default 100; a keyword-stream CTC model 30)')
      .option('--clip-thresholds <list>', `a keyword-stream (CTC) model: also choose how an isolated clip is decided, greedy CTC decoding or the peak rule at one of these thresholds, by the most validation clips right (default ${CLIP_THRESHOLDS.join(',')})`)
      .option('--max-false-alarms <per-hour>', 'false alarms per hour allowed on the non-keyword stream', '1')
      .option('--background-renditions <n>', 'renditions of every unknown word and noise clip per validation voice', String(DEFAULT_BACKGROUND_RENDITIONS))
      .option('--sentences <n>', 'also hold the budget on a natural non-keyword stream: n renditions per validation voice of read sentences without any keyword (0: none)', '0')
      .option('--thx <threshold>', "input delta threshold (default: the model's tuned one)")
      .option('--thh <threshold>', "hidden delta threshold (default: the model's tuned one)")
      .option('--dense', 'tune for the dense network instead of the delta network')
      .option('--verify [classifier]', 'tune with a second stage: a keyword classifier (default: the built-in verifier, models/kws-verifier-deltagru.safetensors) hears every detection again; also sweeps its window and threshold')
      .option('--verify-windows <list>', `with --verify: windows to try, before,after frames separated by ';' (default ${DEFAULT_VERIFY_WINDOWS.map((w) => w.join(',')).join(';')})`)
      .option('--verify-thresholds <list>', `with --verify: verifier posteriors to try (default ${DEFAULT_VERIFY_THRESHOLDS.join(',')})`)
      .option('--save <model.safetensors>', 'save the model with the chosen window, threshold and lockout (and verifier window and threshold) in its metadata')
      .option('-f, --force', 'overwrite --save if it exists')
      .option('--json', 'print the sweep as JSON'),
    '3,2,2',
  ).action(async (modelPath: string | undefined, o: DetectorCli & CorpusCliOptions & { windows?: string; thresholds?: string; smoothings?: string; lockout?: string; clipThresholds?: string; maxFalseAlarms: string; backgroundRenditions: string; sentences: string; save?: string; force?: boolean; verifyWindows?: string; verifyThresholds?: string }, cmd: Command) => {
    const list = (name: string, raw: string | undefined, dflt: number[], integer: boolean, min: number, max: number) =>
      raw === undefined ? dflt : raw.split(',').map((p) => parseNumber(name, p.trim(), { integer, min, max })!);

    const smoothings = (o.smoothings ?? SMOOTHINGS.join(',')).split(',').map((v) => parseChoice('--smoothings', v.trim(), SMOOTHINGS)! as Smoothing);

    const budget = parseNumber('--max-false-alarms', o.maxFalseAlarms, { min: 0 })!;
    const n = parseNumber('--background-renditions', o.backgroundRenditions, { integer: true, min: 1, max: 100 })!;
    if (o.save) {
      checkExtension('--save', o.save, ['.safetensors']);
      checkWritable(o.save, o.force);
    }
    const model = await modelOf(modelPath);
    const task = modelTask(model);
    const ctc = task.readout === 'ctc';
    const windows = list('--windows', o.windows, ctc ? CTC_WINDOWS : DEFAULT_WINDOWS, true, 1, 10000);
    const ths = list('--thresholds', o.thresholds, ctc ? CTC_DETECTOR_THRESHOLDS : DEFAULT_DETECTOR_THRESHOLDS, false, 1e-9, 1);
    const lockout = parseNumber('--lockout', o.lockout ?? String(ctc ? CTC_LOCKOUT : DEFAULT_DETECTOR.lockout), { integer: true, min: 0 })!;
    check(ctc || o.clipThresholds === undefined, 'E_OPTION', () => `kws tune: --clip-thresholds is for a keyword-stream (CTC) model, found a classifier (readout ${task.readout})`);
    const clipThresholds = ctc ? list('--clip-thresholds', o.clipThresholds, CLIP_THRESHOLDS, false, 1e-9, 1) : [];
    const thresholds = thresholdsOf(model, o);
    const co = corpusOptionsOfModel(model, o, cmd);
    const ns = parseNumber('--sentences', o.sentences, { integer: true, min: 0, max: 100 })!;
    const streams = keywordStreams('validation', co, n);
    const sentences = ns > 0 ? sentenceStream('validation', co, ns) : null;
    checkUnheardVoices(model, [...streams.keywords.voiceNames, ...streams.background.voiceNames, ...(sentences?.voiceNames ?? [])].map((voice) => ({ voice })), 'validation', 'kws tune');
    const th = o.dense ? undefined : thresholds;
    const kp = streamPosteriors(model, task, streams.keywords, th);
    const bp = streamPosteriors(model, task, streams.background, th);
    const sp = sentences ? { stream: sentences, posteriors: streamPosteriors(model, task, sentences, th) } : undefined;
    const verifying = o.verify !== undefined && o.verify !== false;
    check(verifying || (o.verifyWindows === undefined && o.verifyThresholds === undefined), 'E_OPTION', () => `kws tune: --verify-windows / --verify-thresholds only with --verify [classifier], found them alone`);
    const verifyWindows = o.verifyWindows === undefined ? DEFAULT_VERIFY_WINDOWS : o.verifyWindows.split(';').map((w) => parseVerifyWindow('--verify-windows', w.trim()));
    const verifyThresholds = list('--verify-thresholds', o.verifyThresholds, DEFAULT_VERIFY_THRESHOLDS, false, 0, 1);
    const verifierModel = verifying ? await verifierClassifierOf(typeof o.verify === 'string' ? o.verify : undefined) : null;
    const tuned: { best: DetectorPoint | VerifiedDetectorPoint; points: Array<DetectorPoint | VerifiedDetectorPoint>; withinBudget: boolean } = verifierModel
      ? tuneVerifiedDetector(outputClasses(task), { keywords: streams.keywords, keywordPost: kp, background: streams.background, backgroundPost: bp, ...(sp ? { sentences: sp } : {}) }, (w) => verifierFor(model, verifierModel, o.dense === true, { ...w, threshold: 0 }), { windows, thresholds: ths, smoothings, lockout, maxFalseAlarmsPerHour: budget, verifyWindows, verifyThresholds })
      : tuneDetector(outputClasses(task), streams.keywords, kp, streams.background, bp, { windows, thresholds: ths, smoothings, lockout, maxFalseAlarmsPerHour: budget, ...(sp ? { sentences: sp } : {}) });
    const { best, points, withinBudget } = tuned;
    const vOf = (p: DetectorPoint | VerifiedDetectorPoint) => ('verifier' in p ? p.verifier : null);
    // A CTC model's clip rule, on the isolated validation clips (the same voices).
    const clips = ctc ? tuneClipRule(model, taskDataset(task, 'validation', co), clipThresholds, th) : null;
    const ruleName = (p: ClipRulePoint) => (p.rule === 'peak' ? `peak >= ${p.threshold}` : 'greedy');
    if (o.json) console.log(JSON.stringify({ best, withinBudget, points, ...(clips ? { clipRule: clips.best, clipRules: clips.points } : {}) }));
    else {
      console.log(`${model.name}, ${o.dense ? 'dense' : `delta (thx ${thresholds.thresholdX}, thh ${thresholds.thresholdH})`}, on the validation voices`);
      console.log(describe(streams.keywords, `keyword stream (${streams.keywords.events.length} keywords)`));
      console.log(describe(streams.background, 'non-keyword stream'));
      if (sentences) console.log(describe(sentences, 'sentence stream'));
      const sent = (p: DetectorPoint) => (p.sentences ? [String(p.sentences.falseAlarms), p.sentences.falseAlarmsPerHour.toFixed(2)] : []);
      if (verifierModel) console.log(`second stage: ${verifierModel.name}, ${o.dense ? 'dense' : 'delta'}`);
      const vcols = (p: DetectorPoint | VerifiedDetectorPoint) => (verifierModel ? [`${vOf(p)!.before},${vOf(p)!.after}`, String(vOf(p)!.threshold)] : []);
      console.log(table(['smoothing', 'window', 'threshold', ...(verifierModel ? ['verify window', 'verify threshold'] : []), 'detected', 'false alarms (keyword stream)', 'false alarms (non-keyword)', 'per hour', ...(sentences ? ['false alarms (sentences)', 'per hour'] : [])], points.map((p) => [p.smoothing!, String(p.window), String(p.threshold), ...vcols(p), pct(p.keywordStream.detectionRate), String(p.keywordStream.falseAlarms), String(p.background.falseAlarms), p.background.falseAlarmsPerHour.toFixed(2), ...sent(p)])));
      const bv = vOf(best);
      console.log(`chosen: ${best.smoothing} smoothing, window ${best.window}, threshold ${best.threshold}, lockout ${best.lockout}${bv ? `, verifier window ${bv.before},${bv.after} and threshold ${bv.threshold}` : ''}: ${pct(best.keywordStream.detectionRate)} of keywords detected, ${best.background.falseAlarmsPerHour.toFixed(2)} false alarms per hour${best.sentences ? ` (${best.sentences.falseAlarmsPerHour.toFixed(2)} on the sentence stream)` : ''}${withinBudget ? '' : ` (no setting met the budget of ${budget} per hour: the fewest false alarms)`}`);
      if (clips) {
        console.log(`isolated validation clips (${clips.best.clips}), ${o.dense ? 'dense' : 'delta'}:`);
        console.log(table(['clip rule', 'clips right'], clips.points.map((p) => [ruleName(p), `${(100 * p.accuracy).toFixed(2)} %`])));
        console.log(`chosen clip rule: ${ruleName(clips.best)} (${(100 * clips.best.accuracy).toFixed(2)} % of the clips right)`);
      }
    }
    if (o.save) {
      // Alone and under a verifier the first stage wants different settings: --verify stores its
      // own (kwsVerify) and leaves the single-stage ones as they were, and the other way round.
      const bv = vOf(best);
      const detector = { window: best.window, threshold: best.threshold, lockout: best.lockout, smoothing: best.smoothing! };
      if (bv) model.meta = { ...model.meta, kwsVerify: JSON.stringify({ detector, verifier: bv }) };
      else model.meta = { ...model.meta, kwsWindow: String(best.window), kwsThreshold: String(best.threshold), kwsLockout: String(best.lockout), kwsSmoothing: best.smoothing! };
      if (clips) {
        model.meta['kwsClipRule'] = clips.best.rule;
        if (clips.best.rule === 'peak') model.meta['kwsClipThreshold'] = String(clips.best.threshold);
        else delete model.meta['kwsClipThreshold'];
      }
      await saveModel(model, o.save, { overwrite: o.force === true });
      if (!o.json) console.log(`saved ${o.save}`);
    }
  });
}
