/**
 * `deltakit run MODEL --input X.npy --output Y.npy [--thx A --thh B]`: stream a (T, I) float32
 * .npy through a model, one step per frame, and write the (T, O) outputs. Giving a threshold
 * (even 0) runs the delta network; the summary of what it fired goes to stderr.
 */
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { parseJsonStrict } from '../../core/json.js';
import { writeNpy } from '../../core/npy.js';
import { readFileBytes } from '../../model/io.js';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import type { Activation } from '../../model/types.js';
import { createSession } from '../../runtime/session.js';
import type { Backend, BiasConvention, StepTrace } from '../../runtime/types.js';
import type { TraceWriter } from '../../sim/trace/format.js';
import { checkBiasConventionNeedsDelta, checkExtension, checkWritable, parseChoice, parseNumber, si } from '../options.js';
import { readFeatureInput } from '../input.js';
import { progress } from '../progress.js';

interface RunOptions {
  input: string;
  output: string;
  thx?: string;
  thh?: string;
  biasConvention?: string;
  backend?: string;
  weights?: string;
  activationBits?: string;
  force?: boolean;
  quiet?: boolean;
  readoutActivation?: string;
  normalize?: boolean;
  segments?: string;
  traceOut?: string;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('stream a (T, I) float32 .npy through MODEL and write the (T, O) outputs')
    .argument('<model>', 'model file (.safetensors: deltakit or PyTorch state_dict; .onnx; .dkcb)')
    .requiredOption('-i, --input <x.npy>', 'input frames, float32 .npy of shape (T, I)')
    .requiredOption('-o, --output <y.npy>', 'where to write the outputs, float32 .npy (T, O)')
    .option('--thx <threshold>', 'delta threshold on layer inputs (runs the delta network)')
    .option('--thh <threshold>', 'delta threshold on hidden states (runs the delta network)')
    .option('--bias-convention <name>', 'delta memories bias placement: cudnn (PyTorch-exact) or edgedrnn')
    .option('--backend <name>', 'compute backend: js (default: float64 accumulation, the reference numerics) or wasm (SIMD, float32: faster)')
    .option('--weights <precision>', 'weight precision of the wasm backend: f32 (default) or int8')
    .option('--activation-bits <bits>', 'with --weights int8 on the relaxed-SIMD kernels: 14 (default) or 7 bits of quantised activations (faster, less accurate)')
    .option('--readout-activation <name>', 'activation after the Linear readout of a PyTorch state_dict (none, relu, tanh): a state_dict does not record it')
    .option('--segments <utterances.json>', "utterance boundaries (data export's utterances.json): reset the state at each, and report accuracy when they carry labels")
    .option('--no-normalize', "use --input as given: skip the model's stored feature statistics (meta.featureStats), which are applied by default")
    .option('--trace-out <file>', 'record which input and hidden elements fired each step to a trace file (replay it with deltakit sim --trace)')
    .option('-f, --force', 'overwrite the output files if they exist')
    .option('-q, --quiet', 'do not print the summary')
    .action(async (modelPath: string, o: RunOptions) => {
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
      const biasConvention = parseChoice<BiasConvention>('--bias-convention', o.biasConvention, ['cudnn', 'edgedrnn']);
      checkBiasConventionNeedsDelta(biasConvention, thresholdX !== undefined || thresholdH !== undefined);
      const backend = parseChoice<Backend>('--backend', o.backend, ['js', 'wasm']);
      const weights = parseChoice<'f32' | 'int8'>('--weights', o.weights, ['f32', 'int8']);
      const bits = parseChoice<'7' | '14'>('--activation-bits', o.activationBits, ['7', '14']);
      checkExtension('--output', o.output, ['.npy']);
      checkWritable(o.output, o.force);
      if (o.traceOut !== undefined) checkWritable(o.traceOut, o.force);
      const readoutActivation = parseChoice<Activation>('--readout-activation', o.readoutActivation, ['none', 'relu', 'tanh']);
      const model = await loadModelOrCompressed(modelPath, readoutActivation ? { readoutActivation } : {});
      const delta = thresholdX !== undefined || thresholdH !== undefined;
      // The trace streams to the file chunk by chunk as the run goes (bounded memory); opened
      // only once the input has been read, so a bad input leaves no file behind.
      let writer: TraceWriter | null = null;
      const session = createSession(model, {
        ...(o.traceOut !== undefined ? { onTrace: (st: StepTrace) => writer!.write(st) } : {}),
        ...(thresholdX !== undefined ? { thresholdX } : {}),
        ...(thresholdH !== undefined ? { thresholdH } : {}),
        ...(biasConvention ? { biasConvention } : {}),
        // Offline runs default to the js backend: its float64 accumulation reproduces the float64
        // reference to ~1e-8, firing decisions included. The wasm backend computes in float32,
        // and near a threshold a 1e-6 difference in h can flip whether an element fires, which
        // then moves outputs by up to ~1e-2 on long streams. Streaming sessions (the API) default
        // to wasm for speed; here exactness comes first unless the user asks for wasm or int8.
        backend: backend ?? (weights === 'int8' ? 'wasm' : 'js'),
        ...(weights ? { weights } : {}),
        ...(bits ? { activationBits: bits === '7' ? (7 as const) : (14 as const) } : {}),
      });
      const segmentFrames = o.segments ? async (T: number) => (await readSegments(o.segments!, T, session.outputSize)).map((q) => q.frames) : undefined;
      const x = await readFeatureInput(o.input, model, '--input', o.normalize !== false, segmentFrames);
      const segments = o.segments ? await readSegments(o.segments, x.frames, session.outputSize) : [{ frames: x.frames, label: -1 }];
      if (o.traceOut !== undefined) {
        // Loaded only when asked for, so a plain run starts as fast as before.
        const { createTraceFileWriter } = await import('../../sim/trace/file.js');
        const { traceLayers } = await import('../../sim/trace/format.js');
        writer = createTraceFileWriter(o.traceOut, { layers: traceLayers(model, delta), thresholdX: delta ? (thresholdX ?? 0) : null, thresholdH: delta ? (thresholdH ?? 0) : null, source: 'session', bias: false, note: basename(modelPath) }, { force: true });
      }
      // Ctrl-C: stop between chunks (or during the write), remove any partial file, and exit with
      // E_INTERRUPTED rather than dying silently with a temporary file left behind.
      const controller = new AbortController();
      const onSigint = () => controller.abort();
      process.once('SIGINT', onSigint);
      const T = x.frames;
      const I = session.inputSize;
      const O = session.outputSize;
      const totals = { steps: 0, fired: 0, positions: 0, firedX: 0, positionsX: 0, firedH: 0, positionsH: 0, ops: 0, denseOps: 0 };
      const addStats = () => {
        const st = session.stats();
        totals.steps += st.steps;
        totals.ops += st.ops;
        totals.denseOps += st.denseOps;
        for (const l of st.layers) {
          if (!l.delta) continue;
          totals.firedX += l.firedX;
          totals.firedH += l.firedH;
          totals.positionsX += l.inputSize * st.steps;
          totals.positionsH += l.outputSize * st.steps;
        }
      };
      let right = 0;
      let labelled = 0;
      try {
        const y = new Float32Array(T * O);
        const bar = progress('run', T);
        const CHUNK = 4096;
        let t0 = 0;
        for (const seg of segments) {
          // Each utterance starts from the initial state, as the model was trained and evaluated.
          if (t0 > 0) {
            addStats();
            session.reset();
          }
          for (let t = t0; t < t0 + seg.frames; t += CHUNK) {
            const end = Math.min(t0 + seg.frames, t + CHUNK);
            y.set(session.run(x.data.subarray(t * I, end * I)), t * O);
            bar.update(end);
            await new Promise<void>((r) => setImmediate(r)); // lets Ctrl-C in
            check(!controller.signal.aborted, 'E_INTERRUPTED', () => `run: interrupted after ${end} of ${T} frames; ${o.output} was not written`);
          }
          if (seg.label >= 0 && seg.frames > 0) {
            labelled++;
            if (classify(y, t0, seg.frames, O, model.meta['readout'] === 'last' ? 'last' : 'mean') === seg.label) right++;
          }
          t0 += seg.frames;
        }
        addStats();
        bar.stop();
        // The no-overwrite check is repeated when the file takes its name: a file saved at that
        // path while this run was going is not replaced without --force.
        writer?.close();
        await writeNpy(o.output, y, [T, O], { overwrite: o.force === true, signal: controller.signal });
      } catch (e) {
        // A failed or interrupted run leaves no half-written trace behind.
        if (writer) {
          writer.close();
          rmSync(o.traceOut!, { force: true });
        }
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
      if (o.traceOut !== undefined && !o.quiet) process.stderr.write(`wrote the trace of ${totals.steps} steps to ${o.traceOut}\n`);
      if (!o.quiet) {
        const lines = [`${totals.steps} steps${segments.length > 1 ? ` in ${segments.length} utterances (state reset at each)` : ''}, ${I} -> ${O}, ${session.isDelta ? 'delta' : 'dense'} (${session.paths[0]})`];
        if (x.normalized) lines.push(`input normalised with the model's feature statistics (meta.featureStats; --no-normalize to skip)`);
        if (session.isDelta) {
          const occ = (f: number, p: number) => (p > 0 ? (100 * f) / p : 100).toFixed(1);
          lines.push(
            `occupancy ${occ(totals.firedX + totals.firedH, totals.positionsX + totals.positionsH)} % (inputs ${occ(totals.firedX, totals.positionsX)} %, hidden ${occ(totals.firedH, totals.positionsH)} %)`,
            `ops ${si(totals.ops)} of ${si(totals.denseOps)} dense: ${(totals.ops > 0 ? totals.denseOps / totals.ops : 1).toFixed(2)}x fewer`,
          );
        } else {
          lines.push(`ops ${si(totals.denseOps)}`);
        }
        if (labelled > 0) lines.push(`accuracy ${((100 * right) / labelled).toFixed(2)} % on ${labelled} labelled utterances (${model.meta['readout'] === 'last' ? 'last-frame' : 'mean'} readout)`);
        process.stderr.write(lines.join('\n') + '\n');
      }
    });
}

/** argmax over classes of the mean (or last) output of frames [t0, t0 + n). */
function classify(y: Float32Array, t0: number, n: number, O: number, readout: 'mean' | 'last'): number {
  const score = new Float64Array(O);
  for (let t = readout === 'last' ? t0 + n - 1 : t0; t < t0 + n; t++) for (let c = 0; c < O; c++) score[c]! += y[t * O + c]!;
  let best = 0;
  for (let c = 1; c < O; c++) if (score[c]! > score[best]!) best = c;
  return best;
}

/**
 * Utterance boundaries from `data export`'s utterances.json (or any JSON {utterances: [{frames,
 * label?}]}, or a plain array of frame counts); they must cover the input exactly.
 */
async function readSegments(path: string, T: number, outputs: number): Promise<Array<{ frames: number; label: number }>> {
  const text = new TextDecoder().decode(await readFileBytes(path));
  const v = parseJsonStrict(text, `--segments ${path}`) as { utterances?: unknown } | unknown[];
  const list = Array.isArray(v) ? v : (v as { utterances?: unknown })?.utterances;
  check(Array.isArray(list), 'E_FORMAT', () => `--segments ${path}: expected {utterances: [{frames, label?}, ...]} (data export's utterances.json) or an array of frame counts`);
  const segs = list.map((u, i) => {
    const frames = typeof u === 'number' ? u : (u as { frames?: unknown })?.frames;
    const raw = typeof u === 'object' && u !== null ? (u as { label?: unknown }).label : undefined;
    check(Number.isSafeInteger(frames) && (frames as number) >= 0, 'E_FORMAT', () => `--segments ${path}: utterance ${i}: frames must be a non-negative integer, found ${JSON.stringify(frames)?.slice(0, 20)}`);
    // A label scores the utterance: one outside the model's outputs would count it wrong (or, not a
    // number, drop it) without a word. -1 marks an unlabelled utterance (data export's strings).
    check(raw === undefined || (Number.isSafeInteger(raw) && (raw as number) >= -1 && (raw as number) < outputs), 'E_FORMAT', () => `--segments ${path}: utterance ${i}: expected a label -1 (none) or 0..${outputs - 1} (this model's ${outputs} outputs), found ${JSON.stringify(raw)?.slice(0, 20)}`);
    const label = raw === undefined ? -1 : (raw as number);
    return { frames: frames as number, label };
  });
  const total = segs.reduce((a, s) => a + s.frames, 0);
  check(total === T, 'E_SHAPE', () => `--segments ${path}: the utterances cover ${total} frames, --input has ${T}`);
  return segs;
}
