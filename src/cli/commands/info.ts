/**
 * `deltakit info MODEL [--json]`: what a model file holds: its kind (deltakit, PyTorch state_dict,
 * ONNX), layers and sizes, parameter count and dense ops per step.
 */
import type { Command } from 'commander';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import { isCompressedModel } from '../../compress/codebook/model.js';
import { loadModelFile, MODEL_FILE_KIND_NAMES, readFileBytes } from '../../model/io.js';
import { summarizeModel } from '../../model/summary.js';
import type { Activation } from '../../model/types.js';
import { parseChoice, si, table } from '../options.js';

interface InfoOptions {
  json?: boolean;
  readoutActivation?: string;
}

export function register(program: Command): void {
  program
    .command('info')
    .description('show the layers, sizes, parameters and dense ops per step of a model file')
    .argument('<model>', 'model file (.safetensors: deltakit or PyTorch state_dict; .onnx; .dkcb)')
    .option('--json', 'print JSON instead of a table')
    .option('--readout-activation <name>', 'activation after a PyTorch state_dict\'s Linear readout (none, relu, tanh)')
    .action(async (path: string, o: InfoOptions) => {
      const readoutActivation = parseChoice<Activation>('--readout-activation', o.readoutActivation, ['none', 'relu', 'tanh']);
      const bytes = await readFileBytes(path);
      // A .dkcb is decoded from the bytes read; every other format goes through the importer
      // registry by path (a TensorFlow.js model.json reads its weight shards beside it).
      const { model, kind } = isCompressedModel(bytes)
        ? { model: await loadModelOrCompressed(bytes, readoutActivation ? { readoutActivation } : {}), kind: 'dkcb' as const }
        : await loadModelFile(path, readoutActivation ? { readoutActivation } : {});
      const size = bytes.length;
      const s = summarizeModel(model);
      if (o.json) {
        process.stdout.write(JSON.stringify({ file: path, kind, bytes: size, ...s }, null, 2) + '\n');
        return;
      }
      const kindText = kind === 'dkcb' ? 'codebook-compressed deltakit model (.dkcb)' : MODEL_FILE_KIND_NAMES[kind];
      const lines = [
        `${path}: ${kindText}, ${si(size)}B`,
        `name: ${s.name}`,
        `input ${s.inputSize} -> output ${s.outputSize}`,
        '',
        table(
          ['layer', 'kind', 'input', 'hidden/out', 'detail', 'parameters', 'dense ops/step'],
          s.layers.map((l) => [String(l.index), l.kind, String(l.inputSize), String(l.outputSize), l.detail, String(l.parameters), String(l.denseOpsPerStep)]),
        ),
        '',
        `parameters: ${s.parameters} (${si(s.parameters)})`,
        `dense ops per step: ${s.denseOpsPerStep} (${si(s.denseOpsPerStep)}Op, 2 per multiply-accumulate)`,
      ];
      const meta = Object.entries(s.meta);
      const grus = s.layers.filter((l) => l.kind === 'gru').map((l) => `layer ${l.index} ${l.detail}`);
      if (grus.length) lines.push(`GRU variant: ${grus.join(', ')} (reset-after = PyTorch form; reset-before = ONNX linear_before_reset=0, Keras reset_after=False)`);
      if (meta.length) lines.push(`meta: ${meta.map(([k, v]) => `${k}=${v}`).join(', ')}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
