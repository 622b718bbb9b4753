/**
 * The bytes a decoder was given, checked before it reads them: every function that parses a
 * file's bytes (models, .npy, .wav, traces, checkpoints) takes a Uint8Array (a Node Buffer is
 * one), and also an ArrayBuffer or another typed-array view of the file's bytes (what
 * `fetch().arrayBuffer()` and `FileReader` give). Anything else is one coded error naming what
 * was found: null or a path string failed deep inside with a TypeError, and an ArrayBuffer was
 * read as "0 bytes".
 */
import { fail } from './errors.js';

/**
 * `value` as a Uint8Array over the same memory (no copy), or E_OPTION naming `what` and what
 * was found.
 *
 * @example const b = asBytes(await res.arrayBuffer(), 'model file');
 */
export function asBytes(value: unknown, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  const found =
    value === null ? 'null'
    : value === undefined ? 'undefined'
    : typeof value === 'string' ? `a string ('${value.slice(0, 60)}'${value.length > 60 ? '...' : ''}; a path is read with loadModel(path), readNpy(path) or fs.readFile)`
    : Array.isArray(value) ? `an array of ${value.length} values (wrap bytes in a Uint8Array)`
    : typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function' ? 'a Promise (await it first)'
    : typeof value === 'object' ? 'an object'
    : `a ${typeof value}`;
  return fail('E_OPTION', `${what}: expected the file's bytes (a Uint8Array or ArrayBuffer), found ${found}`);
}

/**
 * Check that `samples` is an array of finite numbers (audio samples, feature frames): E_SHAPE
 * for something that is not an array (null was a TypeError, a number read as no samples),
 * E_VALUE naming the first NaN or infinity (a NaN sample made every later frame NaN, and the
 * recogniser then heard nothing without a word).
 *
 * @example checkFiniteSamples(chunk, 'audio');
 */
export function checkFiniteSamples(samples: unknown, what: string): asserts samples is ArrayLike<number> {
  if (samples === null || typeof samples !== 'object' || typeof (samples as ArrayLike<number>).length !== 'number') {
    fail('E_SHAPE', `${what}: expected an array of numbers, found ${samples === null ? 'null' : typeof samples}`);
  }
  const x = samples as ArrayLike<number>;
  let bad = 0;
  if (ArrayBuffer.isView(x)) {
    for (let i = 0; i < x.length; i++) bad += x[i]! - x[i]!;
    if (bad === 0) return;
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('E_VALUE', `${what}: expected finite numbers, found ${String(v)} at index ${i}`);
  }
}
