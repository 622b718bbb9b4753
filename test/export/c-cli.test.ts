/**
 * `deltakit export c` from the CLI and exportC from the API: files, summary, refusals.
 * (The generated code itself is compiled and run in c-build.test.ts; the docs' worked example is
 * built and run here, so its commands, main.c and printed line stay true.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { encodeNpy } from '../../src/core/npy.js';
import { loadModel, saveModel } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { exportC } from '../../src/model/export/c/export.js';
import { expectCode } from '../helpers/errors.js';
import { needTool } from '../helpers/c-toolchain.js';
import { readHeldout } from '../../src/data/heldout.js';
import { normalizeFeatures } from '../../src/data/dataset.js';
import { modelTask } from '../../src/train/task.js';

const dir = mkdtempSync(join(tmpdir(), 'deltakit-export-c-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DIGITS = 'models/digits-deltagru.safetensors';

describe('deltakit export c', () => {
  it('writes NAME.c and NAME.h (and board files), prints the formats, refuses to overwrite without --force', async () => {
    const out = join(dir, 'digits');
    const r = await cli('export', 'c', DIGITS, '--out', out, '--name', 'digits', '--thx', '0.4', '--thh', '0.3', '--board', 'microbit');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/digits: delta \(thx 0\.4, thh 0\.3, cudnn\), q15: int16 activations \(input Q11, output Q11\), int8 weights, int32 accumulators/);
    for (const f of ['digits.c', 'digits.h', 'startup_microbit.c', 'microbit.ld']) expect(existsSync(join(out, f)), f).toBe(true);
    const h = readFileSync(join(out, 'digits.h'), 'utf8');
    expect(h).toMatch(/#define DIGITS_INPUT_SIZE 40/);
    expect(h).toMatch(/#define DIGITS_OUTPUT_SIZE 11/);
    expect(h).toMatch(/void digits_step\(digits_state_t \*s, const digits_input_t \*x, digits_output_t \*y\);/);
    const again = await cli('export', 'c', DIGITS, '--out', out, '--name', 'digits');
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/E_EXISTS/);
    const forced = await cli('export', 'c', DIGITS, '--out', out, '--name', 'digits', '--precision', 'f32', '--force', '--quiet');
    expect(forced.code, forced.err).toBe(0);
    expect(readFileSync(join(out, 'digits.h'), 'utf8')).toMatch(/typedef float digits_input_t;/);
  });

  it('q7 and int16-weight q15 from the CLI; --calibration chooses the input format', async () => {
    const frames = smoothStream(1, 50, 40, 0.3).map((v) => v * 20);
    const npy = join(dir, 'cal.npy');
    writeFileSync(npy, encodeNpy(frames, [50, 40]));
    const r = await cli('export', 'c', DIGITS, '--out', join(dir, 'cal'), '--calibration', npy, '--weight-bits', '16');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/int16 weights, int64 accumulators/);
    const q7 = await cli('export', 'c', DIGITS, '--out', join(dir, 'q7'), '--precision', 'q7', '--act-frac', '5');
    expect(q7.code, q7.err).toBe(0);
    expect(q7.out).toMatch(/q7: int8 activations \(input Q5, output Q5\), int8 weights/);
  });

  it('bad options and unsupported models are one coded line each', async () => {
    const bad = async (args: string[], code: RegExp) => {
      const r = await cli('export', 'c', ...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.err).toMatch(code);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    };
    await bad([DIGITS, '--out', join(dir, 'x'), '--precision', 'q9'], /E_OPTION.*--precision/);
    await bad([DIGITS, '--out', join(dir, 'x'), '--weight-bits', '12'], /E_OPTION.*--weight-bits/);
    await bad([DIGITS, '--out', join(dir, 'x'), '--precision', 'q7', '--weight-bits', '16'], /E_OPTION.*weightBits/);
    await bad([DIGITS, '--out', join(dir, 'x'), '--board', 'esp32'], /E_OPTION.*--board/);
    await bad([DIGITS, '--out', join(dir, 'x'), '--act-frac', '3', '--calibration', 'x.npy'], /E_OPTION.*both/);
    await bad([DIGITS, '--out', join(dir, 'x'), '--thx', '-1'], /E_OPTION.*--thx/);
    const sru = join(dir, 'sru.safetensors');
    await saveModel(randomModel(1, 4, [{ kind: 'sru', hiddenSize: 4 }]), sru);
    await bad([sru, '--out', join(dir, 'x')], /E_UNSUPPORTED.*sru/);
    const npy = join(dir, 'wrong.npy');
    writeFileSync(npy, encodeNpy(new Float32Array(12), [4, 3]));
    await bad([DIGITS, '--out', join(dir, 'x'), '--calibration', npy], /E_SHAPE.*\(T, 40\)/);
  });

  it('API: exportC names files after the model, checks the name', () => {
    const m = { ...randomModel(2, 3, [{ kind: 'gru', hiddenSize: 4 }]), name: '2-layer KWS' };
    const exp = exportC(m, { precision: 'q7' });
    expect(exp.name).toBe('m_2_layer_kws');
    expect(Object.keys(exp.files).sort()).toEqual(['m_2_layer_kws.c', 'm_2_layer_kws.h']);
    expectCode(() => exportC(m, { name: 'bad-name' }), 'E_OPTION', /C identifier/);
    expectCode(() => exportC(m, { board: 'arduino' as never }), 'E_OPTION', /board/);
  });
});

describe('docs/c-export.md worked example', () => {
  it("builds the doc's main.c against the exported built-in model and prints the line the doc shows", async (ctx) => {
    if (!needTool('gcc')) return ctx.skip();
    const doc = readFileSync('docs/c-export.md', 'utf8');
    // The export command, main.c and the expected output, all as the doc writes them.
    const cmd = /deltakit (export c models\/digits-deltagru\.safetensors --out digits --name digits \\\n\s+[^\n]+)/.exec(doc)![1]!.replace(/\\\n\s+/, '').split(/\s+/);
    const mainC = /```c\n(\/\* main\.c[\s\S]*?)```/.exec(doc)![1]!;
    const shown = /&& \.\/digits\n# ([^\n]+)/.exec(doc)![1]!;
    const work = join(dir, 'worked');
    const r = await cli(...cmd.map((a, i) => (cmd[i - 1] === '--out' ? join(work, a) : a)));
    expect(r.code, r.err).toBe(0);
    const model = await loadModel(DIGITS);
    const utt = readHeldout('models/digits-heldout').utterances[3]!;
    expect(utt.text).toBe('three');
    writeFileSync(join(work, 'digits', 'features.f32'), normalizeFeatures(utt.features, modelTask(model).stats));
    writeFileSync(join(work, 'digits', 'main.c'), mainC);
    const cc = spawnSync('gcc', ['-std=c99', '-O2', '-Wall', '-Wextra', '-pedantic', 'digits.c', 'main.c', '-o', 'digits'], { cwd: join(work, 'digits'), encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const run = spawnSync('./digits', [], { cwd: join(work, 'digits'), encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(shown);
    // The doc's thresholds are the model's tuned ones.
    expect(cmd.join(' ')).toContain(`--thx ${model.meta['thresholdX']} --thh ${model.meta['thresholdH']}`);
  });
});
