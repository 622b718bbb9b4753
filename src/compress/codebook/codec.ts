/**
 * The weight codec standing in for RNNAccel's NeuCompression (unpublished, published design [open]):
 * a per-layer codebook of 2^bits float values (1-D k-means, Lloyd's algorithm) and, per weight,
 * a packed bits-wide index into it. Exact zeros (CBTD-pruned weights) get a codebook entry of
 * exactly 0, so compression keeps structured sparsity. Decoding is a table look-up: what an
 * on-line hardware decompressor does at a few weights per cycle.
 */
import { check, fail } from '../../core/errors.js';

/** A set of weights coded against one codebook. */
export interface CodedTensor {
  bits: number;
  count: number;
  /** Packed indices, LSB-first: weight i uses bits [i*bits, (i+1)*bits). */
  indices: Uint8Array;
}

function checkBits(bits: number): void {
  check(Number.isInteger(bits) && bits >= 1 && bits <= 8, 'E_VALUE', () => `codebook bits: expected an integer in 1..8, found ${String(bits)}`);
}

/**
 * Train a codebook of at most 2^bits sorted entries for the given values (k-means in 1-D on
 * the sorted values with prefix sums, so an iteration costs O(2^bits log n)).
 *
 * @example const cb = trainCodebook([w1, w2], 4); // Float32Array of <= 16 sorted values
 */
export function trainCodebook(groups: Float32Array[], bits: number, iterations = 60): Float32Array {
  checkBits(bits);
  check(Array.isArray(groups) && groups.every((g) => g instanceof Float32Array), 'E_OPTION', () => `codebook: expected an array of Float32Array weight groups, found ${Array.isArray(groups) ? 'an array holding something else' : groups === null ? 'null' : ArrayBuffer.isView(groups) ? 'one typed array (wrap it: [w])' : typeof groups}`);
  for (const g of groups) {
    for (let i = 0; i < g.length; i++) check(Number.isFinite(g[i]), 'E_VALUE', () => `codebook: expected finite weights, found ${g[i]} at index ${i}`);
  }
  check(groups.some((g) => g.length > 0), 'E_SHAPE', () => 'codebook: expected at least one weight, found none');
  let n = 0;
  let zeros = 0;
  for (const g of groups) for (let i = 0; i < g.length; i++) g[i] === 0 ? zeros++ : n++;
  const xs = new Float64Array(n);
  let p = 0;
  for (const g of groups) for (let i = 0; i < g.length; i++) if (g[i] !== 0) xs[p++] = g[i]!;
  xs.sort();
  const keepZero = zeros > 0;
  const K = Math.min(2 ** bits - (keepZero ? 1 : 0), n);
  const c = new Float64Array(K);
  if (K > 0) {
    const prefix = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + xs[i]!;
    // Quantile initialisation, then Lloyd: in 1-D each cluster is a run of the sorted values.
    for (let k = 0; k < K; k++) c[k] = xs[Math.min(n - 1, Math.floor(((k + 0.5) / K) * n))]!;
    const lowerBound = (v: number): number => {
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (xs[mid]! < v) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (let it = 0; it < iterations; it++) {
      let moved = false;
      let start = 0;
      for (let k = 0; k < K; k++) {
        const end = k === K - 1 ? n : lowerBound((c[k]! + c[k + 1]!) / 2);
        if (end > start) {
          const mean = (prefix[end]! - prefix[start]!) / (end - start);
          if (mean !== c[k]) {
            c[k] = mean;
            moved = true;
          }
        }
        start = Math.max(start, end);
      }
      if (!moved) break;
    }
  }
  const entries = Array.from(c, (v) => Math.fround(v));
  if (keepZero) entries.push(0);
  return Float32Array.from(entries.sort((a, b) => a - b));
}

/**
 * Code values against a sorted codebook: each value gets the index of its nearest entry.
 *
 * @example const t = encodeWithCodebook(w, cb, 4); decodeWithCodebook(t, cb)
 */
export function encodeWithCodebook(values: Float32Array, codebook: Float32Array, bits: number): CodedTensor {
  checkBits(bits);
  check(codebook.length >= 1 && codebook.length <= 2 ** bits, 'E_VALUE', () => `codebook: expected 1..${2 ** bits} entries for ${bits} bits, found ${codebook.length}`);
  const K = codebook.length;
  const mids = new Float64Array(Math.max(0, K - 1));
  for (let k = 0; k + 1 < K; k++) mids[k] = (codebook[k]! + codebook[k + 1]!) / 2;
  const indices = new Uint8Array(Math.ceil((values.length * bits) / 8));
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = K - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v > mids[mid]!) lo = mid + 1;
      else hi = mid;
    }
    // An exact zero must map to the zero entry (ties at a midpoint otherwise could move it).
    if (v === 0) {
      const z = codebook.indexOf(0);
      if (z >= 0) lo = z;
    }
    const bit = i * bits;
    const word = lo << (bit & 7);
    indices[bit >> 3]! |= word & 0xff;
    if ((bit & 7) + bits > 8) indices[(bit >> 3) + 1]! |= word >> 8;
  }
  return { bits, count: values.length, indices };
}

/**
 * Decode a coded tensor: the look-up a decompressor does per weight.
 *
 * @example const w = decodeWithCodebook(t, cb);
 */
export function decodeWithCodebook(t: CodedTensor, codebook: Float32Array): Float32Array {
  checkBits(t.bits);
  check(t.indices.length >= Math.ceil((t.count * t.bits) / 8), 'E_FORMAT', () => `coded tensor: ${t.count} indices of ${t.bits} bits need ${Math.ceil((t.count * t.bits) / 8)} bytes, found ${t.indices.length}`);
  const out = new Float32Array(t.count);
  const mask = (1 << t.bits) - 1;
  const K = codebook.length;
  const idx = t.indices;
  for (let i = 0; i < t.count; i++) {
    const bit = i * t.bits;
    const byte = bit >> 3;
    const word = idx[byte]! | ((idx[byte + 1] ?? 0) << 8);
    const k = (word >> (bit & 7)) & mask;
    if (k >= K) fail('E_FORMAT', `coded tensor: index ${k} at weight ${i} is outside the codebook of ${K} entries`);
    out[i] = codebook[k]!;
  }
  return out;
}
