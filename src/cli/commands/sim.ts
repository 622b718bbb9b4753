/**
 * `deltakit sim MODEL --arch edgedrnn --input X.npy [--thx A --thh B] [--set clockMHz=125 ...]
 * [--json]`: run the model on the input with tracing on, replay the trace on an accelerator's
 * cycle model and print latency, cycles, effective GOp/s, DRAM bytes, utilisation and energy per
 * layer and in total.
 */
import type { Command } from 'commander';
import { check, fail } from '../../core/errors.js';
import { readNpy } from '../../core/npy.js';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import type { Model } from '../../model/types.js';
import type { BiasConvention } from '../../runtime/types.js';
import { ARCH_NAMES, PARAMS, PRESETS, parseOverrides, resolveSpec, type ArchName } from '../../sim/spec/index.js';
import { formatComparison, formatReport, reportToJson } from '../../sim/report/format.js';
import { traceEdgeDrnnWorkload, traceWorkload } from '../../sim/run.js';
import { simulate } from '../../sim/simulate.js';
import { parseChoice, parseNumber, table } from '../options.js';
import { progress } from '../progress.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Load the model and the (T, I) input, checking they fit together. */
export async function loadModelAndInput(modelPath: string, inputPath: string): Promise<{ model: Model; frames: Float32Array; steps: number }> {
  const model = await loadModelOrCompressed(modelPath);
  const x = await readNpy(inputPath);
  const I = model.layers[0]!.inputSize;
  check(x.shape.length === 2 && x.shape[1] === I && x.shape[0]! > 0, 'E_SHAPE', () => `${inputPath}: expected shape (T, ${I}) with T >= 1 for this model, found (${x.shape.join(', ')})`);
  return { model, frames: x.data, steps: x.shape[0]! };
}

/** The preset's parameters as a table (units, values, sources). */
export function describePreset(arch: string): string {
  const spec = resolveSpec(arch);
  const p = PRESETS[spec.arch];
  const entries = Object.entries(p.params);
  const rows = entries.map(([name, v]) => [name, String(v!.value), PARAMS[name as keyof typeof PARAMS].unit, `[${v!.tag}]`]);
  // The source is free text: left-aligned after the aligned columns.
  const lines = table(['parameter', 'value', 'unit', 'tag'], rows).split('\n');
  const text = lines.map((l, i) => (i === 0 ? `${l}  source` : i === 1 ? `${l}  ------` : `${l}  ${entries[i - 2]![1]!.source}`));
  return `${p.title}\n\n${text.join('\n')}`;
}

const ENERGY_KEYS = ['mac', 'dramByte', 'sramByte', 'encoderElement', 'activation', 'staticMilliwatts'] as const;

/** Parse repeated `--energy name=value` into energy-table overrides. */
export function parseEnergy(items: string[]): Partial<Record<(typeof ENERGY_KEYS)[number], number>> {
  const out: Partial<Record<(typeof ENERGY_KEYS)[number], number>> = {};
  for (const item of items) {
    const m = /^([A-Za-z]+)=(.+)$/.exec(item.trim());
    check(m !== null && (ENERGY_KEYS as readonly string[]).includes(m[1]!), 'E_OPTION', () => `--energy: expected name=value with name one of ${ENERGY_KEYS.join(', ')}, found '${item}'`);
    const v = Number(m[2]);
    check(Number.isFinite(v) && v >= 0, 'E_VALUE', () => `--energy ${m[1]}: expected a number >= 0, found '${m[2]}'`);
    out[m[1] as (typeof ENERGY_KEYS)[number]] = v;
  }
  return out;
}

interface SimOptions {
  arch: string;
  input?: string;
  thx?: string;
  thh?: string;
  biasConvention?: string;
  set?: string[];
  json?: boolean;
  perStep?: boolean;
  describe?: boolean;
  fixedPoint?: boolean;
  energy?: string[];
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('simulate MODEL on an accelerator (deltarnn, edgedrnn, spartus, rnnaccel) over a real run on --input')
    .argument('[model]', 'model file (.safetensors, .onnx, or a .dkcb from `deltakit compress`)')
    .requiredOption('-a, --arch <name>', `accelerator: ${ARCH_NAMES.join(', ')}, or all (a comparison table)`)
    .option('-i, --input <x.npy>', 'input frames, float32 .npy of shape (T, I)')
    .option('--thx <threshold>', 'delta threshold on layer inputs')
    .option('--thh <threshold>', 'delta threshold on hidden states')
    .option('--bias-convention <name>', 'cudnn or edgedrnn')
    .option('--set <name=value>', 'override an architecture parameter (repeatable)', collect)
    .option('--energy <action=pJ>', 'override an energy-table entry: mac, dramByte, sramByte, encoderElement, activation (pJ), staticMilliwatts (mW) (repeatable)', collect)
    .option('--json', 'print JSON instead of the table')
    .option('--per-step', 'with --json: include per-step cycles, stalls, DRAM bytes and MACs')
    .option('--fixed-point', 'edgedrnn: trace the bit-exact Q8.8 machine instead of the float session (the hardware\'s own firing decisions)')
    .option('--describe', 'print the preset parameters with units and sources, and exit')
    .action(async (modelPath: string | undefined, o: SimOptions) => {
      const overrides = parseOverrides(o.set ?? []);
      const all = o.arch === 'all';
      // With --arch all, each override applies to the presets that have the parameter.
      const setFor = (arch: string) => (all ? Object.fromEntries(Object.entries(overrides).filter(([k]) => k in PRESETS[arch as ArchName].params)) : overrides);
      const archs = all ? [...ARCH_NAMES] : [resolveSpec(o.arch, overrides).arch];
      for (const a of archs) resolveSpec(a, setFor(a));
      const spec = { arch: archs[0]! };
      if (o.describe) {
        process.stdout.write(archs.map(describePreset).join('\n\n') + '\n');
        return;
      }
      check(modelPath !== undefined, 'E_OPTION', () => 'sim: expected a MODEL argument');
      check(o.input !== undefined, 'E_OPTION', () => 'sim: expected --input X.npy (the simulator replays a real run on your data)');
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
      const biasConvention = parseChoice<BiasConvention>('--bias-convention', o.biasConvention, ['cudnn', 'edgedrnn']);
      const { model, frames, steps } = await loadModelAndInput(modelPath, o.input);
      const bar = progress('trace', steps);
      let workload;
      if (o.fixedPoint) {
        check(!all && spec.arch === 'edgedrnn', 'E_OPTION', () => `--fixed-point: the bit-exact machine is EdgeDRNN's; found --arch ${o.arch}`);
        const fp = traceEdgeDrnnWorkload(model, frames, { ...(thresholdX !== undefined ? { thresholdX } : {}), ...(thresholdH !== undefined ? { thresholdH } : {}), onProgress: (done) => bar.update(done) });
        workload = fp.workload;
        for (const warning of fp.warnings) process.stderr.write(`warning: ${warning}\n`);
      } else {
        workload = traceWorkload(model, frames, {
          ...(thresholdX !== undefined ? { thresholdX } : {}),
          ...(thresholdH !== undefined ? { thresholdH } : {}),
          ...(biasConvention ? { biasConvention } : {}),
          onProgress: (done) => bar.update(done),
        }).workload;
      }
      bar.stop();
      const energy = parseEnergy(o.energy ?? []);
      const run = (arch: ArchName) => {
        // A .dkcb model carries its codec's index width: RNNAccel's decompressor then models that codec.
        const set: Record<string, number> = { ...setFor(arch) };
        const coded = Number(model.meta.codebookBits);
        if (arch === 'rnnaccel' && set.codebookBits === undefined && Number.isInteger(coded) && coded > 0) set.codebookBits = coded;
        return simulate(workload, arch, { set, energy });
      };
      if (all) {
        const results = archs.map(run);
        if (o.json) process.stdout.write(JSON.stringify(results.map((r) => reportToJson(r, { perStep: o.perStep === true })), null, 2) + '\n');
        else process.stdout.write(formatComparison(results) + '\n');
        return;
      }
      const r = run(spec.arch);
      if (!r.ok) fail('E_HW_LIMIT', `${spec.arch} cannot run this model: ${r.reason}`);
      if (o.json) process.stdout.write(JSON.stringify(reportToJson(r, { perStep: o.perStep === true }), null, 2) + '\n');
      else process.stdout.write(formatReport(r) + '\n');
    });
}
