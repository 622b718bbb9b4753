/**
 * What the playground runs, without the page: the built-in stream, and one dense and one delta
 * session streamed over the same frames with per-window timing and occupancy.
 * Kept free of the DOM so the browser test can rebuild the same model and stream in Node.
 */
import { createSession, Listener, modelTask, normalizeFeatures, smoothStream, type Model, type SessionOptions, type SessionStats } from '../src/index.js';
import type { KeywordVerifier } from '../src/train/kws-verifier.js';

/** The built-in stream: a smooth random walk per channel (seed, step size). */
export const BUILTIN_STREAM_SEED = 7;
export const BUILTIN_STREAM_STEP = 0.15;

/** Defaults shown in the page's form (a trained model's tuned thresholds replace these). */
export const DEFAULTS = { frames: 2000, thresholdX: 0.1, thresholdH: 0.05, window: 25 } as const;

/**
 * The delta thresholds the form starts with for a model: its tuned ones (meta thresholdX,
 * thresholdH, written by deltakit train and tune) when it has them, else DEFAULTS.
 *
 * @example modelThresholds(digitsModel) // { thresholdX: 0.5, thresholdH: 0.3 }
 */
export function modelThresholds(model: Model): { thresholdX: number; thresholdH: number } {
  const read = (k: string, d: number) => {
    const v = Number(model.meta?.[k]);
    return model.meta?.[k] !== undefined && Number.isFinite(v) && v >= 0 ? v : d;
  };
  return { thresholdX: read('thresholdX', DEFAULTS.thresholdX), thresholdH: read('thresholdH', DEFAULTS.thresholdH) };
}

/**
 * The built-in stream for a model with `inputSize` inputs: (frames, inputSize) flat.
 *
 * @example const x = builtinStream(2000, 40); x.length; // 80000
 */
export function builtinStream(frames: number, inputSize: number): Float32Array {
  return smoothStream(BUILTIN_STREAM_SEED, frames, inputSize, BUILTIN_STREAM_STEP);
}

/** One session's run over the whole stream. */
export interface SessionRun {
  label: 'dense' | 'delta';
  /** What ran each layer (Session.paths), e.g. ['wasm-simd', 'wasm-simd', 'wasm-simd']. */
  paths: string[];
  /** (T, O) flat. */
  outputs: Float32Array;
  occupancy: number;
  occupancyX: number;
  occupancyH: number;
  opsPerFrame: number;
  denseOpsPerFrame: number;
  opsSaving: number;
  /** Wall time of the whole stream / frames, microseconds. */
  usPerFrame: number;
  /** Per window: first frame, microseconds per frame, occupancy of the window. */
  windows: Array<{ start: number; usPerFrame: number; occupancy: number }>;
  /**
   * Latency for plotting: consecutive windows merged until each point spans at least
   * LATENCY_MIN_MS of measured time, so the timer's resolution (0.1 ms or coarser in browsers)
   * never shows as 0 us points, and at most about MAX_POINTS points for any stream length.
   */
  latency: Array<{ start: number; usPerFrame: number }>;
}

/** Most windows a run records (longer streams get longer windows, so plots stay readable). */
export const MAX_POINTS = 400;
/** Shortest measured time one latency point may stand for. */
export const LATENCY_MIN_MS = 1;

/** Fired and possible columns over the delta layers so far (what SessionStats.occupancy divides). */
function columnCounts(s: SessionStats): { fired: number; possible: number } {
  let fired = 0;
  let possible = 0;
  for (const l of s.layers) {
    if (!l.delta) continue;
    fired += l.firedX + l.firedH;
    possible += (l.inputSize + l.outputSize) * s.steps;
  }
  return { fired, possible };
}

/** Frames of the untimed warm-up: the first calls of a fresh session include JIT compilation. */
const WARMUP_FRAMES = 50;

/**
 * Stream `frames` (T*I flat) through a session made with `options`, timing windows of
 * `window` frames. The session is warmed up, then reset, so outputs equal a fresh session's.
 */
export function runSession(label: SessionRun['label'], model: Model, frames: Float32Array, options: SessionOptions, window: number): SessionRun {
  // `window` frames per recorded window, more for long streams (at most MAX_POINTS windows).
  const session = createSession(model, options);
  const I = session.inputSize;
  const O = session.outputSize;
  const T = frames.length / I;
  session.run(frames.subarray(0, Math.min(T, WARMUP_FRAMES) * I));
  session.reset();
  const outputs = new Float32Array(T * O);
  const windows: SessionRun['windows'] = [];
  const spans: Array<{ start: number; frames: number; ms: number }> = [];
  const minFrames = Math.ceil(T / MAX_POINTS);
  window = Math.max(window, minFrames);
  let pending = { start: 0, frames: 0, ms: 0 };
  let elapsed = 0;
  let prev = { fired: 0, possible: 0 };
  for (let t0 = 0; t0 < T; t0 += window) {
    const t1 = Math.min(T, t0 + window);
    const start = performance.now();
    const y = session.run(frames.subarray(t0 * I, t1 * I));
    const ms = performance.now() - start;
    outputs.set(y, t0 * O);
    elapsed += ms;
    const now = columnCounts(session.stats());
    const possible = now.possible - prev.possible;
    windows.push({ start: t0, usPerFrame: (1000 * ms) / (t1 - t0), occupancy: possible > 0 ? (now.fired - prev.fired) / possible : 1 });
    prev = now;
    pending = { start: pending.frames ? pending.start : t0, frames: pending.frames + (t1 - t0), ms: pending.ms + ms };
    if (pending.ms >= LATENCY_MIN_MS) {
      spans.push(pending);
      pending = { start: 0, frames: 0, ms: 0 };
    }
  }
  // The remainder joins the last point (alone it would be below the timer's resolution).
  if (pending.frames) {
    const last = spans.pop();
    spans.push(last ? { start: last.start, frames: last.frames + pending.frames, ms: last.ms + pending.ms } : pending);
  }
  const latency = spans.map((p) => ({ start: p.start, usPerFrame: (1000 * p.ms) / p.frames }));
  const st = session.stats();
  return {
    label,
    paths: session.paths,
    outputs,
    occupancy: st.occupancy,
    occupancyX: st.occupancyX,
    occupancyH: st.occupancyH,
    opsPerFrame: st.ops / T,
    denseOpsPerFrame: st.denseOps / T,
    opsSaving: st.opsSaving,
    usPerFrame: (1000 * elapsed) / T,
    windows,
    latency,
  };
}

/**
 * Microseconds per network step over a recording's segments (frames [start, end) of its raw
 * log-mel `features`), each normalised and run from a fresh state by a delta session with the
 * model's tuned thresholds, frame by frame, after one untimed pass: the network's share of the listening chain,
 * measured the same way in the page and in Node.
 *
 * @example timeSegmentSteps(model, recognizer.segments, rawFeatures) // e.g. 6.5
 */
export function timeSegmentSteps(model: Model, segments: ReadonlyArray<{ start: number; end: number }>, features: Float32Array): number {
  const task = modelTask(model);
  const B = task.stats.mean.length;
  const session = createSession(model, modelThresholds(model));
  const xs = segments.map((s) => normalizeFeatures(features.subarray(s.start * B, s.end * B), task.stats));
  const y = new Float32Array(session.outputSize);
  // Frame by frame, as the recogniser steps (run() over a whole segment may take a faster path).
  const pass = (): number => {
    let ms = 0;
    for (const x of xs) {
      session.reset();
      const t0 = performance.now();
      for (let off = 0; off < x.length; off += B) session.stepInto(x.subarray(off, off + B), y);
      ms += performance.now() - t0;
    }
    return ms;
  };
  pass();
  const steps = xs.reduce((a, x) => a + x.length / B, 0);
  return steps ? (1000 * pass()) / steps : 0;
}

/**
 * Wall time of the whole listening chain (resampler, streaming log-mel, segmentation, network
 * with fired columns recorded) per 10 ms frame, feeding `samples` in chunks of `chunk`: the first
 * pass over a fresh Listener (what a page pays when it starts, compilation included) and the best
 * of `passes` further passes (steady state). Measured the same way in the page and in Node.
 * `verifier` (two-stage keywords) makes a fresh second stage for each pass, so its work on the
 * first stage's candidates is in the time too.
 *
 * @example timeListening(model, audio.samples, audio.sampleRate) // { first: 190, best: 45, frames: 745 }
 */
export function timeListening(model: Model, samples: Float32Array, sampleRate: number, chunk = 1024, passes = 3, verifier?: () => KeywordVerifier): { first: number; best: number; frames: number } {
  const once = (): { us: number; frames: number } => {
    const l = new Listener(model, sampleRate, { ...modelThresholds(model), firedColumns: true, ...(verifier ? { verifier: verifier() } : {}) });
    const t0 = performance.now();
    for (let i = 0; i < samples.length; i += chunk) l.push(samples.subarray(i, i + chunk));
    l.flush();
    const frames = l.recognizer.frames;
    return { us: (1000 * (performance.now() - t0)) / Math.max(1, frames), frames };
  };
  const first = once();
  let best = Infinity;
  for (let p = 0; p < passes; p++) best = Math.min(best, once().us);
  return { first: first.us, best, frames: first.frames };
}
