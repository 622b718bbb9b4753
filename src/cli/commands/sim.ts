/**
 * `deltakit sim MODEL --arch edgedrnn --input X.npy [--thx A --thh B] [--set clockMHz=125 ...]
 * [--json]`: run the model on the input with tracing on, replay the trace on an accelerator's
 * cycle model and print latency, cycles, effective GOp/s, DRAM bytes, utilisation and energy per
 * layer and in total. `deltakit sim [MODEL] --arch A --trace FILE` replays a recorded trace file
 * instead, chunk by chunk, without running any model.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { metadataNumber } from '../../train/model-task.js';
import { check, fail } from '../../core/errors.js';
import { readFeatureInput, NORMALIZED_NOTE } from '../input.js';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import type { Model } from '../../model/types.js';
import type { BiasConvention, StepTrace } from '../../runtime/types.js';
import { ARCH_NAMES, PARAMS, PRESETS, parseOverrides, resolveSpec, type ArchName } from '../../sim/spec/index.js';
import { formatComparison, formatReport, reportToJson } from '../../sim/report/format.js';
import { buildEdgeDrnnProgram, thresholdCode } from '../../quant/edgedrnn/program.js';
import { edgedrnnFits, traceEdgeDrnnWorkload, traceWorkload } from '../../sim/run.js';
import { simulate, simulateStream, type SimOutcome, type SimReport } from '../../sim/simulate.js';
import { createTraceFileWriter, openTraceFile, traceFileWorkloads, traceModel } from '../../sim/trace/file.js';
import { traceLayers } from '../../sim/trace/format.js';
import type { Workload } from '../../sim/workload/workload.js';
import { checkBiasConventionNeedsDelta, checkWritable, parseChoice, parseNumber, table } from '../options.js';
import { progress } from '../progress.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * Load the model and the (T, I) input, checking they fit together. The input is read as run
 * reads it: a trained model's stored feature statistics are applied to raw features unless
 * `normalize` is false (the simulated run was on inputs the model never sees: the built-in
 * model on 300 raw held-out frames, 14 % occupancy against run's 8 %); one stderr line says so.
 */
export async function loadModelAndInput(modelPath: string, inputPath: string, normalize = true): Promise<{ model: Model; frames: Float32Array; steps: number }> {
  const model = await loadModelOrCompressed(modelPath);
  const x = await readFeatureInput(inputPath, model, '--input', normalize);
  if (x.normalized) process.stderr.write(`input ${NORMALIZED_NOTE}\n`);
  return { model, frames: x.data, steps: x.frames };
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
  trace?: string;
  traceOut?: string;
  force?: boolean;
  thx?: string;
  thh?: string;
  biasConvention?: string;
  set?: string[];
  json?: boolean;
  perStep?: boolean;
  describe?: boolean;
  fixedPoint?: boolean;
  energy?: string[];
  normalize?: boolean;
}

/**
 * Which trace a model run uses for EdgeDRNN: the bit-exact fixed-point machine by default when
 * the model fits the hardware (its firing is the hardware's: only nonzero Q8.8 deltas are
 * queued), the float session otherwise or with --no-fixed-point. Says which on stderr.
 */
export function chooseFixedPoint(model: Model, arch: string, requested: boolean | undefined, th: { thresholdX?: number; thresholdH?: number }): boolean {
  if (requested === true) {
    check(arch === 'edgedrnn', 'E_OPTION', () => `--fixed-point: the bit-exact machine is EdgeDRNN's; found --arch ${arch}`);
    // A model the machine cannot run fails here, with the machine's own coded error, before the
    // line below says which trace is used (it used to print first, then the error).
    buildEdgeDrnnProgram(model, { thresholdX: th.thresholdX ?? 0, thresholdH: th.thresholdH ?? 0 });
    process.stderr.write('trace: EdgeDRNN fixed-point machine (Q8.8, the hardware\'s own firing)\n');
    return true;
  }
  if (arch !== 'edgedrnn') return false;
  if (requested === false) {
    process.stderr.write('trace: float session (--no-fixed-point)\n');
    return false;
  }
  const fit = edgedrnnFits(model, th);
  if (fit.ok) {
    process.stderr.write('trace: EdgeDRNN fixed-point machine (Q8.8, the hardware\'s own firing; --no-fixed-point for the float session)\n');
    return true;
  }
  process.stderr.write(`trace: float session (the model does not fit EdgeDRNN's fixed-point machine: ${fit.reason})\n`);
  return false;
}

/** Per-step text table: cycles in total and per accelerator layer, stalls, DRAM bytes. */
export function formatPerStep(r: SimReport): string {
  const accel = r.layers.filter((l) => l.onAccelerator);
  const head = ['step', 'cycles', ...accel.map((l) => `L${l.index} ${l.kind}`), 'stall', 'DRAM bytes', 'latency us'];
  const rows: string[][] = [];
  const ps = r.perStep;
  for (let t = 0; t < ps.cycles.length; t++) {
    rows.push([String(t), String(ps.cycles[t]), ...accel.map((l) => String(ps.layerCycles[l.index]![t])), String(Number(ps.stallCycles[t]!.toFixed(3))), String(ps.dramBytes[t]), (ps.cycles[t]! / r.clockMHz).toFixed(3)]);
  }
  return table(head, rows);
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('simulate MODEL on an accelerator (deltarnn, edgedrnn, spartus, rnnaccel) over a real run on --input, or replay a recorded --trace')
    .argument('[model]', 'model file (.safetensors, .onnx, or a .dkcb from `deltakit compress`); optional with --trace')
    .requiredOption('-a, --arch <name>', `accelerator: ${ARCH_NAMES.join(', ')}, or all (a comparison table)`)
    .option('-i, --input <x.npy>', "input frames, float32 .npy of shape (T, I), normalised with a trained model's feature statistics as run normalises them")
    .option('--no-normalize', "use --input as given: skip the model's stored feature statistics (meta.featureStats), which are applied by default")
    .option('--trace <file>', 'replay a recorded trace file (deltakit run --trace-out, or your own tool: docs/trace-format.md) instead of running the model')
    .option('--trace-out <file>', 'with --input: also record the run\'s trace to this file')
    .option('-f, --force', 'overwrite the --trace-out file if it exists')
    .option('--thx <threshold>', 'delta threshold on layer inputs')
    .option('--thh <threshold>', 'delta threshold on hidden states')
    .option('--bias-convention <name>', 'cudnn or edgedrnn (float session only)')
    .option('--set <name=value>', 'override an architecture parameter (repeatable)', collect)
    .option('--energy <action=pJ>', 'override an energy-table entry: mac, dramByte, sramByte, encoderElement, activation (pJ), staticMilliwatts (mW) (repeatable)', collect)
    .option('--json', 'print JSON instead of the table')
    .option('--per-step', 'also print per-step cycles, per layer (with --json: per-step arrays)')
    .option('--fixed-point', 'edgedrnn: trace the bit-exact Q8.8 machine (the default when the model fits the hardware)')
    .option('--no-fixed-point', 'edgedrnn: trace the float session instead of the fixed-point machine')
    .option('--describe', 'print the preset parameters with units and sources, and exit')
    .action(async (modelPath: string | undefined, o: SimOptions) => {
      const overrides = parseOverrides(o.set ?? []);
      const all = o.arch === 'all';
      // With --arch all, each override applies to the presets that have the parameter.
      const setFor = (arch: string) => (all ? Object.fromEntries(Object.entries(overrides).filter(([k]) => k in PRESETS[arch as ArchName].params)) : overrides);
      const archs = all ? [...ARCH_NAMES] : [resolveSpec(o.arch, overrides).arch];
      for (const a of archs) resolveSpec(a, setFor(a));
      if (o.describe) {
        process.stdout.write(archs.map(describePreset).join('\n\n') + '\n');
        return;
      }
      const energy = parseEnergy(o.energy ?? []);
      const keepPerStep = o.perStep === true;
      const runArch = (arch: ArchName, model: Model | undefined, sim: (set: Record<string, number>) => SimOutcome) => {
        // A .dkcb model carries its codec's index width: RNNAccel's decompressor then models that codec.
        const set: Record<string, number> = { ...setFor(arch) };
        // A stored width the engine cannot model is the file's (E_FORMAT naming the key and the file).
        const coded = model ? metadataNumber(model, 'codebookBits', { integer: true, min: 0, max: 16, what: 'an index width in bits' }) : undefined;
        if (arch === 'rnnaccel' && set.codebookBits === undefined && coded !== undefined && coded > 0) set.codebookBits = coded;
        return sim(set);
      };
      let results: SimOutcome[];
      if (o.trace !== undefined) {
        check(o.input === undefined, 'E_OPTION', () => 'sim: give --input (run the model) or --trace (replay a recorded run), not both');
        check(o.thx === undefined && o.thh === undefined && o.fixedPoint === undefined && o.traceOut === undefined, 'E_OPTION', () => 'sim --trace: the trace fixes thresholds and firing; --thx, --thh, --fixed-point and --trace-out do not apply');
        const file = openTraceFile(o.trace);
        const model = modelPath !== undefined ? await loadModelOrCompressed(modelPath) : undefined;
        traceModel(file.header, model);
        const h = file.header;
        process.stderr.write(`trace: ${o.trace} (${h.source}${h.thresholdX !== null ? `, thx ${h.thresholdX}, thh ${h.thresholdH}` : ''}${model ? '' : '; no model: every weight counts as nonzero'})\n`);
        results = archs.map((arch) => runArch(arch, model, (set) => simulateStream(traceFileWorkloads(file, model), arch, { set, energy, keepPerStep })));
      } else {
        check(modelPath !== undefined, 'E_OPTION', () => 'sim: expected a MODEL argument (or --trace FILE)');
        check(o.input !== undefined, 'E_OPTION', () => 'sim: expected --input X.npy (the simulator replays a real run on your data) or --trace FILE');
        if (o.traceOut !== undefined) checkWritable(o.traceOut, o.force);
        const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
        const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
        const th = { ...(thresholdX !== undefined ? { thresholdX } : {}), ...(thresholdH !== undefined ? { thresholdH } : {}) };
        const biasConvention = parseChoice<BiasConvention>('--bias-convention', o.biasConvention, ['cudnn', 'edgedrnn']);
        checkBiasConventionNeedsDelta(biasConvention, thresholdX !== undefined || thresholdH !== undefined);
        const { model, frames, steps } = await loadModelAndInput(modelPath, o.input, o.normalize !== false);
        // EdgeDRNN gets the fixed-point machine's trace by default; the others the float session's.
        const fixed = chooseFixedPoint(model, all ? 'edgedrnn' : archs[0]!, o.fixedPoint, th);
        const needFloat = archs.some((a) => a !== 'edgedrnn') || !fixed;
        if (fixed && biasConvention) process.stderr.write('note: --bias-convention applies to the float session; the fixed-point machine has one bias per gate\n');
        const delta = thresholdX !== undefined || thresholdH !== undefined;
        // --trace-out records the trace the first simulated accelerator uses.
        const recordFixed = fixed && archs[0] === 'edgedrnn';
        const writer = o.traceOut !== undefined
          ? createTraceFileWriter(o.traceOut, { layers: traceLayers(model, recordFixed || delta), thresholdX: recordFixed ? thresholdCode('thx', thresholdX ?? 0) / 256 : (thresholdX ?? null), thresholdH: recordFixed ? thresholdCode('thh', thresholdH ?? 0) / 256 : (thresholdH ?? null), source: recordFixed ? 'fixed-point' : 'session', bias: recordFixed, note: basename(modelPath) }, { force: true })
          : null;
        let floatW: Workload | null = null;
        let fixedW: Workload | null = null;
        try {
          if (fixed) {
            const bar = progress('trace', steps);
            const fp = traceEdgeDrnnWorkload(model, frames, { ...th, onProgress: (done) => bar.update(done), ...(writer && recordFixed ? { onTrace: (st: StepTrace) => writer.write(st) } : {}) });
            bar.stop();
            fixedW = fp.workload;
            for (const warning of fp.warnings) process.stderr.write(`warning: ${warning}\n`);
          }
          if (needFloat) {
            const bar = progress('trace', steps);
            floatW = traceWorkload(model, frames, { ...th, ...(biasConvention ? { biasConvention } : {}), onProgress: (done) => bar.update(done), ...(writer && !recordFixed ? { onTrace: (st: StepTrace) => writer.write(st) } : {}) }).workload;
            bar.stop();
          }
        } finally {
          writer?.close();
        }
        if (o.traceOut !== undefined) process.stderr.write(`wrote ${o.traceOut}\n`);
        results = archs.map((arch) => runArch(arch, model, (set) => simulate(arch === 'edgedrnn' && fixedW ? fixedW : floatW!, arch, { set, energy })));
      }
      if (all) {
        if (o.json) process.stdout.write(JSON.stringify(results.map((r) => reportToJson(r, { perStep: keepPerStep })), null, 2) + '\n');
        else process.stdout.write(formatComparison(results) + '\n');
        return;
      }
      const r = results[0]!;
      if (!r.ok) fail('E_HW_LIMIT', `${r.arch} cannot run this model: ${r.reason}`);
      if (o.json) process.stdout.write(JSON.stringify(reportToJson(r, { perStep: keepPerStep }), null, 2) + '\n');
      else process.stdout.write(formatReport(r) + '\n' + (keepPerStep ? '\n' + formatPerStep(r) + '\n' : ''));
    });
}
