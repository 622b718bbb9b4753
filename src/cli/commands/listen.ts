/**
 * `deltakit listen FILE.wav`: stream a recording through a built-in (or given) speech model, as a
 * microphone would feed it, and print each word when it is recognised. `deltakit listen -` reads
 * the WAV from standard input as it arrives (a recorder's pipe: `arecord -f S16_LE -r 16000 -t wav |
 * deltakit listen -`), so the words print while the speaker talks. The audio goes through the
 * same streaming pieces the browser playground uses (resampler to 16 kHz, streaming log-mel,
 * voice-activity segmentation, the delta network), in chunks of `--chunk` samples.
 */
import type { Command } from 'commander';
import { check } from '../../core/errors.js';
import { parseWav, WavStream, type Audio } from '../../data/wav.js';
import { loadModelOrCompressed } from '../../compress/codebook/io.js';
import { readFileBytes } from '../../model/io.js';
import type { Backend } from '../../runtime/types.js';
import { Listener, LISTEN_SAMPLE_RATE } from '../../stream/listener.js';
import type { RecognizedWord } from '../../stream/recognizer.js';
import { BUILTIN_TASKS, loadBuiltinModel, type BuiltinTask } from '../../train/builtin.js';
import { checkDenseThresholds, parseChoice, parseNumber, si } from '../options.js';
import { keywordVerifierFor } from './kws.js';

interface ListenOptions {
  task: string;
  model?: string;
  thx?: string;
  thh?: string;
  dense?: boolean;
  backend?: string;
  chunk: string;
  json?: boolean;
  quiet?: boolean;
  verify?: string | boolean;
}

/** The shortest recording listen can analyse: one log-mel window (25 ms). */
const MIN_LISTEN_MS = 25;

export function register(program: Command): void {
  program
    .command('listen')
    .description('stream a .wav recording through a speech model (default: the built-in isolated digits) and print words as they are recognised')
    .argument('<file.wav>', "16-bit PCM .wav, any sample rate (resampled to 16 kHz); '-' reads it from standard input as it arrives")
    .option('--task <task>', `built-in model: ${BUILTIN_TASKS.join(', ')} (not with --model)`, 'digits')
    .option('--model <file>', 'a model trained by deltakit train instead of the built-in one')
    .option('--thx <threshold>', "input delta threshold (default: the model's tuned one)")
    .option('--thh <threshold>', "hidden delta threshold (default: the model's tuned one)")
    .option('--dense', 'run the dense network instead of the delta network')
    .option('--backend <name>', 'compute backend: wasm (default where available) or js')
    .option('--chunk <samples>', 'samples fed per call, as an audio callback would', '1024')
    .option('--verify [classifier]', 'a keyword model: a second stage hears every detection again, a keyword classifier (default: the built-in verifier, models/kws-verifier-deltagru.safetensors), at the model\'s two-stage settings (deltakit kws tune --verify); e.g. --model models/kws-streams-deltagru.safetensors --verify')
    .option('--json', 'print one JSON object per word, then a summary object')
    .option('-q, --quiet', 'print only the words')
    .action(async (file: string, o: ListenOptions, cmd: Command) => {
      const task = parseChoice('--task', o.task, BUILTIN_TASKS)! as BuiltinTask;
      // --task picks a built-in model; with --model it would be ignored (a digits model run as "keywords").
      check(o.model === undefined || cmd.getOptionValueSource('task') !== 'cli', 'E_OPTION', () => `--task: picks a built-in model, expected no --model with it, found --task ${o.task} and --model ${o.model}`);
      const thresholdX = parseNumber('--thx', o.thx, { min: 0 });
      const thresholdH = parseNumber('--thh', o.thh, { min: 0 });
      const chunk = parseNumber('--chunk', o.chunk, { integer: true, min: 1, max: 1 << 20 })!;
      const backend = parseChoice<Backend>('--backend', o.backend, ['js', 'wasm']);
      checkDenseThresholds(o.dense, o.thx, o.thh);
      const model = o.model ? await loadModelOrCompressed(o.model) : await loadBuiltinModel(task);
      const verifier = o.verify !== undefined && o.verify !== false ? await keywordVerifierFor(model, typeof o.verify === 'string' ? o.verify : undefined, o.dense === true) : null;
      const options = {
        ...(verifier ? { verifier } : {}),
        ...(o.dense ? { dense: true } : {}),
        ...(thresholdX !== undefined ? { thresholdX } : {}),
        ...(thresholdH !== undefined ? { thresholdH } : {}),
        ...(backend ? { backend } : {}),
      };
      const sec = (frames: number) => (frames / 100).toFixed(2);
      const print = (w: RecognizedWord) => {
        if (o.json) console.log(JSON.stringify({ word: w.word, isWord: w.isWord, start: w.start / 100, end: w.end / 100, at: w.at / 100, confidence: Number(w.confidence.toFixed(4)) }));
        else if (w.isWord) console.log(o.quiet ? w.word : `${sec(w.start)}-${sec(w.end)} s  ${w.word}  (p ${w.confidence.toFixed(2)}, recognised at ${sec(w.at + 1)} s)`);
      };
      let listener: Listener | null = null;
      let samples = 0;
      let ms = 0;
      const feed = (x: Float32Array, rate: number) => {
        listener ??= new Listener(model, rate, options);
        samples += x.length;
        // Wall time of the whole chain (resampling, log-mel, segmentation, network), per 10 ms frame.
        const t0 = performance.now();
        const words: RecognizedWord[] = [];
        for (let i = 0; i < x.length; i += chunk) for (const f of listener.push(x.subarray(i, i + chunk))) words.push(...f.words);
        ms += performance.now() - t0;
        words.forEach(print);
      };
      let audio: Pick<Audio, 'sampleRate'>;
      if (file === '-') {
        const w = new WavStream();
        for await (const piece of process.stdin) {
          const x = w.push(piece as Uint8Array);
          if (x.length) feed(x, w.sampleRate);
        }
        check(w.format !== null, 'E_FORMAT', () => 'standard input: expected a 16-bit PCM .wav stream, found no data chunk before the end');
        w.end();
        audio = { sampleRate: w.sampleRate };
      } else {
        const a = parseWav(await readFileBytes(file));
        check(a.samples.length > 0, 'E_VALUE', () => `${file}: expected audio samples, found an empty data chunk`);
        feed(a.samples, a.sampleRate);
        audio = a;
      }
      check(listener !== null, 'E_VALUE', () => `${file === '-' ? 'standard input' : file}: expected audio samples, found none`);
      const l: Listener = listener;
      const r = l.recognizer;
      const t0 = performance.now();
      const end = l.flush();
      for (const f of end.frames) f.words.forEach(print);
      end.words.forEach(print);
      ms += performance.now() - t0;
      const T = r.totals;
      // Shorter than one 25 ms analysis window: not one frame, nothing heard or measured (it
      // printed "0.00x fewer" ops). A coded error naming the minimum, as for an empty file.
      check(T.frames > 0, 'E_VALUE', () => `${file === '-' ? 'standard input' : file}: expected at least ${MIN_LISTEN_MS} ms of audio (one ${MIN_LISTEN_MS} ms log-mel window, ${(MIN_LISTEN_MS * LISTEN_SAMPLE_RATE) / 1000} samples at ${LISTEN_SAMPLE_RATE / 1000} kHz), found ${((1000 * samples) / audio.sampleRate).toFixed(2)} ms (${samples} samples at ${audio.sampleRate} Hz)`);
      const words = r.transcript();
      // The network ran on no frame (no voiced segment): there are no ops to compare.
      const ran = T.steps > 0;
      const summary = {
        model: model.name,
        readout: r.task.readout,
        mode: r.mode,
        network: o.dense ? 'dense' : `delta (thx ${r.thresholdX}, thh ${r.thresholdH})`,
        ...(verifier ? { verifier: { model: verifier.model.name, ...verifier.options } } : {}),
        path: r.session.paths[0],
        seconds: samples / audio.sampleRate,
        sampleRate: audio.sampleRate,
        frames: T.frames,
        segments: T.segments,
        steps: T.steps,
        // null when the network never ran (no voiced segment): nothing was measured.
        occupancy: ran && T.possible > 0 ? T.fired / T.possible : null,
        ops: T.ops,
        denseOps: T.denseOps,
        usPerFrame: (1000 * ms) / T.frames,
        transcript: words.join(' '),
      };
      if (o.json) {
        console.log(JSON.stringify(summary));
        return;
      }
      if (o.quiet) return;
      const lines = [
        `heard: ${words.length ? words.join(' ') : '(nothing)'}`,
        `${summary.seconds.toFixed(2)} s of ${audio.sampleRate} Hz audio (resampled to ${LISTEN_SAMPLE_RATE / 1000} kHz): ${T.frames} frame${T.frames === 1 ? '' : 's'}, ${T.segments} voiced segment${T.segments === 1 ? '' : 's'}, the network ran on ${T.steps} frames; ${model.name} ${summary.network} on ${summary.path}${verifier ? `, every keyword verified by ${verifier.model.name} (${verifier.options.before} + ${verifier.options.after} frames, posterior >= ${verifier.options.threshold})` : ''}`,
        ran
          ? `ops ${si(T.ops)}: ${(T.denseOps / Math.max(1, T.ops)).toFixed(2)}x fewer than the dense network on the same frames${o.dense ? '' : `, occupancy ${(100 * summary.occupancy!).toFixed(1)} %`}; ${((T.denseOps * T.frames) / T.steps / Math.max(1, T.ops)).toFixed(2)}x fewer than a dense network running on every frame`
          : 'ops 0: no voiced segment, the network never ran (no saving to measure)',
        `${summary.usPerFrame.toFixed(1)} us per 10 ms frame (resampling, log-mel, segmentation and network)`,
      ];
      process.stderr.write(lines.join('\n') + '\n');
    });
}
