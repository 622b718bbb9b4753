/**
 * Loading and saving models: one entry point that recognises the file by its content.
 *
 * - deltakit .safetensors (a spec in `__metadata__.deltakit`), see ./format.ts
 * - a plain PyTorch state_dict saved as .safetensors, see ./import/pytorch.ts
 * - ONNX, see ./import/onnx.ts
 * - Keras 3 .keras and Keras 2 .h5, see ./import/keras/
 * - TensorFlow.js layers models (model.json + weight shards), see ./import/tfjs.ts
 *
 * The importers form one registry (IMPORTERS below): each recognises its files by their first
 * bytes, so a file's extension never decides and a renamed file still loads.
 *
 * Node's fs is imported lazily, only when a path is given, so bytes-in/bytes-out works in the browser.
 */
import { asBytes } from '../core/bytes.js';
import { check, DeltakitError, fail } from '../core/errors.js';
import { writeFileSafely } from '../core/files.js';
import { decodeDeltakit, encodeDeltakit, isDeltakitFile } from './format.js';
import { importOnnx } from './import/onnx.js';
import { importKeras3, importKerasH5, looksLikeZip } from './import/keras/keras.js';
import { looksLikeHdf5 } from './import/keras/hdf5.js';
import { importTfjsLayers, looksLikeTfjsJson } from './import/tfjs.js';
import { importPytorchStateDict } from './import/pytorch.js';
import { looksLikeSafetensors, parseSafetensors } from './safetensors.js';
import type { Activation, Model } from './types.js';
import { setModelSource } from './source.js';

/** What a model file turned out to be. */
export type ModelFileKind = 'deltakit' | 'pytorch' | 'onnx' | 'keras' | 'keras-h5' | 'tfjs';

/** What each kind of file is, in words (CLI `info`). */
export const MODEL_FILE_KIND_NAMES: Record<ModelFileKind, string> = {
  deltakit: 'deltakit model (.safetensors with spec)',
  pytorch: 'PyTorch state_dict (.safetensors)',
  onnx: 'ONNX',
  keras: 'Keras 3 (.keras)',
  'keras-h5': 'Keras 2 HDF5 (.h5)',
  tfjs: 'TensorFlow.js layers model (model.json + shards)',
};

export interface LoadModelOptions {
  /** Activation after the Linear readout of a PyTorch state_dict (which does not record it). */
  readoutActivation?: Activation;
  /** Override the model name. */
  name?: string;
  /**
   * Reads a file next to the model (TensorFlow.js weight shards named in model.json). `loadModel`
   * and `loadModelFile` given a path provide it; bytes-only callers pass their own.
   */
  readFile?: (relativePath: string) => Uint8Array;
}

const LOAD_OPTIONS = ['readoutActivation', 'name', 'readFile'];

/** Load options checked like session options: a misspelt or mistyped one was ignored. */
function checkLoadOptions(opts: LoadModelOptions): void {
  check(opts !== null && typeof opts === 'object', 'E_OPTION', () => `load options: expected an object, found ${opts === null ? 'null' : typeof opts}`);
  for (const key of Object.keys(opts)) check(LOAD_OPTIONS.includes(key), 'E_OPTION', () => `load option: expected one of ${LOAD_OPTIONS.join(', ')}, found '${key}'`);
  check(opts.name === undefined || typeof opts.name === 'string', 'E_OPTION', () => `load option name: expected a string, found ${typeof opts.name}`);
  check(opts.readoutActivation === undefined || ['none', 'relu', 'tanh'].includes(opts.readoutActivation), 'E_OPTION', () => `load option readoutActivation: expected none, relu or tanh, found ${JSON.stringify(opts.readoutActivation)}`);
  check(opts.readFile === undefined || typeof opts.readFile === 'function', 'E_OPTION', () => `load option readFile: expected a function, found ${typeof opts.readFile}`);
}

/** A decoded model with the kind of file it came from. */
export interface DecodedModel {
  model: Model;
  kind: ModelFileKind;
}

/**
 * Decode model bytes, recognising the kind by content (safetensors starts with an 8-byte header
 * length followed by `{`; anything else is tried as ONNX protobuf).
 *
 * @example const { model, kind } = decodeModelFile(bytes); // kind: 'deltakit' | 'pytorch' | 'onnx'
 */
export function decodeModelFile(input: Uint8Array | ArrayBuffer, opts: LoadModelOptions = {}): DecodedModel {
  const bytes = asBytes(input, 'model file');
  checkLoadOptions(opts);
  check(bytes.length > 0, 'E_FORMAT', () => 'model file: expected a safetensors, ONNX, Keras or TensorFlow.js file, found 0 bytes');
  // Other deltakit files are recognised by their magic and named, rather than failing later as
  // "not a valid ONNX protobuf".
  const other = otherFileKind(bytes);
  if (other) fail('E_UNSUPPORTED', `model file: this is ${other}, not a model (expected deltakit or PyTorch .safetensors, ONNX, Keras .keras/.h5 or TensorFlow.js model.json)`);
  for (const imp of IMPORTERS) {
    if (imp.sniff(bytes)) {
      const model = imp.decode(bytes, opts);
      if (opts.name !== undefined) model.name = opts.name;
      return { model, kind: imp.kind };
    }
  }
  return decodeSafetensorsOrOnnx(bytes, opts);
}

/** The importers recognised by their first bytes; safetensors and ONNX (no magic) come last. */
const IMPORTERS: Array<{ kind: ModelFileKind; sniff: (b: Uint8Array) => boolean; decode: (b: Uint8Array, o: LoadModelOptions) => Model }> = [
  { kind: 'keras', sniff: looksLikeZip, decode: (b, o) => importKeras3(b, o.name).model },
  { kind: 'keras-h5', sniff: looksLikeHdf5, decode: (b, o) => importKerasH5(b, o.name).model },
  {
    kind: 'tfjs',
    sniff: (b) => !looksLikeSafetensors(b) && looksLikeTfjsJson(b),
    decode: (b, o) => {
      const read = o.readFile ?? ((p: string) => fail('E_OPTION', `tfjs: model.json names weight file ${p.slice(0, 80)}; load it by path (loadModel('model.json')) or pass readFile`));
      return importTfjsLayers(b, read, o.name).model;
    },
  },
];

function decodeSafetensorsOrOnnx(bytes: Uint8Array, opts: LoadModelOptions): DecodedModel {
  if (looksLikeSafetensors(bytes)) {
    const file = parseSafetensors(bytes);
    if (isDeltakitFile(file)) {
      const model = decodeDeltakit(file);
      checkReadoutActivation(model, opts, 'deltakit model file');
      if (opts.name !== undefined) model.name = opts.name;
      return { model, kind: 'deltakit' };
    }
    return { model: importPytorchStateDict(file, opts), kind: 'pytorch' };
  }
  try {
    const model = importOnnx(bytes, opts);
    checkReadoutActivation(model, opts, 'ONNX graph');
    return { model, kind: 'onnx' };
  } catch (e) {
    if (e instanceof DeltakitError && e.code === 'E_FORMAT' && e.message.startsWith('onnx: not a valid ONNX protobuf')) {
      fail('E_FORMAT', `model file: not safetensors (no 8-byte header length followed by a JSON header), Keras (zip or HDF5 signature), TensorFlow.js (model.json) nor ONNX (${e.message})`);
    }
    throw e;
  }
}

/**
 * readoutActivation is for PyTorch state_dicts, which do not record it. ONNX graphs and deltakit
 * files do: a value that disagrees with the file would otherwise be silently ignored (E_MISMATCH);
 * one that agrees is accepted, so one options object serves every kind of file.
 */
function checkReadoutActivation(model: Model, opts: LoadModelOptions, kind: string): void {
  const want = opts.readoutActivation;
  if (want === undefined) return;
  const last = model.layers[model.layers.length - 1]!;
  const has = last.kind === 'linear' ? last.activation : 'no Linear readout';
  check(has === want, 'E_MISMATCH', () => `readoutActivation (CLI: --readout-activation) ${want}: this ${kind} records its readout (${has}); the option applies to PyTorch state_dicts, which do not`);
}

const startsWith = (bytes: Uint8Array, magic: string): boolean => bytes.length >= magic.length && [...magic].every((c, i) => bytes[i] === c.charCodeAt(0));

/** Names deltakit's non-model files (and .npy) by their magic bytes; undefined for anything else. */
function otherFileKind(bytes: Uint8Array): string | undefined {
  if (startsWith(bytes, 'DKCB')) return 'a codebook-compressed model (.dkcb): load it with loadModelOrCompressed from deltakit/compress (the CLI commands run, info, sim, prune and compress accept it directly)';
  if (startsWith(bytes, 'DKCKPT01')) return 'a training checkpoint: resume it with `deltakit train --resume`; the trained model is the --out file';
  if (startsWith(bytes, '\x93NUMPY')) return 'a NumPy .npy array (give it as --input)';
  return undefined;
}

/**
 * Decode model bytes (deltakit safetensors, PyTorch state_dict safetensors, or ONNX).
 *
 * @example const model = decodeModel(new Uint8Array(await (await fetch('m.onnx')).arrayBuffer()));
 */
export function decodeModel(bytes: Uint8Array | ArrayBuffer, opts: LoadModelOptions = {}): Model {
  return decodeModelFile(bytes, opts).model;
}

/** Read a whole file; a missing or unreadable file is E_IO. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    return fail('E_IO', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * Load a model from a path or from bytes; the kind is recognised by content.
 *
 * @example
 * const model = await loadModel('gru.onnx');
 * const same = await loadModel(await readFile('gru.safetensors'));
 */
export async function loadModel(pathOrBytes: string | Uint8Array | ArrayBuffer, opts: LoadModelOptions = {}): Promise<Model> {
  if (typeof pathOrBytes !== 'string') return decodeModel(pathOrBytes, opts);
  return (await loadModelFile(pathOrBytes, opts)).model;
}

/**
 * Load a model file by path, with the kind it turned out to be. Files it names beside it (the
 * weight shards of a TensorFlow.js model.json) are read from its folder; names that leave the
 * folder are refused.
 *
 * @example const { model, kind } = await loadModelFile('web_model/model.json'); // kind 'tfjs'
 */
export async function loadModelFile(path: string, opts: LoadModelOptions = {}): Promise<DecodedModel> {
  const bytes = await readFileBytes(path);
  if (opts.readFile) {
    const decoded = decodeModelFile(bytes, opts);
    setModelSource(decoded.model, path);
    return decoded;
  }
  const { readFileSync } = await import('node:fs');
  const { dirname, join, isAbsolute, normalize } = await import('node:path');
  const dir = dirname(path);
  const readFile = (rel: string): Uint8Array => {
    const n = normalize(rel);
    check(!isAbsolute(n) && !n.startsWith('..'), 'E_FORMAT', () => `${path}: names file ${rel.slice(0, 80)} outside its folder`);
    try {
      const b = readFileSync(join(dir, n));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      return fail('E_IO', `cannot read ${join(dir, n)} (named by ${path}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const decoded = decodeModelFile(bytes, { ...opts, readFile });
  setModelSource(decoded.model, path);
  return decoded;
}

/** Encode a model as a deltakit .safetensors file (spec in the metadata). */
export function encodeModel(model: Model): Uint8Array {
  return encodeDeltakit(model);
}

export { writeFileSafely } from '../core/files.js';

/**
 * Save a model as deltakit .safetensors. Refuses to overwrite an existing file unless
 * `{ overwrite: true }` (E_EXISTS).
 *
 * @example await saveModel(model, 'kws.safetensors', { overwrite: true });
 */
export async function saveModel(model: Model, path: string, opts: { overwrite?: boolean } = {}): Promise<void> {
  await writeFileSafely(path, encodeModel(model), opts);
}
