/**
 * Whole-model compression with the codebook codec, and its file container (.dkcb).
 *
 * Per layer one codebook shared by all its weight matrices; biases stay float32 (they are a
 * few hundred values). The container:
 *   bytes 0-3   "DKCB"
 *   bytes 4-7   header length N, u32 little-endian
 *   8 .. 8+N    UTF-8 JSON header: { format: "deltakit-codebook", version: 1, spec: <model spec>,
 *               layers: [{ bits, codebook: [offset, entries],
 *                          tensors: { name: { coding: "codebook" | "f32", offset, count } } }] }
 *   then the data region; offsets are relative to it; f32 data are little-endian and 4-aligned.
 * Every offset and count is checked against the bytes present before anything is allocated.
 */
import { check, fail } from '../../core/errors.js';
import { decodeDeltakit, DELTAKIT_METADATA_KEY, modelSpec, parseModelSpec } from '../../model/format.js';
import type { SafeTensor } from '../../model/safetensors.js';
import { layerTensors, layerTensorShapes, type Model } from '../../model/types.js';
import { decodeWithCodebook, encodeWithCodebook, trainCodebook, type CodedTensor } from './codec.js';

export interface CompressedLayer {
  bits: number;
  codebook: Float32Array;
  /** Weight matrices, coded. */
  coded: Record<string, CodedTensor>;
  /** Biases, as they were. */
  raw: Record<string, Float32Array>;
}

export interface CompressedModel {
  /** The model spec JSON (modelSpec), without weights. */
  specJson: string;
  layers: CompressedLayer[];
}

const isBias = (name: string) => name.startsWith('bias');

/**
 * Compress every layer's weights to `bits`-bit indices into a per-layer codebook.
 *
 * @example const cm = compressModel(model, { bits: 4 }); const back = decompressModel(cm);
 */
export function compressModel(model: Model, o: { bits: number }): CompressedModel {
  const layers = model.layers.map((layer): CompressedLayer => {
    const tensors = layerTensors(layer);
    const weights = Object.entries(tensors).filter(([n]) => !isBias(n));
    const codebook = trainCodebook(weights.map(([, w]) => w), o.bits);
    const coded: Record<string, CodedTensor> = {};
    const raw: Record<string, Float32Array> = {};
    for (const [n, t] of Object.entries(tensors)) {
      if (isBias(n)) raw[n] = t;
      else coded[n] = encodeWithCodebook(t, codebook, o.bits);
    }
    return { bits: o.bits, codebook, coded, raw };
  });
  return { specJson: JSON.stringify(modelSpec(model)), layers };
}

/**
 * The decoder: a plain Model the runtime runs (createSession(decompressModel(cm))).
 *
 * @example const s = createSession(decompressModel(await loadCompressedModel('m.dkcb')));
 */
export function decompressModel(cm: CompressedModel): Model {
  const tensors = new Map<string, SafeTensor>();
  cm.layers.forEach((l, k) => {
    for (const [n, t] of Object.entries(l.coded)) tensors.set(`layers.${k}.${n}`, { dtype: 'F32', shape: [t.count], data: decodeWithCodebook(t, l.codebook) });
    for (const [n, t] of Object.entries(l.raw)) tensors.set(`layers.${k}.${n}`, { dtype: 'F32', shape: [t.length], data: t });
  });
  // Reuse the model-file decoder: it checks the spec, the tensor set and the values. Shapes are
  // restored from the spec (coded tensors are flat).
  const probe = decodeShapes(cm.specJson);
  for (const [key, shape] of probe) {
    const t = tensors.get(key);
    check(t !== undefined, 'E_FORMAT', () => `compressed model: tensor ${key} is missing`);
    check(t.data.length === shape.reduce((a, b) => a * b, 1), 'E_SHAPE', () => `compressed model: tensor ${key} holds ${t.data.length} values, expected [${shape.join(', ')}]`);
    t.shape = shape;
  }
  const model = decodeDeltakit({ metadata: { [DELTAKIT_METADATA_KEY]: cm.specJson }, tensors });
  // Record where the weights came from: the simulator's rnnaccel preset reads the index width.
  const bits = Math.max(...cm.layers.map((l) => l.bits));
  model.meta = { ...model.meta, weightCodec: 'codebook', codebookBits: String(bits) };
  return model;
}

function decodeShapes(specJson: string): Array<[string, number[]]> {
  // The spec's sizes give the expected shapes (layerTensorShapes reads only kind and sizes).
  const spec = parseModelSpec(specJson);
  const out: Array<[string, number[]]> = [];
  spec.layers.forEach((ls, k) => {
    const shapes = layerTensorShapes(ls as unknown as Parameters<typeof layerTensorShapes>[0]);
    for (const [n, s] of Object.entries(shapes)) out.push([`layers.${k}.${n}`, s]);
  });
  return out;
}

export interface CompressionReport {
  /** float32 bytes of all weights and biases. */
  float32Bytes: number;
  /** Bytes of the coded form (indices + codebooks in float32 + float32 biases). */
  compressedBytes: number;
  /** float32Bytes / compressedBytes. */
  ratioVsFloat32: number;
  /** Ratio against `weightBits`-wide fixed-point weights with codebook entries of that width (the hardware view). */
  ratioVsFixed: number;
  weightBits: number;
  /** Largest |w - decoded w| over all weights. */
  maxWeightError: number;
  /** Root mean square weight error. */
  rmsWeightError: number;
  /** Exact zeros among the weights (pruned ones). */
  zeroWeights: number;
  /** Fraction of exact zeros kept exactly zero (CBTD sparsity survives compression: 1). */
  zerosKept: number;
}

/**
 * Sizes and weight errors of a compression.
 *
 * @example const rep = compressionReport(model, cm, 16); rep.ratioVsFixed // ~4 for 4-bit indices
 */
export function compressionReport(model: Model, cm: CompressedModel, weightBits = 16): CompressionReport {
  let f32 = 0;
  let comp = 0;
  let fixedDense = 0;
  let fixedComp = 0;
  let maxErr = 0;
  let sq = 0;
  let n = 0;
  let zeros = 0;
  let zerosKept = 0;
  model.layers.forEach((layer, k) => {
    const l = cm.layers[k]!;
    const tensors = layerTensors(layer);
    comp += 4 * l.codebook.length;
    fixedComp += (l.codebook.length * weightBits) / 8;
    for (const [name, w] of Object.entries(tensors)) {
      f32 += 4 * w.length;
      if (isBias(name)) {
        comp += 4 * w.length;
        continue;
      }
      const c = l.coded[name]!;
      comp += c.indices.length;
      fixedDense += (w.length * weightBits) / 8;
      fixedComp += (w.length * c.bits) / 8;
      const d = decodeWithCodebook(c, l.codebook);
      for (let i = 0; i < w.length; i++) {
        const e = Math.abs(w[i]! - d[i]!);
        if (e > maxErr) maxErr = e;
        sq += e * e;
        if (w[i] === 0) {
          zeros++;
          if (d[i] === 0) zerosKept++;
        }
      }
      n += w.length;
    }
  });
  return {
    float32Bytes: f32,
    compressedBytes: comp,
    ratioVsFloat32: f32 / comp,
    ratioVsFixed: fixedDense / fixedComp,
    weightBits,
    maxWeightError: maxErr,
    rmsWeightError: Math.sqrt(sq / Math.max(1, n)),
    zeroWeights: zeros,
    zerosKept: zeros > 0 ? zerosKept / zeros : 1,
  };
}

const MAGIC = [0x44, 0x4b, 0x43, 0x42]; // "DKCB"

/** True when bytes start with the .dkcb magic. */
export function isCompressedModel(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Serialise a compressed model to .dkcb bytes.
 *
 * @example await writeFile('m.dkcb', encodeCompressedModel(compressModel(model, { bits: 4 })));
 */
export function encodeCompressedModel(cm: CompressedModel): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const put = (bytes: Uint8Array): number => {
    const pad = (4 - (offset % 4)) % 4;
    if (pad) {
      chunks.push(new Uint8Array(pad));
      offset += pad;
    }
    const at = offset;
    chunks.push(bytes);
    offset += bytes.length;
    return at;
  };
  const f32 = (a: Float32Array): Uint8Array => {
    const b = new Uint8Array(a.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < a.length; i++) dv.setFloat32(i * 4, a[i]!, true);
    return b;
  };
  const layers = cm.layers.map((l) => {
    const tensors: Record<string, { coding: 'codebook' | 'f32'; offset: number; count: number }> = {};
    const codebook = [put(f32(l.codebook)), l.codebook.length];
    for (const [n, t] of Object.entries(l.coded)) tensors[n] = { coding: 'codebook', offset: put(t.indices), count: t.count };
    for (const [n, t] of Object.entries(l.raw)) tensors[n] = { coding: 'f32', offset: put(f32(t)), count: t.length };
    return { bits: l.bits, codebook, tensors };
  });
  const header = new TextEncoder().encode(JSON.stringify({ format: 'deltakit-codebook', version: 1, spec: JSON.parse(cm.specJson), layers }));
  const headerPad = (4 - ((8 + header.length) % 4)) % 4;
  const out = new Uint8Array(8 + header.length + headerPad + offset);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(4, header.length + headerPad, true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + header.length + headerPad);
  let p = 8 + header.length + headerPad;
  for (const c of chunks) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

/**
 * Parse .dkcb bytes (every offset checked; E_FORMAT on anything malformed).
 *
 * @example const model = decompressModel(decodeCompressedModel(bytes));
 */
export function decodeCompressedModel(bytes: Uint8Array): CompressedModel {
  check(isCompressedModel(bytes), 'E_FORMAT', () => 'dkcb: expected the magic "DKCB" at the start of the file');
  check(bytes.length >= 8, 'E_FORMAT', () => `dkcb: file of ${bytes.length} bytes is shorter than its 8-byte preamble`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(4, true);
  check(8 + hlen <= bytes.length, 'E_FORMAT', () => `dkcb: header of ${hlen} bytes runs past the end of the ${bytes.length}-byte file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    return fail('E_FORMAT', `dkcb: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  const h = header as { format?: unknown; version?: unknown; spec?: unknown; layers?: unknown };
  check(typeof h === 'object' && h !== null && h.format === 'deltakit-codebook', 'E_FORMAT', () => 'dkcb: header.format must be "deltakit-codebook"');
  check(h.version === 1, 'E_UNSUPPORTED', () => `dkcb: version ${JSON.stringify(h.version)} is not supported (expected 1)`);
  check(Array.isArray(h.layers) && typeof h.spec === 'object' && h.spec !== null, 'E_FORMAT', () => 'dkcb: header needs spec and layers');
  const data = bytes.subarray(8 + hlen);
  const dataDv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const span = (where: string, offset: unknown, nbytes: number): number => {
    check(isCount(offset) && offset + nbytes <= data.length, 'E_FORMAT', () => `dkcb: ${where}: ${nbytes} bytes at offset ${JSON.stringify(offset)} lie outside the ${data.length}-byte data region`);
    return offset;
  };
  const readF32 = (where: string, offset: unknown, count: unknown): Float32Array => {
    check(isCount(count), 'E_FORMAT', () => `dkcb: ${where}: count must be a non-negative integer, found ${JSON.stringify(count)}`);
    const at = span(where, offset, 4 * count);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = dataDv.getFloat32(at + 4 * i, true);
    return out;
  };
  const layers = (h.layers as unknown[]).map((raw, k): CompressedLayer => {
    const l = raw as { bits?: unknown; codebook?: unknown; tensors?: unknown };
    check(typeof l === 'object' && l !== null, 'E_FORMAT', () => `dkcb: layer ${k} must be an object`);
    const bits = l.bits;
    check(isCount(bits) && bits >= 1 && bits <= 8, 'E_FORMAT', () => `dkcb: layer ${k}: bits must be 1..8, found ${JSON.stringify(bits)}`);
    check(Array.isArray(l.codebook) && l.codebook.length === 2, 'E_FORMAT', () => `dkcb: layer ${k}: codebook must be [offset, entries]`);
    const [cbOff, cbCount] = l.codebook as unknown[];
    check(isCount(cbCount) && cbCount >= 1 && cbCount <= 2 ** bits, 'E_FORMAT', () => `dkcb: layer ${k}: codebook of ${JSON.stringify(cbCount)} entries for ${bits} bits`);
    const codebook = readF32(`layer ${k} codebook`, cbOff, cbCount);
    check(typeof l.tensors === 'object' && l.tensors !== null, 'E_FORMAT', () => `dkcb: layer ${k}: tensors missing`);
    const coded: Record<string, CodedTensor> = {};
    const rawT: Record<string, Float32Array> = {};
    for (const [n, tv] of Object.entries(l.tensors as Record<string, unknown>)) {
      const t = tv as { coding?: unknown; offset?: unknown; count?: unknown };
      check(isCount(t.count), 'E_FORMAT', () => `dkcb: layer ${k} tensor ${n}: count must be a non-negative integer`);
      if (t.coding === 'codebook') {
        const nbytes = Math.ceil((t.count * bits) / 8);
        const at = span(`layer ${k} tensor ${n}`, t.offset, nbytes);
        coded[n] = { bits, count: t.count, indices: data.slice(at, at + nbytes) };
      } else if (t.coding === 'f32') {
        rawT[n] = readF32(`layer ${k} tensor ${n}`, t.offset, t.count);
      } else fail('E_FORMAT', `dkcb: layer ${k} tensor ${n}: coding must be "codebook" or "f32", found ${JSON.stringify(t.coding)}`);
    }
    return { bits, codebook, coded, raw: rawT };
  });
  return { specJson: JSON.stringify(h.spec), layers };
}
