/**
 * `deltakit run MODEL --input X.npy --output Y.npy [--thx A --thh B]`: stream a (T, I) float32
 * .npy through a model, one step per frame, and write the (T, O) outputs. Giving a threshold
 * (even 0) runs the delta network; the summary of what it fired goes to stderr.
 */
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { readNpy, writeNpy } from '../../core/npy.js';
import { loadModel } from '../../model/io.js';
import { modelInputSize, type Activation } from '../../model/types.js';
import { createSession } from '../../runtime/session.js';
import type { Backend, BiasConvention, StepTrace } from '../../runtime/types.js';
import { createTraceFileWriter } from '../../sim/trace/file.js';
import { traceLayers } from '../../sim/trace/format.js';
import { checkWritable, parseChoice, parseNumber, si } from '../options.js';
import { progress } from '../progress.js';

interface RunOptions {
  input: string;
  output: string;
  thx?: string;
  thh?: string;
  biasConvention?: string;
  backend?: string;
  weights?: string;
  force?: boolean;
  quiet?: boolean;
  traceOut?: string;
  readoutActivation?: string;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('stream a (T, I) float32 .npy through MODEL and write the (T, O) outputs')
    .argument('<model>', 'model file (.safetensors: deltakit or PyTorch state_dict; .onnx)')
    .requiredOption('-i, --input <x.npy>', 'input frames, float32 .npy of shape (T, I)')
    .requiredOption('-o, --output <y.npy>', 'where to write the outputs, float32 .npy (T, O)')
    .option('--thx <threshold>', 'delta threshold on layer inputs (runs the delta network)')
    .option('--thh <threshold>', 'delta threshold on hidden states (runs the delta network)')
    .option('--bias-convention <name>', 'delta memories bias placement: cudnn (PyTorch-exact) or edgedrnn')
    .option('--backend <name>', 'compute backend: js (default: float64 accumulation, the reference numerics) or wasm (SIMD, float32: faster)')
    .option('--weights <precision>', 'weight precision of the wasm backend: f32 (default) or int8')
    .option('--readout-activation <name>', 'activation after the Linear readout of a PyTorch state_dict (none, relu, tanh): a state_dict does not record it')
    .option('--trace-out <file>', 'record which input and hidden elements fired each step to a trace file (replay it with deltakit sim --trace)')
    .option('-f, --force', 'overwrite the output files if they exist')
    .option('-q, --quiet', 'do not print the summary')
    .action(async (modelPath: string, o: RunOptions) => {
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
      const biasConvention = parseChoice<BiasConvention>('--bias-convention', o.biasConvention, ['cudnn', 'edgedrnn']);
      const backend = parseChoice<Backend>('--backend', o.backend, ['js', 'wasm']);
      const weights = parseChoice<'f32' | 'int8'>('--weights', o.weights, ['f32', 'int8']);
      checkWritable(o.output, o.force);
      if (o.traceOut !== undefined) checkWritable(o.traceOut, o.force);
      const readoutActivation = parseChoice<Activation>('--readout-activation', o.readoutActivation, ['none', 'relu', 'tanh']);
      const model = await loadModel(modelPath, readoutActivation ? { readoutActivation } : {});
      const x = await readNpy(o.input);
      const delta = thresholdX !== undefined || thresholdH !== undefined;
      const I0 = modelInputSize(model);
      check(x.shape.length === 2 && x.shape[1] === I0, 'E_SHAPE', () => `${o.input}: expected shape (T, ${I0}) for this model, found (${x.shape.join(', ')})`);
      // The trace streams to the file chunk by chunk as the run goes (bounded memory).
      const writer = o.traceOut !== undefined
        ? createTraceFileWriter(o.traceOut, { layers: traceLayers(model, delta), thresholdX: delta ? (thresholdX ?? 0) : null, thresholdH: delta ? (thresholdH ?? 0) : null, source: 'session', bias: false, note: basename(modelPath) }, { force: true })
        : null;
      const session = createSession(model, {
        ...(writer ? { onTrace: (st: StepTrace) => writer.write(st) } : {}),
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
      });
      check(x.shape.length === 2, 'E_SHAPE', () => `${o.input}: expected shape (T, ${session.inputSize}), found (${x.shape.join(', ')})`);
      check(x.shape[1] === session.inputSize, 'E_SHAPE', () => `${o.input}: expected shape (T, ${session.inputSize}) for this model, found (${x.shape.join(', ')})`);
      // Stream in chunks so a long file shows progress on a terminal.
      const T = x.shape[0]!;
      const I = session.inputSize;
      const y = new Float32Array(T * session.outputSize);
      const bar = progress('run', T);
      const CHUNK = 4096;
      try {
        for (let t = 0; t < T; t += CHUNK) {
          const end = Math.min(T, t + CHUNK);
          y.set(session.run(x.data.subarray(t * I, end * I)), t * session.outputSize);
          bar.update(end);
        }
      } catch (e) {
        // A failed run leaves no half-written trace behind.
        writer?.close();
        if (o.traceOut !== undefined) rmSync(o.traceOut, { force: true });
        throw e;
      }
      bar.stop();
      writer?.close();
      if (o.traceOut !== undefined && !o.quiet) process.stderr.write(`wrote the trace of ${T} steps to ${o.traceOut}\n`);
      await writeNpy(o.output, y, [x.shape[0]!, session.outputSize], { overwrite: true });
      if (!o.quiet) {
        const s = session.stats();
        const lines = [`${s.steps} steps, ${session.inputSize} -> ${session.outputSize}, ${session.isDelta ? 'delta' : 'dense'} (${session.paths[0]})`];
        if (session.isDelta) {
          lines.push(
            `occupancy ${(100 * s.occupancy).toFixed(1)} % (inputs ${(100 * s.occupancyX).toFixed(1)} %, hidden ${(100 * s.occupancyH).toFixed(1)} %)`,
            `ops ${si(s.ops)} of ${si(s.denseOps)} dense: ${s.opsSaving.toFixed(2)}x fewer`,
          );
        } else {
          lines.push(`ops ${si(s.denseOps)}`);
        }
        process.stderr.write(lines.join('\n') + '\n');
      }
    });
}
