/**
 * The playground's live speech panel: a microphone (getUserMedia and an AudioWorklet) or a .wav
 * file, through the package's Listener (resampler to 16 kHz, streaming log-mel, voice-activity
 * segments, the built-in model as a delta network), with the words as they are recognised, the
 * occupancy and ops saved per frame, and a scrolling spectrogram with the fired input columns.
 *
 * `window.deltakitPlayground.listen` holds the current or last session's words and counters;
 * `document.body.dataset.listen` is idle | starting | listening | done | error.
 */
import { detectorOptionsOfModel } from '../src/train/kws-spotter.js';
import { KeywordVerifier, verifiedDetectorOfModel } from '../src/train/kws-verifier.js';
import { isDeltakitError, Listener, modelTask, parseWav, type Model, type RecognizedWord, type RecognizerFrame } from '../src/index.js';
import { builtinFiles, decodeBuiltin, keywordStreamFile, TASK_LABELS, TWO_STAGE_KEYWORDS, TWO_STAGE_LABEL, type BuiltinModelFile } from './builtins.js';
import { modelThresholds, timeListening, timeSegmentSteps } from './run.js';

export interface ListenState {
  source: 'microphone' | 'file' | null;
  /** The file name for a file. */
  name: string;
  model: string;
  task: string;
  sampleRate: number;
  words: Array<{ word: string; start: number; end: number; confidence: number }>;
  transcript: string;
  frames: number;
  /** Frames the network ran on (replays at a segment's start included), segments closed. */
  steps: number;
  segments: number;
  ops: number;
  denseOps: number;
  fired: number;
  possible: number;
  /** Wall time of the whole chain (resampling, log-mel, segmentation, network) per 10 ms frame, µs. */
  usPerFrame: number;
  /** Of the frames the network ran on: µs per network step alone. */
  usPerStep: number;
  /** File path: the chain's µs per frame in a steady state (best of 3 more passes over the file). */
  usPerFrameWarm: number;
  thresholdX: number | null;
  thresholdH: number | null;
  /** Raw log-mel frames heard (frames x 40), the stream the comparison below can run on. */
  features: Float32Array | null;
}

/** The worklet: collects the input's 128-sample blocks into chunks of 1024 and posts them. */
const WORKLET = `
class DeltakitCapture extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Float32Array(1024); this.n = 0; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) for (let i = 0; i < ch.length; i++) {
      this.buf[this.n++] = ch[i];
      if (this.n === this.buf.length) { this.port.postMessage(this.buf, [this.buf.buffer]); this.buf = new Float32Array(1024); this.n = 0; }
    }
    return true;
  }
}
registerProcessor('deltakit-capture', DeltakitCapture);
`;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`playground: #${id} missing from index.html`);
  return el as T;
};

const describe = (e: unknown): string => (isDeltakitError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e));

/** Spectrogram geometry: one pixel column per 10 ms frame, 3 pixel rows per mel band, a strip below. */
const ROW = 3;
const BANDS = 40;
const STRIP = 26;

export class ListenPanel {
  private models: BuiltinModelFile[];
  private model: Model | null = null;
  /** With two-stage keywords: the built-in verifier, which hears the first stage's detections again. */
  private verifierModel: Model | null = null;
  private listener: Listener | null = null;
  private audio: { ctx: AudioContext; stream: MediaStream } | null = null;
  private pending: Array<RecognizerFrame & { features: Float32Array }> = [];
  private drawQueued = false;
  private chainMs = 0;
  private feats: Float32Array[] = [];
  /** Called with the model and raw features of a finished recording. */
  onRecording: ((model: Model, features: Float32Array, source: string) => void) | null = null;
  state: ListenState = ListenPanel.empty();

  constructor() {
    this.models = builtinFiles();
    const select = $<HTMLSelectElement>('listen-model');
    for (const f of this.models) select.append(new Option(`${f.file}: ${TASK_LABELS[f.task]}`, f.task));
    const streams = keywordStreamFile();
    if (streams) select.append(new Option(`${streams.file} + ${streams.verifier.file}: ${TWO_STAGE_LABEL}`, TWO_STAGE_KEYWORDS));
    select.addEventListener('change', () => this.selectModel());
    $('mic-start').addEventListener('click', () => void this.startMic());
    $('mic-stop').addEventListener('click', () => void this.stop());
    $<HTMLInputElement>('wav-file').addEventListener('change', (e) => {
      const f = (e.target as HTMLInputElement).files?.[0];
      if (f) void this.listenFile(f);
    });
    this.selectModel();
    this.setListen('idle');
  }

  static empty(): ListenState {
    return { source: null, name: '', model: '', task: '', sampleRate: 0, words: [], transcript: '', frames: 0, steps: 0, segments: 0, ops: 0, denseOps: 0, fired: 0, possible: 0, usPerFrame: 0, usPerStep: 0, usPerFrameWarm: 0, thresholdX: null, thresholdH: null, features: null };
  }

  /** The built-in model in use (the default model of the whole page). */
  get current(): Model {
    return this.model!;
  }

  private selectModel(): void {
    const task = $<HTMLSelectElement>('listen-model').value;
    // Two stages: the keyword-stream model on every frame, the built-in verifier on its candidates.
    const two = task === TWO_STAGE_KEYWORDS ? keywordStreamFile() : null;
    const f = this.models.find((m) => m.task === (two ? 'keywords' : task)) ?? this.models[0];
    if (!f) throw new Error('playground: the bundle holds no built-in model (rebuild it with npm run build:web)');
    this.verifierModel = two ? decodeBuiltin(two.verifier) : null;
    this.model = two ? decodeBuiltin(two) : decodeBuiltin(f);
    const t = modelTask(this.model);
    const th = modelThresholds(this.model);
    const kws = t.classes.some((c) => /^_.*_$/.test(c));
    const v = two ? verifiedDetectorOfModel(this.model) : null;
    const d = v?.detector ?? detectorOptionsOfModel(this.model);
    const how = kws ? `keyword spotter on every frame (${d.smoothing} smoothing over ${d.window} frames, threshold ${d.threshold}, lockout ${d.lockout} frames)${v ? `, each detection verified by ${this.verifierModel!.name} over ${v.verifier.before} + ${v.verifier.after} frames at posterior >= ${v.verifier.threshold} (reported ${v.verifier.after / 100} s later)` : ''}` : t.readout === 'ctc' ? 'CTC: each word as it is heard' : `${t.readout} readout: one word per voiced segment`;
    $('listen-model-info').textContent = `${this.model.name}: ${t.classes.filter((c) => !/^_.*_$/.test(c)).join(' ')}; ${how}; delta network thX ${th.thresholdX}, thH ${th.thresholdH}`;
  }

  /** The second stage for the current model (two-stage keywords), a fresh one per listening session. */
  private verifier(): KeywordVerifier | null {
    const vm = this.verifierModel;
    if (!vm) return null;
    const v = verifiedDetectorOfModel(this.current);
    return new KeywordVerifier(vm, modelTask(vm), { ...(v ? { verifier: v.verifier } : {}), thresholds: modelThresholds(vm) });
  }

  private setListen(s: 'idle' | 'starting' | 'listening' | 'done' | 'error'): void {
    document.body.dataset.listen = s;
    $<HTMLButtonElement>('mic-start').disabled = s === 'starting' || s === 'listening';
    $<HTMLButtonElement>('mic-stop').disabled = s !== 'listening';
    $<HTMLSelectElement>('listen-model').disabled = s === 'starting' || s === 'listening';
  }

  private status(text: string, isError = false): void {
    const el = $('listen-status');
    el.textContent = text;
    el.classList.toggle('error', isError);
  }

  /** A fresh listener at `sampleRate` and a cleared display. */
  private begin(source: 'microphone' | 'file', name: string, sampleRate: number): Listener {
    const model = this.current;
    const th = modelThresholds(model);
    const verifier = this.verifier();
    const l = new Listener(model, sampleRate, { ...th, firedColumns: true, ...(verifier ? { verifier } : {}) });
    this.listener = l;
    this.chainMs = 0;
    this.feats = [];
    this.pending = [];
    this.state = { ...ListenPanel.empty(), source, name, model: model.name, task: modelTask(model).corpus, sampleRate, thresholdX: l.recognizer.thresholdX, thresholdH: l.recognizer.thresholdH };
    window.deltakitPlayground.listen = this.state;
    $('transcript').replaceChildren();
    const c = $<HTMLCanvasElement>('spectrogram');
    const g = c.getContext('2d')!;
    g.fillStyle = '#10131a';
    g.fillRect(0, 0, c.width, c.height);
    $('live-stats').textContent = '';
    return l;
  }

  /** Feed samples; time the whole chain; queue the frames for drawing. */
  private feed(samples: Float32Array): void {
    const l = this.listener!;
    const t0 = performance.now();
    const frames = l.push(samples);
    this.chainMs += performance.now() - t0;
    this.take(frames);
  }

  private take(frames: Array<RecognizerFrame & { features: Float32Array }>, words: RecognizedWord[] = []): void {
    for (const f of frames) {
      this.feats.push(f.features);
      for (const w of f.words) this.addWord(w);
    }
    for (const w of words) this.addWord(w);
    this.pending.push(...frames);
    this.update();
    if (!this.drawQueued) {
      this.drawQueued = true;
      requestAnimationFrame(() => this.draw());
    }
  }

  private addWord(w: RecognizedWord): void {
    if (!w.isWord) return;
    const s = this.state;
    s.words.push({ word: w.word, start: w.start, end: w.end, confidence: w.confidence });
    s.transcript = s.words.map((x) => x.word).join(' ');
    const span = document.createElement('span');
    span.className = 'word';
    span.dataset.word = w.word;
    span.title = `${(w.start / 100).toFixed(2)}–${(w.end / 100).toFixed(2)} s, p ${w.confidence.toFixed(2)}`;
    span.textContent = w.word;
    $('transcript').append(span, ' ');
  }

  /** Counters and the stats line. */
  private update(): void {
    const r = this.listener!.recognizer;
    const s = this.state;
    const T = r.totals;
    Object.assign(s, { frames: T.frames, steps: T.steps, segments: T.segments, ops: T.ops, denseOps: T.denseOps, fired: T.fired, possible: T.possible });
    s.usPerFrame = T.frames ? (1000 * this.chainMs) / T.frames : 0;
    const last = this.pending[this.pending.length - 1];
    const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
    const now = last && last.active ? `this frame: occupancy ${pct(last.occupancy)}, ${(last.denseOps / Math.max(1, last.ops)).toFixed(1)}x fewer ops` : 'this frame: no speech, the network is idle';
    $('live-stats').textContent = `${(T.frames / 100).toFixed(2)} s heard, ${T.segments} segment${T.segments === 1 ? '' : 's'}; ${now}; where it ran: occupancy ${T.possible ? pct(T.fired / T.possible) : '–'}, ${(T.denseOps / Math.max(1, T.ops)).toFixed(2)}x fewer ops than dense; the network ran on ${T.steps} of ${T.frames} frames; ${s.usPerFrame.toFixed(1)} µs per 10 ms frame in this page (resample, log-mel, segment, network)`;
  }

  /** Scroll the spectrogram by the pending frames and draw them: bands, fired columns, strip. */
  private draw(): void {
    this.drawQueued = false;
    const frames = this.pending;
    this.pending = [];
    const c = $<HTMLCanvasElement>('spectrogram');
    const g = c.getContext('2d')!;
    const W = c.width;
    const n = Math.min(frames.length, W);
    if (n === 0) return;
    g.drawImage(c, -n, 0);
    const img = g.createImageData(n, BANDS * ROW + STRIP);
    const put = (x: number, y: number, rgb: [number, number, number]) => {
      const o = 4 * (y * n + x);
      img.data[o] = rgb[0];
      img.data[o + 1] = rgb[1];
      img.data[o + 2] = rgb[2];
      img.data[o + 3] = 255;
    };
    frames.slice(frames.length - n).forEach((f, x) => {
      const fired = new Set(f.firedInputs ?? []);
      // Raw log-mel, natural-log power: -14 (about -61 dB) .. 2 maps to dark .. light.
      for (let b = 0; b < BANDS; b++) {
        const v = Math.max(0, Math.min(1, (f.features[b]! + 14) / 16));
        const k = Math.round(20 + 215 * v);
        const rgb: [number, number, number] = fired.has(b) ? [255, 110 + Math.round(80 * v), 30] : [k, k, Math.min(255, k + 20)];
        for (let r = 0; r < ROW; r++) put(x, (BANDS - 1 - b) * ROW + r, rgb);
      }
      // Strip: background shows the segment (network running), the bar the occupancy of this frame.
      const h = f.active ? Math.round((STRIP - 4) * Math.min(1, f.occupancy)) : 0;
      for (let y = 0; y < STRIP; y++) {
        const inBar = STRIP - 1 - y < h;
        put(x, BANDS * ROW + y, y < 2 ? [16, 19, 26] : inBar ? [217, 72, 15] : f.active ? [60, 66, 80] : f.speech ? [40, 44, 54] : [16, 19, 26]);
      }
    });
    g.putImageData(img, W - n, 0);
    // A segment's word at the right edge where it was recognised.
    frames.slice(frames.length - n).forEach((f, x) => {
      for (const w of f.words.filter((q) => q.isWord)) {
        g.fillStyle = '#fff';
        g.font = '12px system-ui, sans-serif';
        g.fillText(w.word, Math.max(0, W - n + x - g.measureText(w.word).width), 12);
      }
    });
  }

  private async startMic(): Promise<void> {
    this.setListen('starting');
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 } });
      const ctx = new AudioContext();
      const url = URL.createObjectURL(new Blob([WORKLET], { type: 'text/javascript' }));
      await ctx.audioWorklet.addModule(url);
      URL.revokeObjectURL(url);
      const node = new AudioWorkletNode(ctx, 'deltakit-capture', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
      // A muted path to the destination keeps the graph pulling the worklet in every browser.
      const mute = ctx.createGain();
      mute.gain.value = 0;
      ctx.createMediaStreamSource(stream).connect(node).connect(mute).connect(ctx.destination);
      this.begin('microphone', stream.getAudioTracks()[0]?.label ?? 'microphone', ctx.sampleRate);
      node.port.onmessage = (e: MessageEvent<Float32Array>) => {
        try {
          this.feed(e.data);
        } catch (err) {
          this.status(describe(err), true);
          void this.stop('error');
        }
      };
      await ctx.resume();
      this.audio = { ctx, stream };
      this.setListen('listening');
      this.status(`listening at ${ctx.sampleRate} Hz (resampled to 16 kHz): speak digits with short pauses`);
    } catch (e) {
      this.status(`microphone: ${describe(e)}`, true);
      this.setListen('error');
    }
  }

  private async stop(final: 'done' | 'error' = 'done'): Promise<void> {
    const a = this.audio;
    this.audio = null;
    if (a) {
      for (const t of a.stream.getTracks()) t.stop();
      await a.ctx.close();
    }
    if (this.listener) this.finish();
    this.setListen(final);
  }

  /** End of a recording: the last frames and the open segment's word; hand the features on. */
  private finish(): void {
    const l = this.listener!;
    const t0 = performance.now();
    const end = l.flush();
    this.chainMs += performance.now() - t0;
    this.take(end.frames, end.words);
    const T = this.feats.length;
    const flat = new Float32Array(T * BANDS);
    this.feats.forEach((f, t) => flat.set(f, t * BANDS));
    this.state.features = flat;
    if (T > 0 && this.onRecording) this.onRecording(this.current, flat, this.state.source === 'file' ? this.state.name : 'the microphone recording');
    this.status(`heard: ${this.state.transcript || '(nothing)'}`);
  }

  /** The upload fallback: the whole file through the same chain, in 1024-sample chunks. */
  async listenFile(file: File): Promise<void> {
    if (this.audio) await this.stop();
    this.setListen('starting');
    try {
      const audio = parseWav(new Uint8Array(await file.arrayBuffer()));
      const l = this.begin('file', file.name, audio.sampleRate);
      this.setListen('listening');
      const CHUNK = 1024;
      for (let i = 0; i < audio.samples.length; i += CHUNK) this.feed(audio.samples.subarray(i, i + CHUNK));
      this.finish();
      // Network time alone: the recording's segments once more through a fresh session, timed.
      this.state.usPerStep = timeSegmentSteps(this.current, l.recognizer.segments, this.state.features!);
      // Two-stage keywords: the verifier's work on the candidates is in the warm time too.
      const two = this.verifierModel ? () => this.verifier()! : undefined;
      this.state.usPerFrameWarm = timeListening(this.current, audio.samples, audio.sampleRate, CHUNK, 3, two).best;
      this.update();
      $('live-stats').textContent += `; warm: ${this.state.usPerFrameWarm.toFixed(1)} µs per frame${two ? ' (both stages)' : ''}, of which the ${two ? 'first-stage ' : ''}network ${this.state.usPerStep.toFixed(2)} µs per step`;
      this.setListen('done');
    } catch (e) {
      this.status(`${file.name}: ${describe(e)}`, true);
      this.setListen('error');
    }
  }
}
