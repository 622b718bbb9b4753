/**
 * The deltakit playground: live speech recognition from the microphone or a .wav (listen.ts),
 * and a comparison that loads a model (the built-in one, trained by deltakit, or a dropped file),
 * streams a signal (the last recording, the built-in random walk or a dropped .npy) through a
 * dense and a delta session, and shows occupancy, ops saved, latency per frame, which backend
 * ran, and occupancy over time. Uses only the package's public exports.
 *
 * `window.deltakitPlayground.last` holds the last run (outputs included) for scripted checks;
 * `document.body.dataset.state` is loading | ready | running | done | error.
 */
import {
  availableBackends,
  DeltakitError,
  decodeModelFile,
  initWasm,
  isDeltakitError,
  maxAbsDiff,
  modelTask,
  normalizeFeatures,
  parseNpy,
  summarizeModel,
  type Backend,
  type Model,
  type SessionOptions,
} from '../src/index.js';
import { builtinStream, BUILTIN_STREAM_SEED, DEFAULTS, modelThresholds, runSession, type SessionRun } from './run.js';
import { ListenPanel, type ListenState } from './listen.js';

interface LoadedModel {
  model: Model;
  source: string;
}
interface LoadedStream {
  /** null: the built-in stream, generated for the model's input size and the frames field. */
  frames: Float32Array | null;
  /** Shape as in the file. */
  shape: number[];
  source: string;
}

export interface PlaygroundRun {
  model: string;
  frames: number;
  inputSize: number;
  outputSize: number;
  settings: { thresholdX: number; thresholdH: number; backend: Backend | 'auto'; weights: 'f32' | 'int8' };
  dense: SessionRun;
  delta: SessionRun;
  maxAbsDiff: number;
}

declare global {
  interface Window {
    deltakitPlayground: { last: PlaygroundRun | null; wasm: string; kernelBuild: string; listen: ListenState };
  }
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`playground: #${id} missing from index.html`);
  return el as T;
};

window.deltakitPlayground = { last: null, wasm: 'loading', kernelBuild: 'none', listen: ListenPanel.empty() };
/** The live speech panel; its selected built-in model is the page's default model. */
const panel = new ListenPanel();
const builtinSource = (): string => `built-in (${panel.current.name}, trained by deltakit)`;
const state = {
  model: { model: panel.current, source: builtinSource() } as LoadedModel,
  stream: { frames: null, shape: [], source: `built-in (smoothStream seed ${BUILTIN_STREAM_SEED})` } as LoadedStream,
};

/** A model's tuned delta thresholds into the form. */
function showThresholds(model: Model): void {
  const th = modelThresholds(model);
  $<HTMLInputElement>('thx').value = String(th.thresholdX);
  $<HTMLInputElement>('thh').value = String(th.thresholdH);
}

function setState(s: 'loading' | 'ready' | 'running' | 'done' | 'error'): void {
  document.body.dataset.state = s;
  $<HTMLButtonElement>('run').disabled = s === 'loading' || s === 'running';
}

function status(text: string, isError = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', isError);
  // Results of an earlier run must not stand under an error as if they were its outcome.
  if (isError) {
    $('results').hidden = true;
    window.deltakitPlayground.last = null;
  }
}

function describeError(e: unknown): string {
  return isDeltakitError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
}

/** Series colours (SVG presentation attributes do not take CSS variables). */
const DENSE_COLOR = '#7a8699';
const DELTA_COLOR = '#d9480f';

const si = (n: number): string => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));
const KIND_NAMES: Record<string, string> = { gru: 'GRU', lstm: 'LSTM', sru: 'SRU', qrnn: 'QRNN', linear: 'Linear' };
const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

function showModel(): void {
  const s = summarizeModel(state.model.model);
  const chain = [String(s.inputSize), ...s.layers.map((l) => `${KIND_NAMES[l.kind]} ${l.outputSize}`)].join(' → ');
  $('model-info').textContent = `${state.model.source}: ${chain}; ${si(s.parameters)} parameters, ${si(s.denseOpsPerStep)} dense ops/frame`;
  showStream();
}

function showStream(): void {
  const I = state.model.model.layers[0]!.inputSize;
  const st = state.stream;
  $('stream-info').textContent = st.frames ? `${st.source}: shape (${st.shape.join(', ')})` : `${st.source}: (frames, ${I}), a smooth random walk per channel`;
  $<HTMLInputElement>('frames').disabled = st.frames !== null;
}

/** The dropped .npy as (T, I) frames for this model; size-1 leading axes, e.g. (1, T, I), are squeezed. */
function framesFor(stream: LoadedStream, inputSize: number, builtinFrames: number): Float32Array {
  if (!stream.frames) return builtinStream(builtinFrames, inputSize);
  const dims = stream.shape.filter((d, i) => d !== 1 || i === stream.shape.length - 1);
  const last = dims[dims.length - 1] ?? 0;
  if (dims.length > 2 || last !== inputSize || stream.frames.length === 0) {
    throw new DeltakitError('E_SHAPE', `stream: expected shape (T, ${inputSize}) for this model's ${inputSize} inputs, found (${stream.shape.join(', ')})`);
  }
  return stream.frames;
}

async function loadFile(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const name = file.name.toLowerCase();
  if (name.endsWith('.npy')) {
    const { data, shape } = parseNpy(bytes);
    state.stream = { frames: data, shape, source: file.name };
  } else {
    // Recognised by content (deltakit or PyTorch safetensors, or ONNX), not by extension.
    const { model, kind } = decodeModelFile(bytes, { name: file.name });
    state.model = { model, source: `${file.name} (${kind})` };
    showThresholds(model);
  }
  showModel();
  status(`loaded ${file.name}`);
}

async function loadFiles(files: FileList | null): Promise<void> {
  for (const f of files ? Array.from(files) : []) {
    try {
      await loadFile(f);
    } catch (e) {
      status(`${f.name}: ${describeError(e)}`, true);
      return;
    }
  }
}

function readSettings(): PlaygroundRun['settings'] & { frames: number } {
  const num = (id: string): number => Number($<HTMLInputElement>(id).value);
  const backend = $<HTMLSelectElement>('backend').value as Backend | '';
  const weights = $<HTMLSelectElement>('weights').value as 'f32' | 'int8';
  return { thresholdX: num('thx'), thresholdH: num('thh'), frames: Math.floor(num('frames')), backend: backend === '' ? 'auto' : backend, weights };
}

/** Lets the browser paint the status line before a long synchronous run. */
const nextFrame = (): Promise<void> => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

async function run(): Promise<void> {
  setState('running');
  try {
    const s = readSettings();
    const model = state.model.model;
    const frames = framesFor(state.stream, model.layers[0]!.inputSize, s.frames);
    const options: SessionOptions = {};
    if (s.backend !== 'auto') options.backend = s.backend;
    if (s.weights !== 'f32') options.weights = s.weights;
    status('running the dense network…');
    await nextFrame();
    const dense = runSession('dense', model, frames, options, DEFAULTS.window);
    status('running the delta network…');
    await nextFrame();
    const delta = runSession('delta', model, frames, { ...options, thresholdX: s.thresholdX, thresholdH: s.thresholdH }, DEFAULTS.window);
    const T = frames.length / model.layers[0]!.inputSize;
    const result: PlaygroundRun = {
      model: state.model.source,
      frames: T,
      inputSize: model.layers[0]!.inputSize,
      outputSize: dense.outputs.length / T,
      settings: { thresholdX: s.thresholdX, thresholdH: s.thresholdH, backend: s.backend, weights: s.weights },
      dense,
      delta,
      maxAbsDiff: maxAbsDiff(dense.outputs, delta.outputs),
    };
    window.deltakitPlayground.last = result;
    render(result);
    status(`${T} frames; delta read ${pct(delta.occupancy)} of the weight columns, ${delta.opsSaving.toFixed(2)}x fewer ops, ${(dense.usPerFrame / delta.usPerFrame).toFixed(2)}x the dense speed`);
    setState('done');
  } catch (e) {
    status(describeError(e), true);
    setState('error');
  }
}

function render(r: PlaygroundRun): void {
  const rows = [r.dense, r.delta].map((s) => {
    const tr = document.createElement('tr');
    tr.dataset.session = s.label;
    const label = s.label === 'delta' ? `delta (thX ${r.settings.thresholdX}, thH ${r.settings.thresholdH})` : 'dense';
    const paths = [...new Set(s.paths)].join(', ');
    const cells = [label, paths, pct(s.occupancy), si(s.opsPerFrame), `${s.opsSaving.toFixed(2)}x`, s.usPerFrame.toFixed(1), s.label === 'dense' ? '0' : r.maxAbsDiff.toExponential(2)];
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = c;
      if (i === 1) td.className = 'paths';
      tr.append(td);
    });
    return tr;
  });
  $('summary').replaceChildren(...rows);
  const series = (s: SessionRun, y: (w: SessionRun['windows'][number]) => number) => s.windows.map((w): [number, number] => [w.start, y(w)]);
  plot($('plot-occupancy') as unknown as SVGSVGElement, $('legend-occupancy'), r.frames, 1, (v) => `${Math.round(100 * v)}%`, [
    { label: 'dense', color: DENSE_COLOR, points: series(r.dense, (w) => w.occupancy) },
    { label: 'delta', color: DELTA_COLOR, points: series(r.delta, (w) => w.occupancy) },
  ]);
  const lat = [...r.dense.latency, ...r.delta.latency].map((w) => w.usPerFrame).sort((a, b) => a - b);
  // Scale to the 99th percentile so one slow window (a GC pause) does not flatten the rest.
  const yMax = niceCeil(lat[Math.floor(0.99 * (lat.length - 1))] ?? 1);
  plot($('plot-latency') as unknown as SVGSVGElement, $('legend-latency'), r.frames, yMax, (v) => v.toFixed(yMax < 10 ? 1 : 0), [
    { label: 'dense', color: DENSE_COLOR, points: r.dense.latency.map((w): [number, number] => [w.start, w.usPerFrame]) },
    { label: 'delta', color: DELTA_COLOR, points: r.delta.latency.map((w): [number, number] => [w.start, w.usPerFrame]) },
  ]);
  $('results').hidden = false;
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(v, 1e-9)));
  return ([1, 2, 2.5, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

interface Series {
  label: string;
  color: string;
  points: Array<[number, number]>;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svgEl(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A line plot of frames (x, 0..xMax) against values (y, 0..yMax, clipped) in a 640x170 viewBox. */
function plot(svg: SVGSVGElement, legend: HTMLElement, xMax: number, yMax: number, yFmt: (v: number) => string, series: Series[]): void {
  const L = 44, R = 630, T = 8, B = 150;
  const x = (v: number) => L + ((R - L) * v) / Math.max(1, xMax);
  const y = (v: number) => B - ((B - T) * Math.min(Math.max(v, 0), yMax)) / yMax;
  const kids: SVGElement[] = [];
  for (const f of [0, 0.5, 1]) {
    kids.push(svgEl('line', { x1: L, x2: R, y1: y(f * yMax), y2: y(f * yMax), stroke: '#d9dde4' }));
    kids.push(svgEl('text', { x: L - 6, y: y(f * yMax) + 4, 'text-anchor': 'end' }, yFmt(f * yMax)));
  }
  for (const f of [0, 0.5, 1]) kids.push(svgEl('text', { x: x(f * xMax), y: 166, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' }, `${Math.round(f * xMax)}${f === 1 ? ' frames' : ''}`));
  for (const s of series) {
    const d = s.points.map(([px, py], i) => `${i ? 'L' : 'M'}${x(px).toFixed(1)},${y(py).toFixed(1)}`).join('');
    kids.push(svgEl('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 1.6, 'data-series': s.label }));
  }
  svg.replaceChildren(...kids);
  legend.replaceChildren(
    ...series.flatMap((s) => {
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = s.color;
      return [sw, document.createTextNode(s.label)];
    }),
  );
}

async function start(): Promise<void> {
  showThresholds(state.model.model);
  $<HTMLInputElement>('frames').value = String(DEFAULTS.frames);
  showModel();
  // Browsers compile WebAssembly asynchronously on the main thread: until initWasm resolves,
  // sessions would fall back to the js backend.
  let wasm: string;
  try {
    const k = await initWasm();
    // Which build the engine got (relaxed SIMD where it validates and passes the self-test).
    wasm = `${k.path} kernels loaded (kernel build ${k.build})`;
    window.deltakitPlayground.kernelBuild = k.build;
  } catch (e) {
    wasm = `WebAssembly unavailable (${describeError(e)}); running on js`;
  }
  window.deltakitPlayground.wasm = wasm;
  const backends = availableBackends();
  $('backend-info').textContent = `available: ${backends.join(', ')}; ${wasm}`;
  const select = $<HTMLSelectElement>('backend');
  for (const b of backends) select.append(new Option(b, b));

  $('model-builtin').addEventListener('click', () => {
    state.model = { model: panel.current, source: builtinSource() };
    showThresholds(state.model.model);
    showModel();
  });
  $('stream-builtin').addEventListener('click', () => {
    state.stream = { frames: null, shape: [], source: `built-in (smoothStream seed ${BUILTIN_STREAM_SEED})` };
    showStream();
  });
  $<HTMLInputElement>('model-file').addEventListener('change', (e) => void loadFiles((e.target as HTMLInputElement).files));
  $<HTMLInputElement>('stream-file').addEventListener('change', (e) => void loadFiles((e.target as HTMLInputElement).files));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void loadFiles(e.dataTransfer?.files ?? null);
  });
  // A finished recording becomes the stream the comparison runs on (with the model that heard it).
  panel.onRecording = (model, raw, source) => {
    const data = normalizeFeatures(raw, modelTask(model).stats);
    state.model = { model, source: builtinSource() };
    state.stream = { frames: data, shape: [data.length / 40, 40], source: `${source}: log-mel, normalised with the model's feature statistics` };
    showThresholds(model);
    showModel();
  };
  $('settings').addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  setState('ready');
  status('ready: press Run');
}

void start().catch((e: unknown) => {
  status(describeError(e), true);
  setState('error');
});
