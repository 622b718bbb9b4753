/**
 * A compact, committed copy of held-out features, so `deltakit demo` can measure accuracy on a
 * machine without espeak-ng. Two files: `<base>.npy` holds every frame of every utterance as
 * float16 (numpy `<f2`, shape (frames, bands)), `<base>.json` the utterance boundaries, labels,
 * voices and class names.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { check, DeltakitError } from '../core/errors.js';
import { parseNpy } from '../core/npy.js';
import { concatFeatures, type Dataset, type Split, type Utterance } from './dataset.js';

/**
 * Round a float to IEEE half precision (round half to even), as bits.
 *
 * @example floatToHalf(1) // 0x3c00
 */
export function floatToHalf(v: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rem > mid || (rem === mid && (half & 1)) ? half + 1 : half);
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/**
 * .npy bytes of a float16 matrix.
 *
 * @example writeFileSync('x.npy', encodeNpyHalf(features, [frames, 40]));
 */
export function encodeNpyHalf(data: Float32Array, shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  check(n === data.length, 'E_SHAPE', () => `npy: shape ${shape.join('x')} holds ${n} values, found ${data.length}`);
  let header = `{'descr': '<f2', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + 2 * n);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const dv = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < n; i++) dv.setUint16(2 * i, floatToHalf(data[i]!), true);
  return out;
}

interface HeldoutIndex {
  corpus: string;
  split: Split;
  classes: string[];
  bands: number;
  utterances: Array<{ id: string; voice: string; text: string; label: number; frames: number; words?: number[] }>;
}

/**
 * Write a dataset's features as float16 `<base>.npy` plus `<base>.json`.
 *
 * @example writeHeldout('models/digits-heldout', testSet);
 */
export function writeHeldout(base: string, ds: Dataset): void {
  const { features: all, frames } = concatFeatures(ds);
  writeFileSync(`${base}.npy`, encodeNpyHalf(all, [frames, ds.bands]));
  const index: HeldoutIndex = {
    corpus: ds.corpus,
    split: ds.split,
    classes: ds.classes,
    bands: ds.bands,
    // words only for connected strings (an isolated word's is [label]).
    utterances: ds.utterances.map((u) => ({ id: u.id, voice: u.voice, text: u.text, label: u.label, frames: u.frames, ...(u.label < 0 ? { words: u.words } : {}) })),
  };
  writeFileSync(`${base}.json`, JSON.stringify(index) + '\n');
}

/**
 * Read writeHeldout's files back as a Dataset. E_IO when missing, E_FORMAT when inconsistent.
 *
 * @example const ds = readHeldout('models/digits-heldout'); // un-normalised features
 */
export function readHeldout(base: string): Dataset {
  let index: HeldoutIndex;
  let bytes: Uint8Array;
  try {
    index = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    bytes = new Uint8Array(readFileSync(`${base}.npy`));
  } catch (e) {
    if (e instanceof SyntaxError) throw new DeltakitError('E_FORMAT', `held-out set ${base}.json: not valid JSON`);
    throw new DeltakitError('E_IO', `held-out set ${base}: expected ${base}.json and ${base}.npy, found ${(e as Error).message}`);
  }
  const { data, shape } = parseNpy(bytes);
  check(Array.isArray(index.utterances) && shape.length === 2 && shape[1] === index.bands, 'E_FORMAT', () => `held-out set ${base}: expected (frames, ${index.bands}) features, found shape (${shape.join(', ')})`);
  const total = index.utterances.reduce((a, u) => a + u.frames, 0);
  check(total === shape[0], 'E_FORMAT', () => `held-out set ${base}: the index lists ${total} frames, the features hold ${shape[0]}`);
  let off = 0;
  const utterances: Utterance[] = index.utterances.map((u) => {
    const n = u.frames * index.bands;
    const features = data.slice(off, off + n);
    off += n;
    return { ...u, words: u.words ?? (u.label >= 0 ? [u.label] : []), features };
  });
  return { corpus: index.corpus, split: index.split, classes: index.classes, bands: index.bands, utterances };
}
