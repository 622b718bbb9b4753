/**
 * `deltakit convert IN OUT [--force]`: turn any model file deltakit reads (deltakit, PyTorch
 * state_dict, ONNX, Keras .keras / .h5, TensorFlow.js model.json) into a deltakit model file
 * (safetensors with the model spec in its metadata), or, when OUT ends in .onnx, into a streaming
 * ONNX step graph (`--weights int8` for QDQ). An existing OUT is kept unless --force.
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { loadModelFile, saveModel, writeFileSafely } from '../../model/io.js';
import { exportOnnx } from '../../model/export/onnx/export.js';
import { summarizeModel } from '../../model/summary.js';
import type { Activation } from '../../model/types.js';
import { checkExtension, parseChoice, si } from '../options.js';

interface ConvertOptions {
  force?: boolean;
  name?: string;
  readoutActivation?: string;
  quiet?: boolean;
  weights?: string;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a model (PyTorch, ONNX, Keras, TensorFlow.js, deltakit) into a deltakit .safetensors file, or export it as a streaming .onnx graph')
    .argument('<in>', 'input model (.safetensors, .onnx, .keras, .h5, tfjs model.json)')
    .argument('<out>', 'output: deltakit model file (.safetensors), or .onnx for a streaming ONNX step graph')
    .option('--weights <format>', 'ONNX output only: f32 (default) or int8 (QDQ: int8 weights behind DequantizeLinear)')
    .option('-f, --force', 'overwrite OUT if it exists')
    .option('--name <name>', 'model name stored in the file')
    .option('--readout-activation <name>', 'activation after a PyTorch state_dict\'s Linear readout (none, relu, tanh); ONNX records it')
    .option('-q, --quiet', 'print nothing on success')
    .action(async (inPath: string, outPath: string, o: ConvertOptions) => {
      const readoutActivation = parseChoice<Activation>('--readout-activation', o.readoutActivation, ['none', 'relu', 'tanh']);
      // The output's extension names the format written: deltakit safetensors or a streaming ONNX graph.
      checkExtension('OUT', outPath, ['.safetensors', '.onnx']);
      // The name is printed on one line by info, run and listen, and kept in the file's header.
      check(o.name === undefined || (o.name.length > 0 && o.name.length <= 256 && !/[\u0000-\u001f\u007f]/.test(o.name)), 'E_OPTION', () => `--name: expected a non-empty name of at most 256 characters without control characters, found ${JSON.stringify(o.name!.slice(0, 40))}${o.name!.length > 40 ? ` (${o.name!.length} characters)` : ''}`);
      const { model, kind } = await loadModelFile(inPath, {
        ...(readoutActivation ? { readoutActivation } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
      });
      model.meta = { ...model.meta, convertedFrom: kind };
      const toOnnx = outPath.toLowerCase().endsWith('.onnx');
      const weights = parseChoice<'f32' | 'int8'>('--weights', o.weights, ['f32', 'int8']);
      check(toOnnx || weights === undefined, 'E_OPTION', () => `--weights: applies to an .onnx output only, found output ${outPath}`);
      if (toOnnx) await writeFileSafely(outPath, exportOnnx(model, weights ? { weights } : {}).bytes, { overwrite: o.force === true });
      else await saveModel(model, outPath, { overwrite: o.force === true });
      if (!o.quiet) {
        const s = summarizeModel(model);
        process.stdout.write(`${outPath}: ${s.layers.map((l) => `${l.kind}(${l.inputSize}->${l.outputSize})`).join(' ')}, ${si(s.parameters)} parameters (from ${kind})\n`);
      }
    });
}
