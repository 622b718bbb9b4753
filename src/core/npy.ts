/**
 * NumPy .npy arrays (format versions 1.0, 2.0, 3.0), read as and written from float32.
 *
 * The format is small and fully specified (numpy.lib.format): magic `\x93NUMPY`, major and minor
 * version bytes, a little-endian header length (2 bytes in v1, 4 in v2/v3), an ASCII (v3: UTF-8)
 * Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (T, I), }` padded with
 * spaces and a newline to a multiple of 64 bytes, then the raw data. No maintained TypeScript
 * library validates it with deltakit's error codes, so it is implemented here, checking every
 * header field against the bytes present before allocating.
 */
import { asBytes } from './bytes.js';
import { check, fail } from './errors.js';
import { halfToFloat, writeFileSafely } from './files.js';

export interface NpyArray {
  /** Values in C (row-major) order, converted to float32. */
  data: Float32Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Headers above this are refused (numpy itself caps reading at 10000 bytes by default). */
export const MAX_NPY_HEADER = 1 << 20;

/**
 * Parse .npy bytes into float32. Accepts little-endian `<f4`, `<f8`, `<f2` (converted to float32),
 * C order only. Throws E_FORMAT (malformed, truncated), E_UNSUPPORTED (dtype, Fortran order,
 * big-endian), E_LIMIT (absurd header).
 *
 * @example const { data, shape } = parseNpy(bytes); // shape [T, I]
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  bytes = asBytes(bytes, 'npy');
  check(bytes.length >= 10 && MAGIC.every((m, i) => bytes[i] === m), 'E_FORMAT', () => 'npy: expected the magic string \\x93NUMPY at the start of the file');
  const major = bytes[6]!;
  check(major >= 1 && major <= 3, 'E_UNSUPPORTED', () => `npy: format version ${major}.${bytes[7]} is not supported (expected 1.0, 2.0 or 3.0)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else {
    check(bytes.length >= 12, 'E_FORMAT', () => `npy: truncated: ${bytes.length} bytes`);
    headerLen = dv.getUint32(8, true);
    start = 12;
  }
  check(headerLen <= MAX_NPY_HEADER, 'E_LIMIT', () => `npy: header length ${headerLen} exceeds the limit of ${MAX_NPY_HEADER}`);
  check(start + headerLen <= bytes.length, 'E_FORMAT', () => `npy: header length ${headerLen} exceeds the ${bytes.length - start} bytes after it (truncated file?)`);
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes.subarray(start, start + headerLen));
  } catch {
    return fail('E_FORMAT', 'npy: header is not valid text');
  }
  const { descr, fortran, shape } = parseNpyHeader(header);
  check(!fortran, 'E_UNSUPPORTED', () => 'npy: fortran_order=True arrays are not supported; save a C-ordered array (np.ascontiguousarray)');
  const dtypes: Record<string, number> = { '<f4': 4, '<f8': 8, '<f2': 2 };
  if (!(descr in dtypes)) {
    if (/^>/.test(descr)) fail('E_UNSUPPORTED', `npy: big-endian dtype ${descr} is not supported (expected <f4, <f8 or <f2)`);
    fail('E_UNSUPPORTED', `npy: dtype ${JSON.stringify(descr.slice(0, 20))} is not supported (expected <f4, <f8 or <f2)`);
  }
  const size = dtypes[descr]!;
  const dataStart = start + headerLen;
  const avail = bytes.length - dataStart;
  // A zero dimension makes the array empty whatever the other dimensions say.
  let count = shape.includes(0) ? 0 : 1;
  for (const d of shape) {
    if (count * size > avail) break;
    count *= d;
  }
  check(count * size === avail, 'E_FORMAT', () => `npy: shape (${shape.join(', ')}) of ${descr} needs ${count * size} data bytes, the file has ${avail}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const p = dataStart + i * size;
    data[i] = size === 4 ? dv.getFloat32(p, true) : size === 8 ? dv.getFloat64(p, true) : halfToFloat(dv.getUint16(p, true));
  }
  return { data, shape };
}

/**
 * The header dict, parsed as the Python literal it is (numpy reads it with ast.literal_eval):
 * exactly the keys descr, fortran_order and shape, each once. A repeated key is refused rather than
 * resolved: numpy keeps the last value, a naive reader the first, and the two disagree on the shape.
 */
function parseNpyHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  let i = 0;
  const bad = (what: string): never => fail('E_FORMAT', `npy: header must be a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}: ${what}, found ${JSON.stringify(text.trim().slice(0, 120))}`);
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const str = (): string => {
    const q = text[i];
    if (q !== "'" && q !== '"') return bad('expected a quoted string');
    const end = text.indexOf(q, i + 1);
    if (end < 0) return bad('unterminated string');
    const v = text.slice(i + 1, end);
    i = end + 1;
    return v;
  };
  const values: Record<string, unknown> = {};
  ws();
  if (text[i++] !== '{') bad("expected '{'");
  for (;;) {
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    const key = str();
    ws();
    if (text[i++] !== ':') bad(`expected ':' after '${key}'`);
    ws();
    let value: unknown;
    if (text[i] === "'" || text[i] === '"') value = str();
    else if (text.startsWith('True', i)) (value = true), (i += 4);
    else if (text.startsWith('False', i)) (value = false), (i += 5);
    else if (text[i] === '(') {
      const close = text.indexOf(')', i);
      if (close < 0) bad('unterminated shape tuple');
      const inner = text.slice(i + 1, close);
      i = close + 1;
      const parts = inner.split(',').map((s) => s.trim());
      if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
      check(parts.length <= 32 && parts.every((p) => /^\d{1,15}$/.test(p)) && (parts.length !== 1 || /,\s*$/.test(inner)), 'E_FORMAT', () => `npy: shape must be a tuple of non-negative integers, found (${inner.slice(0, 60)})`);
      value = parts.map(Number);
    } else if (key === 'descr' && text[i] === '[') {
      return fail('E_UNSUPPORTED', 'npy: structured dtypes (descr given as a list) are not supported (expected <f4, <f8 or <f2)');
    } else return bad(`unreadable value for '${key}'`);
    check(!(key in values), 'E_FORMAT', () => `npy: header key '${key}' appears twice (expected each of descr, fortran_order, shape once)`);
    check(key === 'descr' || key === 'fortran_order' || key === 'shape', 'E_FORMAT', () => `npy: unexpected header key '${key.slice(0, 40)}' (expected exactly descr, fortran_order and shape)`);
    values[key] = value;
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad("expected ',' or '}'");
  }
  ws();
  if (i !== text.length) bad('text after the closing brace');
  const { descr, fortran_order: fortran, shape } = values as { descr?: unknown; fortran_order?: unknown; shape?: unknown };
  check(typeof descr === 'string' && typeof fortran === 'boolean' && Array.isArray(shape), 'E_FORMAT', () => `npy: header must give descr, fortran_order and shape (a string, True or False, a tuple), found ${JSON.stringify(text.trim().slice(0, 120))}`);
  return { descr, fortran, shape: shape as number[] };
}

/**
 * Encode float32 values with a shape as .npy bytes (version 1.0, `<f4`, C order).
 *
 * @example const bytes = encodeNpy(y, [T, O]);
 */
export function encodeNpy(data: Float32Array, shape: number[]): Uint8Array {
  check(shape.every((d) => Number.isSafeInteger(d) && d >= 0), 'E_SHAPE', () => `npy: shape must be non-negative integers, found [${shape.join(', ')}]`);
  const n = shape.reduce((a, b) => a * b, 1);
  check(n === data.length, 'E_SHAPE', () => `npy: shape (${shape.join(', ')}) holds ${n} values, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that magic + version + length + header is a multiple of 64, ending with a newline.
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const headerLen = dict.length;
  const major = headerLen > 0xffff ? 2 : 1;
  const pre = major === 1 ? 10 : 12;
  const out = new Uint8Array(pre + headerLen + 4 * n);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  for (let i = 0; i < headerLen; i++) out[pre + i] = dict.charCodeAt(i);
  const base = pre + headerLen;
  for (let i = 0; i < n; i++) dv.setFloat32(base + 4 * i, data[i]!, true);
  return out;
}

/**
 * Read a .npy file as float32.
 *
 * @example const { data, shape } = await readNpy('x.npy');
 */
export async function readNpy(path: string): Promise<NpyArray> {
  const { readFile } = await import('node:fs/promises');
  let b: Uint8Array;
  try {
    b = await readFile(path);
  } catch (e) {
    return fail('E_IO', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseNpy(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

/**
 * Write float32 values as a .npy file. Refuses to replace an existing file unless `overwrite`
 * (E_EXISTS); with overwrite it writes a temporary file and renames it over the old one.
 *
 * @example await writeNpy('y.npy', y, [T, O], { overwrite: true });
 */
export async function writeNpy(path: string, data: Float32Array, shape: number[], opts: { overwrite?: boolean; signal?: AbortSignal } = {}): Promise<void> {
  await writeFileSafely(path, encodeNpy(data, shape), opts);
}
