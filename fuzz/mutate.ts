/**
 * Mutations of valid files: byte-level (bit flips, interesting bytes, truncation, garbage,
 * copied chunks, absurd length prefixes) and text-level for formats with a JSON or text header
 * (digit runs replaced by interesting numbers, values replaced by null, keys repeated). Every
 * choice comes from the seeded Rng, so (seed, index) reproduces an input exactly.
 */
import { Rng } from '../src/core/rng.js';

const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x22, 0x2c, 0x7b, 0x7d, 0x5b, 0x5d];
const INTERESTING_NUMBERS = ['0', '1', '-1', '7', '255', '65536', '2147483647', '4294967296', '9007199254740993', '1e308', '-0', '0.5', '125001'];

/** Where the text (JSON header, hex lines) of a file lies, so text mutations stay inside it. */
export type TextRegion = [start: number, end: number] | null;

export function mutate(rng: Rng, src: Uint8Array, text: TextRegion): Uint8Array {
  let b: Uint8Array = new Uint8Array(src);
  const ops = 1 + rng.int(4);
  for (let k = 0; k < ops; k++) {
    if (b.length === 0) break;
    const op = rng.int(text ? 11 : 7);
    switch (op) {
      case 0:
        b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 1:
        b[rng.int(b.length)] = INTERESTING_BYTES[rng.int(INTERESTING_BYTES.length)]!;
        break;
      case 2:
        b = b.slice(0, rng.int(b.length + 1));
        break;
      case 3: {
        const extra = Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256));
        b = concat(b, extra);
        break;
      }
      case 4: {
        // A chunk copied elsewhere: repeated protobuf fields, overlapping structure.
        if (b.length < 4) break;
        const from = rng.int(b.length - 2);
        const len = 1 + rng.int(Math.min(256, b.length - from - 1));
        b.copyWithin(rng.int(b.length - len), from, from + len);
        break;
      }
      case 5: {
        // A chunk duplicated (inserted again): many repeated fields make hostile ONNX graphs.
        if (b.length < 4) break;
        const from = rng.int(b.length - 2);
        const len = 1 + rng.int(Math.min(512, b.length - from - 1));
        const at = rng.int(b.length);
        const times = 1 + rng.int(rng.next() < 0.1 ? 2000 : 4);
        const parts = [b.slice(0, at)];
        for (let t = 0; t < times; t++) parts.push(b.slice(from, from + len));
        parts.push(b.slice(at));
        b = concat(...parts);
        break;
      }
      case 6: {
        // Length prefixes (safetensors, npy v2, dkcb, checkpoints) set plausible or absurd.
        if (b.length < 12) break;
        const at = [0, 4, 8][rng.int(3)]!;
        new DataView(b.buffer, b.byteOffset).setUint32(at, rng.next() < 0.5 ? rng.int(b.length + 16) : rng.int(2 ** 32), true);
        break;
      }
      default:
        b = mutateText(rng, b, text!);
    }
  }
  return b;
}

/** Text mutations inside [start, end): numbers, nulls, repeated keys, deleted spans. */
function mutateText(rng: Rng, b: Uint8Array, [start, end0]: [number, number]): Uint8Array {
  const end = Math.min(end0, b.length);
  if (end - start < 2) return b;
  const text = new TextDecoder('latin1').decode(b.subarray(start, end));
  const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[rng.int(xs.length)] : undefined);
  let out = text;
  switch (rng.int(4)) {
    case 0: {
      const runs = [...text.matchAll(/-?\d+(\.\d+)?(e\d+)?/g)];
      const m = pick(runs);
      if (m) out = text.slice(0, m.index) + pick(INTERESTING_NUMBERS)! + text.slice(m.index! + m[0].length);
      break;
    }
    case 1: {
      // A value (object, array, number or string after a colon or in a list) replaced by null.
      const spots = [...text.matchAll(/[:\[,]\s*/g)].map((m) => m.index! + m[0].length);
      const at = pick(spots);
      if (at !== undefined) {
        const rest = text.slice(at);
        const len = valueLength(rest);
        if (len > 0) out = text.slice(0, at) + 'null' + rest.slice(len);
      }
      break;
    }
    case 2: {
      // A "key": value pair repeated in its object.
      const keys = [...text.matchAll(/"[^"\\]{1,40}"\s*:\s*/g)];
      const m = pick(keys);
      if (m) {
        const at = m.index!;
        const len = valueLength(text.slice(at + m[0].length));
        if (len > 0) {
          const pair = text.slice(at, at + m[0].length + len);
          out = text.slice(0, at) + pair + ',' + text.slice(at);
        }
      }
      break;
    }
    default: {
      const a = start + rng.int(end - start);
      const n = 1 + rng.int(Math.min(16, b.length - a));
      return concat(b.slice(0, a), b.slice(a + n));
    }
  }
  // Header lengths are left as they were: the loader must notice the text no longer fits.
  const enc = new Uint8Array([...out].map((c) => c.charCodeAt(0) & 0xff));
  return concat(b.slice(0, start), enc, b.slice(end));
}

/** Length of the JSON value at the start of `s` (balanced brackets and strings), 0 if none. */
function valueLength(s: string): number {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      if (!inStr && depth === 0) return i + 1;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === ',' && depth === 0) return i;
  }
  return 0;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Input `index` of a run: the seeds themselves first (they must load: a run whose seeds are
 * refused tests nothing past the first check), then mutations of them (1 in 50: random bytes).
 */
export function fuzzInput(seed: number, index: number, seeds: Array<{ bytes: Uint8Array; text: TextRegion }>): Uint8Array {
  if (index < seeds.length) return seeds[index]!.bytes;
  const rng = new Rng(seed * 1_000_003 + index);
  if (rng.next() < 0.02) return Uint8Array.from({ length: rng.int(512) }, () => rng.int(256));
  const s = seeds[rng.int(seeds.length)]!;
  return mutate(rng, s.bytes, s.text);
}
