/**
 * Trace files on disk: a writer that streams chunks to a file as a run goes, and a reader that
 * walks a file chunk by chunk (one chunk in memory at a time), turning each into a simulator
 * workload. Format: ./format.ts and docs/trace-format.md.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { check, fail } from '../../core/errors.js';
import type { Model } from '../../model/types.js';
import type { StepTrace } from '../../runtime/types.js';
import { layerShape, workloadFromTrace, type Workload } from '../workload/workload.js';
import { decodeTraceChunk, decodeTraceHeader, refuseResetBefore, shapeOnlyLayer, stepBytes, TRACE_LIMITS, TraceWriter, type TraceHeader } from './format.js';

/**
 * A TraceWriter whose chunks go to a file as they fill (nothing beyond one chunk is held).
 * Refuses to replace an existing file unless `force`.
 *
 * @example
 * const w = createTraceFileWriter('run.dktrace', { layers: traceLayers(model, true), thresholdX: 0.1, thresholdH: 0.1, source: 'session', bias: false });
 * const s = createSession(model, { thresholdX: 0.1, thresholdH: 0.1, onTrace: (st) => w.write(st) });
 * s.run(frames); w.close();
 */
export function createTraceFileWriter(path: string, header: ConstructorParameters<typeof TraceWriter>[0], options: { force?: boolean } = {}): TraceWriter {
  let fd: number;
  try {
    fd = openSync(path, options.force ? 'w' : 'wx');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') fail('E_EXISTS', `${path} exists: expected a new file (pass --force / force: true to overwrite)`);
    fail('E_IO', `cannot write ${path}: ${code ?? (e as Error).message}`);
  }
  const sink = (b: Uint8Array) => {
    let o = 0;
    while (o < b.length) o += writeSync(fd, b, o, b.length - o);
  };
  let writer: TraceWriter;
  try {
    writer = new TraceWriter(header, sink);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  const close = writer.close.bind(writer);
  writer.close = () => {
    try {
      close();
    } finally {
      closeSync(fd);
    }
  };
  return writer;
}

/** An open trace file: its header, and its chunks read one at a time. */
export interface TraceFile {
  path: string;
  header: TraceHeader;
  fileSize: number;
  /** Chunks in order; `firstStep` is the index of the chunk's first step in the run. */
  chunks(): Generator<{ firstStep: number; steps: StepTrace[] }>;
}

/**
 * Open a trace file and read its header; chunks are read lazily. Every problem with the file is
 * a coded error (E_IO, E_FORMAT, E_LIMIT, E_UNSUPPORTED); no read is larger than what the header
 * and the file size allow.
 *
 * @example for (const c of openTraceFile('run.dktrace').chunks()) console.log(c.firstStep, c.steps.length);
 */
export function openTraceFile(path: string): TraceFile {
  const fd = openFd(path);
  let header: TraceHeader;
  let offset: number;
  let fileSize: number;
  try {
    fileSize = fstatSync(fd).size;
    const prefix = readExactly(fd, 0, Math.min(fileSize, 16), path);
    const hdrLen = prefix.length >= 16 ? new DataView(prefix.buffer, prefix.byteOffset).getUint32(12, true) : 0;
    const want = Math.min(fileSize, 16 + Math.min(hdrLen, TRACE_LIMITS.headerBytes));
    ({ header, offset } = decodeTraceHeader(readExactly(fd, 0, want, path), fileSize, path));
  } finally {
    closeSync(fd);
  }
  const h = header;
  const start = offset;
  const size = fileSize;
  return {
    path,
    header: h,
    fileSize: size,
    *chunks() {
      const fd2 = openFd(path);
      try {
        let o = start;
        let firstStep = 0;
        const sb = stepBytes(h);
        for (;;) {
          check(o + 8 <= size, 'E_FORMAT', () => `${path}: cut short at byte ${o}: expected a chunk or the end marker (was the run interrupted before the trace was closed?)`);
          const p = readExactly(fd2, o, 8, path);
          const dv = new DataView(p.buffer, p.byteOffset, 8);
          const steps = dv.getUint32(0, true);
          const n = dv.getUint32(4, true);
          if (steps === 0) {
            check(n === 0, 'E_FORMAT', () => `${path}: end marker with a length of ${n}, expected 0`);
            check(o + 8 === size, 'E_FORMAT', () => `${path}: ${size - o - 8} bytes after the end marker`);
            return;
          }
          check(steps <= h.chunkSteps, 'E_LIMIT', () => `${path}: chunk at byte ${o} has ${steps} steps, the header allows ${h.chunkSteps}`);
          // zlib never grows data by more than ~0.1 % plus a few bytes: a longer chunk is corrupt.
          const maxZ = sb * steps + Math.ceil((sb * steps) / 100) + 64;
          check(n <= maxZ, 'E_LIMIT', () => `${path}: chunk at byte ${o} claims ${n} compressed bytes for ${steps} steps of ${sb} bytes (at most ${maxZ})`);
          check(o + 8 + n <= size, 'E_FORMAT', () => `${path}: chunk at byte ${o} claims ${n} bytes, the file has ${size - o - 8} left`);
          const decoded = decodeTraceChunk(h, steps, readExactly(fd2, o + 8, n, path), `${path} (chunk at byte ${o})`);
          yield { firstStep, steps: decoded };
          firstStep += steps;
          o += 8 + n;
        }
      } finally {
        closeSync(fd2);
      }
    },
  };
}

function openFd(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    fail('E_IO', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readExactly(fd: number, position: number, n: number, path: string): Uint8Array {
  const buf = new Uint8Array(n);
  let o = 0;
  while (o < n) {
    let r: number;
    try {
      r = readSync(fd, buf, o, n - o, position + o);
    } catch (e) {
      // A directory opens but does not read (EISDIR); so do files on failing disks (EIO).
      fail('E_IO', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (r === 0) fail('E_FORMAT', `${path}: cut short at byte ${position + o}`);
    o += r;
  }
  return buf;
}

/**
 * The model a trace replays on: the given one (its shapes must match the header: E_MISMATCH),
 * or, without one, shape-only layers whose every weight counts as nonzero.
 *
 * @example const model = traceModel(file.header); // no weights: dense-weight costs
 */
export function traceModel(header: TraceHeader, model?: Model): Model {
  if (!model) return { name: header.note ?? 'trace', layers: header.layers.map(shapeOnlyLayer), meta: { shapeOnly: 'true' } };
  check(model.layers.length === header.layers.length, 'E_MISMATCH', () => `trace: the header has ${header.layers.length} layers, the model ${model.layers.length}`);
  header.layers.forEach((l, k) => {
    const m = model.layers[k]!;
    if (l.traced && m.kind === 'gru') refuseResetBefore(m, k);
    const a = layerShape(m);
    const b = layerShape(shapeOnlyLayer(l));
    check(m.kind === l.kind && a.rows === b.rows && a.xCols === b.xCols && a.hCols === b.hCols, 'E_MISMATCH', () => `trace: layer ${k} is ${l.kind} ${l.inputSize} -> ${l.hiddenSize ?? l.outputSize} in the trace, ${m.kind} ${m.inputSize} -> ${'hiddenSize' in m ? m.hiddenSize : m.outputSize} in the model`);
  });
  return model;
}

/**
 * A trace file's chunks as simulator workloads, one at a time (feed them to simulateStream).
 *
 * @example const r = simulateStream(traceFileWorkloads(openTraceFile('run.dktrace')), 'edgedrnn');
 */
export function* traceFileWorkloads(file: TraceFile, model?: Model): Generator<Workload> {
  const m = traceModel(file.header, model);
  const h = file.header;
  const anyTraced = h.layers.some((l) => l.traced);
  const source: Workload['source'] = !anyTraced ? 'dense' : h.source === 'external' ? 'trace-file' : h.source;
  for (const c of file.chunks()) {
    yield workloadFromTrace(m, c.steps, { thresholdX: anyTraced ? h.thresholdX : null, thresholdH: anyTraced ? h.thresholdH : null }, source, { firstStep: c.firstStep });
  }
}
