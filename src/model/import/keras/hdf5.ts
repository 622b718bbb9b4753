/**
 * Reading Keras' HDF5 files with jsfive, a pure JavaScript HDF5 reader: synchronous (so decoding
 * stays a plain function, in Node and in the browser), 1.7 MB installed. Chosen over h5wasm (the
 * HDF5 C library in WebAssembly, 15 MB, asynchronous start) by measurement on the Keras fixtures:
 * jsfive opened a 21 kB Keras 2 .h5 and read its GRU weights in 4-8 ms, h5wasm needed 276 ms to
 * start and then 21 ms per file (copying into its virtual file system), on this machine.
 * Every failure of the reader becomes one E_FORMAT error naming the file part.
 */
import * as jsfive from 'jsfive';
import { check, DeltakitError, fail } from '../../../core/errors.js';
import type { KerasTensor } from './layers.js';

/** HDF5 files start with this signature (at offset 0 when there is no user block). */
export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function looksLikeHdf5(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && HDF5_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Bytes per item of a jsfive dtype string ('<f4' -> 4, '|S14' -> 14); 16 for variable-length (heap ids). */
function itemBytes(dtype: unknown): number {
  if (Array.isArray(dtype)) return dtype[0] === 'REFERENCE' ? 8 : 16;
  const m = /(\d+)$/.exec(String(dtype));
  return m ? Math.max(1, Number(m[1])) : 1;
}

/**
 * jsfive decodes an attribute's declared item count without checking it against the bytes that
 * hold them (reads past the end come back empty), so a corrupted count makes it build millions of
 * strings. Its attribute decoder is wrapped once with that bound; the prototype is reached through
 * an opened file because jsfive does not export the class.
 */
const boundedProtos = new WeakSet<object>();
function boundAttributeReads(file: jsfive.File): void {
  const objs = (file as unknown as { _dataobjects?: object })._dataobjects;
  const proto = objs ? (Object.getPrototypeOf(objs) as { _attr_value?: (dtype: unknown, buf: { byteLength: number }, count: number, offset: number) => unknown }) : undefined;
  if (!proto || typeof proto._attr_value !== 'function' || boundedProtos.has(proto)) return;
  const orig = proto._attr_value;
  proto._attr_value = function (this: unknown, dtype: unknown, buf: { byteLength: number }, count: number, offset: number) {
    if (!(count * itemBytes(dtype) <= buf.byteLength - offset)) throw new Error(`an attribute declares ${count} items, more than its ${buf.byteLength - offset} bytes hold`);
    return orig.call(this, dtype, buf, count, offset);
  };
  boundedProtos.add(proto);
}

/** Run a jsfive call; anything it throws is a malformed file. */
function guard<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DeltakitError) throw e;
    return fail('E_FORMAT', `${where}: malformed HDF5 (${e instanceof Error ? e.message.slice(0, 120) : String(e).slice(0, 120)})`);
  }
}

/** An opened HDF5 file with the few reads the Keras importers need. */
export class Hdf5 {
  private readonly file: jsfive.File;
  /** Values all datasets together may hold: 64 per byte of the file (HDF5 can deflate). */
  private valueBudget: number;

  constructor(
    bytes: Uint8Array,
    readonly where: string,
  ) {
    check(looksLikeHdf5(bytes), 'E_FORMAT', () => `${where}: expected an HDF5 file (signature \\x89HDF), found other bytes`);
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    this.file = guard(where, () => new jsfive.File(ab, 'model.h5'));
    this.bytes = bytes.length;
    boundAttributeReads(this.file);
    this.valueBudget = 64 * bytes.length + (1 << 20);
  }

  /** File size: no dataset may declare more values than it could hold (64x for compression). */
  private readonly bytes: number;

  private node(path: string): jsfive.Group | jsfive.Dataset | undefined {
    return guard(this.where, () => {
      try {
        return path === '' ? this.file : this.file.get(path);
      } catch {
        return undefined;
      }
    });
  }

  has(path: string): boolean {
    return this.node(path) !== undefined;
  }

  /** Child names of a group ([] when missing). */
  keys(path: string): string[] {
    const n = this.node(path);
    return n && Array.isArray((n as jsfive.Group).keys) ? [...(n as jsfive.Group).keys] : [];
  }

  /** A string attribute (bytes or str, fixed-length padding removed), or undefined. */
  attrString(path: string, name: string): string | undefined {
    const n = this.node(path);
    const v = n ? guard(this.where, () => n.attrs[name]) : undefined;
    if (v === undefined || v === null) return undefined;
    const s = Array.isArray(v) && v.length === 1 ? v[0] : v;
    return typeof s === 'string' ? s.replace(/[\0 ]+$/, '') : s instanceof Uint8Array ? new TextDecoder().decode(s).replace(/\0+$/, '') : undefined;
  }

  /** A list-of-strings attribute (Keras' layer_names, weight_names), or undefined. */
  attrStrings(path: string, name: string): string[] | undefined {
    const n = this.node(path);
    const v = n ? guard(this.where, () => n.attrs[name]) : undefined;
    if (v === undefined || v === null) return undefined;
    const list = Array.isArray(v) ? v : [v];
    return list.map((s) => String(s).replace(/[\0 ]+$/, ''));
  }

  /** A dataset's values as float32 with its shape; E_FORMAT when missing or not numeric. */
  tensor(path: string, name = path): KerasTensor {
    const n = this.node(path);
    check(n !== undefined && n instanceof jsfive.Dataset, 'E_FORMAT', () => `${this.where}: dataset ${path} not found`);
    const d = n as jsfive.Dataset;
    const shape = guard(this.where, () => [...d.shape].map(Number));
    const declared = shape.reduce((a, b) => a * b, 1);
    const size = declared * itemBytes(guard(this.where, () => d.dtype));
    check(shape.every((v) => Number.isSafeInteger(v) && v >= 0) && size <= 64 * this.bytes + 4096, 'E_LIMIT', () => `${this.where}: dataset ${path} declares shape [${shape.join(', ')}], more than a ${this.bytes}-byte file holds`);
    // The shape is checked before jsfive reads (and inflates) the values, so a small file cannot
    // declare a dataset of gigabytes; all datasets together share one budget.
    let count = 1;
    for (const dim of shape) count *= Number.isSafeInteger(dim) && dim >= 0 ? dim : Infinity;
    check(count <= this.valueBudget, 'E_LIMIT', () => `${this.where}: dataset ${path} of shape [${shape.join(', ')}] exceeds what this file can hold (${this.valueBudget} values left)`);
    this.valueBudget -= count;
    const values = guard(this.where, () => d.value);
    check(values && typeof values.length === 'number', 'E_FORMAT', () => `${this.where}: dataset ${path} holds no numeric values`);
    const data = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const x = Number(values[i]);
      check(Number.isFinite(x), 'E_VALUE', () => `${this.where}: dataset ${path} holds a non-finite or non-numeric value at index ${i}`);
      data[i] = x;
    }
    return { name, shape, data };
  }
}
