/**
 * What a new user hits first: option-parser errors, silent wrong answers (feature statistics,
 * ignored options, output formats), files replaced or left behind, and non-model files given
 * as models. Every failure is one coded line.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compressModel, encodeCompressedModel } from '../../src/compress/codebook/model.js';
import { encodeNpy, parseNpy } from '../../src/core/npy.js';
import { espeakAvailable } from '../../src/data/espeak.js';
import { festivalAvailable } from '../../src/data/festival.js';
import { encodeModel } from '../../src/model/io.js';
import { randomModel, smoothStream } from '../../src/model/random.js';
import { cli } from '../helpers/cli.js';
import { wavFile } from '../helpers/wav.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BUILTIN = join(ROOT, 'models', 'digits-deltagru.safetensors');
const HELDOUT = join(ROOT, 'models', 'digits-heldout');

/**
 * The first `frames` frames of the committed held-out features as two .npy files in `dir`: raw
 * (`NAME.npy`) and normalised with the built-in model's feature statistics beforehand (`NAMEn.npy`).
 */
async function heldoutFrames(dir: string, name: string, frames: number): Promise<{ x: string; xn: string }> {
  const { loadModel } = await import('../../src/model/io.js');
  const { normalizeFeatures, statsFromJson } = await import('../../src/data/dataset.js');
  const model = await loadModel(BUILTIN);
  const raw = parseNpy(readFileSync(`${HELDOUT}.npy`)).data.slice(0, frames * 40);
  const x = join(dir, `${name}.npy`);
  const xn = join(dir, `${name}n.npy`);
  writeFileSync(x, encodeNpy(raw, [frames, 40]));
  writeFileSync(xn, encodeNpy(normalizeFeatures(raw, statsFromJson(model.meta['featureStats']!)), [frames, 40]));
  return { x, xn };
}

/** A fresh folder with a random GRU 10 model (6 inputs, 4 outputs) and a (30, 6) input stream. */
function fixtureDir(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const model = randomModel(3, 6, [{ kind: 'gru', hiddenSize: 10 }, { kind: 'linear', outputSize: 4 }]);
  const modelPath = join(dir, 'm.safetensors');
  writeFileSync(modelPath, encodeModel(model));
  const xPath = join(dir, 'x.npy');
  writeFileSync(xPath, encodeNpy(smoothStream(5, 30, 6, 0.2), [30, 6]));
  return { dir, model, modelPath, xPath };
}

describe('CLI hardening', () => {
  const { dir, model, modelPath, xPath } = fixtureDir('deltakit-hard-');
  afterEach(() => vi.restoreAllMocks());

  it('option-parser errors are one line `deltakit: E_OPTION: ...`, no usage block', async () => {
    for (const argv of [
      ['run', modelPath, '-i', xPath, '-o', join(dir, 'u.npy'), '--bogus'],
      ['run', modelPath, '-i', xPath],
      ['nosuchcommand'],
      ['run'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err, argv.join(' ')).toMatch(/^deltakit: E_OPTION: \S/);
      expect(r.err.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(r.err).not.toMatch(/Usage:|^error:/m);
    }
    const help = await cli('run', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: deltakit run/);
  });

  it("run applies the model's feature statistics: the built-in model scores over 90 % on raw held-out features", async () => {
    const yPath = join(dir, 'heldout-y.npy');
    const r = await cli('run', BUILTIN, '-i', `${HELDOUT}.npy`, '-o', yPath, '--segments', `${HELDOUT}.json`);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/normalised with the model's feature statistics/);
    // The held-out set: espeak-ng voices and the Festival voice's conditions (clean, level, 8 kHz,
    // reverb), 93.7 % dense; without the statistics the same model scores ~16 %.
    expect(Number(/accuracy ([\d.]+) % on \d+ labelled utterances/.exec(r.err)?.[1])).toBeGreaterThan(90);
    const accuracy = (path: string): number => {
      const y = parseNpy(readFileSync(path));
      const meta = JSON.parse(readFileSync(`${HELDOUT}.json`, 'utf8')) as { utterances: Array<{ label: number; frames: number }> };
      const C = y.shape[1]!;
      let t0 = 0;
      let right = 0;
      for (const u of meta.utterances) {
        const score = new Float64Array(C);
        for (let t = t0; t < t0 + u.frames; t++) for (let c = 0; c < C; c++) score[c] += y.data[t * C + c]!;
        if (score.indexOf(Math.max(...score)) === u.label) right++;
        t0 += u.frames;
      }
      return right / meta.utterances.length;
    };
    expect(accuracy(yPath)).toBeGreaterThan(0.9);
    // Skipping the statistics is possible, but never silent.
    const rawPath = join(dir, 'heldout-raw.npy');
    const raw = await cli('run', BUILTIN, '-i', `${HELDOUT}.npy`, '-o', rawPath, '--segments', `${HELDOUT}.json`, '--no-normalize', '-q', '--backend', 'wasm');
    expect(raw.code).toBe(0);
    expect(raw.err).toMatch(/deltakit: warning: .*featureStats/);
    expect(accuracy(rawPath)).toBeLessThan(0.5);
  });

  it('refuses options that would be ignored and outputs named for another format', async () => {
    const onnx = join(ROOT, 'test', 'golden', 'cases', 'gru_l1_h8', 'model.onnx');
    const x3 = join(dir, 'x3.npy');
    writeFileSync(x3, encodeNpy(smoothStream(1, 10, 3, 0.2), [10, 3]));
    const r = await cli('run', onnx, '-i', x3, '-o', join(dir, 'o.npy'), '--readout-activation', 'relu');
    expect(r.err).toMatch(/^deltakit: E_MISMATCH: readoutActivation \(CLI: --readout-activation\) relu: this ONNX graph records its readout \(no Linear readout\)/);
    expect(existsSync(join(dir, 'o.npy'))).toBe(false);
    // convert writes deltakit .safetensors or a streaming .onnx graph; any other name is refused.
    const conv = await cli('convert', onnx, join(dir, 'b.keras'));
    expect(conv.err).toMatch(/^deltakit: E_OPTION: OUT: expected a path ending in \.safetensors or \.onnx/);
    expect(existsSync(join(dir, 'b.keras'))).toBe(false);
    const csv = await cli('run', modelPath, '-i', xPath, '-o', join(dir, 'out.csv'));
    expect(csv.err).toMatch(/^deltakit: E_OPTION: --output: expected a path ending in \.npy/);
    expect(existsSync(join(dir, 'out.csv'))).toBe(false);
  });

  it('names a .dkcb, a checkpoint or a .npy given where a model is expected; run and info read .dkcb', async () => {
    const dkcb = join(dir, 'm.dkcb');
    writeFileSync(dkcb, encodeCompressedModel(compressModel(model, { bits: 6 })));
    const info = await cli('info', dkcb);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/codebook-compressed/);
    const run = await cli('run', dkcb, '-i', xPath, '-o', join(dir, 'dk.npy'), '-q');
    expect(run.code, run.err).toBe(0);
    const conv = await cli('convert', dkcb, join(dir, 'c.safetensors'));
    expect(conv.err).toMatch(/^deltakit: E_UNSUPPORTED: model file: this is a codebook-compressed model/);
    const npy = await cli('info', xPath);
    expect(npy.err).toMatch(/^deltakit: E_UNSUPPORTED: model file: this is a NumPy \.npy array/);
  });

  it('a file saved at the output path during the run is not replaced (checked again at the write)', async () => {
    const yPath = join(dir, 'late.npy');
    const { createSession } = await import('../../src/runtime/session.js');
    void createSession;
    // Simulate "saved during the run": create the file once the model is loaded.
    const io = await import('../../src/core/npy.js');
    const realRead = io.readNpy;
    const spy = vi.spyOn(io, 'readNpy').mockImplementation(async (p: string) => {
      writeFileSync(yPath, 'saved meanwhile');
      return realRead(p);
    });
    const r = await cli('run', modelPath, '-i', xPath, '-o', yPath, '-q');
    spy.mockRestore();
    expect(r.err).toMatch(/^deltakit: E_EXISTS: /);
    expect(readFileSync(yPath, 'utf8')).toBe('saved meanwhile');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});

describe('failed runs leave nothing behind', () => {
  afterEach(() => vi.restoreAllMocks());
  it('a sweep on a bad model writes no CSV, so the rerun does not meet E_EXISTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-sweep-'));
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, 'not a model at all');
    const x = join(dir, 'x.npy');
    writeFileSync(x, encodeNpy(smoothStream(1, 20, 8, 0.2), [20, 8]));
    const args = ['sweep', bad, '--arch', 'edgedrnn', '--input', x, '--param', 'thx=0,0.1', '--out', join(dir, 'sw')];
    const r = await cli(...args);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^deltakit: E_FORMAT: /);
    expect(readdirSync(dir).sort()).toEqual(['bad.safetensors', 'x.npy']);
    writeFileSync(bad, encodeModel(randomModel(2, 8, [{ kind: 'gru', hiddenSize: 16 }])));
    const again = await cli(...args);
    expect(again.code, again.err).toBe(0);
  });
});

describe('Ctrl-C during run', () => {
  afterEach(() => vi.restoreAllMocks());
  it('exits with E_INTERRUPTED and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-int-'));
    // Seconds of work on the js backend, so Ctrl-C lands inside the loop.
    const model = randomModel(4, 20, [{ kind: 'gru', hiddenSize: 128 }, { kind: 'linear', outputSize: 8 }]);
    writeFileSync(join(dir, 'm.safetensors'), encodeModel(model));
    const T = 200_000;
    writeFileSync(join(dir, 'x.npy'), encodeNpy(new Float32Array(T * 20).fill(0.1), [T, 20]));
    // In process: wait until run has installed its SIGINT handler, then deliver the signal to that
    // handler alone (emitting SIGINT would also reach the test runner's own listeners).
    const before = new Set(process.listeners('SIGINT'));
    let delivered = false;
    const poll = setInterval(() => {
      const mine = process.listeners('SIGINT').filter((l) => !before.has(l));
      if (mine.length > 0 && !delivered) {
        delivered = true;
        clearInterval(poll);
        setTimeout(() => mine.forEach((l) => (l as () => void)()), 100);
      }
    }, 10);
    const r = await cli('run', join(dir, 'm.safetensors'), '-i', join(dir, 'x.npy'), '-o', join(dir, 'y.npy'));
    clearInterval(poll);
    expect(delivered).toBe(true);
    expect(r.err).toMatch(/^deltakit: E_INTERRUPTED: run: interrupted after \d+ of 200000 frames/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['m.safetensors', 'x.npy']);
    // The handler is gone afterwards.
    expect(process.listeners('SIGINT').filter((l) => !before.has(l))).toEqual([]);
  }, 60_000);

  it('a real SIGINT to the CLI process: E_INTERRUPTED, exit 1, no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deltakit-int-'));
    // About 20 GFLOP on the js backend: well over the 5 s of CPU after which Ctrl-C arrives.
    const model = randomModel(4, 20, [{ kind: 'gru', hiddenSize: 128 }, { kind: 'linear', outputSize: 8 }]);
    writeFileSync(join(dir, 'm.safetensors'), encodeModel(model));
    const T = 200_000;
    writeFileSync(join(dir, 'x.npy'), encodeNpy(new Float32Array(T * 20).fill(0.1), [T, 20]));
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'run', join(dir, 'm.safetensors'), '-i', join(dir, 'x.npy'), '-o', join(dir, 'y.npy')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += String(d)));
      // Ctrl-C once the child has used 5 s of CPU (start-up takes 1-3 s of it): counted in CPU
      // time, not wall time, so a loaded machine that starts the CLI slowly cannot make the signal
      // arrive before the command installs its handler.
      const cpuSeconds = () => {
        try {
          const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
          return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
        } catch {
          return 0;
        }
      };
      const poll = setInterval(() => {
        if (cpuSeconds() >= 5) {
          clearInterval(poll);
          p.kill('SIGINT');
        }
      }, 100);
      p.on('close', () => clearInterval(poll));
      p.on('close', (c) => resolve({ code: c, stderr }));
    });
    expect(stderr).toMatch(/^deltakit: E_INTERRUPTED: /m);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['m.safetensors', 'x.npy']);
  }, 120_000);
});

describe('inputs and outputs that are not files', () => {
  const { dir, modelPath, xPath } = fixtureDir('deltakit-paths-');
  afterEach(() => vi.restoreAllMocks());
  const oneCodedLine = (r: { code: number; err: string }, re: RegExp) => {
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(re);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  };

  it('an output path that is a folder or lies in a missing folder is refused before any work, --force or not', async () => {
    // train -o FOLDER -f used to synthesise the corpus and train, then fail at the write (EISDIR).
    const out = join(dir, 'out.safetensors');
    mkdirSync(out);
    const cache = join(dir, 'cache');
    mkdirSync(cache);
    const train = await cli('train', '--task', 'digits', '-o', out, '-f', '--max-voices', '1', '--renditions', '1,1,1', '--epochs', '1', '--delta-epochs', '0', '--cache-dir', cache);
    oneCodedLine(train, /^deltakit: E_IO: cannot write .*out\.safetensors: expected a file path, found a directory$/m);
    expect(readdirSync(cache)).toEqual([]);
    expect(existsSync(`${out}.ckpt`)).toBe(false);
    const missing = await cli('run', modelPath, '-i', xPath, '-o', join(dir, 'no-such-folder', 'y.npy'));
    oneCodedLine(missing, /^deltakit: E_IO: cannot write .*y\.npy: expected an existing folder .*no-such-folder, found none$/m);
    const underFile = await cli('quantize', modelPath, '-o', join(dir, 'm.safetensors', 'q.safetensors'));
    oneCodedLine(underFile, /^deltakit: E_IO: cannot write .*: expected an existing folder .*m\.safetensors, found a file$/m);
  }, 60_000);

  it('a folder given as a trace file, or a file as an output folder, is one coded line (was an internal error)', async () => {
    // sim --trace FOLDER: "internal error: EISDIR: illegal operation on a directory", exit 2.
    const sim = await cli('sim', '--arch', 'deltarnn', '--trace', dir);
    oneCodedLine(sim, /^deltakit: E_IO: cannot read .*: EISDIR$/m);
    // data export -o FILE: "internal error: EEXIST: file already exists, mkdir", exit 2.
    const exp = await cli('data', 'export', 'digits', '--split', 'test', '-o', xPath, '--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', join(dir, 'cache2'));
    oneCodedLine(exp, /^deltakit: E_IO: cannot create .*x\.npy: EEXIST \(expected a folder path\)$/m);
    // --cache-dir FILE (data build, eval, demo, train...): "internal error: ENOTDIR ... mkdir", exit 2.
    const cache = await cli('data', 'build', 'digits', '--split', 'test', '--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', xPath);
    oneCodedLine(cache, /^deltakit: E_IO: feature cache: cannot create .*x\.npy\/utt: ENOTDIR \(expected a writable folder as --cache-dir or \$DELTAKIT_CACHE\)$/m);
  });

  it('an empty (0, I) frames file is refused alike by every command that reads frames', async () => {
    // prune -i / compress -i printed "argmax agreement NaN %" and exited 0; run wrote a (0, 4) output.
    const empty = join(dir, 'empty.npy');
    writeFileSync(empty, encodeNpy(new Float32Array(0), [0, 6]));
    for (const [argv, option] of [
      [['prune', modelPath, '--gamma', '0.5', '-o', join(dir, 'p.safetensors'), '-i', empty], '--input'],
      [['compress', modelPath, '-o', join(dir, 'c.dkcb'), '-i', empty], '--input'],
      [['run', modelPath, '-o', join(dir, 'e.npy'), '-i', empty], '--input'],
      [['quantize', modelPath, '--frames', empty], '--frames'],
      [['sim', modelPath, '--arch', 'deltarnn', '-i', empty], '--input'],
      [['export', 'c', modelPath, '-o', join(dir, 'c'), '--calibration', empty], '--calibration'],
    ] as const) {
      const r = await cli(...argv);
      oneCodedLine(r, new RegExp(`^deltakit: E_SHAPE: ${option} .*empty\\.npy: expected shape \\(T, 6\\) with T >= 1 for this model, found \\(0, 6\\)$`, 'm'));
    }
    // prune also wrote its output before reading --input (or finding that --accuracy cannot run).
    const acc = await cli('prune', modelPath, '--gamma', '0.5', '-o', join(dir, 'p.safetensors'), '--accuracy');
    oneCodedLine(acc, /^deltakit: E_UNSUPPORTED: model .*: expected the metadata of a deltakit-trained classifier/m);
    expect(readdirSync(dir).filter((f) => /^(p|c|e)\.|^c$/.test(f))).toEqual([]);
  });

  it('listen: --task (a built-in model) with --model is refused, not ignored', async () => {
    // listen rec.wav --task keywords --model digits.safetensors ran the digits model and printed digits.
    const wav = join(dir, 'never-read.wav');
    const both = await cli('listen', wav, '--task', 'keywords', '--model', BUILTIN);
    oneCodedLine(both, /^deltakit: E_OPTION: --task: picks a built-in model, expected no --model with it, found --task keywords and --model .*digits-deltagru\.safetensors$/m);
    // --model alone (the --task default is not the user's) goes on to read the recording.
    oneCodedLine(await cli('listen', wav, '--model', BUILTIN), /^deltakit: E_IO: cannot read .*never-read\.wav: ENOENT$/m);
  });

  it('sweep: a grid past 10,000 points is refused before any file is written', async () => {
    const r = await cli('sweep', modelPath, '--arch', 'deltarnn', '-i', xPath, '--param', 'thx=0:1:0.0002', '--param', 'thh=0:1:0.0002', '-o', join(dir, 'big'));
    oneCodedLine(r, /^deltakit: E_LIMIT: sweep: at most 10000 points \(the product of the --param axes\), found thx 5001 x thh 5001 = 25010001$/m);
    expect(readdirSync(dir).filter((f) => f.startsWith('big'))).toEqual([]);
  });

  it('train: a configuration the trainer refuses (no epoch, 1e12 epochs) fails before the corpus is synthesised', async () => {
    // --epochs 0 --delta-epochs 0 passed the option parser, synthesised the corpus, then failed in the
    // trainer; --epochs 1e12 was accepted (unbounded work).
    const cache = join(dir, 'cache-train');
    mkdirSync(cache);
    const base = ['train', '--task', 'digits', '-o', join(dir, 't.safetensors'), '--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', cache];
    oneCodedLine(await cli(...base, '--epochs', '0', '--delta-epochs', '0'), /^deltakit: E_OPTION: train: epochs must be integers >= 0 with at least one epoch, found 0 dense and 0 delta$/m);
    oneCodedLine(await cli(...base, '--epochs', '1e12'), /^deltakit: E_LIMIT: train: at most 10000 epochs in all, found 1000000000000 dense \+ 8 delta$/m);
    expect(readdirSync(cache)).toEqual([]);
    expect(existsSync(join(dir, 't.safetensors'))).toBe(false);
  }, 60_000);

  it('sim --fixed-point on a model EdgeDRNN cannot run: only the error, not first a line saying the machine is used', async () => {
    const r = await cli('sim', modelPath, '--arch', 'edgedrnn', '-i', xPath, '--fixed-point');
    oneCodedLine(r, /^deltakit: E_HW_LIMIT: EdgeDRNN hidden size: H must be a multiple of 8 \(the PE count\), found 10$/m);
  });

  it('sim --set of a size the engine allocates is refused with its bound (was an internal error)', async () => {
    const r = await cli('sim', modelPath, '--arch', 'spartus', '-i', xPath, '--set', 'arrays=1e12');
    oneCodedLine(r, /^deltakit: E_LIMIT: arrays: expected at most 65536, found 1000000000000$/m);
  });

  it('run --segments: a label the model cannot output is refused, not scored as an error or dropped', async () => {
    // label 99 of a 4-output model: "accuracy 0.00 % on 1 labelled utterances", exit 0; "x": no accuracy line.
    for (const [label, found] of [[99, '99'], [1.5, '1.5'], ['x', '"x"']] as const) {
      const seg = join(dir, 'seg.json');
      writeFileSync(seg, JSON.stringify({ utterances: [{ frames: 10, label: 0 }, { frames: 20, label }] }));
      const r = await cli('run', modelPath, '-i', xPath, '-o', join(dir, 'ys.npy'), '--segments', seg);
      oneCodedLine(r, new RegExp(`^deltakit: E_FORMAT: --segments .*seg\\.json: utterance 1: expected a label -1 \\(none\\) or 0\\.\\.3 \\(this model's 4 outputs\\), found ${found.replace('.', '\\.')}$`, 'm'));
      expect(existsSync(join(dir, 'ys.npy'))).toBe(false);
    }
  });

  it('kws detect/tune --dense with --thx/--thh is refused as listen refuses it (the thresholds were ignored)', async () => {
    const kws = join(ROOT, 'models', 'kws-deltagru.safetensors');
    const detect = await cli('kws', 'detect', kws, '--input', join(dir, 'never-read.wav'), '--dense', '--thx', '0.1');
    oneCodedLine(detect, /^deltakit: E_OPTION: --dense: expected no --thx\/--thh with it \(the dense network has no thresholds\), found --thx 0\.1$/m);
    const tune = await cli('kws', 'tune', kws, '--dense', '--thh', '0.2', '--max-voices', '1', '--cache-dir', join(dir, 'cache-kws'));
    oneCodedLine(tune, /^deltakit: E_OPTION: --dense: expected no --thx\/--thh .*, found --thh 0\.2$/m);
  });

  it('--bias-convention on a dense run (no --thx/--thh) is refused: a dense network has no delta memories to place it in', async () => {
    // run/sim/export c --bias-convention edgedrnn without thresholds ran dense, the option ignored (same bytes as cudnn).
    const re = /^deltakit: E_OPTION: --bias-convention edgedrnn: places the delta network's memory biases, expected --thx or --thh with it, found neither \(a dense run has none\)$/m;
    oneCodedLine(await cli('run', modelPath, '-i', xPath, '-o', join(dir, 'bc.npy'), '--bias-convention', 'edgedrnn'), re);
    oneCodedLine(await cli('sim', modelPath, '--arch', 'deltarnn', '-i', xPath, '--bias-convention', 'edgedrnn'), re);
    oneCodedLine(await cli('export', 'c', modelPath, '-o', join(dir, 'bc'), '--bias-convention', 'edgedrnn'), re);
    oneCodedLine(await cli('sweep', modelPath, '--arch', 'deltarnn', '-i', xPath, '--param', 'pes=8,16', '--bias-convention', 'edgedrnn', '-o', join(dir, 'bc')), re);
    expect(readdirSync(dir).filter((f) => f.startsWith('bc'))).toEqual([]);
    const delta = await cli('run', modelPath, '-i', xPath, '-o', join(dir, 'bc.npy'), '--bias-convention', 'edgedrnn', '--thh', '0.1', '-q');
    expect(delta.code, delta.err).toBe(0);
  });

  it('--condition: a setting given twice, or name=value=more, is refused (the last one won, the rest was dropped)', async () => {
    const { parseCondition } = await import('../../src/cli/commands/data.js');
    expect(() => parseCondition('gain=3,gain=4')).toThrow(/^--condition: expected each setting once, found gain twice \('gain=3' and 'gain=4'\)$/);
    expect(() => parseCondition('telephone,wide')).toThrow(/^--condition: expected each setting once, found the channel twice \('telephone' and 'wide'\)$/);
    expect(() => parseCondition('gain=3=4')).toThrow(/^--condition: expected name=value, found 'gain=3=4'$/);
    expect(parseCondition('telephone,gain=-20,reverb=40')).toEqual({ channel: 'telephone', gainDb: -20, reverb: 40 });
    const r = await cli('eval', BUILTIN, '--condition', 'gain=3,gain=4', '--max-voices', '1', '--cache-dir', join(dir, 'cache-cond'));
    oneCodedLine(r, /^deltakit: E_OPTION: --condition: expected each setting once, found gain twice/m);
  });

  it('convert --name: a name with a newline or of thousands of characters is refused (info printed it over several lines)', async () => {
    const re = /^deltakit: E_OPTION: --name: expected a non-empty name of at most 256 characters without control characters, found /m;
    oneCodedLine(await cli('convert', modelPath, join(dir, 'n.safetensors'), '--name', 'two\nlines'), re);
    oneCodedLine(await cli('convert', modelPath, join(dir, 'n.safetensors'), '--name', 'a'.repeat(1000)), re);
    expect(existsSync(join(dir, 'n.safetensors'))).toBe(false);
  });

  it('export c --board: weights larger than the board flash are refused (the library could not link)', async () => {
    // A GRU 512 at q15 (int8 weights, 853,504 bytes) for the micro:bit (256 kB): 'region FLASH overflowed by 616976 bytes' at link time.
    const big = join(dir, 'big.safetensors');
    writeFileSync(big, encodeModel(randomModel(3, 40, [{ kind: 'gru', hiddenSize: 512 }, { kind: 'linear', outputSize: 11 }])));
    const r = await cli('export', 'c', big, '-o', join(dir, 'big-c'), '--board', 'microbit');
    oneCodedLine(r, /^deltakit: E_HW_LIMIT: board microbit: the weights alone take 853504 bytes \(853504 x 1\), its flash holds 262144; expected a smaller model or weights, or another board$/m);
    expect(existsSync(join(dir, 'big-c'))).toBe(false);
    const ok = await cli('export', 'c', big, '-o', join(dir, 'big-c'), '--board', 'mps2-an386', '-q');
    expect(ok.code, ok.err).toBe(0);
  });

  it('a PE count past 4096 is refused alike by prune --check and train --cbtd-pes (a counter per PE was allocated)', async () => {
    // prune --check --pes 1e12: "internal error: Invalid typed array length"; --pes 3e8: 2.4 GB and 12 s.
    oneCodedLine(await cli('prune', modelPath, '--check', '--pes', '1e12'), /^deltakit: E_VALUE: pes: expected an integer in 1\.\.4096, found 1000000000000$/m);
    const cache = join(dir, 'cache-pes');
    mkdirSync(cache);
    const train = await cli('train', '--task', 'digits', '-o', join(dir, 'tp.safetensors'), '--cbtd-gamma', '0.5', '--cbtd-pes', '1e12', '--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', cache);
    oneCodedLine(train, /^deltakit: E_OPTION: train: CBTD needs 0 <= gamma < 1, pes in 1\.\.4096 and rampEpochs >= 1, found /m);
    expect(readdirSync(cache)).toEqual([]);
  }, 60_000);

  it('an integer option past 2^53 is refused: --seed 99999999999999999999 and 100000000000000000000 were one seed', async () => {
    const { parseNumber } = await import('../../src/cli/options.js');
    expect(() => parseNumber('--seed', '99999999999999999999', { integer: true })).toThrow(/^--seed: expected an integer of at most 9007199254740991, found '99999999999999999999'$/);
    expect(parseNumber('--seed', '9007199254740991', { integer: true })).toBe(Number.MAX_SAFE_INTEGER);
    oneCodedLine(await cli('data', 'voices', '--seed', '1e20'), /^deltakit: E_OPTION: --seed: expected an integer of at most 9007199254740991, found '1e20'$/m);
  });

  it("train keeps an earlier run's checkpoint: a new run without --resume is refused unless --force (it replaced it after one epoch)", async () => {
    const cache = join(dir, 'cache-ckpt');
    mkdirSync(cache);
    const out = join(dir, 'ck.safetensors');
    writeFileSync(`${out}.ckpt`, 'an interrupted run');
    const base = ['train', '--task', 'digits', '-o', out, '--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', cache];
    oneCodedLine(await cli(...base), /^deltakit: E_EXISTS: .*ck\.safetensors\.ckpt exists \(the checkpoint of an earlier run\): expected --resume to continue it, or --force to start over and replace it$/m);
    expect(readFileSync(`${out}.ckpt`, 'utf8')).toBe('an interrupted run');
    // A checkpoint path that is a folder failed after the first epoch; --resume without one after the corpus.
    oneCodedLine(await cli(...base, '--checkpoint', cache), /^deltakit: E_IO: cannot write .*cache-ckpt: expected a file path, found a directory$/m);
    oneCodedLine(await cli(...base, '--resume', '--checkpoint', join(dir, 'none.ckpt')), /^deltakit: E_IO: --resume: expected the checkpoint .*none\.ckpt, found none$/m);
    expect(readdirSync(cache)).toEqual([]);
  }, 60_000);

  it("tune keeps an interrupted sweep's state: a new sweep without --resume is refused unless --force", async () => {
    const table = join(dir, 'tn.md');
    writeFileSync(`${table}.json`, '{"finished points": "of an interrupted sweep"}');
    const cache = join(dir, 'cache-tune');
    mkdirSync(cache);
    const r = await cli('tune', BUILTIN, '--table', table, '--plot', join(dir, 'tn.svg'), '--max-voices', '1', '--renditions', '1,1,1', '--grid-x', '0', '--grid-h', '0', '--cache-dir', cache);
    oneCodedLine(r, /^deltakit: E_EXISTS: .*tn\.md\.json exists \(the finished points of an interrupted sweep\): expected --resume to continue it, or --force to start over and replace it$/m);
    expect(readFileSync(`${table}.json`, 'utf8')).toBe('{"finished points": "of an interrupted sweep"}');
    expect(readdirSync(cache)).toEqual([]);
  }, 60_000);

  it('sweep --resume: a damaged CSV row is refused (it was kept, with the new rows appended after it); a folder is E_IO', async () => {
    const prefix = join(dir, 'sr');
    const args = ['sweep', modelPath, '--arch', 'deltarnn', '-i', xPath, '--param', 'thx=0,0.1,0.2', '-o', prefix];
    expect((await cli(...args)).code).toBe(0);
    const lines = readFileSync(`${prefix}.csv`, 'utf8').split('\n');
    writeFileSync(`${prefix}.csv`, [lines[0], lines[1], '0.2,"cut short'].join('\n'));
    oneCodedLine(await cli(...args, '--resume'), /^deltakit: E_FORMAT: .*sr\.csv: row 3: expected 14 fields, numbers for thx and ok 0 or 1, found 2 fields starting /m);
    expect(readFileSync(`${prefix}.csv`, 'utf8')).toBe([lines[0], lines[1], '0.2,"cut short'].join('\n'));
    writeFileSync(`${prefix}.csv`, [lines[0], lines[1]].join('\n') + '\n');
    const resumed = await cli(...args, '--resume');
    expect(resumed.err).toMatch(/2 points simulated, 1 resumed/);
    mkdirSync(join(dir, 'srd.csv'));
    oneCodedLine(await cli(...args.slice(0, -1), join(dir, 'srd'), '--resume'), /^deltakit: E_IO: cannot write .*srd\.csv: expected a file path, found a directory$/m);
  });

  it('a trained model whose featureStats has other bands than its input is refused by kws detect too (it ran, exit 0)', async () => {
    const { loadModel } = await import('../../src/model/io.js');
    const kws = await loadModel(join(ROOT, 'models', 'kws-deltagru.safetensors'));
    const bad = join(dir, 'kws-2bands.safetensors');
    writeFileSync(bad, encodeModel({ ...kws, meta: { ...kws.meta, featureStats: JSON.stringify({ mean: [1, 2], std: [1, 2] }) } }));
    const x40 = join(dir, 'x40.npy');
    writeFileSync(x40, encodeNpy(smoothStream(5, 50, 40, 0.2), [50, 40]));
    oneCodedLine(await cli('kws', 'detect', bad, '--input', x40), /^deltakit: E_FORMAT: model kws-deltagru-1x128 \(.*kws-2bands\.safetensors\): metadata featureStats has 2 bands, the model's input has 40$/m);
  });

  it("a model's stored settings out of range are named by metadata key and file, not as the option they stand in for (E_FORMAT)", async () => {
    const { loadModel } = await import('../../src/model/io.js');
    const digits = await loadModel(BUILTIN);
    const kws = await loadModel(join(ROOT, 'models', 'kws-deltagru.safetensors'));
    const streams = await loadModel(join(ROOT, 'models', 'kws-streams-deltagru.safetensors'));
    const withMeta = (m: typeof digits, name: string, patch: Record<string, string>) => {
      const p = join(dir, `${name}.safetensors`);
      writeFileSync(p, encodeModel({ ...m, meta: { ...m.meta, ...patch } }));
      return p;
    };
    const small = ['--max-voices', '1', '--renditions', '1,1,1', '--cache-dir', join(dir, 'cache-meta')];
    // Stored thresholds: were "E_OPTION: --thx: expected at least 0, found -1" with no --thx given.
    const neg = withMeta(digits, 'thx-neg', { thresholdX: '-1' });
    oneCodedLine(await cli('eval', neg, ...small), /^deltakit: E_FORMAT: model digits-deltagru-1x128 \(.*thx-neg\.safetensors\): metadata thresholdX: expected a delta threshold >= 0, found "-1"$/m);
    const wav = join(dir, 'silence.wav');
    writeFileSync(wav, wavFile(new Int16Array(1600), 16000));
    oneCodedLine(await cli('listen', wav, '--model', neg), /^deltakit: E_FORMAT: model digits-deltagru-1x128 \(.*thx-neg\.safetensors\): metadata thresholdX: /m);
    // The option given still wins, and a bad option is still the option's.
    oneCodedLine(await cli('eval', neg, '--thx', '-2', ...small), /^deltakit: E_OPTION: --thx: expected at least 0, found -2$/m);
    const nan = withMeta(kws, 'thh-nan', { thresholdH: 'NaN' });
    const x40 = join(dir, 'x40-meta.npy');
    writeFileSync(x40, encodeNpy(smoothStream(5, 50, 40, 0.2), [50, 40]));
    oneCodedLine(await cli('kws', 'detect', nan, '--input', x40), /^deltakit: E_FORMAT: model kws-deltagru-1x128 \(.*thh-nan\.safetensors\): metadata thresholdH: expected a delta threshold >= 0, found "NaN"$/m);
    // Detector, clip rule and two-stage settings: were "E_OPTION: keyword detector: window must be ..." naming neither.
    oneCodedLine(await cli('kws', 'detect', withMeta(kws, 'kws-window', { kwsWindow: '0' }), '--input', x40), /^deltakit: E_FORMAT: model kws-deltagru-1x128 \(.*kws-window\.safetensors\): metadata kwsWindow: expected an integer number of frames >= 1 and <= 10000, found "0"$/m);
    oneCodedLine(await cli('eval', withMeta(streams, 'kst-clip', { kwsClipRule: 'peak', kwsClipThreshold: '7' }), ...small), /^deltakit: E_FORMAT: model kws-streams-deltagru-1x128 \(.*kst-clip\.safetensors\): metadata kwsClipThreshold: expected a posterior .* <= 1, found "7"$/m);
    const verify = JSON.stringify({ detector: { window: 5, threshold: 2, lockout: 0 }, verifier: { before: 1, after: 1, threshold: 0.5 } });
    oneCodedLine(await cli('kws', 'detect', withMeta(streams, 'kst-verify', { kwsVerify: verify }), '--verify', '--input', x40), /^deltakit: E_FORMAT: model kws-streams-deltagru-1x128 \(.*kst-verify\.safetensors\): metadata kwsVerify: keyword detector: threshold must be a posterior in \(0, 1\], found 2$/m);
    // The training voice split: a corpusOptions that is not JSON was dropped without a word (the default split used).
    oneCodedLine(await cli('eval', withMeta(digits, 'corpus-bad', { corpusOptions: '{not json' }), ...small), /^deltakit: E_FORMAT: model digits-deltagru-1x128 \(.*corpus-bad\.safetensors\): metadata corpusOptions: expected a JSON object, found "\{not json"$/m);
    oneCodedLine(await cli('eval', withMeta(digits, 'corpus-seed', { corpusOptions: '{"seed": -5}' }), ...small), /^deltakit: E_FORMAT: model digits-deltagru-1x128 \(.*corpus-seed\.safetensors\): metadata corpusOptions\.seed: expected an integer >= 0, found -5$/m);
    // Feature statistics that are not JSON: run named no model and no key.
    oneCodedLine(await cli('run', withMeta(digits, 'stats-bad', { featureStats: '{' }), '-i', `${HELDOUT}.npy`, '-o', join(dir, 'stats-y.npy')), /^deltakit: E_FORMAT: model digits-deltagru-1x128 \(.*stats-bad\.safetensors\): metadata featureStats: feature stats: expected JSON/m);
    expect(existsSync(join(dir, 'cache-meta'))).toBe(false);
  });

  it("prune -i and compress -i measure the output effect on frames normalised with the model's statistics, as run reads --input (raw before)", async () => {
    const { loadModel } = await import('../../src/model/io.js');
    const { normalizeFeatures, statsFromJson } = await import('../../src/data/dataset.js');
    const { outputEffect } = await import('../../src/cli/commands/compress.js');
    const { cbtdPruneModel } = await import('../../src/compress/cbtd/prune.js');
    const { decompressModel } = await import('../../src/compress/codebook/model.js');
    const model = await loadModel(BUILTIN);
    const all = parseNpy(readFileSync(`${HELDOUT}.npy`));
    const raw = all.data.slice(0, 200 * 40);
    const x = join(dir, 'h200.npy');
    writeFileSync(x, encodeNpy(raw, [200, 40]));
    const normalized = normalizeFeatures(raw, statsFromJson(model.meta['featureStats']!));
    const c = await cli('compress', BUILTIN, '--bits', '3', '-o', join(dir, 'h.dkcb'), '-i', x, '--json');
    expect(c.code, c.err).toBe(0);
    const ce = (JSON.parse(c.out) as { effect: { normalized: boolean; maxAbsDiff: number; argmaxAgreement: number } }).effect;
    const decoded = decompressModel(compressModel(model, { bits: 3 }));
    const want = outputEffect(model, decoded, normalized, {});
    expect(ce.normalized).toBe(true);
    expect(ce.maxAbsDiff).toBeCloseTo(want.maxAbsDiff, 5);
    expect(ce.argmaxAgreement).toBe(want.argmaxAgreement);
    // On raw log-mel the model saturates: another (wrong) effect; --no-normalize still gives it, with a warning.
    const cr = await cli('compress', BUILTIN, '--bits', '3', '-o', join(dir, 'h.dkcb'), '-i', x, '--json', '--no-normalize', '--force');
    const re = (JSON.parse(cr.out) as { effect: { normalized: boolean; maxAbsDiff: number } }).effect;
    expect(re.normalized).toBe(false);
    expect(re.maxAbsDiff).toBeCloseTo(outputEffect(model, decoded, raw, {}).maxAbsDiff, 5);
    expect(re.maxAbsDiff).not.toBeCloseTo(want.maxAbsDiff, 2);
    expect(cr.err).toMatch(/warning: --input is used as given/);
    const p = await cli('prune', BUILTIN, '--gamma', '0.5', '--pes', '8', '-o', join(dir, 'hp.safetensors'), '-i', x, '--thx', '0.1', '--thh', '0.1', '--json');
    expect(p.code, p.err).toBe(0);
    const pe = (JSON.parse(p.out) as { effect: { normalized: boolean; maxAbsDiff: number } }).effect;
    const th = { thresholdX: 0.1, thresholdH: 0.1 };
    expect(pe.normalized).toBe(true);
    expect(pe.maxAbsDiff).toBeCloseTo(outputEffect(model, cbtdPruneModel(model, { gamma: 0.5, pes: 8, alpha: 1, seed: 0 }), normalized, th).maxAbsDiff, 5);
    const text = await cli('prune', BUILTIN, '--gamma', '0.5', '--pes', '8', '-o', join(dir, 'hp.safetensors'), '-i', x, '--force');
    expect(text.out).toMatch(/^output change on .*h200\.npy \(normalised with the model's feature statistics, meta\.featureStats; --no-normalize to skip\): max /m);
  });

  it('listen: a recording shorter than one 25 ms window is refused naming the minimum; silence says the network never ran (both printed "0.00x fewer")', async () => {
    const oneMs = join(dir, '1ms.wav');
    writeFileSync(oneMs, wavFile(new Int16Array(16), 16000));
    oneCodedLine(await cli('listen', oneMs), /^deltakit: E_VALUE: .*1ms\.wav: expected at least 25 ms of audio \(one 25 ms log-mel window, 400 samples at 16 kHz\), found 1\.00 ms \(16 samples at 16000 Hz\)$/m);
    const quiet = join(dir, 'quiet.wav');
    writeFileSync(quiet, wavFile(new Int16Array(8000), 16000));
    const r = await cli('listen', quiet);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^ops 0: no voiced segment, the network never ran \(no saving to measure\)$/m);
    expect(r.err).not.toMatch(/0\.00x|NaN|Infinity/);
    const j = await cli('listen', quiet, '--json');
    const summary = JSON.parse(j.out.trim().split('\n').pop()!) as { frames: number; steps: number; occupancy: number | null };
    expect(summary).toMatchObject({ frames: 48, steps: 0, occupancy: null });
  });

  it("quantize --frames, export c --calibration and edgedrnn export --stim read frames normalised with the model's statistics, as run reads --input (raw before)", async () => {
    const { x, xn } = await heldoutFrames(dir, 'q60', 60);
    const note = (opt: string) => new RegExp(`^${opt} normalised with the model's feature statistics, meta\\.featureStats; --no-normalize to skip$`, 'm');
    // Each command three times: raw frames (normalised by the command), the same frames
    // normalised beforehand and given as they are, and raw frames as they are.
    const q = async (...args: string[]) => {
      const r = await cli('quantize', BUILTIN, '--json', ...args);
      expect(r.code, r.err).toBe(0);
      return r;
    };
    const qa = await q('--frames', x);
    expect(qa.err).toMatch(note('--frames'));
    expect(qa.out).toBe((await q('--frames', xn, '--no-normalize')).out);
    const qr = await q('--frames', x, '--no-normalize');
    expect(qr.err).toMatch(/warning: --frames is used as given/);
    expect(qr.out).not.toBe(qa.out);
    const c = async (out: string, ...args: string[]) => {
      const r = await cli('export', 'c', BUILTIN, '--out', join(dir, out), '--name', 'digits', ...args);
      expect(r.code, r.err).toBe(0);
      return { err: r.err, line: r.out.split('\n')[0]!, h: readFileSync(join(dir, out, 'digits.h'), 'utf8'), c: readFileSync(join(dir, out, 'digits.c'), 'utf8') };
    };
    const ca = await c('c-a', '--calibration', x);
    expect(ca.err).toMatch(note('--calibration'));
    const cn = await c('c-n', '--calibration', xn, '--no-normalize');
    expect([ca.line, ca.h, ca.c]).toEqual([cn.line, cn.h, cn.c]);
    // Raw log-mel spans a wider range: another input format, one the library never receives.
    const cr = await c('c-r', '--calibration', x, '--no-normalize');
    expect(cr.line).not.toBe(ca.line);
    const e = async (out: string, ...args: string[]) => {
      const r = await cli('edgedrnn', 'export', BUILTIN, '--out', join(dir, out), '--thx', '0.1', '--thh', '0.1', '-q', ...args);
      expect(r.code, r.err).toBe(0);
      return { err: r.err, stim: readFileSync(join(dir, out, 'edgedrnn_tb_stim.txt'), 'utf8'), gold: readFileSync(join(dir, out, 'edgedrnn_tb_gold_rnn.txt'), 'utf8') };
    };
    const ea = await e('e-a', '--stim', x);
    expect(ea.err).toMatch(note('--stim'));
    const en = await e('e-n', '--stim', xn, '--no-normalize');
    expect([ea.stim, ea.gold]).toEqual([en.stim, en.gold]);
    expect((await e('e-r', '--stim', x, '--no-normalize')).stim).not.toBe(ea.stim);
  });

  it("sim -i and sweep -i run the model on frames normalised with its statistics, as run does (the simulated run was on raw features)", async () => {
    const { x, xn } = await heldoutFrames(dir, 's200', 200);
    const occupancy = async (...args: string[]) => {
      const r = await cli('sim', BUILTIN, '--arch', 'deltarnn', '--thx', '0.4', '--thh', '0.2', '--json', ...args);
      expect(r.code, r.err).toBe(0);
      return { occupancy: (JSON.parse(r.out) as { total: { occupancy: number } }).total.occupancy, err: r.err };
    };
    const a = await occupancy('-i', x);
    expect(a.err).toMatch(/^input normalised with the model's feature statistics, meta\.featureStats; --no-normalize to skip$/m);
    // The same as the frames normalised beforehand and given as they are.
    expect(a.occupancy).toBe((await occupancy('-i', xn, '--no-normalize')).occupancy);
    const rawRun = await occupancy('-i', x, '--no-normalize');
    expect(rawRun.err).toMatch(/warning: --input is used as given/);
    expect(Math.abs(rawRun.occupancy - a.occupancy)).toBeGreaterThan(0.01);
    const sw = await cli('sweep', BUILTIN, '--arch', 'deltarnn', '-i', x, '--param', 'thx=0.4', '--thh', '0.2', '-o', join(dir, 'sw-norm'));
    expect(sw.code, sw.err).toBe(0);
    expect(sw.err).toMatch(/^input normalised with the model's feature statistics/m);
  });

  it('tune refuses a threshold grid too large to sweep before building any data set', async () => {
    // 50 x 50 = 2500 pairs, each a pass over the whole validation set: hours, from a typing slip.
    const grid = Array.from({ length: 50 }, (_, i) => (i / 100).toFixed(2)).join(',');
    oneCodedLine(await cli('tune', join(ROOT, 'models', 'digits-deltagru.safetensors'), '--data', 'digits', '--grid-x', grid, '--grid-h', grid, '--table', join(dir, 't.md'), '--plot', join(dir, 't.svg')), /^deltakit: E_LIMIT: tune: expected at most 1000 threshold pairs \(each runs the whole data set\), found 50 x 50 = 2500$/m);
    expect(existsSync(join(dir, 't.md'))).toBe(false);
  });

  it.skipIf(!espeakAvailable() || !festivalAvailable())('tune with no threshold pair within the budget ends with one E_NO_POINT line naming the closest pair (exit 1 without a code before)', async () => {
    const table = join(dir, 'np.md');
    const r = await cli('tune', BUILTIN, '--table', table, '--plot', join(dir, 'np.svg'), '--max-voices', '1', '--renditions', '1,1,1', '--grid-x', '3', '--grid-h', '3', '--max-accuracy-drop', '0');
    oneCodedLine(r, /^deltakit: E_NO_POINT: tune: no threshold pair of the 1 x 1 grid stays within the budget \(at most 0 points below dense\); the closest, thx 3 thh 3, is \d+\.\d\d points below dense: try a larger --max-accuracy-drop or smaller thresholds \(the sweep is in .*np\.md and .*np\.svg\)$/m);
    // The sweep is still written: it shows how far off the grid is.
    expect(readFileSync(table, 'utf8')).toMatch(/^\| 3 \| 3 \| /m);
    expect(r.out).toMatch(/^dense +\d+\.\d\d/m);
  }, 60_000);

  it('an error quoting bytes of a binary file prints them escaped, on one line', async () => {
    // run --segments x.npy: the JSON parser's excerpt of the .npy header reached the terminal raw (NUL, 0x01).
    const r = await cli('run', modelPath, '-i', xPath, '-o', join(dir, 'y.npy'), '--segments', xPath);
    oneCodedLine(r, /^deltakit: E_FORMAT: --segments .* is not valid JSON \(.*NUMPY\\x01\\x00/m);
    expect(r.err.trimEnd()).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});
