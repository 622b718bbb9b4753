/**
 * End to end in a real browser: bundle the playground, serve it on 127.0.0.1, drive Debian's
 * headless Chromium through playwright-core, and check that what ran in the page equals what the
 * same model and stream give in Node. Skipped when /usr/bin/chromium is absent (.ci/run installs it).
 *
 * Set DELTAKIT_SCREENSHOT_DIR to keep the screenshot somewhere known; otherwise it goes to a
 * temporary directory that is removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { availableBackends, createSession, initWasm, LogMel, Listener, loadModel, maxAbs, maxAbsDiff, parseWav, readNpy, resample, type Model } from '../../src/index.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { BUILTIN_MODEL_FILE, builtinSpec, KWS_VERIFIER_FILE, MODELS_DIR } from '../../src/train/builtin.js';
import { editDistance } from '../../src/train/ctc.js';
import { DIGIT_WORDS } from '../../src/data/vocabulary.js';
import { buildWeb, builtinModelFiles, keywordStreamFile } from '../../web/build.js';
import { KeywordVerifier, verifiedDetectorOfModel } from '../../src/train/kws-verifier.js';
import { modelTask } from '../../src/train/model-task.js';
import { builtinStream, DEFAULTS, modelThresholds, timeListening, timeSegmentSteps } from '../../web/run.js';

const CHROMIUM = '/usr/bin/chromium';
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../golden/cases/gru_l1_h16_fc/', import.meta.url));
/** What the synthesised recording says (espeak-ng, with pauses the isolated-digit model segments on). */
const SPOKEN = ['three', 'five', 'eight', 'one'];
/** A connected string for the CTC model. */
const STRING = ['four', 'one', 'seven', 'nine'];

/** What the page exposes after a run, with typed arrays turned into plain arrays for transport. */
interface PageSession {
  paths: string[];
  outputs: number[];
  occupancy: number;
  opsSaving: number;
  usPerFrame: number;
  windows: number;
}
interface PageRun {
  frames: number;
  dense: PageSession;
  delta: PageSession;
}

/** Serves web/index.html and the bundle (built into `distDir`, outside the tree) and nothing else. */
function serve(distDir: string): Promise<Server> {
  const files: Record<string, [string, string]> = {
    '/': [join(WEB_DIR, 'index.html'), 'text/html; charset=utf-8'],
    '/index.html': [join(WEB_DIR, 'index.html'), 'text/html; charset=utf-8'],
    '/dist/main.js': [join(distDir, 'main.js'), 'text/javascript; charset=utf-8'],
    '/dist/main.js.map': [join(distDir, 'main.js.map'), 'application/json'],
  };
  const server = createServer((req, res) => {
    const hit = req.method === 'GET' ? files[new URL(req.url ?? '/', 'http://x').pathname] : undefined;
    if (!hit) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': hit[1], 'cache-control': 'no-store' }).end(readFileSync(hit[0]));
  });
  server.requestTimeout = 10_000;
  return new Promise((ok, ko) => {
    server.once('error', ko);
    server.listen(0, '127.0.0.1', () => ok(server));
  });
}

async function lastRun(page: Page): Promise<PageRun> {
  return page.evaluate(() => {
    const r = window.deltakitPlayground.last!;
    const plain = (s: typeof r.dense) => ({ paths: s.paths, outputs: Array.from(s.outputs), occupancy: s.occupancy, opsSaving: s.opsSaving, usPerFrame: s.usPerFrame, windows: s.windows.length });
    return { frames: r.frames, dense: plain(r.dense), delta: plain(r.delta) };
  });
}

async function clickRun(page: Page): Promise<string> {
  await page.click('#run');
  await page.waitForSelector('body[data-state=done], body[data-state=error]', { timeout: 20_000 });
  return page.evaluate(() => document.body.dataset.state ?? '');
}

describe.skipIf(!existsSync(CHROMIUM))('playground in headless Chromium', () => {
  let work: string;
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  let bundleBytes = 0;
  let model: Model;
  /** The recording the fake microphone plays in a loop and the upload test sends (null without espeak-ng). */
  let wav: string | null = null;
  /** A connected digit string (short pauses), for the CTC model when it is built in. */
  let stringWav: string | null = null;
  /** Three keywords with 400 ms between them, for the two-stage keywords. */
  let keywordWav: string | null = null;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'deltakit-web-'));
    model = await loadModel(BUILTIN_MODEL_FILE);
    await initWasm().catch(() => undefined);
    if (espeakAvailable()) {
      // 0.5 s of silence before and 1 s after (sox), so the looping fake device separates the repeats.
      const raw = join(work, 'raw.wav');
      wav = join(work, 'digits.wav');
      expect(spawnSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-g', '60', '-w', raw, SPOKEN.join(', ')]).status).toBe(0);
      expect(spawnSync('sox', [raw, wav, 'pad', '0.5', '1.0']).status).toBe(0);
      stringWav = join(work, 'string.wav');
      expect(spawnSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-g', '15', '-w', stringWav, STRING.join(' ')]).status).toBe(0);
      keywordWav = join(work, 'keywords.wav');
      expect(spawnSync('espeak-ng', ['-g', '40', '-w', keywordWav, 'stop yes left']).status).toBe(0);
    }
    ({ bytes: bundleBytes } = await buildWeb({ outdir: join(work, 'dist') }));
    server = await serve(join(work, 'dist'));
    const { port } = server.address() as AddressInfo;
    // A fresh profile per run; no network besides 127.0.0.1, no updates, no first-run UI.
    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        // A fake microphone playing the synthesised recording, granted without a prompt.
        ...(wav ? ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`] : []),
      ],
      viewport: { width: 1000, height: 900 },
      timeout: 30_000,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body[data-state=ready]', { timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    server?.closeAllConnections();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('bundles without Node built-ins at load time', () => {
    expect(bundleBytes).toBeGreaterThan(10_000);
    const js = readFileSync(join(work, 'dist', 'main.js'), 'utf8');
    // Only lazy imports of node: modules may remain (on path-only code paths).
    expect(js).not.toMatch(/(^|[;}\s])import\s*[^(]*from\s*["']node:/);
    expect(js).not.toMatch(/require\(["']node:/);
  });

  it('runs the built-in trained model dense and delta, equal to Node, on the wasm SIMD path where Node has it', async () => {
    // The default model is the committed digits model (trained by deltakit), with its tuned thresholds.
    expect(await page.textContent('#model-info')).toMatch(/^built-in \(digits-deltagru-1x128, trained by deltakit\): 40 → GRU 128 → Linear 11;/);
    const th = modelThresholds(model);
    expect(await page.inputValue('#thx')).toBe(String(th.thresholdX));
    expect(await page.inputValue('#thh')).toBe(String(th.thresholdH));
    const state = await clickRun(page);
    expect(state, await page.textContent('#status') ?? '').toBe('done');
    const r = await lastRun(page);

    const T = DEFAULTS.frames;
    const frames = builtinStream(T, model.layers[0]!.inputSize);
    const dense = createSession(model);
    const delta = createSession(model, th);
    const yDense = dense.run(frames);
    const yDelta = delta.run(frames);

    expect(r.frames).toBe(T);
    expect(r.dense.outputs.length).toBe(yDense.length);
    // float32 relative tolerance: the page runs the relaxed-SIMD (FMA) kernels, Node 20 the SIMD128
    // ones, and the trained model's logits reach about 10.
    const tol = 1e-5 * Math.max(1, maxAbs(yDense));
    expect(maxAbsDiff(Float32Array.from(r.dense.outputs), yDense)).toBeLessThanOrEqual(tol);
    if (delta.paths.every((p) => r.delta.paths.includes(p))) {
      expect(maxAbsDiff(Float32Array.from(r.delta.outputs), yDelta)).toBeLessThanOrEqual(tol);
    } else {
      // Different builds (Node 20 runs SIMD128, the page relaxed SIMD with fused multiply-adds):
      // last-bit differences in the gates move a state across a delta threshold now and then,
      // and from there the two delta runs are different (equally valid) trajectories. Compare
      // what must still agree: the decisions frame by frame and the work skipped.
      const O = yDelta.length / T;
      const agree = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        let same = 0;
        for (let t = 0; t < T; t++) same += Number(argmaxAt(a, t * O, O) === argmaxAt(b, t * O, O));
        return same / T;
      };
      // On this synthetic stream (measured with the built-in GRU 128, Node 20 against Chromium):
      // the two delta runs pick the same class on 88.6 % of frames; Node's delta run agrees with
      // dense on 67.1 %, the page's on 71.9 %. Required: the builds agree with each other better
      // than the delta approximation agrees with dense, and the page's delta run is at least as
      // close to dense as Node's (3 points of slack; closer is no fault).
      const crossBuild = agree(r.delta.outputs, yDelta), nodeVsDense = agree(yDelta, yDense);
      expect(crossBuild).toBeGreaterThan(nodeVsDense);
      expect(agree(r.delta.outputs, yDense)).toBeGreaterThanOrEqual(nodeVsDense - 0.03);
    }
    // The delta session skipped work, as much as in Node.
    expect(r.delta.occupancy).toBeGreaterThan(0);
    expect(r.delta.occupancy).toBeLessThan(1);
    expect(Math.abs(r.delta.occupancy - delta.stats().occupancy)).toBeLessThan(1e-3);
    expect(r.delta.opsSaving).toBeGreaterThan(1);
    expect(r.dense.occupancy).toBe(1);
    expect(r.delta.windows).toBe(Math.ceil(T / DEFAULTS.window));
    expect(Number.isFinite(r.dense.usPerFrame) && r.dense.usPerFrame > 0).toBe(true);

    if (availableBackends().includes('wasm')) {
      // Node runs wasm; the page must too (after initWasm). Chromium runs relaxed SIMD correctly,
      // so the page must pick the relaxed build whatever Node picked (Node 20 cannot).
      expect(r.dense.paths.every((p) => p === 'wasm-relaxed')).toBe(true);
      expect(r.delta.paths.every((p) => p === 'wasm-relaxed')).toBe(true);
      expect(await page.evaluate(() => window.deltakitPlayground.wasm)).toBe('wasm-relaxed kernels loaded (kernel build relaxed-simd)');
      expect(await page.evaluate(() => window.deltakitPlayground.kernelBuild)).toBe('relaxed-simd');
    }

    // What the user sees: one table row per session naming the path, and both plotted series.
    const rows = await page.$$eval('#summary tr', (trs) => trs.map((tr) => Array.from(tr.children).map((td) => td.textContent ?? '')));
    expect(rows.length).toBe(2);
    expect(rows[0]![1]).toBe([...new Set(r.dense.paths)].join(', '));
    expect(rows[1]![2]).toBe(`${(100 * r.delta.occupancy).toFixed(1)} %`);
    const deltaPath = await page.getAttribute('#plot-occupancy path[data-series=delta]', 'd');
    expect(deltaPath?.split('L').length).toBe(r.delta.windows);

    const shotDir = process.env.DELTAKIT_SCREENSHOT_DIR ?? work;
    mkdirSync(shotDir, { recursive: true });
    const shot = join(shotDir, 'playground.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
    expect(pageErrors).toEqual([]);
  });

  it('runs a dropped ONNX model on a dropped .npy stream, equal to Node and to PyTorch', async () => {
    await page.setInputFiles('#model-file', join(GOLDEN, 'model.onnx'));
    await page.waitForFunction(() => document.getElementById('model-info')?.textContent?.startsWith('model.onnx (onnx)'));
    // The stream arrives the other way a user gives one: dropped on the drop zone.
    const npyBytes = Array.from(readFileSync(join(GOLDEN, 'x.npy')));
    await page.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'x.npy'));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, npyBytes);
    await page.waitForFunction(() => document.getElementById('stream-info')?.textContent?.startsWith('x.npy'));
    expect(await clickRun(page), await page.textContent('#status') ?? '').toBe('done');
    const r = await lastRun(page);

    const model = await loadModel(join(GOLDEN, 'model.onnx'));
    const x = await readNpy(join(GOLDEN, 'x.npy'));
    const yTorch = await readNpy(join(GOLDEN, 'y_torch.npy'));
    const yDense = createSession(model).run(x.data);
    const yDelta = createSession(model, { thresholdX: DEFAULTS.thresholdX, thresholdH: DEFAULTS.thresholdH }).run(x.data);
    expect(r.frames).toBe(x.shape[0]);
    expect(maxAbsDiff(Float32Array.from(r.dense.outputs), yDense)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(Float32Array.from(r.delta.outputs), yDelta)).toBeLessThanOrEqual(1e-5);
    // Same tolerance as the golden test against PyTorch.
    expect(maxAbsDiff(Float32Array.from(r.dense.outputs), yTorch.data)).toBeLessThanOrEqual(1e-4 * Math.max(1, maxAbs(yTorch.data)));
    expect(pageErrors).toEqual([]);
  });

  it('reports a stream that does not fit the model as a coded error', async () => {
    // The dropped x.npy (5 inputs) stays selected; the built-in model takes 40.
    await page.click('#model-builtin');
    expect(await clickRun(page)).toBe('error');
    expect(await page.textContent('#status')).toMatch(/^E_SHAPE: stream: expected shape \(T, 40\)/);
    // The previous run's results do not stay under the error as if they were its outcome.
    expect(await page.isHidden('#results')).toBe(true);
    expect(await page.evaluate(() => window.deltakitPlayground.last)).toBeNull();
  });

  /** The listening panel's state, typed arrays left out. */
  async function listenState(): Promise<{ source: string; transcript: string; words: Array<{ word: string; start: number; end: number }>; frames: number; steps: number; segments: number; ops: number; denseOps: number; usPerFrame: number; usPerStep: number; usPerFrameWarm: number; sampleRate: number }> {
    return page.evaluate(() => {
      const { features: _f, ...rest } = window.deltakitPlayground.listen;
      return rest as never;
    });
  }

  it('listens to the (fake) microphone through an AudioWorklet and writes the spoken digits as they come', async (ctx) => {
    if (!wav) return ctx.skip();
    // The selector lists the built-in models whose files exist (digits at least), in task order ...
    const options = await page.$$eval('#listen-model option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    // ... then two-stage keywords when the keyword-stream model with its two-stage settings is there.
    expect(options).toEqual([...builtinModelFiles().map((f) => f.task), ...(keywordStreamFile() ? ['keywords-two-stage'] : [])]);
    expect(options[0]).toBe('digits');
    await page.selectOption('#listen-model', 'digits');
    await page.click('#mic-start');
    await page.waitForSelector('body[data-listen=listening]', { timeout: 10_000 });
    // The fake device loops the recording: wait for one whole pass, in order.
    await page.waitForFunction((spoken) => ` ${window.deltakitPlayground.listen.transcript} `.includes(` ${spoken} `), SPOKEN.join(' '), { timeout: 30_000 });
    // What the user sees: one element per word, in the transcript.
    const shown = await page.$$eval('#transcript .word', (els) => els.map((e) => (e as HTMLElement).dataset.word));
    expect(shown.join(' ')).toContain(SPOKEN.join(' '));
    await page.click('#mic-stop');
    await page.waitForSelector('body[data-listen=done]', { timeout: 10_000 });
    const l = await listenState();
    expect(l.source).toBe('microphone');
    expect(l.sampleRate).toBeGreaterThanOrEqual(16000);
    // Only voiced segments ran the network, and the delta network did a fraction of the dense ops there.
    expect(l.segments).toBeGreaterThanOrEqual(SPOKEN.length);
    expect(l.steps).toBeLessThan(l.frames);
    expect(l.ops).toBeGreaterThan(0);
    expect(l.ops * 3).toBeLessThan(l.denseOps);
    expect(await page.textContent('#live-stats')).toMatch(/where it ran: occupancy \d+\.\d %, \d+\.\d\dx fewer ops than dense; the network ran on \d+ of \d+ frames/);
    // The recording becomes the stream of the comparison below.
    expect(await page.textContent('#stream-info')).toMatch(/^the microphone recording: log-mel, normalised with the model's feature statistics: shape \(\d+, 40\)/);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('listens to an uploaded .wav: the same words, segments and features as the package in Node; per-frame times of page and Node', async (ctx) => {
    if (!wav) return ctx.skip();
    await page.setInputFiles('#wav-file', wav);
    await page.waitForSelector('body[data-listen=done], body[data-listen=error]', { timeout: 30_000 });
    expect(await page.getAttribute('body', 'data-listen'), (await page.textContent('#listen-status')) ?? '').toBe('done');
    const l = await listenState();
    expect(l.source).toBe('file');
    expect(l.transcript).toBe(SPOKEN.join(' '));
    const features = await page.evaluate(() => Array.from(window.deltakitPlayground.listen.features!));

    // The same chain in Node, in the page's chunks of 1024 samples.
    const audio = parseWav(readFileSync(wav));
    const node = new Listener(model, audio.sampleRate, { ...modelThresholds(model), firedColumns: true });
    const t0 = performance.now();
    for (let i = 0; i < audio.samples.length; i += 1024) node.push(audio.samples.subarray(i, i + 1024));
    node.flush();
    const nodeUsPerFrame = ((performance.now() - t0) * 1000) / node.recognizer.frames;
    expect(l.words.map((w) => [w.word, w.start, w.end])).toEqual(node.recognizer.words.filter((w) => w.isWord).map((w) => [w.word, w.start, w.end]));
    expect(l.frames).toBe(node.recognizer.frames);
    expect(l.steps).toBe(node.recognizer.totals.steps);
    // The page's features are the offline front end's (resample the whole file, LogMel.compute),
    // bit for bit: the same float operations, and V8's own Math functions in both engines.
    const offline = new LogMel(16000).compute(resample(audio.samples, audio.sampleRate, 16000));
    expect(features.length).toBe(offline.data.length);
    expect(Float32Array.from(features)).toEqual(offline.data);
    const nodeUsPerStep = timeSegmentSteps(model, node.recognizer.segments, offline.data);
    const nodeWarm = timeListening(model, audio.samples, audio.sampleRate, 1024).best;
    // Reported, never asserted: the page against Node on the same recording.
    console.log(
      `listen, ${(audio.samples.length / audio.sampleRate).toFixed(2)} s at ${audio.sampleRate} Hz, ${l.frames} frames: whole chain per 10 ms frame, first pass ${l.usPerFrame.toFixed(1)} us in Chromium / ${nodeUsPerFrame.toFixed(1)} us in Node ${process.version}; ` +
        `warm ${l.usPerFrameWarm.toFixed(1)} / ${nodeWarm.toFixed(1)} us; network step ${l.usPerStep.toFixed(2)} / ${nodeUsPerStep.toFixed(2)} us (Node on ${node.recognizer.session.paths.join(', ')})`,
    );
    expect(l.usPerFrame).toBeGreaterThan(0);
    expect(l.usPerFrameWarm).toBeGreaterThan(0);
    expect(await page.textContent('#stream-info')).toMatch(/^digits\.wav: log-mel/);
    expect(pageErrors).toEqual([]);
  });

  it.runIf(existsSync(builtinSpec('digit-strings').file))('with the connected-digit model selected: CTC words as they come, the same as in Node', async (ctx) => {
    if (!stringWav) return ctx.skip();
    await page.selectOption('#listen-model', 'digit-strings');
    expect(await page.textContent('#listen-model-info')).toMatch(/CTC: each word as it is heard/);
    await page.setInputFiles('#wav-file', stringWav);
    await page.waitForSelector('body[data-listen=done], body[data-listen=error]', { timeout: 30_000 });
    expect(await page.getAttribute('body', 'data-listen'), (await page.textContent('#listen-status')) ?? '').toBe('done');
    const l = await listenState();
    const ctcModel = await loadModel(builtinSpec('digit-strings').file);
    const audio = parseWav(readFileSync(stringWav));
    const node = new Listener(ctcModel, audio.sampleRate, modelThresholds(ctcModel));
    for (let i = 0; i < audio.samples.length; i += 1024) node.push(audio.samples.subarray(i, i + 1024));
    node.flush();
    expect(node.recognizer.mode).toBe('ctc');
    expect(l.words.map((w) => w.word)).toEqual(node.recognizer.transcript());
    // One segment for the whole string; the words came one by one inside it.
    expect(l.segments).toBe(1);
    expect(editDistance(STRING.map((w) => DIGIT_WORDS.indexOf(w)), node.recognizer.words.map((w) => w.label))).toBeLessThanOrEqual(1);
    await page.selectOption('#listen-model', 'digits');
    expect(pageErrors).toEqual([]);
  });

  it.runIf(keywordStreamFile() !== null)('two-stage keywords: the keyword-stream model confirmed by the built-in verifier, the same words as in Node', async (ctx) => {
    if (!keywordWav) return ctx.skip();
    await page.selectOption('#listen-model', 'keywords-two-stage');
    expect(await page.textContent('#listen-model-info')).toMatch(/each detection verified by kws-verifier-deltagru-1x128 over 40 \+ 40 frames/);
    await page.setInputFiles('#wav-file', keywordWav);
    await page.waitForSelector('body[data-listen=done], body[data-listen=error]', { timeout: 30_000 });
    expect(await page.getAttribute('body', 'data-listen'), (await page.textContent('#listen-status')) ?? '').toBe('done');
    const l = await listenState();
    const first = await loadModel(join(MODELS_DIR, 'kws-streams-deltagru.safetensors'));
    const clf = await loadModel(KWS_VERIFIER_FILE);
    const two = verifiedDetectorOfModel(first)!;
    const audio = parseWav(readFileSync(keywordWav));
    const node = new Listener(first, audio.sampleRate, { ...modelThresholds(first), verifier: new KeywordVerifier(clf, modelTask(clf), { verifier: two.verifier, thresholds: modelThresholds(clf) }) });
    for (let i = 0; i < audio.samples.length; i += 1024) node.push(audio.samples.subarray(i, i + 1024));
    node.flush();
    expect(node.recognizer.transcript()).toEqual(['stop', 'yes', 'left']);
    expect(l.words.map((w) => [w.word, w.start, w.end])).toEqual(node.recognizer.words.filter((w) => w.isWord).map((w) => [w.word, w.start, w.end]));
    expect(l.transcript).toBe('stop yes left');
    // The warm time per frame covers both stages (the verifier's work on the candidates).
    expect(await page.textContent('#live-stats')).toMatch(/warm: [\d.]+ µs per frame \(both stages\), of which the first-stage network/);
    await page.selectOption('#listen-model', 'digits');
    expect(pageErrors).toEqual([]);
  });
});

/** Index of the largest of y[off .. off + n). */
function argmaxAt(y: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (y[off + k]! > y[off + best]!) best = k;
  return best;
}
