/**
 * Fuzzing the Keras (.keras zip, .h5 HDF5) and TensorFlow.js (model.json + shards) importers:
 * mutated fixture files must load or throw a DeltakitError with a known code, never another
 * exception. Seeded; the case index is in the failure message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeltakitError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { decodeModelFile } from '../../src/model/io.js';

const CODES = new Set(['E_FORMAT', 'E_UNSUPPORTED', 'E_SHAPE', 'E_VALUE', 'E_LIMIT', 'E_OPTION']);
const DIR = join(import.meta.dirname, '..', 'fixtures', 'keras');

function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  let b = new Uint8Array(src);
  for (let k = 1 + rng.int(4); k > 0; k--) {
    switch (rng.int(5)) {
      case 0: b[rng.int(b.length)]! ^= 1 << rng.int(8); break;
      case 1: b[rng.int(b.length)] = rng.int(256); break;
      case 2: b = b.slice(0, rng.int(b.length + 1)); break;
      case 3: { // overwrite a 4-byte field with a plausible or absurd value (sizes, offsets, addresses)
        if (b.length < 8) break;
        new DataView(b.buffer).setUint32(rng.int(b.length - 4), rng.next() < 0.5 ? rng.int(b.length + 16) : rng.int(2 ** 32), true);
        break;
      }
      default: { // splice a chunk from elsewhere
        if (b.length < 4) break;
        const from = rng.int(b.length - 2);
        const len = 1 + rng.int(Math.min(32, b.length - from - 1));
        b.copyWithin(rng.int(b.length - len), from, from + len);
      }
    }
  }
  return b;
}

function loadsOrCoded(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DeltakitError) || !CODES.has(e.code)) {
      throw new Error(`${what}: expected success or a DeltakitError with a known code, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }
}

describe('fuzz: Keras and TensorFlow.js importers never crash', () => {
  const read = (...p: string[]) => new Uint8Array(readFileSync(join(DIR, ...p)));

  it('mutated .keras and .h5 files (a corrupted attribute count once made the HDF5 reader build 5 million strings)', () => {
    const rng = new Rng(505);
    const files = [read('gru_reset_before_x2_dense', 'model.keras'), read('gru_reset_after_lstm_dense_relu', 'model.h5'), read('tfjs_defaults_hard_sigmoid', 'model.h5')];
    for (let i = 0; i < 300; i++) {
      const bytes = mutate(rng, files[i % files.length]!);
      loadsOrCoded(() => decodeModelFile(bytes), `mutated keras file #${i}`);
    }
  });

  it('mutated model.json text and shards', () => {
    const rng = new Rng(606);
    const dir = ['gru_reset_before_x2_dense', 'tfjs-converter'];
    const json = read(...dir, 'model.json');
    const shards: Record<string, Uint8Array> = { 'group1-shard1of2.bin': read(...dir, 'group1-shard1of2.bin'), 'group1-shard2of2.bin': read(...dir, 'group1-shard2of2.bin') };
    for (let i = 0; i < 600; i++) {
      const j = i % 2 ? mutate(rng, json) : json;
      const target = rng.int(2) ? 'group1-shard1of2.bin' : 'group1-shard2of2.bin';
      const s = { ...shards, [target]: i % 3 === 0 ? mutate(rng, shards[target]!) : shards[target]! };
      loadsOrCoded(() => decodeModelFile(j, { readFile: (p) => s[p] ?? new Uint8Array(0) }), `mutated tfjs #${i}`);
    }
    expect(true).toBe(true);
  });
});
