/**
 * Keras model files: Keras 3 `.keras` (a zip of config.json, metadata.json, model.weights.h5) and
 * Keras 2 `.h5` (`model.save('m.h5')`: attribute model_config, group model_weights). The layer
 * mapping is in ./layers.ts; HDF5 reading in ./hdf5.ts.
 *
 * Weights: Keras 3 stores layer k's variables at layers/<name>/vars/<i> (Dense) or
 * layers/<name>/cell/vars/<i> (RNN layers: the cell owns them), i in Keras' order kernel,
 * recurrent_kernel, bias. Keras 2 lists layer_names on model_weights, weight_names on each layer
 * group (fixed-length byte strings, e.g. gru/gru_cell/kernel:0) and stores each weight at
 * model_weights/<layer>/<weight name>.
 */
import { asBytes } from '../../../core/bytes.js';
import { unzipSync } from 'fflate';
import { check, fail } from '../../../core/errors.js';
import { Hdf5 } from './hdf5.js';
import { modelFromKeras, type KerasImport, type KerasTensor } from './layers.js';

/** Zip files start with a local file header. */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Unzipped entries may be at most this many times the archive (plus 1 MiB): a zip bomb stops here. */
const MAX_INFLATE_RATIO = 64;

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail('E_FORMAT', `${where}: not valid JSON (${(e as Error).message.slice(0, 80)})`);
  }
}

/**
 * Import a Keras 3 `.keras` file.
 *
 * @example const { model } = importKeras3(new Uint8Array(await readFile('m.keras')));
 */
export function importKeras3(bytes: Uint8Array, name?: string): KerasImport {
  bytes = asBytes(bytes, 'keras');
  const where = 'keras';
  check(looksLikeZip(bytes), 'E_FORMAT', () => `${where}: expected a .keras zip archive (PK header), found other bytes`);
  const budget = MAX_INFLATE_RATIO * bytes.length + (1 << 20);
  let entries: Record<string, Uint8Array>;
  try {
    let total = 0;
    entries = unzipSync(bytes, {
      filter: (f) => {
        if (f.name !== 'config.json' && f.name !== 'model.weights.h5' && f.name !== 'metadata.json') return false;
        total += f.originalSize;
        check(total <= budget, 'E_LIMIT', () => `${where}: entries inflate to more than ${budget} bytes for a ${bytes.length}-byte archive`);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'string' && String((e as { code: string }).code).startsWith('E_')) throw e;
    return fail('E_FORMAT', `${where}: malformed zip archive (${e instanceof Error ? e.message.slice(0, 80) : String(e)})`);
  }
  const cfg = entries['config.json'];
  const h5 = entries['model.weights.h5'];
  check(cfg !== undefined, 'E_FORMAT', () => `${where}: config.json not found in the archive`);
  check(h5 !== undefined, 'E_FORMAT', () => `${where}: model.weights.h5 not found in the archive`);
  const config = parseJson(new TextDecoder().decode(cfg), `${where} config.json`);
  const file = new Hdf5(h5, `${where} model.weights.h5`);
  const weightsOf = (layer: string): KerasTensor[] | undefined => {
    for (const base of [`layers/${layer}/cell/vars`, `layers/${layer}/vars`]) {
      const keys = file.keys(base).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
      if (keys.length > 0) return keys.map((k) => file.tensor(`${base}/${k}`));
    }
    return undefined;
  };
  // Keras 3 defines hard_sigmoid as relu6(x + 3) / 6, i.e. slope 1/6 (Keras 2: 0.2).
  const out = modelFromKeras(config, weightsOf, where, name, 1 / 6);
  const meta = entries['metadata.json'] ? (parseJson(new TextDecoder().decode(entries['metadata.json']), `${where} metadata.json`) as Record<string, unknown>) : {};
  out.model.meta = { source: 'keras', ...(typeof meta.keras_version === 'string' ? { kerasVersion: meta.keras_version } : {}), ...out.model.meta };
  return out;
}

/**
 * Import a Keras 2 `.h5` model file (architecture and weights).
 *
 * @example const { model } = importKerasH5(new Uint8Array(await readFile('m.h5')));
 */
export function importKerasH5(bytes: Uint8Array, name?: string): KerasImport {
  bytes = asBytes(bytes, 'keras h5');
  const where = 'keras h5';
  const file = new Hdf5(bytes, where);
  const cfgText = file.attrString('', 'model_config');
  check(cfgText !== undefined, 'E_UNSUPPORTED', () => `${where}: no model_config attribute: a weights-only file (save_weights) has no architecture; save the model with model.save('m.h5')`);
  const config = parseJson(cfgText, `${where} model_config`);
  const root = file.has('model_weights') ? 'model_weights' : '';
  const weightsOf = (layer: string): KerasTensor[] | undefined => {
    const names = file.attrStrings(`${root ? root + '/' : ''}${layer}`, 'weight_names');
    if (!names) return undefined;
    return names.map((n) => file.tensor(`${root ? root + '/' : ''}${layer}/${n}`, n));
  };
  const out = modelFromKeras(config, weightsOf, where, name);
  const kv = file.attrString('', 'keras_version');
  out.model.meta = { source: 'keras-h5', ...(kv ? { kerasVersion: kv } : {}), ...out.model.meta };
  return out;
}
