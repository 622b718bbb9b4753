/**
 * `deltakit sweep MODEL --arch A --input X.npy --param thx=0:0.2:0.05 [--param clockMHz=100,200]
 * --out PREFIX`: simulate a grid of thresholds and architecture parameters, writing PREFIX.csv
 * row by row (an interrupted sweep keeps its rows; --resume skips them) and PREFIX.svg, a line
 * plot of one figure against the first axis.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { check, fail } from '../../core/errors.js';
import type { BiasConvention } from '../../runtime/types.js';
import { csvLine, parseCsv } from '../../sim/report/csv.js';
import { parseOverrides, resolveSpec } from '../../sim/spec/presets.js';
import { parseAxis, pointKey, runSweep, sweepColumns, sweepPoints, SUMMARY_FIELDS } from '../../sim/sweep.js';
import { checkBiasConventionNeedsDelta, checkWritable, parseChoice, parseNumber } from '../options.js';
import { progress } from '../progress.js';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import { openTraceFile, traceModel } from '../../sim/trace/file.js';
import { chooseFixedPoint, loadModelAndInput } from './sim.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface SweepCliOptions {
  normalize?: boolean;
  arch: string;
  input?: string;
  trace?: string;
  param?: string[];
  thx?: string;
  thh?: string;
  biasConvention?: string;
  set?: string[];
  out: string;
  resume?: boolean;
  force?: boolean;
  y: string;
  logY?: boolean;
  fixedPoint?: boolean;
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description('simulate MODEL over a grid of thresholds and architecture parameters; write CSV and an SVG plot')
    .argument('[model]', 'model file (optional with --trace)')
    .requiredOption('-a, --arch <name>', 'accelerator: deltarnn, edgedrnn, spartus, rnnaccel')
    .option('-i, --input <x.npy>', "input frames, float32 .npy (T, I), normalised with a trained model's feature statistics as run normalises them")
    .option('--no-normalize', "use --input as given: skip the model's stored feature statistics (meta.featureStats), which are applied by default")
    .option('--trace <file>', 'replay a recorded trace file at every point instead of running the model (architecture parameters only)')
    .option('--param <name=values>', 'an axis: thx, thh or a parameter, as v1,v2,... or start:stop:step (repeatable)', collect)
    .option('--thx <threshold>', 'fixed input threshold when thx is not swept')
    .option('--thh <threshold>', 'fixed hidden threshold when thh is not swept')
    .option('--bias-convention <name>', 'cudnn or edgedrnn')
    .option('--set <name=value>', 'fixed parameter override (repeatable)', collect)
    .option('--fixed-point', 'edgedrnn: trace the bit-exact Q8.8 machine (the default when the model fits the hardware)')
    .option('--no-fixed-point', 'edgedrnn: trace the float session instead of the fixed-point machine')
    .requiredOption('-o, --out <prefix>', 'writes <prefix>.csv and <prefix>.svg')
    .option('--resume', 'continue an interrupted sweep: keep <prefix>.csv and skip its points')
    .option('-f, --force', 'overwrite existing outputs')
    .option('--y <field>', `figure to plot: ${SUMMARY_FIELDS.join(', ')}`, 'latencyUs')
    .option('--log-y', 'logarithmic y axis')
    .action(async (modelPath: string | undefined, o: SweepCliOptions) => {
      const axes = (o.param ?? []).map(parseAxis);
      check(axes.length > 0, 'E_OPTION', () => 'sweep: expected at least one --param name=values');
      check((SUMMARY_FIELDS as readonly string[]).includes(o.y), 'E_OPTION', () => `--y: expected one of ${SUMMARY_FIELDS.join(', ')}, found '${o.y}'`);
      const set = parseOverrides(o.set ?? []);
      const spec = resolveSpec(o.arch, set);
      // Every swept parameter must exist in the preset (checked once, before any work).
      const probe: Record<string, number> = {};
      for (const a of axes) if (a.name !== 'thx' && a.name !== 'thh') probe[a.name] = a.values[0]!;
      resolveSpec(spec.arch, { ...set, ...probe });
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
      const biasConvention = parseChoice<BiasConvention>('--bias-convention', o.biasConvention, ['cudnn', 'edgedrnn']);
      checkBiasConventionNeedsDelta(biasConvention, thresholdX !== undefined || thresholdH !== undefined || axes.some((a) => a.name === 'thx' || a.name === 'thh'));
      check(!o.fixedPoint || spec.arch === 'edgedrnn', 'E_OPTION', () => `--fixed-point: the bit-exact machine is EdgeDRNN's; found --arch ${spec.arch}`);
      if (o.trace !== undefined) {
        check(o.input === undefined, 'E_OPTION', () => 'sweep: give --input (run the model) or --trace (replay a recorded run), not both');
        check(o.thx === undefined && o.thh === undefined && o.fixedPoint === undefined, 'E_OPTION', () => 'sweep --trace: the trace fixes thresholds and firing; --thx, --thh and --fixed-point do not apply');
        check(!axes.some((a) => a.name === 'thx' || a.name === 'thh'), 'E_OPTION', () => 'sweep --trace: thx and thh cannot be swept over a recorded trace; sweep architecture parameters');
      } else {
        check(modelPath !== undefined && o.input !== undefined, 'E_OPTION', () => 'sweep: expected MODEL and --input X.npy, or --trace FILE');
      }
      const csvPath = `${o.out}.csv`;
      const svgPath = `${o.out}.svg`;
      const names = axes.map((a) => a.name);
      const columns = sweepColumns(names);
      const done = new Set<string>();
      // The grid is bounded (E_LIMIT), and the model and input (or the trace) are read, and
      // refused if bad, before any file is created.
      const total = sweepPoints(axes).length;
      let model;
      let frames;
      let trace;
      let fixedPoint = false;
      if (o.trace !== undefined) {
        trace = openTraceFile(o.trace);
        model = modelPath !== undefined ? await loadModelOrCompressed(modelPath) : undefined;
        traceModel(trace.header, model);
      } else {
        ({ model, frames } = await loadModelAndInput(modelPath!, o.input!, o.normalize !== false));
        // The fixed-point check uses the fixed thresholds (swept ones are checked at each point).
        fixedPoint = chooseFixedPoint(model, spec.arch, o.fixedPoint, { ...(thresholdX !== undefined ? { thresholdX } : {}), ...(thresholdH !== undefined ? { thresholdH } : {}) });
      }
      let created = false;
      if (o.resume && existsSync(csvPath)) {
        // A folder named like the outputs is E_IO (it was an internal error), not read.
        checkWritable(csvPath, true);
        checkWritable(svgPath, true);
        const { header, rows, fieldCounts } = parseCsv(readFileSync(csvPath, 'utf8'));
        const found = header.join(', ');
        check(header.join(',') === columns.join(','), 'E_MISMATCH', () => `${csvPath}: its columns (${found.length > 200 ? `${found.slice(0, 200)}...` : found}) are not those of this sweep (${columns.join(', ')}); resume the same sweep or start a new one`);
        // A damaged row (cut short, or garbage) was skipped as "not done" and stayed in the CSV the
        // sweep appends to: the file it leaves must hold this sweep's rows only.
        rows.forEach((r, i) => {
          const ok = fieldCounts[i] === columns.length && names.every((n) => r[n] !== '' && Number.isFinite(Number(r[n]))) && (r['ok'] === '0' || r['ok'] === '1');
          check(ok, 'E_FORMAT', () => `${csvPath}: row ${i + 2}: expected ${columns.length} fields, numbers for ${names.join(', ')} and ok 0 or 1, found ${fieldCounts[i]} field${fieldCounts[i] === 1 ? '' : 's'} starting ${JSON.stringify(Object.values(r).slice(0, 3).join(',').slice(0, 40))}`);
          done.add(pointKey(Object.fromEntries(names.map((n) => [n, Number(r[n])])), names));
        });
      } else {
        checkWritable(csvPath, o.force);
        checkWritable(svgPath, o.force);
        writeFileSync(csvPath, csvLine(columns) + '\n', { flag: o.force ? 'w' : 'wx' });
        created = true;
      }
      const bar = progress('sweep', total);
      let stop = false;
      const onSigint = () => {
        stop = true;
      };
      process.once('SIGINT', onSigint);
      let finished = done.size;
      let result;
      try {
        result = await runSweep(model, frames, axes, {
          arch: spec.arch,
          set,
          ...(thresholdX !== undefined ? { thresholdX } : {}),
          ...(thresholdH !== undefined ? { thresholdH } : {}),
          ...(biasConvention ? { biasConvention } : {}),
          ...(fixedPoint ? { fixedPoint: true } : {}),
          ...(trace ? { trace } : {}),
          done,
          shouldStop: () => stop,
          onRow: (row) => {
            appendFileSync(csvPath, csvLine(columns.map((c) => row[c])) + '\n');
            bar.update(++finished);
          },
        });
      } catch (e) {
        // A sweep that failed before its first row leaves nothing behind (a rerun would otherwise
        // meet E_EXISTS on a CSV holding only a header).
        if (created && finished === done.size) rmSync(csvPath, { force: true });
        throw e;
      } finally {
        process.removeListener('SIGINT', onSigint);
        bar.stop();
      }
      // The plot covers every row in the CSV, resumed ones included.
      const rows = parseCsv(readFileSync(csvPath, 'utf8')).rows.filter((r) => r.ok === '1');
      const series = names.slice(1);
      const plotRows = rows.map((r) => ({
        [names[0]!]: Number(r[names[0]!]),
        [o.y]: Number(r[o.y]),
        ...(series.length ? { series: series.map((n) => `${n}=${r[n]}`).join(' ') } : {}),
      }));
      // Vega is loaded only here, so other commands start without it.
      const { linePlotSvg } = await import('../../sim/report/plot.js');
      const svg = await linePlotSvg(plotRows, { x: names[0]!, y: o.y, ...(series.length ? { series: 'series', seriesTitle: series.join(', ') } : {}), title: `${spec.arch}: ${o.y} vs ${names[0]}`, ...(o.logY ? { logY: true } : {}) });
      writeFileSync(svgPath, svg);
      process.stderr.write(`${result.ran} points simulated, ${result.skipped} resumed from ${csvPath}; wrote ${csvPath} and ${svgPath}\n`);
      if (result.stopped) fail('E_INTERRUPTED', `sweep interrupted after ${finished} of ${total} points; run again with --resume to finish`);
    });
}
