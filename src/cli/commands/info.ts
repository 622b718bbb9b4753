/**
 * `deltakit info MODEL [--json]`: what a model file holds: its kind (deltakit, PyTorch state_dict,
 * ONNX), layers and sizes, parameter count and dense ops per step.
 */
import type { Command } from 'commander';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import { isCompressedModel } from '../../compress/codebook/model.js';
import { decodeModelFile, readFileBytes } from '../../model/io.js';
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
      const compressed = isCompressedModel(bytes);
      const { model, kind } = compressed
        ? { model: await loadModelOrCompressed(bytes, readoutActivation ? { readoutActivation } : {}), kind: 'dkcb' as const }
        : decodeModelFile(bytes, readoutActivation ? { readoutActivation } : {});
      const s = summarizeModel(model);
      if (o.json) {
        process.stdout.write(JSON.stringify({ file: path, kind, bytes: bytes.length, ...s }, null, 2) + '\n');
        return;
      }
      const kindText = { deltakit: 'deltakit model (.safetensors with spec)', pytorch: 'PyTorch state_dict (.safetensors)', onnx: 'ONNX', dkcb: 'codebook-compressed deltakit model (.dkcb)' }[kind];
      const lines = [
        `${path}: ${kindText}, ${si(bytes.length)}B`,
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
      if (meta.length) lines.push(`meta: ${meta.map(([k, v]) => `${k}=${v}`).join(', ')}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
