import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runModelRef } from '../../src/cells/index.js';
import { encodeNpy, parseNpy } from '../../src/core/npy.js';
import { maxAbsDiff } from '../../src/core/math.js';
import { cli } from '../helpers/cli.js';
import { encodeModel } from '../../src/model/io.js';
import { encodeSafetensors } from '../../src/model/safetensors.js';
import { randomModel, smoothStream } from '../../src/model/random.js';


describe('deltakit CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'deltakit-cli-'));
  const model = randomModel(3, 6, [{ kind: 'gru', hiddenSize: 10 }, { kind: 'linear', outputSize: 4 }]);
  const modelPath = join(dir, 'm.safetensors');
  writeFileSync(modelPath, encodeModel(model));
  const frames = smoothStream(5, 30, 6, 0.2);
  const xPath = join(dir, 'x.npy');
  writeFileSync(xPath, encodeNpy(frames, [30, 6]));
  afterEach(() => vi.restoreAllMocks());

  it('run: dense outputs equal the reference', async () => {
    const yPath = join(dir, 'y-dense.npy');
    const r = await cli('run', modelPath, '--input', xPath, '--output', yPath);
    expect(r.code).toBe(0);
    const y = parseNpy(readFileSync(yPath));
    expect(y.shape).toEqual([30, 4]);
    expect(maxAbsDiff(y.data, runModelRef(model, frames).outputs)).toBeLessThan(1e-6);
    expect(r.err).toMatch(/dense/);
  });

  it('run: thresholds (even 0) run the delta network', async () => {
    const yPath = join(dir, 'y-delta.npy');
    const r = await cli('run', modelPath, '-i', xPath, '-o', yPath, '--thx', '0.1', '--thh', '0.05');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/occupancy/);
    expect(r.err).toMatch(/\(js\)/); // offline runs default to the float64 js backend
    const y = parseNpy(readFileSync(yPath));
    const ref = runModelRef(model, frames, { thresholdX: 0.1, thresholdH: 0.05 });
    expect(maxAbsDiff(y.data, ref.outputs)).toBeLessThan(1e-6);
    const r0 = await cli('run', modelPath, '-i', xPath, '-o', join(dir, 'y0.npy'), '--thx', '0');
    expect(r0.err).toMatch(/delta/);
  });

  it('run --backend wasm: SRU and QRNN layers (odd sizes) run in blocks through the multi-step kernel and equal the reference', async () => {
    const sru = randomModel(12, 7, [{ kind: 'sru', hiddenSize: 13 }, { kind: 'qrnn', hiddenSize: 11, window: 2 }, { kind: 'linear', outputSize: 3 }]);
    const mPath = join(dir, 'sru.safetensors');
    writeFileSync(mPath, encodeModel(sru));
    const xs = smoothStream(4, 45, 7, 0.3);
    const xsPath = join(dir, 'x-sru.npy');
    writeFileSync(xsPath, encodeNpy(xs, [45, 7]));
    const yPath = join(dir, 'y-sru.npy');
    const r = await cli('run', mPath, '-i', xsPath, '-o', yPath, '--backend', 'wasm');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/dense \(wasm-(relaxed|simd)\)/);
    const y = parseNpy(readFileSync(yPath));
    expect(y.shape).toEqual([45, 3]);
    expect(maxAbsDiff(y.data, runModelRef(sru, xs).outputs)).toBeLessThan(2e-5);
  });

  it('run: refuses to overwrite, rejects bad options and shapes with one coded line', async () => {
    const yPath = join(dir, 'keep.npy');
    writeFileSync(yPath, 'precious');
    const r = await cli('run', modelPath, '-i', xPath, '-o', yPath);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^deltakit: E_EXISTS: /);
    expect(readFileSync(yPath, 'utf8')).toBe('precious');
    const bad = await cli('run', modelPath, '-i', xPath, '-o', join(dir, 'z.npy'), '--thx', '-1');
    expect(bad.err).toMatch(/^deltakit: E_OPTION: --thx/);
    const wrongI = join(dir, 'wrong.npy');
    writeFileSync(wrongI, encodeNpy(new Float32Array(10), [2, 5]));
    const shape = await cli('run', modelPath, '-i', wrongI, '-o', join(dir, 'z2.npy'));
    expect(shape.code).toBe(1);
    expect(shape.err).toMatch(/E_SHAPE.*\(T, 6\)/);
    const missing = await cli('run', join(dir, 'nope.safetensors'), '-i', xPath, '-o', join(dir, 'z3.npy'));
    expect(missing.err).toMatch(/^deltakit: E_IO: /);
    expect(missing.err.trim().split('\n')).toHaveLength(1);
  });

  it('run: --readout-activation applies to a PyTorch state_dict readout', async () => {
    const g = model.layers[0]!;
    const l = model.layers[1]!;
    if (g.kind !== 'gru' || l.kind !== 'linear') throw new Error('unreachable');
    const sd = encodeSafetensors({
      'rnn.weight_ih_l0': { shape: [30, 6], data: g.weightIh },
      'rnn.weight_hh_l0': { shape: [30, 10], data: g.weightHh },
      'rnn.bias_ih_l0': { shape: [30], data: g.biasIh },
      'rnn.bias_hh_l0': { shape: [30], data: g.biasHh },
      'fc.weight': { shape: [4, 10], data: l.weight },
      'fc.bias': { shape: [4], data: l.bias },
    });
    const sdPath = join(dir, 'state_dict.safetensors');
    writeFileSync(sdPath, sd);
    const yPath = join(dir, 'y-relu.npy');
    const r = await cli('run', sdPath, '-i', xPath, '-o', yPath, '--readout-activation', 'relu', '-q');
    expect(r.code).toBe(0);
    const relu = { ...model, layers: [g, { ...l, activation: 'relu' as const }] };
    const y = parseNpy(readFileSync(yPath));
    expect(maxAbsDiff(y.data, runModelRef(relu, frames).outputs)).toBeLessThan(1e-6);
    expect(Math.min(...y.data)).toBe(0);
    const bad = await cli('run', sdPath, '-i', xPath, '-o', join(dir, 'y-bad.npy'), '--readout-activation', 'gelu');
    expect(bad.err).toMatch(/E_OPTION: --readout-activation/);
  });

  it('demo prints occupancy, ops saved and output movement', async () => {
    const r = await cli('demo', '--steps', '50');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/occupancy/);
    expect(r.out).toMatch(/fewer than dense/);
  });

  it('demo --task all runs the three built-in models in turn, each at its own thresholds', async () => {
    const r = await cli('demo', '--task', 'all', '--data', 'committed', '--steps', '300');
    expect(r.code, r.err).toBe(0);
    expect(r.out.match(/^== (\S+) ==$/gm)).toEqual(['== digits ==', '== digit-strings ==', '== keywords ==']);
    for (const name of ['digits-deltagru', 'digit-strings-deltagru', 'kws-deltagru']) expect(r.out).toContain(`built-in model ${name}`);
    expect(r.out.match(/fewer than dense/g)).toHaveLength(3);
    expect(r.out).toMatch(/strings right/); // the CTC model reports strings and WER
    // Keywords: the classifier alone and two stages (the stream model verified by it) on one stream.
    const alone = /detected \(.*\): (.*)$/m.exec(r.out)![1]!.split(' ').filter((w) => w.includes('@'));
    const two = /two stages \(kws-streams-deltagru-1x128 proposes .*\): (.*)$/m.exec(r.out)![1]!.split(' ').filter((w) => w.includes('@'));
    expect(two.length).toBeGreaterThan(alone.length);
    const refused = await cli('demo', '--task', 'all', '--thh', '0.1');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/E_OPTION: demo --task all: .*expected no --thx\/--thh, found --thh 0\.1/);
  });
});
