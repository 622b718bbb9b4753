/**
 * End to end in a real browser: bundle the playground, serve it on 127.0.0.1, drive Debian's
 * headless Chromium through playwright-core, and check that what ran in the page equals what the
 * same model and stream give in Node. Skipped when /usr/bin/chromium is absent (.ci/run installs it).
 *
 * Set DELTAKIT_SCREENSHOT_DIR to keep the screenshot somewhere known; otherwise it goes to a
 * temporary directory that is removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { availableBackends, createSession, loadModel, maxAbs, maxAbsDiff, readNpy } from '../../src/index.js';
import { buildWeb } from '../../web/build.js';
import { builtinModel, builtinStream, DEFAULTS } from '../../web/run.js';

const CHROMIUM = '/usr/bin/chromium';
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('../golden/cases/gru_l1_h16_fc/', import.meta.url));

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
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'deltakit-web-'));
    ({ bytes: bundleBytes } = await buildWeb({ outdir: join(work, 'dist') }));
    server = await serve(join(work, 'dist'));
    const { port } = server.address() as AddressInfo;
    // A fresh profile per run; no network besides 127.0.0.1, no updates, no first-run UI.
    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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

  it('runs the built-in model dense and delta, equal to Node, on the wasm SIMD path where Node has it', async () => {
    const state = await clickRun(page);
    expect(state, await page.textContent('#status') ?? '').toBe('done');
    const r = await lastRun(page);

    const T = DEFAULTS.frames;
    const model = builtinModel();
    const frames = builtinStream(T, model.layers[0]!.inputSize);
    const dense = createSession(model);
    const delta = createSession(model, { thresholdX: DEFAULTS.thresholdX, thresholdH: DEFAULTS.thresholdH });
    const yDense = dense.run(frames);
    const yDelta = delta.run(frames);

    expect(r.frames).toBe(T);
    expect(r.dense.outputs.length).toBe(yDense.length);
    expect(maxAbsDiff(Float32Array.from(r.dense.outputs), yDense)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(Float32Array.from(r.delta.outputs), yDelta)).toBeLessThanOrEqual(1e-5);
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
});
