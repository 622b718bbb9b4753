import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli as runCli } from '../helpers/cli.js';
import { encodeNpy } from '../../src/core/npy.js';
import { saveModel } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import type { GruLayer, Model } from '../../src/model/types.js';
import { exportEdgeDrnn, writeEdgeDrnnExport } from '../../src/model/export/edgedrnn/export.js';
import { TESTBENCH_FILES, parseTestbench, verifyTestbench } from '../../src/model/export/edgedrnn/testbench.js';
import { quantizeValue, Q1_7, Q8_8, quantizeCode } from '../../src/quant/format.js';
import { buildEdgeDrnnProgram, programToGruLayers } from '../../src/quant/edgedrnn/program.js';
import { errorOf } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'deltakit-edgedrnn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function model(seed = 3): Model {
  return randomModel(seed, 5, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 16 }, { kind: 'linear', outputSize: 4 }], 1);
}



const cli = (args: string[]) => runCli(...args);

describe('EdgeDRNN export and import', () => {
  it('round-trips model -> files -> program, and the files verify word for word', () => {
    const m = model();
    const frames = smoothStream(3, 40, 5, 0.2);
    const exp = exportEdgeDrnn(m, { thresholdX: 0.0625, thresholdH: 0.03125, stimulus: frames });
    expect(Object.keys(exp.files).sort()).toEqual(Object.values(TESTBENCH_FILES).sort());
    const f = (k: keyof typeof TESTBENCH_FILES) => exp.files[TESTBENCH_FILES[k]]!;
    const tb = parseTestbench({ params: f('params'), creg: f('creg'), stim: f('stim'), gold: f('gold') });
    expect(tb.program.config).toEqual({ weightBase: 0, thresholdX: 16, thresholdH: 8, inputSize: 8, hiddenSizes: [16, 16] });
    expect(Array.from(tb.program.weights)).toEqual(Array.from(exp.program.weights));
    expect(Array.from(tb.stimulus!)).toEqual(Array.from(exp.stimulus));
    expect(Array.from(tb.gold!)).toEqual(Array.from(exp.outputs));
    expect(exp.steps).toBe(40);
    // 2 layers: 3*16*(1+8+16) + 3*16*(1+16+16) bytes = 2784, 8 per line.
    expect(f('params').split('\n').length - 1).toBe(2784 / 8);
    expect(f('stim').split('\n').length - 1).toBe(40);
    expect(f('gold').split('\n').length - 1).toBe(80);
    const r = verifyTestbench({ params: f('params'), creg: f('creg'), stim: f('stim'), gold: f('gold') });
    expect(r).toMatchObject({ matched: 80, total: 80, steps: 40 });
    expect(r.firstMismatch).toBeUndefined();
  });

  it('lays the weights out column-major with the bias column, padding and folded biases', () => {
    const m = model(4);
    const g = m.layers[0] as GruLayer;
    const { program } = buildEdgeDrnnProgram(m);
    const rows = 48;
    const q = (v: number) => quantizeCode(v, Q1_7);
    // bias column: b_ih + b_hh for every gate (n included, the edgedrnn convention).
    for (let r = 0; r < rows; r++) expect(program.weights[r]).toBe(q(g.biasIh[r]! + g.biasHh[r]!));
    // input column 2, row 17 = W_ih[17, 2]; padded input columns 5..7 are zero.
    expect(program.weights[(1 + 2) * rows + 17]).toBe(q(g.weightIh[17 * 5 + 2]!));
    for (let c = 6; c <= 8; c++) for (let r = 0; r < rows; r++) expect(program.weights[c * rows + r]).toBe(0);
    // hidden column 3 of layer 0, row 40 = W_hh[40, 3].
    expect(program.weights[(1 + 8 + 3) * rows + 40]).toBe(q(g.weightHh[40 * 16 + 3]!));
    // layer 1 starts after 25 columns of layer 0.
    const g1 = m.layers[1] as GruLayer;
    expect(program.weights[25 * rows + (1 + 4) * rows + 9]).toBe(q(g1.weightIh[9 * 16 + 4]!));
  });

  it('imports the program back to GRU layers holding the quantised weights', () => {
    const m = model(5);
    const { program } = buildEdgeDrnnProgram(m);
    const layers = programToGruLayers(program);
    const g = m.layers[0] as GruLayer;
    expect(layers[0]!.inputSize).toBe(8);
    expect(layers[0]!.weightIh[3 * 8 + 4]).toBe(quantizeValue(g.weightIh[3 * 5 + 4]!, Q1_7));
    expect(layers[0]!.weightIh[3 * 8 + 6]).toBe(0);
    expect(layers[1]!.weightHh[100]).toBe(quantizeValue((m.layers[1] as GruLayer).weightHh[100]!, Q1_7));
    expect(layers[0]!.biasIh[20]).toBe(quantizeValue(g.biasIh[20]! + g.biasHh[20]!, Q1_7));
    expect(Array.from(layers[0]!.biasHh).every((v) => v === 0)).toBe(true);
    // Rebuilding from the imported layers gives the same image (the import is exact).
    const again = buildEdgeDrnnProgram({ name: 'x', meta: {}, layers });
    expect(Array.from(again.program.weights)).toEqual(Array.from(program.weights));
  });

  it('rejects models the hardware cannot run, naming the limit', () => {
    const lstm = randomModel(1, 8, [{ kind: 'lstm', hiddenSize: 16 }]);
    expect(errorOf(() => buildEdgeDrnnProgram(lstm))?.code).toBe('E_UNSUPPORTED');
    const h12 = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 12 }]);
    expect(errorOf(() => buildEdgeDrnnProgram(h12))?.message).toMatch(/multiple of 8/);
    const mixed = randomModel(1, 8, [{ kind: 'gru', hiddenSize: 16 }, { kind: 'gru', hiddenSize: 24 }]);
    expect(errorOf(() => buildEdgeDrnnProgram(mixed))?.code).toBe('E_HW_LIMIT');
    const five = randomModel(1, 8, Array.from({ length: 5 }, () => ({ kind: 'gru' as const, hiddenSize: 16 })));
    expect(errorOf(() => buildEdgeDrnnProgram(five))?.message).toMatch(/at most 4 layers/);
    expect(errorOf(() => buildEdgeDrnnProgram(model(), { thresholdX: 2 }))?.message).toMatch(/511\/256/);
    expect(errorOf(() => buildEdgeDrnnProgram(model(), { thresholdH: -0.1 }))?.code).toBe('E_VALUE');
    expect(buildEdgeDrnnProgram(model(), { thresholdX: 511 / 256 }).program.config.thresholdX).toBe(511);
  });

  it('warns when thx > 1 disables the biases, and when weights saturate', () => {
    const big = randomModel(2, 8, [{ kind: 'gru', hiddenSize: 16 }], 8);
    const { warnings, clippedWeights } = buildEdgeDrnnProgram(big, { thresholdX: 1.5 });
    expect(warnings.join('\n')).toMatch(/never adds the biases/);
    expect(clippedWeights).toBeGreaterThan(0);
    expect(warnings.join('\n')).toMatch(/saturated/);
  });

  it('writes a C header that a C compiler accepts and that holds the same weights', () => {
    const exp = exportEdgeDrnn(model(), { stimulus: smoothStream(1, 3, 5) });
    const h = exp.files[TESTBENCH_FILES.header]!;
    expect(h).toMatch(/#define RNN_PARAM_SIZE 2784/);
    expect(h).toMatch(/#define FC0_OUT 4/);
    let cc: string | undefined;
    for (const c of ['cc', 'gcc', 'clang']) {
      try {
        execFileSync(c, ['--version'], { stdio: 'ignore' });
        cc = c;
        break;
      } catch {
        // try the next compiler
      }
    }
    if (!cc) return; // no C compiler on this machine: the text checks above still ran
    writeFileSync(join(dir, TESTBENCH_FILES.header), h);
    writeFileSync(
      join(dir, 'main.c'),
      '#include <stdio.h>\n#include "edgedrnn_params.h"\nint main(void){long s=0,w=0;for(int i=0;i<RNN_PARAM_SIZE;i++){s+=rnn_param[i];w+=(long)(i%7)*rnn_param[i];}\n' +
        'double f=0;for(int i=0;i<FC0_OUT*FC0_IN;i++)f+=fc0_weight[i];printf("%ld %ld %.4f %d\\n",s,w,f,THX);return 0;}\n',
    );
    execFileSync(cc, ['-std=c11', '-Wall', '-Werror', '-o', join(dir, 'check'), join(dir, 'main.c')], { cwd: dir });
    const out = execFileSync(join(dir, 'check'), { encoding: 'utf8' }).trim().split(' ');
    const w = exp.program.weights;
    let s = 0;
    let ws = 0;
    for (let i = 0; i < w.length; i++) {
      s += w[i]!;
      ws += (i % 7) * w[i]!;
    }
    const fc = (model().layers[2] as { weight: Float32Array }).weight.reduce((a, b) => a + b, 0);
    expect(out).toEqual([String(s), String(ws), fc.toFixed(4), '0']);
  });

  it('refuses to overwrite files without force', async () => {
    const out = join(dir, 'w');
    const exp = exportEdgeDrnn(model(), { stimulus: smoothStream(1, 5, 5) });
    const written = await writeEdgeDrnnExport(exp, out);
    expect(written.length).toBe(5);
    await expect(writeEdgeDrnnExport(exp, out)).rejects.toMatchObject({ code: 'E_EXISTS' });
    await expect(writeEdgeDrnnExport(exp, out, { force: true })).resolves.toHaveLength(5);
  });

  it('quantises the stimulus to Q8.8 with saturation and zero padding', () => {
    const frames = Float32Array.from([0.5, -0.25, 200, -200, 1 / 512, 0, 0, 0, 0, 0]);
    const exp = exportEdgeDrnn(model(), { stimulus: frames });
    expect(Array.from(exp.stimulus.slice(0, 8))).toEqual([128, -64, 32767, -32768, quantizeCode(1 / 512, Q8_8), 0, 0, 0]);
    expect(exp.steps).toBe(2);
  });
});

describe('deltakit edgedrnn CLI', () => {
  it('export, verify (match and mismatch), run; quantize', async () => {
    const modelPath = join(dir, 'm.safetensors');
    await saveModel(model(), modelPath, { overwrite: true });
    const stimPath = join(dir, 'x.npy');
    writeFileSync(stimPath, encodeNpy(smoothStream(9, 30, 5, 0.2), [30, 5]));
    const out = join(dir, 'cli');
    let r = await cli(['edgedrnn', 'export', modelPath, '--out', out, '--stim', stimPath, '--thx', '0.05', '--thh', '0.05']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/EdgeDRNN 2L-16H, input 8 \(padded\), thx 13\/256/);
    for (const n of Object.values(TESTBENCH_FILES)) expect(existsSync(join(out, n))).toBe(true);
    r = await cli(['edgedrnn', 'export', modelPath, '--out', out, '--stim', stimPath]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/E_EXISTS/);

    const files = ['--params', join(out, TESTBENCH_FILES.params), '--stim', join(out, TESTBENCH_FILES.stim), '--creg', join(out, TESTBENCH_FILES.creg)];
    r = await cli(['edgedrnn', 'verify', ...files, '--gold', join(out, TESTBENCH_FILES.gold)]);
    expect(r.out).toMatch(/^matched 60\/60 output words \(30 steps\)/);
    expect(r.code).toBe(0);

    // Flip one lane of step 7, word 0 (line 15 of the gold file: 2 words per step).
    const gold = readFileSync(join(out, TESTBENCH_FILES.gold), 'utf8').split('\n');
    const line = gold[14]!;
    const flipped = line.slice(0, 31) + (line[31] === '0' ? '1' : '0') + line.slice(32);
    const badGold = join(dir, 'bad_gold.txt');
    writeFileSync(badGold, [...gold.slice(0, 14), flipped, ...gold.slice(15)].join('\n'));
    r = await cli(['edgedrnn', 'verify', ...files, '--gold', badGold]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/matched 59\/60/);
    expect(r.out).toMatch(/first mismatch: step 7, word 0 \(line 15 of/);
    // One coded line on stderr, as every failure (the exit code alone used to say it).
    expect(r.err).toMatch(/^deltakit: E_MISMATCH: edgedrnn verify: 1 of 60 output words differ from .*bad_gold\.txt; the first at step 7, word 0 \(line 15 of .*\): expected [0-9A-F]{32}, computed [0-9A-F]{32}$/m);

    const runOut = join(dir, 'run_out.txt');
    r = await cli(['edgedrnn', 'run', ...files, '--out', runOut]);
    expect(r.code).toBe(0);
    expect(readFileSync(runOut, 'utf8')).toBe(readFileSync(join(out, TESTBENCH_FILES.gold), 'utf8'));
    r = await cli(['edgedrnn', 'run', ...files, '--out', runOut]);
    expect(r.err).toMatch(/E_EXISTS/);

    writeFileSync(badGold, '0000\nnot-hex\n');
    r = await cli(['edgedrnn', 'verify', ...files, '--gold', badGold]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/E_FORMAT: gold: line 2: malformed word/);

    r = await cli(['quantize', modelPath, '--frames', stimPath]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/weights Q1\.7, activations Q8\.8/);
    expect(r.out).toMatch(/layer 2 \(linear\)/);
    r = await cli(['quantize', modelPath, '--weights', 'Q0.8']);
    expect(r.err).toMatch(/E_OPTION/);
  });
});
