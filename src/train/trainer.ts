/**
 * The training loop: the published delta-network recipe (Neil et al. 2017; Gao et al. 2020).
 *
 * 1. Dense phase: train the GRU/LSTM + Linear head with BPTT and Adam.
 * 2. Delta phase: retrain the same weights as a delta network, with the thresholds in the forward
 *    pass (straight-through gradient) and an L1 penalty on the fired hidden deltas, so the network
 *    learns to keep its accuracy while its states change in fewer, larger steps.
 * CBTD, when configured: after every epoch the k smallest weights of each
 * (sub-column, column) are dropped with probability alpha, alpha ramping linearly from 0 to 1 over
 * `rampEpochs` epochs counted from the start of training; the final model is pruned at alpha = 1.
 *
 * The loop yields to the event loop after every batch so a SIGINT handler can abort it; on abort
 * (or after every epoch) it writes a checkpoint, and `resume` continues from the exact batch.
 */
import { check, DeltakitError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { cbtdPruneMatrix } from '../compress/cbtd/prune.js';
import { MAX_PES } from '../compress/cbtd/balance.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../model/types.js';
import { adamState, adamStep, type AdamState } from './adam.js';
import { modelFromCheckpoint, modelToCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { evaluateModel, type EvalResult } from './evaluate.js';
import { initModel } from './init.js';
import { backwardSequence, forwardSequence, tapeLoss, zeroGrads, type DeltaThresholds, type Readout } from './net.js';
import { progressBar } from './progress.js';
import { sequenceGradWasm } from './fast.js';
import { ctcGreedy, wordLabelFilter } from './ctc.js';

export interface CbtdSchedule {
  /** Fraction of each sub-column targeted. */
  gamma: number;
  /** Processing elements per array, N. */
  pes: number;
  /** Epochs over which alpha ramps from 0 to 1 (30 in the TIMIT setup). */
  rampEpochs: number;
  /** Gamma for the linear head; absent leaves the head dense. */
  gammaFc?: number;
}

/**
 * SpecAugment-style masking of the training inputs (Park et al. 2019), a regulariser against
 * the speaker-to-speaker variation a synthetic corpus has too little of: per utterance and
 * epoch, `freqMasks` bands of up to `freqWidth` consecutive mel bands and `timeMasks` spans of
 * up to `timeWidth` frames are set to 0 (the per-band mean of normalised features).
 */
export interface SpecAugment {
  freqMasks: number;
  freqWidth: number;
  timeMasks: number;
  timeWidth: number;
}

export interface TrainConfig {
  cell: 'gru' | 'lstm';
  hiddenSize: number;
  layers: number;
  readout: Readout;
  seed: number;
  /** Epochs of dense training (phase 1). */
  denseEpochs: number;
  /** Epochs of delta retraining (phase 2); 0 gives a dense model. */
  deltaEpochs: number;
  batchSize: number;
  /** Adam learning rate of phase 1; decays along a cosine to lr/10 over the phase. */
  lr: number;
  /** Adam learning rate of phase 2 (same decay). */
  deltaLr: number;
  clipNorm: number;
  /** Thresholds of the delta phase. */
  thresholdX: number;
  thresholdH: number;
  /** Weight of the L1 penalty on fired hidden deltas in the delta phase. */
  l1: number;
  cbtd?: CbtdSchedule;
  /** Input masking during training (absent: none). */
  specAugment?: SpecAugment;
  /**
   * `js` (default): the float64 definition (net.ts). `wasm`: the same pass with its matrix
   * products on the runtime's SIMD kernels in float32 (fast.ts), several times faster.
   */
  backend?: 'js' | 'wasm';
  /**
   * Distillation (with TrainOptions.teacher): every utterance is trained towards
   * `(1 - distill) * its one-hot label + distill * the teacher's posteriors` (the teacher run
   * dense on the unmasked features, once), in both phases. A delta network so trained from a
   * dense teacher learns to decide as the teacher does, not only to be right as often. With
   * several teachers (an ensemble) their posteriors are averaged. Absent: labels only.
   */
  distill?: number;
}

/** The default recipe (the built-in digits model adds --hidden 128, the level front end, Festival voices, augmentation, SpecAugment, VTLP, narrowband and more epochs: docs/training.md). */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  cell: 'gru',
  hiddenSize: 64,
  layers: 1,
  readout: 'mean',
  seed: 1,
  denseEpochs: 10,
  deltaEpochs: 8,
  batchSize: 16,
  lr: 3e-3,
  deltaLr: 1e-3,
  clipNorm: 5,
  thresholdX: 0.5,
  thresholdH: 0.2,
  l1: 5e-3,
};

export interface EpochRecord {
  epoch: number;
  phase: 'dense' | 'delta';
  trainLoss: number;
  trainAccuracy: number;
  validation: Pick<EvalResult, 'accuracy' | 'loss' | 'occupancy' | 'opsSaving'>;
  /** Training frames per second of wall time (forward + backward + update). */
  framesPerSecond: number;
  cbtdAlpha?: number;
}

export interface TrainOptions {
  /** Write a checkpoint here after every epoch and on interruption. */
  checkpoint?: string;
  /** Continue from `checkpoint` (which must exist). */
  resume?: boolean;
  /** Aborting it stops after the current batch, writes the checkpoint, throws E_INTERRUPTED. */
  signal?: AbortSignal;
  progress?: boolean;
  /** Called after every epoch (logging). */
  onEpoch?: (r: EpochRecord) => void;
  /** Start phase 1 from these weights instead of a fresh initialisation (same architecture). */
  init?: Model;
  /**
   * The teacher of TrainConfig.distill: a classifier with the training set's classes and inputs,
   * or an ensemble of such classifiers, whose posteriors are averaged (the mean of independently
   * trained networks is a better and softer target than any one of them).
   */
  teacher?: Model | readonly Model[];
}

export interface TrainResult {
  /** The best model of the last phase by validation accuracy (ties: the later epoch). */
  model: Model;
  history: EpochRecord[];
  /** Training frames per second averaged over every epoch run in this call. */
  framesPerSecond: number;
}

function cosineLr(base: number, epochInPhase: number, phaseEpochs: number, frac: number): number {
  const p = Math.min(1, (epochInPhase + frac) / Math.max(1, phaseEpochs));
  return base * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** Most epochs (dense plus delta) of one training run: far past any recipe, short of "forever". */
export const MAX_TRAIN_EPOCHS = 10_000;

/**
 * Check a training configuration (E_OPTION, E_LIMIT). trainClassifier does; the CLI does first,
 * before it synthesises a corpus, so a bad configuration fails in a second, not after the corpus.
 *
 * @example checkTrainConfig({ ...DEFAULT_TRAIN_CONFIG, denseEpochs: 0, deltaEpochs: 0 }); // throws E_OPTION
 */
export function checkTrainConfig(c: TrainConfig): void {
  const posInt = (v: number) => Number.isInteger(v) && v > 0;
  check(posInt(c.hiddenSize) && posInt(c.layers) && posInt(c.batchSize), 'E_OPTION', () => `train: hiddenSize, layers and batchSize must be positive integers, found ${c.hiddenSize}, ${c.layers}, ${c.batchSize}`);
  check(Number.isInteger(c.denseEpochs) && c.denseEpochs >= 0 && Number.isInteger(c.deltaEpochs) && c.deltaEpochs >= 0 && c.denseEpochs + c.deltaEpochs > 0, 'E_OPTION', () => `train: epochs must be integers >= 0 with at least one epoch, found ${c.denseEpochs} dense and ${c.deltaEpochs} delta`);
  check(c.denseEpochs + c.deltaEpochs <= MAX_TRAIN_EPOCHS, 'E_LIMIT', () => `train: at most ${MAX_TRAIN_EPOCHS} epochs in all, found ${c.denseEpochs} dense + ${c.deltaEpochs} delta`);
  for (const [k, v] of [['lr', c.lr], ['deltaLr', c.deltaLr]] as const) check(Number.isFinite(v) && v > 0, 'E_OPTION', () => `train: ${k} must be > 0, found ${v}`);
  for (const [k, v] of [['thresholdX', c.thresholdX], ['thresholdH', c.thresholdH], ['l1', c.l1], ['clipNorm', c.clipNorm]] as const) check(Number.isFinite(v) && v >= 0, 'E_OPTION', () => `train: ${k} must be a finite number >= 0, found ${v}`);
  check(c.backend === undefined || c.backend === 'js' || c.backend === 'wasm', 'E_OPTION', () => `train: backend must be js or wasm, found ${String(c.backend)}`);
  check(c.readout === 'mean' || c.readout === 'last' || c.readout === 'ctc', 'E_OPTION', () => `train: readout must be mean, last or ctc, found ${String(c.readout)}`);
  if (c.specAugment) {
    const a = c.specAugment;
    check([a.freqMasks, a.freqWidth, a.timeMasks, a.timeWidth].every((v) => Number.isInteger(v) && v >= 0), 'E_OPTION', () => `train: specAugment counts and widths must be integers >= 0, found ${JSON.stringify(a)}`);
  }
  if (c.distill !== undefined) {
    check(Number.isFinite(c.distill) && c.distill >= 0 && c.distill <= 1, 'E_OPTION', () => `train: distill must be a weight in 0..1, found ${c.distill}`);
    check(c.readout !== 'ctc', 'E_OPTION', () => 'train: distillation needs one label per utterance (readout mean or last), found readout ctc');
  }
  if (c.cbtd) {
    check(c.cbtd.gamma >= 0 && c.cbtd.gamma < 1 && posInt(c.cbtd.pes) && c.cbtd.pes <= MAX_PES && posInt(c.cbtd.rampEpochs), 'E_OPTION', () => `train: CBTD needs 0 <= gamma < 1, pes in 1..${MAX_PES} and rampEpochs >= 1, found ${JSON.stringify(c.cbtd)}`);
  }
}

/**
 * The distillation target of every training item: `(1 - w)` its one-hot label plus `w` the
 * teacher's posteriors, the teacher run dense (float64, net.ts) on the unmasked features. An
 * ensemble's posteriors are the mean of its members' (each a distribution, so the mean is one).
 */
function distillTargets(items: Dataset['utterances'], bands: number, classes: number, config: TrainConfig, teacher: Model | readonly Model[] | undefined, progress: boolean | undefined): Float64Array[] {
  const teachers: readonly Model[] = teacher === undefined ? [] : Array.isArray(teacher) ? teacher : [teacher as Model];
  check(teachers.length > 0, 'E_OPTION', () => 'train: distill needs a teacher model, found none');
  teachers.forEach((t, i) => {
    const rec = t.layers.filter((l) => l.kind !== 'linear');
    const head = t.layers[t.layers.length - 1]!;
    const outputs = head.kind === 'linear' ? head.outputSize : undefined;
    const which = teachers.length > 1 ? `teacher ${i + 1} of ${teachers.length} (${t.name})` : 'teacher';
    check(rec.length > 0 && rec[0]!.inputSize === bands && outputs === classes, 'E_MISMATCH', () => `train: the ${which} must read ${bands} features and give ${classes} classes, found ${rec[0]?.inputSize ?? 'no recurrent layer'} inputs and ${outputs ?? 'no linear head'} outputs`);
  });
  const w = config.distill!;
  // Every teacher once over the whole training set, in float64: minutes for an ensemble.
  const bar = progressBar('teacher', items.length, progress);
  try {
    return items.map((u, i) => {
      const q = new Float64Array(classes);
      for (const t of teachers) {
        const probs = forwardSequence(t, u.features, u.frames, { readout: config.readout }).probs;
        for (let c = 0; c < classes; c++) q[c]! += (w * probs[c]!) / teachers.length;
      }
      q[u.label]! += 1 - w;
      bar.update(i + 1, teachers.length > 1 ? `${teachers.length} teachers` : '');
      return q;
    });
  } finally {
    bar.stop();
  }
}

/** Apply CBTD in place to every weight matrix (biases untouched). */
function applyCbtd(model: Model, s: CbtdSchedule, alpha: number, seed: number): void {
  const rng = new Rng(seed);
  for (const l of model.layers) {
    if (l.kind === 'gru' || l.kind === 'lstm') {
      const R = (l.kind === 'gru' ? 3 : 4) * l.hiddenSize;
      l.weightIh.set(cbtdPruneMatrix(l.weightIh, R, l.inputSize, { gamma: s.gamma, pes: s.pes, alpha }, rng));
      l.weightHh.set(cbtdPruneMatrix(l.weightHh, R, l.hiddenSize, { gamma: s.gamma, pes: s.pes, alpha }, rng));
    } else if (l.kind === 'linear' && s.gammaFc !== undefined) {
      l.weight.set(cbtdPruneMatrix(l.weight, l.outputSize, l.inputSize, { gamma: s.gammaFc, pes: s.pes, alpha }, rng));
    }
  }
}

function cloneModel(m: Model): Model {
  return {
    name: m.name,
    meta: { ...m.meta },
    layers: m.layers.map((l) => {
      if (l.kind === 'linear') return { ...l, weight: l.weight.slice(), bias: l.bias.slice() };
      if (l.kind === 'gru' || l.kind === 'lstm') return { ...l, weightIh: l.weightIh.slice(), weightHh: l.weightHh.slice(), biasIh: l.biasIh.slice(), biasHh: l.biasHh.slice() };
      return l;
    }),
  };
}

/** Cell, width and depth of a model's recurrent layers, as the trainer's options name them. */
function architectureOf(m: Model): Pick<TrainConfig, 'cell' | 'hiddenSize' | 'layers'> {
  const rec = m.layers.filter((l) => l.kind === 'gru' || l.kind === 'lstm');
  const first = rec[0]!;
  return { cell: first.kind as TrainConfig['cell'], hiddenSize: first.hiddenSize, layers: rec.length };
}

/**
 * A model to start training from `init`: its recurrent layers must fit the data's inputs, and its
 * head either has the `outputs` the task needs, or (a CTC task started from a classifier of the
 * same labels) one output fewer: the CTC blank is then appended as a last output with zero weights
 * and a bias `blankBias` above the largest class bias, so the network starts near the all-blank
 * solution but keeps every class's trained row.
 *
 * @example const m = initFrom(loadedDigitsClassifier, 40, 12, { ...DEFAULT_TRAIN_CONFIG, readout: 'ctc' });
 */
export function initFrom(init: Model, inputSize: number, outputs: number, config: Pick<TrainConfig, 'readout'>, blankBias = 6): Model {
  const m = cloneModel(init);
  const head = m.layers[m.layers.length - 1]!;
  check(head.kind === 'linear' && m.layers.length >= 2, 'E_MISMATCH', () => `train --init: expected a recurrent model ending in a linear head, found layers ${m.layers.map((l) => l.kind).join(', ')}`);
  check(m.layers[0]!.inputSize === inputSize, 'E_MISMATCH', () => `train --init: the data has ${inputSize} feature bands, the model's first layer expects ${m.layers[0]!.inputSize}`);
  if (head.outputSize === outputs) return m;
  check(config.readout === 'ctc' && head.outputSize === outputs - 1, 'E_MISMATCH', () => `train --init: the task needs ${outputs} outputs${config.readout === 'ctc' ? ` (or a classifier of ${outputs - 1} classes, to which the CTC blank is added)` : ''}, the model's head has ${head.outputSize}`);
  const H = head.inputSize;
  const weight = new Float32Array(outputs * H);
  weight.set(head.weight);
  const bias = new Float32Array(outputs);
  bias.set(head.bias);
  bias[outputs - 1] = Math.max(...head.bias) + blankBias;
  m.layers[m.layers.length - 1] = { ...head, outputSize: outputs, weight, bias };
  return m;
}

/**
 * A masked copy of one utterance's (frames x bands) features; deterministic from the rng.
 *
 * @example const masked = specAugment(u.features, u.frames, 40, { freqMasks: 1, freqWidth: 8, timeMasks: 1, timeWidth: 10 }, new Rng(1));
 */
export function specAugment(x: Float32Array, frames: number, bands: number, a: SpecAugment, rng: Rng): Float32Array {
  const out = x.slice();
  for (let m = 0; m < a.freqMasks; m++) {
    const w = rng.int(a.freqWidth + 1);
    const f0 = rng.int(Math.max(1, bands - w + 1));
    for (let t = 0; t < frames; t++) for (let b = f0; b < f0 + w && b < bands; b++) out[t * bands + b] = 0;
  }
  for (let m = 0; m < a.timeMasks; m++) {
    const w = Math.min(rng.int(a.timeWidth + 1), Math.floor(frames / 5));
    const t0 = rng.int(Math.max(1, frames - w + 1));
    for (let t = t0; t < t0 + w && t < frames; t++) for (let b = 0; b < bands; b++) out[t * bands + b] = 0;
  }
  return out;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * Train a sequence classifier on normalised datasets (features already normalised).
 *
 * @example
 * const { model } = await trainClassifier(train, validation, { ...DEFAULT_TRAIN_CONFIG, hiddenSize: 64 }, { checkpoint: 'run.ckpt' });
 */
export async function trainClassifier(train: Dataset, validation: Dataset, config: TrainConfig, o: TrainOptions = {}): Promise<TrainResult> {
  checkTrainConfig(config);
  // Classifiers learn from isolated utterances (label >= 0); CTC from every sequence (one with no
  // words, e.g. a keyword stream of noise and unknown words, teaches it to emit nothing).
  const items = config.readout === 'ctc' ? train.utterances : train.utterances.filter((u) => u.label >= 0);
  check(items.length > 0, 'E_VALUE', () => `train: the training set ${train.corpus}/${train.split} has no labelled utterances`);
  let model: Model;
  let best: Model | null = null;
  let bestAcc = -1;
  let epoch = 0;
  let batchStart = 0;
  let adam: AdamState;
  let history: EpochRecord[] = [];
  if (o.resume) {
    check(o.checkpoint, 'E_OPTION', () => 'train: resume needs a checkpoint path');
    const ck = readCheckpoint(o.checkpoint);
    const st = ck.state as { config: TrainConfig; epoch: number; batch: number; adamStep: number; history: EpochRecord[]; bestAcc: number; model: unknown; best: unknown | null };
    check(JSON.stringify(st.config) === JSON.stringify(config), 'E_MISMATCH', () => `train: checkpoint ${o.checkpoint} was written with another configuration; expected ${JSON.stringify(config)}, found ${JSON.stringify(st.config)}`);
    const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
    check(count(st.epoch) && count(st.batch) && count(st.adamStep) && Array.isArray(st.history) && typeof st.bestAcc === 'number', 'E_FORMAT', () => `train: checkpoint ${o.checkpoint}: state must give epoch, batch and adamStep (non-negative integers), history (an array) and bestAcc (a number)`);
    model = modelFromCheckpoint(st.model, ck.tensors, 'model');
    best = st.best ? modelFromCheckpoint(st.best, ck.tensors, 'best') : null;
    bestAcc = st.bestAcc;
    epoch = st.epoch;
    batchStart = st.batch;
    history = st.history;
    adam = adamState(model);
    adam.step = st.adamStep;
    // Adam's moments are float64 and exactly as long as the parameter they follow; anything else
    // is a damaged or foreign checkpoint (resuming with wrong moments would train silently wrong).
    for (const [which, moments] of [['m', adam.m], ['v', adam.v]] as const) {
      moments.forEach((dst, k) => {
        const src = ck.tensors[`adam.${which}.${k}`];
        check(src instanceof Float64Array, 'E_FORMAT', () => `train: checkpoint ${o.checkpoint}: Adam moment adam.${which}.${k} ${src === undefined ? 'is missing' : 'must be f64, found f32'}`);
        check(src.length === dst.length, 'E_FORMAT', () => `train: checkpoint ${o.checkpoint}: Adam moment adam.${which}.${k} holds ${src.length} values, its parameter ${dst.length}`);
        dst.set(src);
      });
    }
  } else {
    const I = train.bands;
    const O = train.classes.length + (config.readout === 'ctc' ? 1 : 0);
    model = o.init ? initFrom(o.init, I, O, config) : initModel({ cell: config.cell, inputSize: I, hiddenSize: config.hiddenSize, layers: config.layers, classes: O, seed: config.seed });
    adam = adamState(model);
  }
  const save = (ep: number, batch: number) => {
    if (!o.checkpoint) return;
    const m = modelToCheckpoint(model, 'model');
    const b = best ? modelToCheckpoint(best, 'best') : null;
    const tensors: Record<string, Float32Array | Float64Array> = { ...m.tensors, ...(b ? b.tensors : {}) };
    adam.m.forEach((a, k) => (tensors[`adam.m.${k}`] = a));
    adam.v.forEach((a, k) => (tensors[`adam.v.${k}`] = a));
    writeCheckpoint(o.checkpoint, { state: { config, epoch: ep, batch, adamStep: adam.step, history, bestAcc, model: m.spec, best: b ? b.spec : null }, tensors });
  };
  const softs = config.distill !== undefined ? distillTargets(items, train.bands, train.classes.length, config, o.teacher, o.progress) : undefined;
  const wordsOf = wordLabelFilter(train.classes);
  const total = config.denseEpochs + config.deltaEpochs;
  const batches = Math.ceil(items.length / config.batchSize);
  const bar = progressBar('train', total * batches, o.progress);
  let frames = 0;
  let seconds = 0;
  try {
    for (; epoch < total; epoch++) {
      const delta = epoch >= config.denseEpochs;
      const phaseEpoch = delta ? epoch - config.denseEpochs : epoch;
      const phaseLen = delta ? config.deltaEpochs : config.denseEpochs;
      const thresholds: DeltaThresholds | undefined = delta ? { thresholdX: config.thresholdX, thresholdH: config.thresholdH } : undefined;
      if (delta && phaseEpoch === 0 && batchStart === 0) {
        // A new phase optimises a new objective: start Adam's moments afresh, and pick the best
        // model of this phase only.
        adam = adamState(model);
        best = null;
        bestAcc = -1;
      }
      const order = items.map((_, i) => i);
      const rng = new Rng(config.seed * 7919 + epoch);
      rng.shuffle(order);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      const t0 = performance.now();
      let epochFrames = 0;
      for (let b = batchStart; b < batches; b++) {
        const grads = zeroGrads(model);
        const idx = order.slice(b * config.batchSize, (b + 1) * config.batchSize);
        const fo = { readout: config.readout, delta: thresholds, l1: delta ? config.l1 : 0 };
        for (const k of idx) {
          const u = items[k]!;
          // Masks depend on (seed, epoch, utterance) only, so a resumed run draws the same ones.
          const x = config.specAugment ? specAugment(u.features, u.frames, train.bands, config.specAugment, new Rng(config.seed * 31337 + epoch * 1000003 + k)) : u.features;
          let probs: Float64Array;
          let frameLogits: Float64Array | undefined;
          const target = config.readout === 'ctc' ? u.words : u.label;
          let loss: number;
          const fu: typeof fo & { soft?: Float64Array } = softs ? { ...fo, soft: softs[k]! } : fo;
          if (config.backend === 'wasm') {
            const r = sequenceGradWasm(model, x, u.frames, target, fu, grads, 1 / idx.length);
            loss = r.loss;
            probs = r.probs;
            frameLogits = r.frameLogits;
          } else {
            const tape = forwardSequence(model, x, u.frames, fu);
            loss = tapeLoss(tape, target, fu.soft);
            probs = tape.probs;
            frameLogits = tape.frameLogits;
            backwardSequence(model, tape, target, fu, grads, 1 / idx.length);
          }
          // An utterance too short for its CTC labels has no alignment: no loss, no gradient.
          if (Number.isFinite(loss)) lossSum += loss;
          if (frameLogits) {
            const hyp = wordsOf(ctcGreedy(frameLogits, u.frames, frameLogits.length / u.frames));
            const ref = wordsOf(u.words);
            if (hyp.length === ref.length && hyp.every((d, i) => d === ref[i])) correct++;
          } else {
            let arg = 0;
            for (let c = 1; c < probs.length; c++) if (probs[c]! > probs[arg]!) arg = c;
            if (arg === u.label) correct++;
          }
          seen++;
          epochFrames += u.frames;
        }
        const lr = cosineLr(delta ? config.deltaLr : config.lr, phaseEpoch, phaseLen, b / batches);
        adamStep(model, grads, adam, { lr, clipNorm: config.clipNorm });
        bar.update(epoch * batches + b + 1, `${delta ? 'delta' : 'dense'} ep ${epoch + 1}/${total} loss ${(lossSum / seen).toFixed(3)} acc ${((100 * correct) / seen).toFixed(1)}%`);
        await yieldToEventLoop();
        if (o.signal?.aborted) {
          save(epoch, b + 1);
          throw new DeltakitError('E_INTERRUPTED', `train: interrupted in epoch ${epoch + 1} after batch ${b + 1} of ${batches}${o.checkpoint ? `; checkpoint written to ${o.checkpoint}, resume with --resume` : ''}`);
        }
      }
      batchStart = 0;
      const dt = (performance.now() - t0) / 1000;
      frames += epochFrames;
      seconds += dt;
      let alpha: number | undefined;
      if (config.cbtd) {
        alpha = Math.min(1, (epoch + 1) / config.cbtd.rampEpochs);
        applyCbtd(model, config.cbtd, alpha, config.seed * 104729 + epoch);
      }
      const v = evaluateModel(model, validation, { readout: config.readout, delta: thresholds });
      const rec: EpochRecord = {
        epoch: epoch + 1,
        phase: delta ? 'delta' : 'dense',
        trainLoss: seen ? lossSum / seen : 0,
        trainAccuracy: seen ? correct / seen : 0,
        validation: { accuracy: v.accuracy, loss: v.loss, occupancy: v.occupancy, opsSaving: v.opsSaving },
        framesPerSecond: dt > 0 ? epochFrames / dt : 0,
        ...(alpha !== undefined ? { cbtdAlpha: alpha } : {}),
      };
      history.push(rec);
      o.onEpoch?.(rec);
      if (v.accuracy >= bestAcc) {
        bestAcc = v.accuracy;
        best = cloneModel(model);
      }
      save(epoch + 1, 0);
    }
  } finally {
    bar.stop();
  }
  const out = cloneModel(best ?? model);
  if (config.cbtd) applyCbtd(out, config.cbtd, 1, config.seed);
  out.meta = {
    ...out.meta,
    readout: config.readout,
    trainedBy: 'deltakit train',
    // With --init the architecture is the init model's, not the --hidden / --layers / --cell
    // options (whose defaults would otherwise be recorded): record what was trained.
    trainConfig: JSON.stringify(o.init ? { ...config, ...architectureOf(out) } : config),
    ...(config.deltaEpochs > 0 ? { thresholdX: String(config.thresholdX), thresholdH: String(config.thresholdH) } : {}),
  };
  return { model: out, history, framesPerSecond: seconds > 0 ? frames / seconds : 0 };
}
