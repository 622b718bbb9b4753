/**
 * Voice activity from the log-mel frames themselves: where speech starts and ends in a stream,
 * decided frame by frame with a bounded delay, so an isolated-word model can classify each word
 * of a continuous stream (a microphone, a recording of several words with pauses).
 *
 * Each band has a noise floor that follows the band's log-mel value down at once and up slowly
 * (`floorRiseDb` per frame), so it sits on the quietest recent frames. A frame is speech when its
 * bands exceed their floors by `marginDb` on average: per band, so that coloured noise (brown
 * noise puts most of its energy in a few low bands, where it hides speech from the total energy)
 * does not mask speech in the bands where the noise is weak; and in the log domain, so the
 * decision does not depend on the loudness (measured: the same words at -20 and +10 dB). The
 * margin, 8 dB, was chosen on the built-in model's validation voices (6 dB lets noise through,
 * 10-15 dB start to miss quiet words; bench/listen-accuracy.ts --validation). A segment starts
 * after `minSpeech` speech frames in a row and reaches back `preRoll` frames before the first of
 * them (the models were trained on words with 50-300 ms of
 * background before and after); it ends once `hangover` frames in a row are not speech, those
 * frames included (so a segment is final on its last frame, and no frame past it is needed).
 * Pauses inside a word ("six", "eight" have stop closures of 50-100 ms) are shorter than the
 * default hangover of 200 ms. The frame's total energy (log-sum-exp over the bands) and its
 * floor are kept for display.
 */
import { checkFiniteSamples } from '../core/bytes.js';
import { check } from '../core/errors.js';

export interface SegmenterOptions {
  /** Speech: the bands exceed their noise floors by this many dB on average. Default 8. */
  marginDb?: number;
  /** Speech frames in a row that start a segment. Default 3 (30 ms). */
  minSpeech?: number;
  /** Non-speech frames in a row that end a segment (kept in it). Default 20 (200 ms). */
  hangover?: number;
  /** Frames before the first speech frame included in a segment. Default 15 (150 ms). */
  preRoll?: number;
  /** Longest segment in frames; a longer one is cut there. Default 500 (5 s). */
  maxFrames?: number;
  /** Rise of the noise floor per frame, in dB. Default 0.02 (2 dB per second). */
  floorRiseDb?: number;
}

/** A segment of frames [start, end) of the stream. */
export interface Segment {
  start: number;
  end: number;
  /** Frames in it judged speech. */
  speechFrames: number;
}

/** What one frame changed: a segment started (frames from `start` belong to it), or ended. */
export type SegmentEvent = { kind: 'start'; start: number } | ({ kind: 'end' } & Segment);

const DB = Math.LN10 / 10; // natural-log power units per dB

/** Resolved segmenter options (defaults filled in, checked). */
const SEGMENTER_OPTIONS = ['marginDb', 'minSpeech', 'hangover', 'preRoll', 'maxFrames', 'floorRiseDb'];

export function segmenterOptions(o: SegmenterOptions = {}): Required<SegmenterOptions> {
  check(o !== null && typeof o === 'object', 'E_OPTION', () => `segmenter: expected options { marginDb, hangover, ... }, found ${o === null ? 'null' : typeof o}`);
  for (const key of Object.keys(o)) check(SEGMENTER_OPTIONS.includes(key), 'E_OPTION', () => `segmenter option: expected one of ${SEGMENTER_OPTIONS.join(', ')}, found '${key}'`);
  const r = { marginDb: 8, minSpeech: 3, hangover: 20, preRoll: 15, maxFrames: 500, floorRiseDb: 0.02, ...o };
  check(Number.isFinite(r.marginDb) && r.marginDb > 0, 'E_OPTION', () => `segmenter: marginDb must be a positive number, found ${r.marginDb}`);
  check(Number.isFinite(r.floorRiseDb) && r.floorRiseDb >= 0, 'E_OPTION', () => `segmenter: floorRiseDb must be >= 0, found ${r.floorRiseDb}`);
  for (const k of ['minSpeech', 'hangover', 'preRoll', 'maxFrames'] as const) {
    const lo = k === 'preRoll' ? 0 : 1;
    check(Number.isInteger(r[k]) && r[k] >= lo, 'E_OPTION', () => `segmenter: ${k} must be an integer >= ${lo}, found ${r[k]}`);
  }
  check(r.maxFrames > r.minSpeech + r.preRoll, 'E_OPTION', () => `segmenter: maxFrames must exceed minSpeech + preRoll (${r.minSpeech + r.preRoll}), found ${r.maxFrames}`);
  return r;
}

/**
 * Log of a frame's total mel energy (log-sum-exp of its log-mel values).
 *
 * @example frameEnergy(frame) // natural-log power
 */
export function frameEnergy(frame: ArrayLike<number>, offset = 0, bands = frame.length - offset): number {
  let m = -Infinity;
  for (let b = 0; b < bands; b++) m = Math.max(m, frame[offset + b]!);
  let s = 0;
  for (let b = 0; b < bands; b++) s += Math.exp(frame[offset + b]! - m);
  return m + Math.log(s);
}

/**
 * Streaming energy segmenter over raw log-mel frames.
 *
 * @example
 * const seg = new EnergySegmenter();
 * for (const f of frames) { const e = seg.push(f); if (e?.kind === 'end') console.log(e.start, e.end); }
 */
export class EnergySegmenter {
  readonly options: Required<SegmenterOptions>;
  private t = 0;
  private floor = Number.NaN;
  /** Per-band noise floors (natural-log power), NaN before the first frame. */
  private floors: Float64Array | null = null;
  private run = 0;
  private open: { start: number; lastSpeech: number; speechFrames: number } | null = null;
  private lastEnd = 0;
  /** Energy, mean per-band excess over the noise floors (dB) and speech decision of the last frame pushed. */
  energy = Number.NaN;
  excess = Number.NaN;
  speech = false;

  constructor(o: SegmenterOptions = {}) {
    this.options = segmenterOptions(o);
  }

  /** Frames pushed so far. */
  get frames(): number {
    return this.t;
  }
  /** Whether a segment is open (the last frame pushed belongs to it). */
  get active(): boolean {
    return this.open !== null;
  }
  /** First frame of the open segment, or -1. */
  get segmentStart(): number {
    return this.open ? this.open.start : -1;
  }
  /** Noise floor in natural-log power units (NaN before the first frame). */
  get noiseFloor(): number {
    return this.floor;
  }

  reset(): void {
    this.t = 0;
    this.floor = Number.NaN;
    this.floors = null;
    this.run = 0;
    this.open = null;
    this.lastEnd = 0;
    this.energy = Number.NaN;
    this.speech = false;
  }

  /** One raw log-mel frame; returns the segment event it causes, if any. */
  push(frame: ArrayLike<number>, offset = 0, bands = frame?.length - offset): SegmentEvent | null {
    checkFiniteSamples(frame, 'segmenter: frame');
    check(Number.isInteger(offset) && offset >= 0 && Number.isInteger(bands) && bands >= 1 && offset + bands <= frame.length, 'E_SHAPE', () => `segmenter: expected at least one band at offset ${offset} (bands ${bands}) within a frame of ${frame.length} values`);
    const o = this.options;
    const t = this.t++;
    const e = frameEnergy(frame, offset, bands);
    const rise = o.floorRiseDb * DB;
    this.floor = Number.isNaN(this.floor) ? e : Math.min(e, this.floor + rise);
    // Per band: the excess over that band's floor, averaged over the bands. Coloured noise (most of
    // its energy in a few low bands) hides speech from the total energy, not from this.
    if (!this.floors || this.floors.length !== bands) this.floors = Float64Array.from({ length: bands }, (_, b) => frame[offset + b]!);
    const f = this.floors;
    let excess = 0;
    for (let b = 0; b < bands; b++) {
      const x = frame[offset + b]!;
      f[b] = Math.min(x, f[b]! + rise);
      excess += x - f[b]!;
    }
    this.excess = excess / bands / DB;
    const speech = this.excess > o.marginDb;
    this.energy = e;
    this.speech = speech;
    this.run = speech ? this.run + 1 : 0;
    const seg = this.open;
    if (!seg) {
      if (this.run < o.minSpeech) return null;
      const first = t - o.minSpeech + 1;
      const start = Math.max(first - o.preRoll, this.lastEnd, 0);
      this.open = { start, lastSpeech: t, speechFrames: o.minSpeech };
      return { kind: 'start', start };
    }
    if (speech) {
      seg.lastSpeech = t;
      seg.speechFrames++;
    }
    if (t - seg.lastSpeech >= o.hangover || t + 1 - seg.start >= o.maxFrames) return this.close(t + 1);
    return null;
  }

  /** End of the stream: closes the open segment (ending at the last frame), if any. */
  flush(): (SegmentEvent & { kind: 'end' }) | null {
    return this.open ? this.close(this.t) : null;
  }

  private close(end: number): SegmentEvent & { kind: 'end' } {
    const seg = this.open!;
    this.open = null;
    this.run = 0;
    this.lastEnd = end;
    return { kind: 'end', start: seg.start, end, speechFrames: seg.speechFrames };
  }
}

/**
 * Segments of a whole stream of raw log-mel frames (frames x bands, row-major): the segments a
 * streaming EnergySegmenter finds, frame by frame.
 *
 * @example segmentByEnergy(features, 40) // [{ start: 12, end: 71, speechFrames: 36 }, ...]
 */
export function segmentByEnergy(features: Float32Array, bands: number, o: SegmenterOptions = {}): Segment[] {
  check(Number.isInteger(bands) && bands > 0 && features.length % bands === 0, 'E_SHAPE', () => `segmentByEnergy: expected a multiple of ${bands} values, found ${features.length}`);
  const s = new EnergySegmenter(o);
  const out: Segment[] = [];
  for (let off = 0; off < features.length; off += bands) {
    const e = s.push(features, off, bands);
    if (e?.kind === 'end') out.push({ start: e.start, end: e.end, speechFrames: e.speechFrames });
  }
  const last = s.flush();
  if (last) out.push({ start: last.start, end: last.end, speechFrames: last.speechFrames });
  return out;
}
