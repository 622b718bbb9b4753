/**
 * Trace files: what a run fired, step by step, in a chunked binary file any tool can write
 * (deltakit sessions, the EdgeDRNN fixed-point machine, an architect's own RTL or Python model),
 * and that the simulator replays in bounded memory, one chunk at a time (docs/trace-format.md).
 *
 * Why binary and not NDJSON: a 2-layer 768-unit GRU is 384 bytes of bitmaps per step, about 40
 * bytes per step once deflated at 10 % firing, where NDJSON indices take ~600 bytes per step and
 * a parse per line; 10^6 steps stay a few tens of MB. Bitmaps are trivial to write from any tool
 * (numpy: `np.packbits(fired, bitorder='little')`), need no ordering rules, and every step has the
 * same size, so a reader knows each chunk's exact size before inflating it.
 *
 * Layout (little-endian):
 *   magic    8 bytes  "DKTRACE" 0x00
 *   version  u32      1
 *   hdrLen   u32      length of the header JSON (at most 1 MiB)
 *   header   UTF-8 JSON (TraceHeader)
 *   chunks   repeated: u32 steps (1..header.chunkSteps), u32 bytes, then `bytes` of zlib (RFC 1950)
 *            data inflating to exactly steps * stepBytes(header)
 *   end      u32 0, u32 0 (a file without it was cut short)
 * Uncompressed step record: for each traced layer in model order: one byte bias flag (0/1, only
 * when header.bias), ceil(I/8) bytes input bitmap, ceil(H/8) bytes hidden bitmap; element i is bit
 * (i & 7) of byte (i >> 3), least significant bit first; bits past I (H) must be 0.
 *
 * Version 1 has no field for a reset-before GRU's third column group (q = r*h, StepTrace.firedQ),
 * so a delta reset-before GRU is refused with E_UNSUPPORTED when a trace is written or replayed
 * on such a model, rather than written without its q firings (the simulator would then under-count
 * W_hn's fetches). Simulate those models from the session directly (WorkloadBuilder / onTrace).
 */
import { asBytes } from '../../core/bytes.js';
import { deflateSync, inflateSync } from 'node:zlib';
import { check, fail } from '../../core/errors.js';
import type { Layer, Model } from '../../model/types.js';
import type { LayerStepTrace, StepTrace } from '../../runtime/types.js';
import { isResetAfter } from '../../cells/gru/definition.js';

export const TRACE_MAGIC = Uint8Array.from([0x44, 0x4b, 0x54, 0x52, 0x41, 0x43, 0x45, 0x00]); // "DKTRACE\0"
export const TRACE_VERSION = 1;
/** Bounds a reader enforces before allocating anything. */
export const TRACE_LIMITS = Object.freeze({ headerBytes: 1 << 20, chunkSteps: 65_536, chunkBytes: 64 << 20, layers: 64, layerSize: 1 << 16 });

/** One layer of the traced network: its shape, and whether its firing is recorded per step. */
export interface TraceLayer {
  kind: 'gru' | 'lstm' | 'sru' | 'qrnn' | 'linear';
  inputSize: number;
  /** GRU, LSTM, SRU, QRNN. */
  hiddenSize?: number;
  /** Linear. */
  outputSize?: number;
  /** QRNN: 1 or 2. */
  window?: number;
  /** True for delta layers (GRU/LSTM run with thresholds): their bitmaps are in every step. Others ran dense. */
  traced: boolean;
}

export interface TraceHeader {
  format: 'deltakit-trace';
  version: 1;
  layers: TraceLayer[];
  /** Thresholds the run used (null: unknown or dense). */
  thresholdX: number | null;
  thresholdH: number | null;
  /** Who recorded it: a float session, the EdgeDRNN fixed-point machine, or another tool. */
  source: 'session' | 'fixed-point' | 'external';
  /** Whether each traced layer's step record starts with the EdgeDRNN bias pseudo-column flag. */
  bias: boolean;
  /** Most steps in one chunk. */
  chunkSteps: number;
  /** Free text (model name, tool, date). */
  note?: string;
}

/** Bytes of one step record. */
export function stepBytes(h: Pick<TraceHeader, 'layers' | 'bias'>): number {
  let n = 0;
  for (const l of h.layers) if (l.traced) n += (h.bias ? 1 : 0) + Math.ceil(l.inputSize / 8) + Math.ceil((l.hiddenSize ?? 0) / 8);
  return n;
}

/** The trace header's layer list for a model (traced: the delta GRU/LSTM layers). */
export function traceLayers(model: Model, delta: boolean): TraceLayer[] {
  return model.layers.map((l, k) => {
    const traced = delta && (l.kind === 'gru' || l.kind === 'lstm');
    if (traced && l.kind === 'gru') refuseResetBefore(l, k);
    if (l.kind === 'linear') return { kind: 'linear', inputSize: l.inputSize, outputSize: l.outputSize, traced: false };
    if (l.kind === 'qrnn') return { kind: 'qrnn', inputSize: l.inputSize, hiddenSize: l.hiddenSize, window: l.window, traced: false };
    return { kind: l.kind, inputSize: l.inputSize, hiddenSize: l.hiddenSize, traced };
  });
}

/**
 * A delta reset-before GRU cannot go into a version-1 trace file: the file has no q = r*h bitmap.
 *
 * @example if (layer.kind === 'gru') refuseResetBefore(layer, 0);
 */
export function refuseResetBefore(layer: Layer & { kind: 'gru' }, k: number): void {
  check(
    isResetAfter(layer),
    'E_UNSUPPORTED',
    () => `trace file: layer ${k} is a reset-before GRU (linear_before_reset=0 / reset_after=False), whose q = r*h firings trace format version ${TRACE_VERSION} cannot carry; simulate it from the model directly (deltakit sim without --trace), or run it dense`,
  );
}

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Check a parsed header (E_FORMAT naming the field); returns it typed. */
export function validateTraceHeader(raw: unknown, where = 'trace'): TraceHeader {
  const bad = (what: string): never => fail('E_FORMAT', `${where}: header ${what}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(`expected a JSON object, found ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  const h = raw as Record<string, unknown>;
  if (h.format !== 'deltakit-trace') bad(`format: expected "deltakit-trace", found ${JSON.stringify(h.format)}`);
  if (h.version !== TRACE_VERSION) bad(`version: expected ${TRACE_VERSION}, found ${JSON.stringify(h.version)}`);
  if (!Array.isArray(h.layers) || h.layers.length < 1 || h.layers.length > TRACE_LIMITS.layers) bad(`layers: expected an array of 1..${TRACE_LIMITS.layers} layers, found ${JSON.stringify(h.layers)?.slice(0, 80)}`);
  const layers = (h.layers as unknown[]).map((l, k): TraceLayer => {
    if (typeof l !== 'object' || l === null) bad(`layers[${k}]: expected an object`);
    const o = l as Record<string, unknown>;
    const kinds = ['gru', 'lstm', 'sru', 'qrnn', 'linear'];
    if (typeof o.kind !== 'string' || !kinds.includes(o.kind)) bad(`layers[${k}].kind: expected one of ${kinds.join(', ')}, found ${JSON.stringify(o.kind)}`);
    const kind = o.kind as TraceLayer['kind'];
    if (!isInt(o.inputSize, 1, TRACE_LIMITS.layerSize)) bad(`layers[${k}].inputSize: expected an integer in 1..${TRACE_LIMITS.layerSize}, found ${JSON.stringify(o.inputSize)}`);
    if (typeof o.traced !== 'boolean') bad(`layers[${k}].traced: expected true or false, found ${JSON.stringify(o.traced)}`);
    const out: TraceLayer = { kind, inputSize: o.inputSize as number, traced: o.traced as boolean };
    if (kind === 'linear') {
      if (!isInt(o.outputSize, 1, TRACE_LIMITS.layerSize)) bad(`layers[${k}].outputSize: expected an integer in 1..${TRACE_LIMITS.layerSize}, found ${JSON.stringify(o.outputSize)}`);
      out.outputSize = o.outputSize as number;
    } else {
      if (!isInt(o.hiddenSize, 1, TRACE_LIMITS.layerSize)) bad(`layers[${k}].hiddenSize: expected an integer in 1..${TRACE_LIMITS.layerSize}, found ${JSON.stringify(o.hiddenSize)}`);
      out.hiddenSize = o.hiddenSize as number;
    }
    if (kind === 'qrnn') {
      if (o.window !== 1 && o.window !== 2) bad(`layers[${k}].window: expected 1 or 2, found ${JSON.stringify(o.window)}`);
      out.window = o.window as number;
    }
    if (out.traced && kind !== 'gru' && kind !== 'lstm') bad(`layers[${k}]: only gru and lstm layers can be traced (delta layers), found traced ${kind}`);
    if (k > 0) {
      const prev = (h.layers as TraceLayer[])[k - 1]!;
      const prevOut = prev.kind === 'linear' ? prev.outputSize : prev.hiddenSize;
      if (prevOut !== out.inputSize) bad(`layers[${k}].inputSize: expected ${prevOut} (the output of layer ${k - 1}), found ${out.inputSize}`);
    }
    return out;
  });
  const th = (name: 'thresholdX' | 'thresholdH'): number | null => {
    const v = h[name];
    if (v === null || v === undefined) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(`${name}: expected a number >= 0 or null, found ${JSON.stringify(v)}`);
    return v as number;
  };
  const sources = ['session', 'fixed-point', 'external'];
  if (typeof h.source !== 'string' || !sources.includes(h.source)) bad(`source: expected one of ${sources.join(', ')}, found ${JSON.stringify(h.source)}`);
  if (typeof h.bias !== 'boolean') bad(`bias: expected true or false, found ${JSON.stringify(h.bias)}`);
  if (!isInt(h.chunkSteps, 1, TRACE_LIMITS.chunkSteps)) bad(`chunkSteps: expected an integer in 1..${TRACE_LIMITS.chunkSteps}, found ${JSON.stringify(h.chunkSteps)}`);
  if (h.note !== undefined && typeof h.note !== 'string') bad(`note: expected a string, found ${typeof h.note}`);
  const header: TraceHeader = {
    format: 'deltakit-trace',
    version: 1,
    layers,
    thresholdX: th('thresholdX'),
    thresholdH: th('thresholdH'),
    source: h.source as TraceHeader['source'],
    bias: h.bias as boolean,
    chunkSteps: h.chunkSteps as number,
    ...(typeof h.note === 'string' ? { note: h.note } : {}),
  };
  const sb = stepBytes(header);
  if (sb * header.chunkSteps > TRACE_LIMITS.chunkBytes) bad(`chunkSteps: ${header.chunkSteps} steps of ${sb} bytes exceed the ${TRACE_LIMITS.chunkBytes}-byte chunk limit`);
  return header;
}

/** The file's first bytes (magic, version, header). */
export function encodeTraceHeader(h: TraceHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(validateTraceHeader(h, 'trace writer')));
  const out = new Uint8Array(16 + json.length);
  out.set(TRACE_MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, TRACE_VERSION, true);
  dv.setUint32(12, json.length, true);
  out.set(json, 16);
  return out;
}

/**
 * Parse the fixed prefix and header from the start of a file. `fileSize` bounds the header
 * length; returns the header and where the chunks start.
 */
export function decodeTraceHeader(prefix: Uint8Array, fileSize: number, where = 'trace'): { header: TraceHeader; offset: number } {
  prefix = asBytes(prefix, where);
  check(prefix.length >= 16, 'E_FORMAT', () => `${where}: expected at least 16 bytes (magic, version, header length), found ${prefix.length}`);
  for (let i = 0; i < 8; i++) {
    if (prefix[i] !== TRACE_MAGIC[i]) fail('E_FORMAT', `${where}: not a deltakit trace file (expected the magic "DKTRACE\\0" at byte 0)`);
  }
  const dv = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const version = dv.getUint32(8, true);
  check(version === TRACE_VERSION, 'E_UNSUPPORTED', () => `${where}: trace format version ${version}; this deltakit reads version ${TRACE_VERSION}`);
  const n = dv.getUint32(12, true);
  check(n <= TRACE_LIMITS.headerBytes && 16 + n <= fileSize, 'E_LIMIT', () => `${where}: header length ${n} exceeds ${Math.min(TRACE_LIMITS.headerBytes, fileSize - 16)} (the limit or what the file holds)`);
  check(prefix.length >= 16 + n, 'E_FORMAT', () => `${where}: header cut short: expected ${n} bytes, found ${prefix.length - 16}`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(16, 16 + n)));
  } catch (e) {
    fail('E_FORMAT', `${where}: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  return { header: validateTraceHeader(raw, where), offset: 16 + n };
}

/** Encode steps into one chunk (its 8-byte prefix included). */
export function encodeTraceChunk(h: TraceHeader, steps: readonly StepTrace[]): Uint8Array {
  check(steps.length >= 1 && steps.length <= h.chunkSteps, 'E_VALUE', () => `trace chunk: expected 1..${h.chunkSteps} steps, found ${steps.length}`);
  const sb = stepBytes(h);
  const raw = new Uint8Array(sb * steps.length);
  let o = 0;
  steps.forEach((st, t) => {
    check(st.length === h.layers.length, 'E_SHAPE', () => `trace step ${t}: expected ${h.layers.length} layers, found ${st.length}`);
    h.layers.forEach((l, k) => {
      const e = st[k];
      if (!l.traced) return;
      check(e !== null && e !== undefined, 'E_SHAPE', () => `trace step ${t}: layer ${k} is traced but has no entry`);
      if (h.bias) raw[o++] = e.bias ? 1 : 0;
      o = setBits(raw, o, e.firedX, l.inputSize, `step ${t} layer ${k} input`);
      o = setBits(raw, o, e.firedH, l.hiddenSize!, `step ${t} layer ${k} hidden`);
    });
  });
  const z = deflateSync(raw);
  const out = new Uint8Array(8 + z.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, steps.length, true);
  dv.setUint32(4, z.length, true);
  out.set(z, 8);
  return out;
}

function setBits(raw: Uint8Array, o: number, idx: ArrayLike<number>, n: number, what: string): number {
  for (let q = 0; q < idx.length; q++) {
    const i = idx[q]!;
    if (!(Number.isInteger(i) && i >= 0 && i < n)) fail('E_VALUE', `trace ${what}: index ${i} outside 0..${n - 1}`);
    raw[o + (i >> 3)]! |= 1 << (i & 7);
  }
  return o + Math.ceil(n / 8);
}

/** The end-of-trace marker. */
export const TRACE_END = new Uint8Array(8);

/**
 * Decode one chunk's compressed bytes into steps. Inflation is capped at the exact size the
 * header implies, so a corrupt or hostile chunk cannot allocate more than that.
 */
export function decodeTraceChunk(h: TraceHeader, steps: number, z: Uint8Array, where = 'trace'): StepTrace[] {
  const sb = stepBytes(h);
  const want = sb * steps;
  let raw: Uint8Array;
  try {
    raw = want === 0 ? new Uint8Array(0) : inflateSync(z, { maxOutputLength: want });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail('E_FORMAT', `${where}: chunk does not inflate to ${want} bytes (${code === 'ERR_BUFFER_TOO_LARGE' ? 'more data than its steps hold' : (e as Error).message})`);
  }
  check(raw.length === want, 'E_FORMAT', () => `${where}: chunk of ${steps} steps inflates to ${raw.length} bytes, expected ${want}`);
  const out: StepTrace[] = [];
  let o = 0;
  const xs = new Int32Array(TRACE_LIMITS.layerSize);
  for (let t = 0; t < steps; t++) {
    const st: StepTrace = [];
    for (let k = 0; k < h.layers.length; k++) {
      const l = h.layers[k]!;
      if (!l.traced) {
        st.push(null);
        continue;
      }
      let bias: boolean | undefined;
      if (h.bias) {
        const b = raw[o++]!;
        check(b <= 1, 'E_FORMAT', () => `${where}: step ${t} layer ${k}: bias flag must be 0 or 1, found ${b}`);
        bias = b === 1;
      }
      const [firedX, o1] = readBits(raw, o, l.inputSize, xs, `${where}: step ${t} layer ${k} input bitmap`);
      const [firedH, o2] = readBits(raw, o1, l.hiddenSize!, xs, `${where}: step ${t} layer ${k} hidden bitmap`);
      o = o2;
      const e: LayerStepTrace = { firedX, firedH };
      if (bias !== undefined) e.bias = bias;
      st.push(e);
    }
    out.push(st);
  }
  return out;
}

function readBits(raw: Uint8Array, o: number, n: number, scratch: Int32Array, what: string): [Int32Array, number] {
  const bytes = Math.ceil(n / 8);
  let c = 0;
  for (let b = 0; b < bytes; b++) {
    let v = raw[o + b]!;
    if (v === 0) continue;
    if (b === bytes - 1 && n % 8 !== 0 && v >> (n % 8) !== 0) fail('E_FORMAT', `${what}: bits past element ${n - 1} are set`);
    while (v !== 0) {
      const bit = 31 - Math.clz32(v & -v);
      scratch[c++] = b * 8 + bit;
      v &= v - 1;
    }
  }
  return [scratch.slice(0, c), o + bytes];
}

/**
 * Read a whole trace held in memory (tests, small files, the fuzz harness). Every malformed input
 * is a DeltakitError (E_FORMAT, E_LIMIT, E_UNSUPPORTED), never another exception.
 *
 * @example const { header, steps } = readTrace(new Uint8Array(readFileSync('run.dktrace')));
 */
export function readTrace(bytes: Uint8Array, where = 'trace'): { header: TraceHeader; steps: StepTrace[] } {
  bytes = asBytes(bytes, where);
  const { header, offset } = decodeTraceHeader(bytes, bytes.length, where);
  const steps: StepTrace[] = [];
  let o = offset;
  for (;;) {
    const c = readChunkAt(header, bytes, o, where);
    if (c === null) {
      o += 8;
      break;
    }
    for (const st of c.steps) steps.push(st);
    o = c.next;
  }
  check(o === bytes.length, 'E_FORMAT', () => `${where}: ${bytes.length - o} bytes after the end marker`);
  return { header, steps };
}

function readChunkAt(h: TraceHeader, bytes: Uint8Array, o: number, where: string): { steps: StepTrace[]; next: number } | null {
  check(o + 8 <= bytes.length, 'E_FORMAT', () => `${where}: cut short at byte ${o}: expected a chunk or the end marker`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + o, 8);
  const steps = dv.getUint32(0, true);
  const n = dv.getUint32(4, true);
  if (steps === 0) {
    check(n === 0, 'E_FORMAT', () => `${where}: end marker with a length of ${n}, expected 0`);
    return null;
  }
  check(steps <= h.chunkSteps, 'E_LIMIT', () => `${where}: chunk at byte ${o} has ${steps} steps, the header allows ${h.chunkSteps}`);
  check(o + 8 + n <= bytes.length, 'E_FORMAT', () => `${where}: chunk at byte ${o} claims ${n} bytes, the file has ${bytes.length - o - 8} left`);
  return { steps: decodeTraceChunk(h, steps, bytes.subarray(o + 8, o + 8 + n), `${where} (chunk at byte ${o})`), next: o + 8 + n };
}

/**
 * Writes a trace chunk by chunk: at most chunkSteps steps are held, then deflated and handed to
 * the sink. `close()` flushes and writes the end marker.
 *
 * @example
 * const chunks: Uint8Array[] = [];
 * const w = new TraceWriter(header, (b) => chunks.push(b));
 * const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.1, onTrace: (st) => w.write(st) });
 * s.run(frames); w.close();
 */
export class TraceWriter {
  private pending: StepTrace[] = [];
  private closed = false;
  stepsWritten = 0;
  readonly header: TraceHeader;

  constructor(
    header: Omit<TraceHeader, 'format' | 'version' | 'chunkSteps'> & { chunkSteps?: number },
    private readonly sink: (bytes: Uint8Array) => void,
  ) {
    this.header = { format: 'deltakit-trace', version: 1, ...header, chunkSteps: header.chunkSteps ?? 4096 };
    this.sink(encodeTraceHeader(this.header));
  }

  /** Append one step (copied: the caller may reuse its arrays). */
  write(step: StepTrace): void {
    check(!this.closed, 'E_OPTION', () => 'TraceWriter: write after close()');
    check(step.length === this.header.layers.length, 'E_SHAPE', () => `trace step: expected ${this.header.layers.length} layers, found ${step.length}`);
    step.forEach((e, k) => {
      check(!e?.firedQ, 'E_UNSUPPORTED', () => `trace file: layer ${k} records q = r*h firings (a reset-before GRU), which trace format version ${TRACE_VERSION} cannot carry; simulate it from the model directly`);
    });
    this.pending.push(step.map((e) => (e ? { firedX: Int32Array.from(e.firedX), firedH: Int32Array.from(e.firedH), ...(e.bias !== undefined ? { bias: e.bias } : {}) } : null)));
    this.stepsWritten++;
    if (this.pending.length >= this.header.chunkSteps) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.sink(encodeTraceChunk(this.header, this.pending));
    this.pending = [];
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.sink(TRACE_END);
    this.closed = true;
  }
}

/** A shape-only layer (no weights) for replaying a trace without its model: every weight counts as nonzero. */
export function shapeOnlyLayer(l: TraceLayer): Layer {
  const e = new Float32Array(0);
  switch (l.kind) {
    case 'gru':
    case 'lstm':
      return { kind: l.kind, inputSize: l.inputSize, hiddenSize: l.hiddenSize!, weightIh: e, weightHh: e, biasIh: e, biasHh: e };
    case 'sru':
      return { kind: 'sru', inputSize: l.inputSize, hiddenSize: l.hiddenSize!, weight: e, bias: e };
    case 'qrnn':
      return { kind: 'qrnn', inputSize: l.inputSize, hiddenSize: l.hiddenSize!, window: l.window as 1 | 2, weight: e, bias: e };
    case 'linear':
      return { kind: 'linear', inputSize: l.inputSize, outputSize: l.outputSize!, weight: e, bias: e, activation: 'none' };
  }
}
