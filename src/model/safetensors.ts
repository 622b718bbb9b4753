/**
 * safetensors: the weight format PyTorch users already save (huggingface/safetensors).
 *
 * Layout: 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON, then the data
 * region. The JSON maps tensor names to `{dtype, shape, data_offsets: [begin, end]}` (offsets
 * relative to the data region) and may hold `__metadata__`, a string-to-string map.
 *
 * Everything a header claims is checked against the bytes actually present before anything is
 * allocated, so a hostile header can neither make us read past the buffer nor allocate what the
 * file does not hold. All tensors come out as Float32Array (F64, F16 and BF16 are converted).
 */
import { asBytes } from '../core/bytes.js';
import { check, fail } from '../core/errors.js';
import { halfToFloat } from '../core/files.js';
import { parseJsonStrict } from '../core/json.js';

/** One tensor as stored: its shape and values (converted to float32), and the dtype it had on disk. */
export interface SafeTensor {
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  /** The `__metadata__` map (empty when absent). */
  metadata: Record<string, string>;
  /** Tensors in header order. */
  tensors: Map<string, SafeTensor>;
}

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024;

const DTYPE_BYTES: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };
/** dtypes of the safetensors spec that deltakit cannot use as weights (E_UNSUPPORTED, not E_FORMAT). */
const KNOWN_UNSUPPORTED = new Set(['BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

/**
 * True when the bytes start like a safetensors file: a header length below 4 GB, then `{`.
 * The length is not compared with the file size here, so a truncated safetensors file is still
 * recognised and reported as truncated rather than as "not ONNX".
 */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return dv.getUint32(4, true) === 0 && bytes[8] === 0x7b;
}

export { halfToFloat };

/** Decode `count` little-endian values of `dtype` starting at byte `start` into float32. */
export function decodeFloats(bytes: Uint8Array, start: number, count: number, dtype: string): Float32Array {
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, count * DTYPE_BYTES[dtype]!);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      break;
    case 'BF16': {
      // bfloat16 is the upper half of a float32.
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      break;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parse a safetensors file. Throws DeltakitError E_FORMAT (malformed), E_UNSUPPORTED (dtype),
 * E_LIMIT (absurd header length).
 *
 * @example
 * const f = parseSafetensors(new Uint8Array(await readFile('m.safetensors')));
 * f.tensors.get('rnn.weight_ih_l0')?.shape; // [3 * H, I]
 */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  bytes = asBytes(bytes, 'safetensors');
  check(bytes.length >= 8, 'E_FORMAT', () => `safetensors: expected at least 8 bytes (header length), found ${bytes.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const headerLen = hi * 2 ** 32 + lo;
  check(headerLen <= MAX_SAFETENSORS_HEADER, 'E_LIMIT', () => `safetensors: header length ${headerLen} bytes exceeds the limit of ${MAX_SAFETENSORS_HEADER}`);
  check(headerLen <= bytes.length - 8, 'E_FORMAT', () => `safetensors: header length ${headerLen} exceeds the ${bytes.length - 8} bytes after the length field (truncated file?)`);
  check(headerLen >= 2, 'E_FORMAT', () => `safetensors: header length must be at least 2 (\`{}\`), found ${headerLen}`);

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
  } catch {
    return fail('E_FORMAT', 'safetensors: header is not valid UTF-8');
  }
  // Repeated keys (two tensors of one name) are refused: readers disagree on which one wins.
  const header = parseJsonStrict(text, 'safetensors: header');
  check(isPlainObject(header), 'E_FORMAT', () => `safetensors: header must be a JSON object, found ${Array.isArray(header) ? 'an array' : typeof header}`);

  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  type Entry = { name: string; dtype: string; shape: number[]; begin: number; end: number };
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      check(isPlainObject(v), 'E_FORMAT', () => 'safetensors: __metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v)) {
        check(typeof s === 'string', 'E_FORMAT', () => `safetensors: __metadata__.${k} must be a string, found ${typeof s}`);
        metadata[k] = s;
      }
      continue;
    }
    check(isPlainObject(v), 'E_FORMAT', () => `safetensors: tensor ${name}: expected an object {dtype, shape, data_offsets}, found ${JSON.stringify(v)?.slice(0, 60)}`);
    const { dtype, shape, data_offsets: offs } = v as { dtype: unknown; shape: unknown; data_offsets: unknown };
    check(typeof dtype === 'string', 'E_FORMAT', () => `safetensors: tensor ${name}: dtype must be a string, found ${typeof dtype}`);
    if (!(dtype in DTYPE_BYTES)) {
      if (KNOWN_UNSUPPORTED.has(dtype)) fail('E_UNSUPPORTED', `safetensors: tensor ${name}: dtype ${dtype} is not supported for weights (expected F32, F64, F16 or BF16)`);
      fail('E_FORMAT', `safetensors: tensor ${name}: unknown dtype ${JSON.stringify(dtype).slice(0, 40)}`);
    }
    check(Array.isArray(shape) && shape.length <= 8, 'E_FORMAT', () => `safetensors: tensor ${name}: shape must be an array of at most 8 dimensions, found ${JSON.stringify(shape)?.slice(0, 60)}`);
    for (const d of shape) {
      check(Number.isSafeInteger(d) && d >= 0, 'E_FORMAT', () => `safetensors: tensor ${name}: shape entries must be non-negative integers, found ${JSON.stringify(shape).slice(0, 60)}`);
    }
    check(
      Array.isArray(offs) && offs.length === 2 && offs.every((o) => Number.isSafeInteger(o) && o >= 0) && offs[0] <= offs[1],
      'E_FORMAT',
      () => `safetensors: tensor ${name}: data_offsets must be [begin, end] with 0 <= begin <= end, found ${JSON.stringify(offs)?.slice(0, 60)}`,
    );
    const [begin, end] = offs as [number, number];
    check(end <= dataLen, 'E_FORMAT', () => `safetensors: tensor ${name}: data_offsets [${begin}, ${end}] lie outside the data region of ${dataLen} bytes`);
    // Product of the shape, stopping early once it exceeds what the file can hold (no overflow).
    const size = DTYPE_BYTES[dtype]!;
    // A zero dimension makes the tensor empty whatever the other dimensions say.
    let count = (shape as number[]).includes(0) ? 0 : 1;
    for (const d of shape as number[]) {
      if (count * size > dataLen) break;
      count *= d;
    }
    check(count * size === end - begin, 'E_FORMAT', () => `safetensors: tensor ${name}: shape ${JSON.stringify(shape)} of ${dtype} needs ${count * size} bytes, data_offsets span ${end - begin}`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  // Non-overlapping: sort by start and check each begins at or after the previous end.
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  let last: Entry | null = null;
  for (const b of sorted) {
    const a = last;
    check(a === null || b.begin >= a.end, 'E_FORMAT', () => `safetensors: tensors ${a!.name} [${a!.begin}, ${a!.end}] and ${b.name} [${b.begin}, ${b.end}] overlap`);
    last = b;
  }
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) {
    const count = (e.end - e.begin) / DTYPE_BYTES[e.dtype]!;
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeFloats(bytes, dataStart + e.begin, count, e.dtype) });
  }
  return { metadata, tensors };
}

/**
 * Encode tensors (as F32) and string metadata into safetensors bytes. The header is padded with
 * spaces to a multiple of 8 bytes so the data region is aligned, as the reference writer does.
 *
 * @example
 * const bytes = encodeSafetensors({ w: { shape: [2, 2], data: new Float32Array(4) } }, { note: 'x' });
 */
export function encodeSafetensors(
  tensors: Record<string, { shape: number[]; data: Float32Array }> | Map<string, { shape: number[]; data: Float32Array }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of list) {
    check(name !== '__metadata__', 'E_OPTION', () => 'safetensors: a tensor may not be named __metadata__');
    const n = t.shape.reduce((a, b) => a * b, 1);
    check(n === t.data.length, 'E_SHAPE', () => `safetensors: tensor ${name}: shape ${JSON.stringify(t.shape)} holds ${n} values, data has ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.length, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const [, t] of list) {
    for (let i = 0; i < t.data.length; i++, p += 4) dv.setFloat32(p, t.data[i]!, true);
  }
  return out;
}
