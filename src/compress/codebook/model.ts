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
import { asBytes } from '../../core/bytes.js';
import { check, fail } from '../../core/errors.js';
import { parseJsonStrict } from '../../core/json.js';
import { decodeDeltakit, DELTAKIT_METADATA_KEY, modelSpec, parseModelSpec } from '../../model/format.js';
import type { SafeTensor } from '../../model/safetensors.js';
import { layerTensors, layerTensorShapes, validateModel, type Model } from '../../model/types.js';
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
  // An empty model was "compressed" to a file that does not load; no options was a TypeError.
  validateModel(model);
  check(o !== null && typeof o === 'object', 'E_OPTION', () => `compressModel: expected options { bits }, found ${o === null ? 'null' : typeof o}`);
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
  const bits = cm.layers.reduce((m, l) => Math.max(m, l.bits), 0);
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
  bytes = asBytes(bytes, '.dkcb');
  check(isCompressedModel(bytes), 'E_FORMAT', () => 'dkcb: expected the magic "DKCB" at the start of the file');
  check(bytes.length >= 8, 'E_FORMAT', () => `dkcb: file of ${bytes.length} bytes is shorter than its 8-byte preamble`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(4, true);
  check(8 + hlen <= bytes.length, 'E_FORMAT', () => `dkcb: header of ${hlen} bytes runs past the end of the ${bytes.length}-byte file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen));
  } catch {
    return fail('E_FORMAT', 'dkcb: header is not valid UTF-8');
  }
  const header = parseJsonStrict(text, 'dkcb: header');
  const h = header as { format?: unknown; version?: unknown; spec?: unknown; layers?: unknown };
  check(typeof h === 'object' && h !== null && h.format === 'deltakit-codebook', 'E_FORMAT', () => 'dkcb: header.format must be "deltakit-codebook"');
  check(h.version === 1, 'E_UNSUPPORTED', () => `dkcb: version ${JSON.stringify(h.version)} is not supported (expected 1)`);
  check(Array.isArray(h.layers) && typeof h.spec === 'object' && h.spec !== null, 'E_FORMAT', () => 'dkcb: header needs spec and layers');
  const specJson = JSON.stringify(h.spec);
  // The spec is checked first and says exactly which tensors exist and how many values each has;
  // every entry is checked against it, and the regions against each other, before anything is
  // decoded. So decoding work is bounded by the file: no region is decoded twice, no entry the
  // model does not use is decoded at all.
  const expected = decodeShapes(specJson);
  const layersRaw = h.layers as unknown[];
  const specLayers = parseModelSpec(specJson).layers.length;
  check(layersRaw.length === specLayers, 'E_FORMAT', () => `dkcb: header lists ${layersRaw.length} layer entries, the model spec has ${specLayers} layers`);
  const data = bytes.subarray(8 + hlen);
  const dataDv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const regions: Array<{ where: string; begin: number; end: number }> = [];
  const span = (where: string, offset: unknown, nbytes: number): number => {
    check(isCount(offset) && offset + nbytes <= data.length, 'E_FORMAT', () => `dkcb: ${where}: ${nbytes} bytes at offset ${JSON.stringify(offset)} lie outside the ${data.length}-byte data region`);
    if (nbytes > 0) regions.push({ where, begin: offset, end: offset + nbytes });
    return offset;
  };
  type Plan = { k: number; bits: number; cb: [number, number]; tensors: Array<{ name: string; coding: 'codebook' | 'f32'; at: number; count: number; nbytes: number }> };
  const plans: Plan[] = layersRaw.map((l, k): Plan => {
    check(isObject(l), 'E_FORMAT', () => `dkcb: layer ${k} must be an object, found ${JSON.stringify(l)?.slice(0, 40)}`);
    const bits = l['bits'];
    check(isCount(bits) && bits >= 1 && bits <= 8, 'E_FORMAT', () => `dkcb: layer ${k}: bits must be 1..8, found ${JSON.stringify(bits)?.slice(0, 40)}`);
    const cbEntry = l['codebook'];
    check(Array.isArray(cbEntry) && cbEntry.length === 2, 'E_FORMAT', () => `dkcb: layer ${k}: codebook must be [offset, entries]`);
    const [cbOff, cbCount] = cbEntry as unknown[];
    check(isCount(cbCount) && cbCount >= 1 && cbCount <= 2 ** bits, 'E_FORMAT', () => `dkcb: layer ${k}: codebook of ${JSON.stringify(cbCount)?.slice(0, 40)} entries for ${bits} bits`);
    const cbAt = span(`layer ${k} codebook`, cbOff, 4 * cbCount);
    const entries = l['tensors'];
    check(isObject(entries), 'E_FORMAT', () => `dkcb: layer ${k}: tensors must be an object of {coding, offset, count}`);
    const want = expected.filter(([key]) => key.startsWith(`layers.${k}.`));
    const names = Object.keys(entries);
    for (const n of names) check(want.some(([key]) => key === `layers.${k}.${n}`), 'E_FORMAT', () => `dkcb: layer ${k}: tensor ${n.slice(0, 40)} is not part of the model spec (expected ${want.map(([key]) => key.split('.')[2]).join(', ')})`);
    const tensors = want.map(([key, shape]) => {
      const name = key.split('.')[2]!;
      const t = entries[name];
      check(t !== undefined, 'E_FORMAT', () => `dkcb: layer ${k}: tensor ${name} is missing`);
      check(isObject(t), 'E_FORMAT', () => `dkcb: layer ${k} tensor ${name}: expected {coding, offset, count}, found ${JSON.stringify(t)?.slice(0, 40)}`);
      const count = t['count'];
      const need = shape.reduce((a, b) => a * b, 1);
      check(isCount(count), 'E_FORMAT', () => `dkcb: layer ${k} tensor ${name}: count must be a non-negative integer`);
      check(count === need, 'E_SHAPE', () => `dkcb: layer ${k} tensor ${name}: count ${count}, the spec's shape [${shape.join(', ')}] holds ${need}`);
      const coding = t['coding'];
      check(coding === 'codebook' || coding === 'f32', 'E_FORMAT', () => `dkcb: layer ${k} tensor ${name}: coding must be "codebook" or "f32", found ${JSON.stringify(coding)?.slice(0, 40)}`);
      const nbytes = coding === 'codebook' ? Math.ceil((count * bits) / 8) : 4 * count;
      const at = span(`layer ${k} tensor ${name}`, t['offset'], nbytes);
      return { name, coding: coding as 'codebook' | 'f32', at, count, nbytes };
    });
    return { k, bits, cb: [cbAt, cbCount], tensors };
  });
  // No two regions may share bytes (a file pointing every tensor at one region would otherwise
  // make the decoder expand the same bytes again and again).
  regions.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < regions.length; i++) {
    const a = regions[i - 1]!;
    const b = regions[i]!;
    check(b.begin >= a.end, 'E_FORMAT', () => `dkcb: ${a.where} [${a.begin}, ${a.end}) and ${b.where} [${b.begin}, ${b.end}) overlap`);
  }
  const readF32 = (at: number, count: number): Float32Array => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = dataDv.getFloat32(at + 4 * i, true);
    return out;
  };
  const layers = plans.map((p): CompressedLayer => {
    const coded: Record<string, CodedTensor> = {};
    const rawT: Record<string, Float32Array> = {};
    for (const t of p.tensors) {
      if (t.coding === 'codebook') coded[t.name] = { bits: p.bits, count: t.count, indices: data.slice(t.at, t.at + t.nbytes) };
      else rawT[t.name] = readF32(t.at, t.count);
    }
    return { bits: p.bits, codebook: readF32(p.cb[0], p.cb[1]), coded, raw: rawT };
  });
  return { specJson, layers };
}
