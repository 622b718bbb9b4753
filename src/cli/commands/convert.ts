/**
 * `deltakit convert IN OUT.safetensors [--force]`: turn a PyTorch state_dict (.safetensors) or an
 * ONNX file into a deltakit model file (safetensors with the model spec in its metadata).
 * An existing OUT is kept unless --force.
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { decodeModelFile, readFileBytes, saveModel } from '../../model/io.js';
import { summarizeModel } from '../../model/summary.js';
import type { Activation } from '../../model/types.js';
import { checkExtension, parseChoice, si } from '../options.js';

interface ConvertOptions {
  force?: boolean;
  name?: string;
  readoutActivation?: string;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a PyTorch state_dict (.safetensors) or ONNX model into a deltakit .safetensors model file')
    .argument('<in>', 'input model (.safetensors state_dict, .onnx, or a deltakit file)')
    .argument('<out>', 'output deltakit model file (.safetensors)')
    .option('-f, --force', 'overwrite OUT if it exists')
    .option('--name <name>', 'model name stored in the file')
    .option('--readout-activation <name>', 'activation after a PyTorch state_dict\'s Linear readout (none, relu, tanh); ONNX records it')
    .option('-q, --quiet', 'print nothing on success')
    .action(async (inPath: string, outPath: string, o: ConvertOptions) => {
      const readoutActivation = parseChoice<Activation>('--readout-activation', o.readoutActivation, ['none', 'relu', 'tanh']);
      checkExtension('OUT', outPath, ['.safetensors']);
      check(o.name === undefined || o.name.length > 0, 'E_OPTION', () => '--name: expected a non-empty name');
      const { model, kind } = decodeModelFile(await readFileBytes(inPath), {
        ...(readoutActivation ? { readoutActivation } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
      });
      model.meta = { ...model.meta, convertedFrom: kind };
      await saveModel(model, outPath, { overwrite: o.force === true });
      if (!o.quiet) {
        const s = summarizeModel(model);
        process.stdout.write(`${outPath}: ${s.layers.map((l) => `${l.kind}(${l.inputSize}->${l.outputSize})`).join(' ')}, ${si(s.parameters)} parameters (from ${kind})\n`);
      }
    });
}
