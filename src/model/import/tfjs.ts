/**
 * TensorFlow.js layers models: `model.json` (format "layers-model") plus binary weight shards, as the
 * Python converter (`tensorflowjs_converter --input_format keras`) and tfjs' `model.save()` write
 * them. The topology is a Keras model config (under modelTopology.model_config from the converter,
 * or modelTopology itself from model.save()); the layer mapping is shared with the Keras importers
 * (./keras/layers.ts).
 *
 * weightsManifest: groups of {paths, weights: [{name, shape, dtype, quantization?}]}; a group's
 * shards are one byte stream cut into files (a tensor may straddle two), weights packed in order,
 * little-endian. Weight names start with the layer name ("gru/gru_cell/kernel", "gru_GRU1/kernel").
 * dtype float32 (and int32) are read as stored; quantized weights (uint8 / uint16 with min and scale,
 * or float16) are dequantized as tfjs does: value = q * scale + min.
 */
import { check, fail } from '../../core/errors.js';
import { halfToFloat } from '../safetensors.js';
import { modelFromKeras, type KerasImport, type KerasTensor } from './keras/layers.js';

/** Reads a shard named in the manifest (a path relative to model.json). */
export type ShardReader = (path: string) => Uint8Array;

/** Total weight bytes a manifest may declare (2 GiB), before any shard is read. */
export const MAX_TFJS_WEIGHT_BYTES = 2 ** 31;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when bytes look like a tfjs model.json (a JSON object naming a modelTopology or weightsManifest). */
export function looksLikeTfjsJson(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  if (bytes[i] !== 0x7b) return false;
  const head = new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 1 << 16)));
  return head.includes('"modelTopology"') || head.includes('"weightsManifest"');
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** The manifest's entries with their checked sizes. */
interface Entry {
  name: string;
  shape: number[];
  dtype: string;
  q?: { dtype: string; scale: number; min: number };
  bytes: number;
}

function manifestEntries(w: unknown, where: string): Entry {
  check(isObj(w) && typeof w.name === 'string' && Array.isArray(w.shape), 'E_FORMAT', () => `${where}: expected {name, shape, dtype}`);
  const shape = w.shape.map(Number);
  check(shape.every((d) => Number.isInteger(d) && d >= 0) && shape.length <= 8, 'E_FORMAT', () => `${where}: bad shape ${JSON.stringify(w.shape).slice(0, 60)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  check(n <= MAX_TFJS_WEIGHT_BYTES, 'E_LIMIT', () => `${where}: shape [${shape.join(', ')}] too large`);
  const dtype = String(w.dtype ?? 'float32');
  let q: Entry['q'];
  if (w.quantization !== undefined) {
    const qq = w.quantization;
    check(isObj(qq) && (qq.dtype === 'uint8' || qq.dtype === 'uint16' || qq.dtype === 'float16'), 'E_UNSUPPORTED', () => `${where}: quantization ${JSON.stringify(qq).slice(0, 60)} is not supported (expected uint8, uint16 or float16)`);
    const scale = Number(qq.scale ?? 1);
    const min = Number(qq.min ?? 0);
    check(Number.isFinite(scale) && Number.isFinite(min), 'E_FORMAT', () => `${where}: quantization scale/min must be finite numbers`);
    q = { dtype: String(qq.dtype), scale, min };
  } else {
    check(dtype === 'float32' || dtype === 'int32', 'E_UNSUPPORTED', () => `${where}: dtype ${dtype.slice(0, 20)} is not supported (expected float32, int32, or a quantized weight)`);
  }
  return { name: w.name, shape, dtype, ...(q ? { q } : {}), bytes: n * DTYPE_BYTES[q ? q.dtype : dtype]! };
}

function decodeEntry(e: Entry, buf: Uint8Array, off: number): Float32Array {
  const n = e.shape.reduce((a, b) => a * b, 1);
  const dv = new DataView(buf.buffer, buf.byteOffset + off, e.bytes);
  const out = new Float32Array(n);
  const t = e.q ? e.q.dtype : e.dtype;
  for (let i = 0; i < n; i++) {
    let v: number;
    switch (t) {
      case 'float32': v = dv.getFloat32(4 * i, true); break;
      case 'int32': v = dv.getInt32(4 * i, true); break;
      case 'uint8': v = dv.getUint8(i); break;
      case 'uint16': v = dv.getUint16(2 * i, true); break;
      default: v = halfToFloat(dv.getUint16(2 * i, true));
    }
    out[i] = e.q && e.q.dtype !== 'float16' ? v * e.q.scale + e.q.min : v;
  }
  return out;
}

/**
 * Import a TensorFlow.js layers model from its model.json text (or bytes, or parsed object) and a
 * reader for its shards.
 *
 * @example
 * const { model } = importTfjsLayers(await readFile('web_model/model.json', 'utf8'),
 *   (p) => new Uint8Array(readFileSync(join('web_model', p))));
 */
export function importTfjsLayers(modelJson: string | Uint8Array | object, readShard: ShardReader, name?: string): KerasImport {
  const where = 'tfjs';
  let j: unknown = modelJson;
  if (typeof modelJson === 'string' || modelJson instanceof Uint8Array) {
    const text = typeof modelJson === 'string' ? modelJson : new TextDecoder().decode(modelJson);
    try {
      j = JSON.parse(text);
    } catch (e) {
      return fail('E_FORMAT', `${where}: model.json is not valid JSON (${(e as Error).message.slice(0, 80)})`);
    }
  }
  check(isObj(j), 'E_FORMAT', () => `${where}: model.json must be a JSON object`);
  check(j.format === undefined || j.format === 'layers-model', 'E_UNSUPPORTED', () => `${where}: format ${JSON.stringify(j.format).slice(0, 40)} is not supported (expected "layers-model"; graph models carry no layer structure)`);
  const topo = j.modelTopology;
  check(isObj(topo), 'E_FORMAT', () => `${where}: modelTopology missing`);
  const config = isObj(topo.model_config) ? topo.model_config : topo;
  const manifest = j.weightsManifest;
  check(Array.isArray(manifest), 'E_FORMAT', () => `${where}: weightsManifest must be an array of {paths, weights}`);
  const byLayer = new Map<string, KerasTensor[]>();
  const all: KerasTensor[] = [];
  let declared = 0;
  manifest.forEach((g: unknown, gi: number) => {
    const gw = `${where}: weightsManifest[${gi}]`;
    check(isObj(g) && Array.isArray(g.paths) && Array.isArray(g.weights), 'E_FORMAT', () => `${gw}: expected {paths, weights}`);
    check(g.paths.every((p) => typeof p === 'string' && p.length > 0 && p.length < 1024), 'E_FORMAT', () => `${gw}: paths must be file names`);
    const entries = (g.weights as unknown[]).map((w, k) => manifestEntries(w, `${gw}.weights[${k}]`));
    const need = entries.reduce((a, e) => a + e.bytes, 0);
    declared += need;
    check(declared <= MAX_TFJS_WEIGHT_BYTES, 'E_LIMIT', () => `${where}: the manifest declares more than ${MAX_TFJS_WEIGHT_BYTES} weight bytes`);
    const shards = (g.paths as string[]).map((p) => readShard(p));
    const total = shards.reduce((a, s) => a + s.length, 0);
    check(total === need, 'E_FORMAT', () => `${gw}: shards [${(g.paths as string[]).join(', ')}] hold ${total} bytes, the weights need ${need}`);
    const buf = shards.length === 1 ? shards[0]! : new Uint8Array(total);
    if (shards.length > 1) {
      let o = 0;
      for (const s of shards) {
        buf.set(s, o);
        o += s.length;
      }
    }
    let off = 0;
    for (const e of entries) {
      const t: KerasTensor = { name: e.name, shape: e.shape, data: decodeEntry(e, buf, off) };
      off += e.bytes;
      all.push(t);
      const layer = e.name.split('/')[0]!;
      if (!byLayer.has(layer)) byLayer.set(layer, []);
      byLayer.get(layer)!.push(t);
    }
  });
  // Weight names normally start with the layer name; some converters prefix the model's name.
  const weightsOf = (layer: string) => byLayer.get(layer) ?? (all.some((t) => t.name.includes(`/${layer}/`)) ? all.filter((t) => t.name.includes(`/${layer}/`)) : undefined);
  const out = modelFromKeras(config, weightsOf, where, name);
  const by = [j.generatedBy, j.convertedBy].filter((v) => typeof v === 'string').join(', ');
  out.model.meta = { source: 'tfjs', ...(by ? { producer: by.slice(0, 200) } : {}), ...out.model.meta };
  return out;
}
