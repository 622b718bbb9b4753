/**
 * Damaged training checkpoints: every malformed shape is one coded error (they were TypeErrors
 * and RangeErrors, and `train --resume` printed a stack trace), and Adam moments of the wrong
 * dtype or length are refused instead of resuming silently wrong.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { DEFAULT_TRAIN_CONFIG, trainClassifier, type TrainConfig } from '../../src/train/trainer.js';
import { expectCode } from '../helpers/errors.js';
import { bumpDataset } from './helpers.js';

const cfg: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, hiddenSize: 6, layers: 1, denseEpochs: 2, deltaEpochs: 0, batchSize: 8, lr: 3e-2, seed: 3 };
const train = bumpDataset(24, 3, 4, 1);
const validation = bumpDataset(9, 3, 4, 2);

/** Split a checkpoint into its header JSON and the rest, and rebuild it after an edit. */
function editHeader(bytes: Uint8Array, edit: (h: any) => void): Uint8Array {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const base = (12 + n + 7) & ~7;
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + n)));
  edit(h);
  const text = new TextEncoder().encode(JSON.stringify(h));
  const nb = (12 + text.length + 7) & ~7;
  const out = new Uint8Array(nb + bytes.length - base);
  out.set(bytes.subarray(0, 8));
  new DataView(out.buffer).setUint32(8, text.length, true);
  out.set(text, 12);
  out.set(bytes.subarray(base), nb);
  return out;
}

describe('checkpoints', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-ckpt-'));
  const checkpoint = join(dir, 'run.ckpt');
  const ac = new AbortController();
  ac.abort();
  await trainClassifier(train, validation, cfg, { progress: false, checkpoint, signal: ac.signal }).catch(() => undefined);
  const good = new Uint8Array(readFileSync(checkpoint));

  const resumeWith = async (bytes: Uint8Array) => {
    const p = join(dir, `c${Math.random().toString(36).slice(2)}.ckpt`);
    writeFileSync(p, bytes);
    return trainClassifier(train, validation, cfg, { progress: false, checkpoint: p, resume: true });
  };

  it('the good checkpoint resumes', async () => {
    const r = await resumeWith(good);
    expect(r.history.length).toBe(2);
  });

  const cases: Array<[string, (h: any) => void, RegExp]> = [
    ['null state', (h) => (h.state = null), /header/],
    ['null tensor entry', (h) => (h.tensors[0] = null), /tensor entry 0/],
    ['unknown tensor dtype', (h) => (h.tensors[0].dtype = 'f16'), /dtype must be f32 or f64/],
    ['tensor listed twice', (h) => h.tensors.push(h.tensors[0]), /listed twice/],
    ['tensors sharing bytes', (h) => (h.tensors[1].offset = h.tensors[0].offset), /overlap/],
    ['null layer', (h) => (h.state.model.layers[0] = null), /layer 0 must be an object/],
    ['unknown layer kind', (h) => (h.state.model.layers[0].kind = 'rnn'), /kind must be gru, lstm or linear/],
    ['null layer in the best model', (h) => (h.state.best = { ...h.state.model, layers: [null] }), /best layer 0/],
    ['bad schedule position', (h) => (h.state.epoch = 'one'), /epoch/],
  ];
  for (const [what, edit, msg] of cases) {
    it(`refuses ${what} with E_FORMAT`, async () => {
      await expect(resumeWith(editHeader(good, edit))).rejects.toMatchObject({ code: 'E_FORMAT', message: expect.stringMatching(msg) });
    });
  }

  it('refuses Adam moments of the wrong dtype, missing, or of the wrong length', async () => {
    const find = (h: any, name: string) => h.tensors.find((t: any) => t.name === name);
    await expect(resumeWith(editHeader(good, (h) => { const t = find(h, 'adam.m.0'); t.dtype = 'f32'; t.length *= 2; }))).rejects.toMatchObject({ code: 'E_FORMAT', message: expect.stringMatching(/must be f64/) });
    await expect(resumeWith(editHeader(good, (h) => { find(h, 'adam.v.0').name = 'adam.x.0'; }))).rejects.toMatchObject({ code: 'E_FORMAT', message: expect.stringMatching(/missing/) });
    await expect(resumeWith(editHeader(good, (h) => { find(h, 'adam.m.0').length -= 1; }))).rejects.toMatchObject({ code: 'E_FORMAT', message: expect.stringMatching(/holds/) });
  });

  it('decodeCheckpoint refuses repeated header keys', () => {
    const n = new DataView(good.buffer, good.byteOffset).getUint32(8, true);
    const text = new TextDecoder().decode(good.subarray(12, 12 + n)).replace('{"state":', '{"tensors":[],"state":');
    const b = new Uint8Array(12 + text.length);
    b.set(good.subarray(0, 8));
    new DataView(b.buffer).setUint32(8, text.length, true);
    b.set(new TextEncoder().encode(text), 12);
    expectCode(() => decodeCheckpoint(b), 'E_FORMAT', /appears twice/);
  });
});
