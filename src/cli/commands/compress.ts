/**
 * `deltakit compress MODEL --bits 4 --out OUT.dkcb`: the codebook codec standing in for
 * NeuCompression (unpublished). Reports the compression ratio and the effect on the outputs
 * over an input stream (--input, or a built-in smooth random stream), and writes the .dkcb file
 * every deltakit command reads (and optionally the decoded model as .safetensors).
 */
import type { Command } from 'commander';
import { readFeatureInput, NORMALIZED_NOTE } from '../input.js';
import { compressModel, compressionReport, decompressModel, encodeCompressedModel } from '../../compress/codebook/model.js';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import { saveModel, writeFileSafely } from '../../model/io.js';
import { smoothStream } from '../../model/random.js';
import { modelInputSize, modelOutputSize, type Model } from '../../model/types.js';
import { createSession } from '../../runtime/session.js';
import type { Dataset } from '../../data/dataset.js';
import { builtinHeldout } from '../../train/builtin.js';
import type { Readout } from '../../train/net.js';
import { evaluateWithSession, modelTask, taskDataset } from '../../train/task.js';
import { checkExtension, checkWritable, parseNumber, table } from '../options.js';

interface CompressOptions {
  bits: string;
  out: string;
  decoded?: string;
  input?: string;
  thx?: string;
  thh?: string;
  weightBits: string;
  force?: boolean;
  json?: boolean;
  accuracy?: boolean;
  maxFrames?: string;
  normalize?: boolean;
}

/**
 * Classification accuracy of a deltakit-trained classifier before and after compression, on a
 * labelled set (streaming sessions, reset between utterances: the deployed path).
 */
export function accuracyEffect(original: Model, decoded: Model, ds: Dataset, readout: Readout, thresholds?: { thresholdX: number; thresholdH: number }): { utterances: number; before: number; after: number } {
  const a = evaluateWithSession(original, ds, readout, thresholds);
  const b = evaluateWithSession(decoded, ds, readout, thresholds);
  return { utterances: a.utterances, before: a.accuracy, after: b.accuracy };
}

/** Output effect of replacing `a` by `b` on a stream: max |dy|, relative RMS, argmax agreement. */
export function outputEffect(a: Model, b: Model, frames: Float32Array, thresholds: { thresholdX?: number; thresholdH?: number }): { maxAbsDiff: number; relativeRms: number; argmaxAgreement: number | null } {
  const ya = createSession(a, thresholds).run(frames);
  const yb = createSession(b, thresholds).run(frames);
  let max = 0;
  let se = 0;
  let sy = 0;
  for (let i = 0; i < ya.length; i++) {
    const d = Math.abs(ya[i]! - yb[i]!);
    if (d > max) max = d;
    se += d * d;
    sy += ya[i]! * ya[i]!;
  }
  const O = modelOutputSize(a);
  let agree: number | null = null;
  if (O > 1) {
    const T = ya.length / O;
    let same = 0;
    for (let t = 0; t < T; t++) {
      let ia = 0;
      let ib = 0;
      for (let o = 1; o < O; o++) {
        if (ya[t * O + o]! > ya[t * O + ia]!) ia = o;
        if (yb[t * O + o]! > yb[t * O + ib]!) ib = o;
      }
      if (ia === ib) same++;
    }
    agree = same / T;
  }
  return { maxAbsDiff: max, relativeRms: sy > 0 ? Math.sqrt(se / sy) : 0, argmaxAgreement: agree };
}

export function register(program: Command): void {
  program
    .command('compress')
    .description('compress MODEL weights with a per-layer codebook (stand-in for NeuCompression); report ratio and output effect')
    .argument('<model>', 'model file')
    .option('--bits <n>', 'index bits per weight, 1..8 (codebook of 2^bits entries per layer)', '4')
    .requiredOption('-o, --out <path.dkcb>', 'where to write the compressed model')
    .option('--decoded <path>', 'also write the decoded model as .safetensors')
    .option('-i, --input <x.npy>', "input frames (T, I) to measure the output effect on, normalised with the model's feature statistics as run normalises --input (default: a built-in smooth random stream)")
    .option('--no-normalize', "use --input as given: skip the model's stored feature statistics (meta.featureStats), which are applied by default")
    .option('--thx <threshold>', 'delta threshold for the effect measurement')
    .option('--thh <threshold>', 'delta threshold for the effect measurement')
    .option('--weight-bits <n>', 'fixed-point width the hardware would store uncompressed (for the ratio)', '16')
    .option('--accuracy', 'also measure classification accuracy before/after on held-out voices (models trained by deltakit train)')
    .option('--max-frames <n>', 'with --accuracy: stop after the utterances that reach this many frames', '20000')
    .option('-f, --force', 'overwrite outputs')
    .option('--json', 'print the report as JSON')
    .action(async (modelPath: string, o: CompressOptions) => {
      const bits = parseNumber('--bits', o.bits, { min: 1, max: 8, integer: true })!;
      const weightBits = parseNumber('--weight-bits', o.weightBits, { min: 1, max: 32, integer: true })!;
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
      checkExtension('--out', o.out, ['.dkcb']);
      checkWritable(o.out, o.force);
      if (o.decoded) checkExtension('--decoded', o.decoded, ['.safetensors']);
      if (o.decoded) checkWritable(o.decoded, o.force);
      const model = await loadModelOrCompressed(modelPath);
      const I = modelInputSize(model);
      let frames: Float32Array;
      let inputName: string;
      let normalized = false;
      if (o.input) {
        // As run reads it: raw features (data export) get the model's stored statistics.
        const x = await readFeatureInput(o.input, model, '--input', o.normalize !== false);
        frames = x.data;
        normalized = x.normalized;
        inputName = normalized ? `${o.input} (${NORMALIZED_NOTE})` : o.input;
      } else {
        frames = smoothStream(1, 500, I);
        inputName = 'built-in smooth random stream (500 steps)';
      }
      const cm = compressModel(model, { bits });
      const decoded = decompressModel(cm);
      const rep = compressionReport(model, cm, weightBits);
      const thresholds = { ...(thresholdX !== undefined ? { thresholdX } : {}), ...(thresholdH !== undefined ? { thresholdH } : {}) };
      const effect = outputEffect(model, decoded, frames, thresholds);
      let accuracy: (ReturnType<typeof accuracyEffect> & { dataset: string }) | null = null;
      if (o.accuracy) {
        const maxFrames = parseNumber('--max-frames', o.maxFrames, { min: 1, integer: true })!;
        const task = modelTask(model);
        // The digits corpus has a held-out set of unseen voices (synthesised, or the committed copy).
        const ds = task.corpus === 'digits' ? builtinHeldout(task, 'auto', { maxFrames }).dataset : taskDataset(task, 'test');
        const th = thresholdX !== undefined || thresholdH !== undefined ? { thresholdX: thresholdX ?? 0, thresholdH: thresholdH ?? 0 } : undefined;
        accuracy = { ...accuracyEffect(model, decoded, ds, task.readout, th), dataset: `${task.corpus}/test` };
      }
      await writeFileSafely(o.out, encodeCompressedModel(cm), { overwrite: o.force === true });
      if (o.decoded) await saveModel(decoded, o.decoded, { overwrite: o.force === true });
      if (o.json) {
        process.stdout.write(JSON.stringify({ bits, ...rep, effect: { input: o.input ?? inputName, normalized, ...effect }, accuracy }, null, 2) + '\n');
        return;
      }
      const rows = [
        ['float32 bytes', String(rep.float32Bytes)],
        ['compressed bytes (.dkcb payload)', String(rep.compressedBytes)],
        ['ratio vs float32', rep.ratioVsFloat32.toFixed(2) + 'x'],
        [`ratio vs ${weightBits}-bit fixed point`, rep.ratioVsFixed.toFixed(2) + 'x'],
        ['max |weight error|', rep.maxWeightError.toExponential(3)],
        ['rms weight error', rep.rmsWeightError.toExponential(3)],
        ['pruned zeros kept exactly zero', rep.zeroWeights > 0 ? `${(100 * rep.zerosKept).toFixed(1)} % of ${rep.zeroWeights}` : 'none in this model'],
        ['max |output change|', effect.maxAbsDiff.toExponential(3)],
        ['relative rms output change', effect.relativeRms.toExponential(3)],
        ...(effect.argmaxAgreement !== null ? [['argmax agreement per step', `${(100 * effect.argmaxAgreement).toFixed(2)} %`]] : []),
        ...(accuracy
          ? [
              [`accuracy before (${accuracy.dataset}, ${accuracy.utterances} utterances)`, `${(100 * accuracy.before).toFixed(2)} %`],
              ['accuracy after', `${(100 * accuracy.after).toFixed(2)} %`],
            ]
          : []),
      ];
      process.stdout.write(`${table(['codebook codec, ' + bits + ' bits', 'value'], rows)}\noutput effect measured on ${inputName}\nwrote ${o.out}${o.decoded ? ` and ${o.decoded}` : ''}\n`);
    });
}
