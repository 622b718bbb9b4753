/** `deltakit info` and `deltakit convert`, run in-process. */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from '../helpers/cli.js';
import { parseNpy } from '../../src/core/npy.js';
import { decodeModelFile } from '../../src/model/io.js';
import { summarizeModel } from '../../src/model/summary.js';
import { layerTensors } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/index.js';


const GOLDEN = join(import.meta.dirname, '..', 'golden', 'cases');
const golden = (c: string, f: string) => join(GOLDEN, c, f);

describe('deltakit info', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints layers, parameters and dense ops, and its --json agrees with a running session', async () => {
    const r = await cli('info', golden('gru_l2_h12_fc_gemm', 'model.onnx'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ONNX/);
    expect(r.out).toMatch(/gru\s+7\s+12/);
    // GRU(7->12): 3*12*(7+12) + 2*36 = 756 parameters.
    expect(r.out).toMatch(/\b756\b/);
    const j = await cli('info', '--json', golden('lstm_l2_h16_fc', 'model.safetensors'));
    expect(j.code).toBe(0);
    const info = JSON.parse(j.out);
    expect(info.kind).toBe('pytorch');
    expect(info.layers.map((l: { kind: string }) => l.kind)).toEqual(['lstm', 'lstm', 'linear']);
    // Dense ops per step must be what a session counts for one step.
    const { model } = decodeModelFile(new Uint8Array(readFileSync(golden('lstm_l2_h16_fc', 'model.safetensors'))));
    const s = createSession(model);
    s.step(new Float32Array(6));
    expect(info.denseOpsPerStep).toBe(s.stats().denseOps);
    expect(info.parameters).toBe(model.layers.reduce((n, l) => n + Object.values(layerTensors(l)).reduce((a, t) => a + t.length, 0), 0));
  });

  it('fails with one coded line on a bad file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-info-'));
    writeFileSync(join(dir, 'bad.safetensors'), new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 1, 2]));
    const r = await cli('info', join(dir, 'bad.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^deltakit: E_FORMAT: /);
    expect(r.err.trim().split('\n').length).toBe(1);
    expect((await cli('info', join(dir, 'missing.onnx'))).err).toMatch(/E_IO/);
  });
});

describe('deltakit convert', () => {
  afterEach(() => vi.restoreAllMocks());

  it('converts ONNX and PyTorch files into deltakit files that run like PyTorch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-convert-'));
    for (const [c, f, extra] of [
      ['gru_l3_h10_fc_relu', 'model.onnx', []],
      ['gru_l3_h10_fc_relu', 'model.safetensors', ['--readout-activation', 'relu']],
      ['lstm_l2_h9_fc_tanh_gemm', 'model.onnx', ['--name', 'kws']],
    ] as const) {
      const out = join(dir, `${c}-${f}.safetensors`);
      const r = await cli('convert', golden(c, f), out, ...extra);
      expect(r.code, r.err).toBe(0);
      const { model, kind } = decodeModelFile(new Uint8Array(readFileSync(out)));
      expect(kind).toBe('deltakit');
      expect(model.meta.convertedFrom).toBe(f.endsWith('.onnx') ? 'onnx' : 'pytorch');
      if (extra[0] === '--name') expect(model.name).toBe('kws');
      const x = parseNpy(new Uint8Array(readFileSync(golden(c, 'x.npy'))));
      const yT = parseNpy(new Uint8Array(readFileSync(golden(c, 'y_torch.npy'))));
      const y = createSession(model).run(x.data);
      let err = 0;
      for (let i = 0; i < y.length; i++) err = Math.max(err, Math.abs(y[i]! - yT.data[i]!));
      expect(err).toBeLessThan(1e-4);
      expect(summarizeModel(model).layers.at(-1)!.detail).toBe(c.includes('relu') ? 'activation relu' : 'activation tanh');
    }
  });

  it('keeps an existing output unless --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-convert-'));
    const out = join(dir, 'm.safetensors');
    expect((await cli('convert', golden('gru_l1_h8', 'model.onnx'), out)).code).toBe(0);
    const before = readFileSync(out);
    const r = await cli('convert', golden('lstm_l1_h8', 'model.onnx'), out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/E_EXISTS/);
    expect(readFileSync(out).equals(before)).toBe(true);
    expect((await cli('convert', golden('lstm_l1_h8', 'model.onnx'), out, '--force', '--quiet')).code).toBe(0);
    expect(decodeModelFile(new Uint8Array(readFileSync(out))).model.layers[0]!.kind).toBe('lstm');
    expect(statSync(out).size).toBeGreaterThan(0);
    const bad = await cli('convert', golden('gru_l1_h8', 'model.onnx'), join(dir, 'x.safetensors'), '--readout-activation', 'gelu');
    expect(bad.err).toMatch(/E_OPTION/);
  });
});
