/**
 * Training checkpoints: the model, the optimiser state and the position in the schedule, in one
 * file written atomically (temporary file + rename), so an interrupted run resumes exactly where
 * it stopped and a crash during the write never corrupts the previous checkpoint.
 *
 * Layout: the 8 bytes `DKCKPT01`, a little-endian uint32 header length, a JSON header, then the
 * tensors back to back (float32 for weights, float64 for optimiser moments) at the offsets the
 * header lists.
 */
import { asBytes } from '../core/bytes.js';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { check } from '../core/errors.js';
import { parseJsonStrict } from '../core/json.js';
import type { Layer, Model } from '../model/types.js';
import { MAX_LAYER_SIZE, MAX_LAYERS, validateModel } from '../model/types.js';

const MAGIC = 'DKCKPT01';

export interface CheckpointTensor {
  name: string;
  dtype: 'f32' | 'f64';
  offset: number;
  length: number;
}

export interface Checkpoint {
  /** Free JSON state of the trainer (schedule position, config, history). */
  state: Record<string, unknown>;
  /** Named tensors. */
  tensors: Record<string, Float32Array | Float64Array>;
}

/**
 * Write a checkpoint atomically.
 *
 * @example writeCheckpoint('run.ckpt', { state: { epoch: 3 }, tensors: { w: new Float32Array(4) } });
 */
export function writeCheckpoint(path: string, ck: Checkpoint): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, encodeCheckpoint(ck));
  renameSync(tmp, path);
}

/**
 * A checkpoint as bytes (what writeCheckpoint writes).
 *
 * @example const same = decodeCheckpoint(encodeCheckpoint(ck));
 */
export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  const entries: CheckpointTensor[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(ck.tensors)) {
    const dtype = t instanceof Float64Array ? 'f64' : 'f32';
    entries.push({ name, dtype, offset, length: t.length });
    offset += t.byteLength;
    offset = (offset + 7) & ~7;
  }
  const header = new TextEncoder().encode(JSON.stringify({ state: ck.state, tensors: entries }));
  const headLen = 12 + header.length;
  const base = (headLen + 7) & ~7;
  const out = new Uint8Array(base + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  for (const e of entries) {
    const t = ck.tensors[e.name]!;
    out.set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength), base + e.offset);
  }
  return out;
}

/**
 * Read a checkpoint written by writeCheckpoint; E_IO when missing, E_FORMAT when malformed.
 *
 * @example const { state, tensors } = readCheckpoint('run.ckpt');
 */
export function readCheckpoint(path: string): Checkpoint {
  check(existsSync(path), 'E_IO', () => `checkpoint: file ${path} does not exist`);
  const b = readFileSync(path);
  return decodeCheckpoint(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), `checkpoint ${path}`);
}

/**
 * Decode checkpoint bytes. Every header entry is checked (dtype f32 or f64, integer offset and
 * length inside the file, unique names, no two tensors sharing bytes) before any tensor is copied,
 * so the memory used is at most the file's size.
 *
 * @example const { state, tensors } = decodeCheckpoint(bytes);
 */
export function decodeCheckpoint(bytes: Uint8Array, where = 'checkpoint'): Checkpoint {
  bytes = asBytes(bytes, where);
  check(bytes.length >= 12 && new TextDecoder().decode(bytes.subarray(0, 8)) === MAGIC, 'E_FORMAT', () => `${where}: expected the ${MAGIC} signature, found another file`);
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  check(12 + n <= bytes.length, 'E_FORMAT', () => `${where}: header of ${n} bytes exceeds the file (${bytes.length} bytes)`);
  const head = parseJsonStrict(new TextDecoder().decode(bytes.subarray(12, 12 + n)), `${where}: header`) as { state?: unknown; tensors?: unknown } | null;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  check(isObject(head) && isObject(head.state) && Array.isArray(head.tensors), 'E_FORMAT', () => `${where}: expected a header {state: {...}, tensors: [...]}`);
  const base = (12 + n + 7) & ~7;
  const entries = (head.tensors as unknown[]).map((e, i): CheckpointTensor => {
    check(isObject(e), 'E_FORMAT', () => `${where}: tensor entry ${i} must be an object {name, dtype, offset, length}, found ${JSON.stringify(e)?.slice(0, 40)}`);
    const { name, dtype, offset, length } = e;
    check(typeof name === 'string', 'E_FORMAT', () => `${where}: tensor entry ${i}: name must be a string`);
    check(dtype === 'f32' || dtype === 'f64', 'E_FORMAT', () => `${where}: tensor ${name}: dtype must be f32 or f64, found ${JSON.stringify(dtype)?.slice(0, 20)}`);
    const size = dtype === 'f64' ? 8 : 4;
    check(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && (offset as number) >= 0 && (length as number) >= 0 && base + (offset as number) + (length as number) * size <= bytes.length, 'E_FORMAT', () => `${where}: tensor ${name} lies outside the file`);
    return { name, dtype, offset: offset as number, length: length as number };
  });
  const names = new Set<string>();
  for (const e of entries) {
    check(!names.has(e.name), 'E_FORMAT', () => `${where}: tensor ${e.name} is listed twice`);
    names.add(e.name);
  }
  const spans = entries.map((e) => ({ name: e.name, begin: e.offset, end: e.offset + e.length * (e.dtype === 'f64' ? 8 : 4) })).filter((r) => r.end > r.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) check(spans[i]!.begin >= spans[i - 1]!.end, 'E_FORMAT', () => `${where}: tensors ${spans[i - 1]!.name} and ${spans[i]!.name} overlap`);
  const tensors: Record<string, Float32Array | Float64Array> = {};
  for (const e of entries) {
    const size = e.dtype === 'f64' ? 8 : 4;
    const slice = bytes.slice(base + e.offset, base + e.offset + e.length * size);
    tensors[e.name] = e.dtype === 'f64' ? new Float64Array(slice.buffer) : new Float32Array(slice.buffer);
  }
  return { state: head.state as Record<string, unknown>, tensors };
}

/**
 * A model's structure as JSON (no weights) and its tensors as `layers.{k}.{name}`.
 *
 * @example const { spec, tensors } = modelToCheckpoint(model, 'model');
 */
export function modelToCheckpoint(model: Model, prefix: string): { spec: unknown; tensors: Record<string, Float32Array> } {
  const tensors: Record<string, Float32Array> = {};
  const spec = model.layers.map((l, k) => {
    const { kind, inputSize } = l;
    if (l.kind === 'linear') {
      tensors[`${prefix}.${k}.weight`] = l.weight;
      tensors[`${prefix}.${k}.bias`] = l.bias;
      return { kind, inputSize, outputSize: l.outputSize, activation: l.activation };
    }
    check(l.kind === 'gru' || l.kind === 'lstm', 'E_UNSUPPORTED', () => `checkpoint: layer ${k} is ${l.kind}; only gru, lstm and linear are trained`);
    tensors[`${prefix}.${k}.weight_ih`] = l.weightIh;
    tensors[`${prefix}.${k}.weight_hh`] = l.weightHh;
    tensors[`${prefix}.${k}.bias_ih`] = l.biasIh;
    tensors[`${prefix}.${k}.bias_hh`] = l.biasHh;
    return { kind, inputSize, hiddenSize: l.hiddenSize, ...(l.kind === 'gru' && l.resetAfter === false ? { resetAfter: false } : {}) };
  });
  return { spec: { name: model.name, meta: model.meta, layers: spec }, tensors };
}

/**
 * Rebuild a model from modelToCheckpoint output.
 *
 * @example const model = modelFromCheckpoint(spec, tensors, 'model');
 */
export function modelFromCheckpoint(spec: unknown, tensors: Record<string, Float32Array | Float64Array>, prefix: string): Model {
  const s = spec as { name: string; meta: Record<string, string>; layers: Array<Record<string, unknown>> };
  check(typeof s === 'object' && s !== null && Array.isArray(s.layers), 'E_FORMAT', () => `checkpoint: ${prefix} spec missing (expected {name, meta, layers: [...]})`);
  check(s.layers.length >= 1 && s.layers.length <= MAX_LAYERS, 'E_FORMAT', () => `checkpoint: ${prefix} spec: expected 1 to ${MAX_LAYERS} layers, found ${s.layers.length}`);
  check(typeof s.name === 'string', 'E_FORMAT', () => `checkpoint: ${prefix} spec: name must be a string`);
  check(typeof s.meta === 'object' && s.meta !== null && !Array.isArray(s.meta) && Object.values(s.meta).every((v) => typeof v === 'string'), 'E_FORMAT', () => `checkpoint: ${prefix} spec: meta must be an object of strings`);
  s.layers.forEach((l, k) => {
    check(typeof l === 'object' && l !== null && !Array.isArray(l), 'E_FORMAT', () => `checkpoint: ${prefix} layer ${k} must be an object, found ${JSON.stringify(l)?.slice(0, 40)}`);
    check(l['kind'] === 'gru' || l['kind'] === 'lstm' || l['kind'] === 'linear', 'E_FORMAT', () => `checkpoint: ${prefix} layer ${k}: kind must be gru, lstm or linear, found ${JSON.stringify(l['kind'])?.slice(0, 40)}`);
    if (l['kind'] === 'linear') check(l['activation'] === 'none' || l['activation'] === 'relu' || l['activation'] === 'tanh', 'E_FORMAT', () => `checkpoint: ${prefix} layer ${k}: activation must be none, relu or tanh`);
    for (const f of l['kind'] === 'linear' ? ['inputSize', 'outputSize'] : ['inputSize', 'hiddenSize']) {
      check(Number.isInteger(l[f]) && (l[f] as number) > 0 && (l[f] as number) <= MAX_LAYER_SIZE, 'E_FORMAT', () => `checkpoint: ${prefix} layer ${k}: ${f} must be an integer in 1..${MAX_LAYER_SIZE}, found ${JSON.stringify(l[f])?.slice(0, 20)}`);
    }
  });
  const t = (k: number, n: string): Float32Array => {
    const v = tensors[`${prefix}.${k}.${n}`];
    check(v instanceof Float32Array, 'E_FORMAT', () => `checkpoint: tensor ${prefix}.${k}.${n} missing`);
    return v;
  };
  const layers: Layer[] = s.layers.map((l, k) =>
    l['kind'] === 'linear'
      ? { kind: 'linear', inputSize: l['inputSize'] as number, outputSize: l['outputSize'] as number, activation: l['activation'] as 'none', weight: t(k, 'weight'), bias: t(k, 'bias') }
      : {
          kind: l['kind'] as 'gru', inputSize: l['inputSize'] as number, hiddenSize: l['hiddenSize'] as number, weightIh: t(k, 'weight_ih'), weightHh: t(k, 'weight_hh'), biasIh: t(k, 'bias_ih'), biasHh: t(k, 'bias_hh'),
          ...(l['kind'] === 'gru' && l['resetAfter'] === false ? { resetAfter: false } : {}),
        },
  );
  const model: Model = { name: s.name, layers, meta: { ...s.meta } };
  validateModel(model);
  return model;
}
