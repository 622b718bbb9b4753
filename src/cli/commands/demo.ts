/**
 * `deltakit demo`: a built-in DeltaGRU (trained by deltakit, committed under models/) on voices it
 * never heard: accuracy (for connected digits with CTC, strings right and word error rate),
 * occupancy, ops saved and latency per frame, dense against delta, through the streaming runtime.
 *
 * The held-out utterances are synthesised with espeak-ng (and Festival) when installed (cached
 * after the first run) and otherwise read from the committed float16 feature copy
 * (models/<task>-heldout.*).
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { corpusUtterances, synthesiserOf } from '../../data/corpus.js';
import { BUILTIN_TASKS, builtinHeldout, builtinSpec, loadBuiltinModel, type BuiltinTask, type HeldoutSource } from '../../train/builtin.js';
import { CtcGreedyDecoder } from '../../train/ctc.js';
import { concatStream, detectorOptionsOfModel, KeywordSpotter, KeywordVerifier, verifiedDetectorOfModel } from '../../train/kws.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../model/io.js';
import { KWS_VERIFIER_FILE, MODELS_DIR } from '../../train/builtin.js';
import { readHeldout } from '../../data/heldout.js';
import { createSession } from '../../runtime/session.js';
import { evaluateWithSession, modelTask } from '../../train/task.js';
import { storedThresholds } from '../../train/model-task.js';
import { parseChoice, parseNumber, si, table } from '../options.js';

interface DemoOptions {
  thx?: string;
  thh?: string;
  data: string;
  cacheDir?: string;
  steps?: string;
  task: string;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('a built-in DeltaGRU (isolated digits by default) on held-out voices: accuracy, occupancy, ops and latency, dense against delta')
    .option('--task <task>', `built-in model: ${BUILTIN_TASKS.join(', ')}, or all (the three in turn)`, 'digits')
    .option('--thx <threshold>', "input delta threshold (default: the model's tuned one)")
    .option('--thh <threshold>', "hidden delta threshold (default: the model's tuned one)")
    .option('--data <source>', 'held-out utterances: auto (synthesise if espeak-ng and festival are installed), synth, committed', 'auto')
    .option('--cache-dir <dir>', 'feature cache for synthesised utterances')
    .option('--steps <n>', 'stream only the first whole utterances reaching N frames (default: all)')
    .action(async (o: DemoOptions) => {
      // `all`: the three built-ins in turn, each at its own tuned thresholds.
      if (o.task === 'all') {
        check(o.thx === undefined && o.thh === undefined, 'E_OPTION', () => `demo --task all: every built-in model runs at its own tuned thresholds; expected no --thx/--thh, found ${o.thx !== undefined ? `--thx ${o.thx}` : `--thh ${o.thh}`}`);
        for (const [i, t] of BUILTIN_TASKS.entries()) {
          if (i > 0) console.log('');
          console.log(`== ${t} ==`);
          await demoTask(t, o);
        }
        return;
      }
      await demoTask(parseChoice('--task', o.task, BUILTIN_TASKS)! as BuiltinTask, o);
    });
}

/** One built-in model on its held-out voices, dense against delta. */
async function demoTask(which: BuiltinTask, o: DemoOptions): Promise<void> {
  const model = await loadBuiltinModel(which);
  const task = modelTask(model);
  const thresholdX = parseNumber('--thx', o.thx, { min: 0 }) ?? storedThresholds(model).thresholdX;
  const thresholdH = parseNumber('--thh', o.thh, { min: 0 }) ?? storedThresholds(model).thresholdH;
  const source = parseChoice('--data', o.data, ['auto', 'synth', 'committed'] as const)! as HeldoutSource;
  const maxFrames = parseNumber('--steps', o.steps, { integer: true, min: 1 });
  const { dataset, source: used } = builtinHeldout(task, source, { spec: builtinSpec(which), ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), ...(maxFrames ? { maxFrames } : {}) });
  const voices = new Set(dataset.utterances.map((u) => u.voice));
  const ctc = task.readout === 'ctc';
  // A keyword-stream model is CTC too, but its clips are scored as clips (right when the keyword
  // decoded is the one said, none in an unknown word or silence), its streaming in the stream below.
  const strings = ctc && which !== 'keywords';
  const shape = model.layers.map((l) => (l.kind === 'linear' ? `Linear ${l.outputSize}` : `${l.kind.toUpperCase()} ${l.hiddenSize}`)).join(' -> ');
  console.log(`built-in model ${model.name}: ${model.layers[0]!.inputSize} log-mel -> ${shape}, classes ${task.classes.join(' ')}`);
  const bySynth = [...new Set(dataset.utterances.map((u) => synthesiserOf(u.voice)))].map((s) => `${s} ${new Set(dataset.utterances.filter((u) => synthesiserOf(u.voice) === s).map((u) => u.voice)).size}`);
  console.log(`held-out set: ${dataset.utterances.length} utterances by ${voices.size} voices never heard in training (${bySynth.join(', ')}; ${used === 'synth' ? 'synthesised on this machine' : 'committed features'})`);
  // Warm up before timing: the first sessions of a process pay for compiling and tiering up the
  // kernels and the JavaScript around them, and whichever network ran first (dense) would carry
  // that in its us/frame (built-in digits on Node 20: 20.0 us cold, 6.6-9.0 us warm). Accuracy and
  // ops come from the runs below only.
  const warm = { ...dataset, utterances: dataset.utterances.slice(0, 8) };
  for (let i = 0; i < 2; i++) {
    evaluateWithSession(model, warm, task.readout);
    evaluateWithSession(model, warm, task.readout, { thresholdX, thresholdH });
  }
  const dense = evaluateWithSession(model, dataset, task.readout);
  const delta = evaluateWithSession(model, dataset, task.readout, { thresholdX, thresholdH });
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  const wer = (r: { wer?: number }) => (strings ? [pct(r.wer!)] : []);
  console.log(
    table(
      ['network', strings ? 'strings right' : ctc ? 'clips right' : 'accuracy', ...(strings ? ['WER'] : []), 'occupancy', 'ops/frame', 'us/frame'],
      [
        ['dense GRU', pct(dense.accuracy), ...wer(dense), '100.0 %', si(dense.ops / dense.steps), dense.usPerFrame.toFixed(1)],
        [`DeltaGRU (thx ${thresholdX}, thh ${thresholdH})`, pct(delta.accuracy), ...wer(delta), pct(delta.occupancy), si(delta.ops / delta.steps), delta.usPerFrame.toFixed(1)],
      ],
    ),
  );
  if (strings) {
    // Stream a few strings through the delta network and show each digit where it was emitted.
    const s = createSession(model, { thresholdX, thresholdH });
    const d = new CtcGreedyDecoder(s.outputSize);
    for (const u of dataset.utterances.slice(0, 3)) {
      s.reset();
      d.reset();
      const y = s.run(u.features);
      for (let t = 0; t < u.frames; t++) d.push(y, t * s.outputSize);
      const heard = d.emitted.map((k, i) => `${task.classes[k]}@${(d.frames[i]! / 100).toFixed(2)}s`).join(' ');
      console.log(`  said "${u.text}" -> streamed: ${heard || '(nothing)'}`);
    }
  }
  if (which === 'keywords') {
    // One continuous stream of held-out utterances (raw features: the spotter normalises as it
    // streams) through the delta network and the keyword detector.
    const raw = used === 'committed' ? readHeldout(builtinSpec(which).heldoutBase) : null;
    const source = raw ?? { ...dataset, utterances: [...corpusUtterances('kws', 'test', { ...builtinSpec(which).corpus, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) })] };
    const part = { ...source, utterances: source.utterances.slice(0, 12) };
    const stream = concatStream(part, 3);
    const det = detectorOptionsOfModel(model);
    const spotter = new KeywordSpotter(model, task, { thresholds: { thresholdX, thresholdH }, detector: det });
    const hits = spotter.run(stream.features);
    const said = stream.events.map((e) => `${task.classes[e.label]}@${(e.start / 100).toFixed(2)}s`).join(' ');
    console.log(`  stream of ${part.utterances.length} utterances (${(stream.frames / 100).toFixed(1)} s), keywords said: ${said}`);
    console.log(`  detected (${det.smoothing} smoothing, window ${det.window}, threshold ${det.threshold}, lockout ${det.lockout}): ${hits.map((d) => `${d.keyword}@${d.time.toFixed(2)}s`).join(' ') || '(nothing)'}`);
    // Two stages on the same stream: the keyword-stream model proposes, this classifier verifies
    // (docs/kws.md), at the stream model's tuned two-stage settings.
    const streamFile = join(MODELS_DIR, 'kws-streams-deltagru.safetensors');
    const first = existsSync(streamFile) ? await loadModel(streamFile) : null;
    const two = first ? verifiedDetectorOfModel(first) : null;
    if (first && two) {
      // The second stage the stored settings were tuned for: the built-in verifier (this
      // classifier fine-tuned on the windows it hears), else this classifier.
      const clf = existsSync(KWS_VERIFIER_FILE) ? await loadModel(KWS_VERIFIER_FILE) : null;
      const verifier = clf ? new KeywordVerifier(clf, modelTask(clf), { verifier: two.verifier, thresholds: storedThresholds(clf) }) : new KeywordVerifier(model, task, { verifier: two.verifier, thresholds: { thresholdX, thresholdH } });
      const cascade = new KeywordSpotter(first, modelTask(first), { thresholds: storedThresholds(first), detector: two.detector, verifier });
      const found = cascade.run(stream.features);
      console.log(`  two stages (${first.name} proposes at threshold ${two.detector.threshold}, ${verifier.model === model ? 'this model' : verifier.model.name} verifies over ${two.verifier.before} + ${two.verifier.after} frames at >= ${two.verifier.threshold}): ${found.map((d) => `${d.keyword}@${d.time.toFixed(2)}s`).join(' ') || '(nothing)'}`);
    }
  }
  const against = strings ? `word error rate ${(100 * (delta.wer! - dense.wer!)).toFixed(1)} points against dense` : `accuracy ${(100 * (delta.accuracy - dense.accuracy)).toFixed(1)} points against dense`;
  console.log(`ops: ${delta.opsSaving.toFixed(2)}x fewer than dense (inputs fired ${pct(delta.occupancyX)}, hidden states ${pct(delta.occupancyH)}); ${against}`);
}
